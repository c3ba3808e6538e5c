"""The child process of `rlhfw.dbt.PreparedBuild`: imports dbt and loads the project, waits
for `build` on stdin, builds with the loaded project, writes the outcome as JSON, closes the
warehouse and writes a byte to `done_fd`. It dies with the process that started it.

Usage (by PreparedBuild only):
    python -m rlhfw.dbt_child '{"args": [...], "result": path, "done_fd": fd, "parent_pid": pid}'
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
from dataclasses import asdict
from pathlib import Path


def main() -> int:
    request = json.loads(sys.argv[1])
    # First, before dbt's seconds of imports: a build left running by a killed refresh would
    # hold the warehouse and make the next refresh fail on DuckDB's lock.
    if not _die_with_parent(request["parent_pid"]):
        return 0
    args: list[str] = request["args"]
    from dbt.cli.main import dbtRunner

    from rlhfw.dbt import _outcome, release_duckdb
    from rlhfw.dbt_schemas import use_cached_schemas

    save_schemas = use_cached_schemas(_target_path(args))

    # `parse` with the build's own vars and paths loads the manifest the build will use; its
    # output is silenced (the extract is printing). If it fails, the build parses again and
    # reports why.
    parse_args = [
        "parse",
        "--quiet",
        "--no-write-json",
        *_without_option(args[1:], "--exclude-resource-type"),
    ]
    parsed = dbtRunner().invoke(parse_args)
    manifest = parsed.result if parsed.success else None
    save_schemas()
    if sys.stdin.readline().strip() != "build":
        return 0  # cancelled: nothing new to build
    # The build writes run_results.json (below) but not manifest.json: dbt rewrites the whole
    # manifest after every build (0.5 s at 100x), and this one is the parse's, unchanged.
    result = dbtRunner(manifest=manifest).invoke([*args, "--no-write-json"])
    if hasattr(getattr(result, "result", None), "write"):
        result.result.write(str(_target_path(args) / "run_results.json"))
    outcome = _outcome(result)
    outcome.peak_rss_mb = _peak_rss_mb()
    with open(request["result"], "w", encoding="utf-8") as f:
        json.dump(asdict(outcome), f)
    # The warehouse is closed (checkpointed, unlocked) and the parent told so: it publishes
    # while this process exits, which takes about a second at 100x (freeing dbt's objects and
    # DuckDB's memory).
    release_duckdb()
    os.write(request["done_fd"], b"1")
    os.close(request["done_fd"])
    return 0


def _die_with_parent(parent_pid: int) -> bool:
    """Have the kernel SIGKILL this process when its parent dies (Linux's PR_SET_PDEATHSIG);
    False if the parent is already gone.

    SIGKILL, not SIGTERM: nothing here needs cleaning up (DuckDB recovers a write cut short
    from its write-ahead log, and the memo records nothing for a run that did not finish), and
    no handler dbt installs can delay it. The signal comes when the thread that started this
    process ends; PreparedBuild is started by the refresh's main thread. Elsewhere than Linux,
    only the wait for `build` notices a dead parent (its stdin closes)."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1  # from <linux/prctl.h>
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    # A parent that died before the prctl above never sends the signal: this process was
    # handed to another one (init or a subreaper) already.
    return os.getppid() == parent_pid


def _peak_rss_mb() -> float | None:
    """This process's peak resident size (Linux), for the benchmark's memory figures."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _target_path(args: list[str]) -> Path:
    """Where dbt writes its artifacts for these arguments (its default: the project's target/)."""
    if "--target-path" in args:
        return Path(args[args.index("--target-path") + 1])
    return Path(args[args.index("--project-dir") + 1]) / "target"


def _without_option(args: list[str], option: str) -> list[str]:
    """`args` without `option` and its value."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == option:
            skip = True
        else:
            out.append(arg)
    return out


if __name__ == "__main__":
    sys.exit(main())
