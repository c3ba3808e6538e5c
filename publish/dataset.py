"""The dataset folder: one Parquet file per config and split, written by DuckDB, swapped in whole.

Layout (`publish.out`):

    README.md                                   dataset card; its YAML declares the configs
    pairs/{train,test}-00000-of-00001-<sha>.parquet   default config: prompt/chosen/rejected
    conversational/{train,test}-...parquet            the same rows as TRL chat messages
    ratings/train-...parquet                          one row per counted rating
    responses/train-...parquet                        one row per counted written response
    .rlhfw-publish.json                         marker + summary (not uploaded to the hub)

Atomic write: everything is built in `.<out>.tmp-<id>` beside `out`; when complete, the old
folder is renamed aside, the new one renamed in, then the old one removed. If anything fails
before the swap, the previous dataset is untouched. A run killed between the two renames is
repaired by the next run (the old folder is put back).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb

from publish.errors import PublishError

MARKER = ".rlhfw-publish.json"
SHARD = "00000-of-00001"

PAIR_COLUMNS = (
    "prompt", "chosen", "rejected", "question_id", "pair_id", "chosen_response_id",
    "rejected_response_id", "mean_rating", "median_rating", "rating_std", "margin", "n_ratings",
    "agreement", "scale_min", "scale_max", "chosen_toxicity", "rejected_toxicity",
    "chosen_is_toxic", "rejected_is_toxic",
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
    # zstd level 1: at 100x it wrote the files in two thirds of the time of the default level,
    # and they came out smaller (these texts gain nothing from the slower levels).
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


def _recover(out: Path) -> None:
    """Tidy up after a run that was killed: drop half-built folders, restore a moved-aside one."""
    parent = out.parent
    for tmp in parent.glob(f".{out.name}.tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
    olds = sorted(parent.glob(f".{out.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if olds and not out.exists():
        os.rename(olds.pop(), out)
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)


def check_replaceable(out: Path) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise PublishError(f"publish.out {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise PublishError(
            f"refusing to replace {out}: it was not written by `rlhfw publish` "
            f"(no {MARKER}); choose another publish.out or empty it"
        )


def write_atomically(out: Path, build: Callable[[Path], None]) -> None:
    """Build the dataset in a temp folder beside `out` with `build(tmp)`, then swap it in."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _recover(out)
    check_replaceable(out)
    token = uuid.uuid4().hex[:8]
    tmp = out.parent / f".{out.name}.tmp-{token}"
    tmp.mkdir()
    try:
        build(tmp)
        _fsync_tree(tmp)
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
        os.rename(tmp, out)
    except OSError as exc:
        if moved and not out.exists():
            os.rename(old, out)
        shutil.rmtree(tmp, ignore_errors=True)
        raise PublishError(f"swapping the new dataset into {out} failed: {exc}") from None
    if moved:
        shutil.rmtree(old, ignore_errors=True)


def read_marker(folder: Path) -> dict:
    """The marker of a published folder, or {} when there is none (or it is unreadable)."""
    try:
        marker = json.loads((folder / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return marker if isinstance(marker, dict) else {}


def reuse_file(previous: Path, folder: Path, name: str) -> bool:
    """Put the previous publish's file `name` into `folder` (a hard link, else a copy): for a
    file whose inputs are unchanged, the bytes a rewrite would give. False if it is gone."""
    source, dest = previous / name, folder / name
    if not source.is_file():
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)
    return True


def write_marker(folder: Path, summary: dict) -> None:
    (folder / MARKER).write_text(json.dumps(summary, indent=2, default=str) + "\n", "utf-8")
