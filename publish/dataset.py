"""The dataset folder: one Parquet file per config and split, written by DuckDB, swapped in whole.

Layout (`publish.out`):

    README.md                                   dataset card; its YAML declares the configs
    pairs/{train,validation,test}-00000-of-00001-<sha>.parquet   default config
    conversational/{train,validation,test}-...parquet   the same rows as TRL chat messages
    ratings/{train,validation,test}-...parquet          one row per counted rating
    responses/{train,validation,test}-...parquet        one row per counted written response

Every config is split by question (`question_splits`); a split without rows is not written
(`datasets` cannot load an empty split), and `validation` only exists with a validation
fraction.
    .rlhfw-publish.json                         marker + summary (not uploaded to the hub)

Atomic write: everything is built in `.<out>.tmp-<id>` beside `out`; when complete, the old
folder is renamed aside, the new one renamed in, then the old one removed. If anything fails
before the swap, the previous dataset is untouched. A run killed between the two renames is
repaired by the next run (the old folder is put back).

Publish never deletes what it did not write. It replaces `out` only when `out` carries the
marker and holds nothing but the layout above (`foreign_entries`): a landing zone or notes
moved into it stop the publish. A temp folder is created with `.rlhfw-publish-in-progress`
in it first, which names `out` and is locked (flock) while the build runs; a later publish
removes a temp folder only when it is empty or carries that file unlocked
(`remove_leftover_temp`), never a folder of a publish still running, and a moved-aside old
folder only when it passes the same check as `out`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb

from publish.errors import PublishError

MARKER = ".rlhfw-publish.json"
# Written first into a temp folder: proof that the folder is publish's own (see the docstring).
IN_PROGRESS = ".rlhfw-publish-in-progress"
CARD = "README.md"
CONFIGS = ("pairs", "conversational", "ratings", "responses")
SHARD = "00000-of-00001"
# The data files `write_split` names (a 12-digit content hash at the end).
_DATA_FILE = re.compile(rf"(?:train|validation|test)-{SHARD}-[0-9a-f]{{12}}\.parquet")
# How many foreign entries an error names before it says "and N more".
_NAMED = 5

PAIR_COLUMNS = (
    "prompt", "chosen", "rejected", "question_id", "pair_id", "chosen_response_id",
    "rejected_response_id", "score_chosen", "score_rejected", "median_score_chosen",
    "median_score_rejected", "preference_strength", "rating_std", "n_ratings", "agreement",
    "scale_min", "scale_max", "chosen_toxicity", "rejected_toxicity", "chosen_is_toxic",
    "rejected_is_toxic",
)  # fmt: skip


def write_split(
    con: duckdb.DuckDBPyConnection, sql: str, folder: Path, config: str, split: str
) -> tuple[str, int]:
    """Write a query's result as `<config>/<split>-00000-of-00001-<sha>.parquet` under `folder`.

    The name carries the file's content hash: `datasets` caches a local folder's configs by
    their declared file names, so a re-published folder with the same names would be served
    stale from the cache. Returns (path relative to folder, rows)."""
    dest = folder / config / f"{split}.parquet.tmp"
    dest.parent.mkdir(parents=True, exist_ok=True)
    literal = str(dest).replace("'", "''")
    # zstd level 1: faster to write than the default level, and no larger on these texts.
    result = con.execute(
        f"copy ({sql}) to '{literal}' "
        "(format parquet, compression zstd, compression_level 1, row_group_size 100000)"
    ).fetchall()
    rows = int(result[0][0]) if result else 0
    digest = hashlib.sha256()
    with dest.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    name = f"{config}/{split}-{SHARD}-{digest.hexdigest()[:12]}.parquet"
    os.rename(dest, folder / name)
    return name, rows


def pairs_sql(split: str, redact: Callable[[str], str]) -> str:
    cols = [f"{redact(c)} as {c}" if c in ("prompt", "chosen", "rejected") else c
            for c in PAIR_COLUMNS]  # fmt: skip
    # _pairs is stored sorted by (split, question_id, pair_id) and DuckDB keeps a table's order
    # through a scan, filter and COPY (preserve_insertion_order, set in warehouse.connect): no
    # sort again for each file.
    return f"select {', '.join(cols)} from _pairs where split = '{split}'"


def conversational_sql(split: str, redact: Callable[[str], str]) -> str:
    # TRL's conversational preference format: message lists, the prompt as the user's turn.
    return f"""
        select
            [{{'role': 'user', 'content': prompt}}] as prompt,
            [{{'role': 'assistant', 'content': chosen}}] as chosen,
            [{{'role': 'assistant', 'content': rejected}}] as rejected,
            * exclude (prompt, chosen, rejected)
        from ({pairs_sql(split, redact)})
    """


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as f:
                os.fsync(f.fileno())


def _temp_name(out: Path) -> re.Pattern[str]:
    """The names of publish's temp folders for `out` (a uuid4's first 8 hex digits)."""
    return re.compile(rf"\.{re.escape(out.name)}\.tmp-[0-9a-f]{{8}}")


def _abandoned_build(folder: Path, out: Path) -> bool:
    """True when `folder` carries publish's in-progress file for `out` and no process holds its
    lock (the publish that wrote it died: the kernel drops a dead process's flock)."""
    try:
        fd = os.open(folder / IN_PROGRESS, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        claim = json.loads(os.read(fd, 1 << 16) or b"null")
        if not isinstance(claim, dict) or claim.get("out_name") != out.name:
            return False
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (OSError, ValueError):
        return False  # unreadable, not ours, or locked by a publish that is still running
    finally:
        os.close(fd)
    return True


def remove_leftover_temp(out: Path) -> list[Path]:
    """Remove the temp folders that killed publishes of `out` left beside it; returns them.

    Only a folder named like publish's temp folders (`.<out>.tmp-<8 hex digits>`) that is empty
    or carries publish's in-progress file for `out`, unlocked: never a folder of a publish still
    running, nor anything else, whatever it is called. A folder that cannot be removed is left
    (and not returned): a leftover must not stop a publish."""
    out = Path(os.path.abspath(out))
    name = _temp_name(out)
    try:
        candidates = sorted(p for p in out.parent.iterdir() if name.fullmatch(p.name))
    except OSError:
        return []  # no parent folder yet: nothing left over
    removed = []
    for folder in candidates:
        if folder.is_symlink() or not folder.is_dir():
            continue
        try:
            if not any(folder.iterdir()):
                # Killed before its in-progress file was written: an empty folder loses nothing.
                folder.rmdir()
            elif _abandoned_build(folder, out):
                shutil.rmtree(folder)
            else:
                continue
        except OSError:
            continue
        removed.append(folder)
    return removed


def _is_plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _is_plain_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def foreign_entries(folder: Path) -> list[str]:
    """What `folder` holds that publish does not write: anything but the card, the markers and
    the configs' data files, each a plain file (paths relative to `folder`; a folder is named
    once, with a trailing `/`)."""

    def shown(path: Path) -> str:
        return str(path.relative_to(folder)) + ("/" if _is_plain_dir(path) else "")

    foreign = []
    for entry in sorted(folder.iterdir()):
        if entry.name in CONFIGS and _is_plain_dir(entry):
            foreign += [
                shown(file)
                for file in sorted(entry.iterdir())
                if not (_DATA_FILE.fullmatch(file.name) and _is_plain_file(file))
            ]
        elif not (entry.name in (CARD, MARKER, IN_PROGRESS) and _is_plain_file(entry)):
            foreign.append(shown(entry))
    return foreign


def _removable(folder: Path) -> bool:
    """Empty, or a folder publish wrote: the marker, and nothing publish does not write."""
    if not any(folder.iterdir()):
        return True
    return (folder / MARKER).is_file() and not foreign_entries(folder)


def _recover(out: Path) -> None:
    """Tidy up after a run that was killed: drop its temp folders, restore a moved-aside one.

    A moved-aside folder (`.<out>.old-<id>`) is put back only if it has the marker, and removed
    only if it passes the same check as `out` itself."""
    parent = out.parent
    remove_leftover_temp(out)
    olds = [p for p in parent.glob(f".{out.name}.old-*") if p.is_dir() and not p.is_symlink()]
    olds = sorted((p for p in olds if (p / MARKER).is_file()), key=lambda p: p.stat().st_mtime)
    if olds and not out.exists():
        os.rename(olds.pop(), out)
    for old in olds:
        if _removable(old):
            shutil.rmtree(old, ignore_errors=True)


def check_replaceable(out: Path) -> None:
    """Raise PublishError unless `out` is absent, empty, or a folder publish wrote (the marker
    and nothing else but the layout above): publish never deletes what it did not write."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise PublishError(f"publish.out {out} exists and is not a folder")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not (out / MARKER).is_file():
        raise PublishError(
            f"refusing to replace {out}: it was not written by `rlhfw publish` "
            f"(no {MARKER}); choose another publish.out or empty it"
        )
    foreign = foreign_entries(out)
    if foreign:
        named = ", ".join(foreign[:_NAMED])
        more = f" and {len(foreign) - _NAMED} more" if len(foreign) > _NAMED else ""
        raise PublishError(
            f"refusing to replace {out}: it holds entries `rlhfw publish` did not write "
            f"({named}{more}); move them out of it or choose another publish.out"
        )


def _claim(tmp: Path, out: Path) -> int:
    """Write the in-progress file into the new temp folder and lock it; returns its fd (the
    lock lasts until it is closed, or the process dies)."""
    fd = os.open(tmp / IN_PROGRESS, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, json.dumps({"rlhfw": "publish in progress", "out_name": out.name}).encode())
    return fd


def write_atomically(out: Path, build: Callable[[Path], None]) -> None:
    """Build the dataset in a temp folder beside `out` with `build(tmp)`, then swap it in."""
    token = uuid.uuid4().hex[:8]
    tmp = out.parent / f".{out.name}.tmp-{token}"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _recover(out)
        check_replaceable(out)
        tmp.mkdir()
        claim = _claim(tmp, out)
    except OSError as exc:
        raise PublishError(f"cannot start writing the dataset beside {out}: {exc}") from None
    try:
        try:
            build(tmp)
            _fsync_tree(tmp)
            # Checked again just before the swap: `out` may have changed while the build ran.
            check_replaceable(out)
        except (OSError, duckdb.Error) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise PublishError(f"writing the dataset to {out} failed: {first}") from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        old = out.parent / f".{out.name}.old-{token}"
        moved = False
        try:
            if out.exists():
                os.rename(out, old)
                moved = True
            # The in-progress file moves in with the folder and is removed just after: a run
            # killed in between leaves it in `out`, which the next publish replaces anyway.
            os.rename(tmp, out)
        except OSError as exc:
            if moved and not out.exists():
                os.rename(old, out)
            shutil.rmtree(tmp, ignore_errors=True)
            raise PublishError(f"swapping the new dataset into {out} failed: {exc}") from None
        (out / IN_PROGRESS).unlink(missing_ok=True)
    finally:
        os.close(claim)
    if moved and _removable(old):
        shutil.rmtree(old, ignore_errors=True)
    elif moved:
        raise PublishError(
            f"the new dataset is in {out}, but the previous one gained entries `rlhfw publish` "
            f"did not write while it ran; they were kept in {old}"
        )


def write_marker(folder: Path, summary: dict) -> None:
    (folder / MARKER).write_text(json.dumps(summary, indent=2, default=str) + "\n", "utf-8")
