"""`rlhfw report`: one self-contained HTML page about a study's warehouse, for the people who
run the study (what landed, what counts, what was published, how the raters agree).

It reads only the analysts' schema (the public marts, found like publish finds them, with
`analytics` preferred), opens the warehouse read-only, and shows raters only by their
published pseudonym (or `rater-<n>` when no salt exists): never a username, Prolific id,
Argilla user id or demographic. Each section renders from one or a few marts; a mart that an
older warehouse lacks, or that is empty, gives that section a "no data yet" note instead of
failing the page. plotly.js is inlined once, so the file opens offline and requests nothing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rlhfw.report.page import GENERATOR, render
from rlhfw.report.warehouse import ReportError, Warehouse, connect, read_salt
from study_config import Study

__all__ = ["GENERATOR", "ReportError", "check_out", "default_out", "write_report"]

# How much of an existing file is read to look for GENERATOR (it is in the first lines).
_MARKER_WINDOW = 4096


def default_out(study: Study) -> Path:
    """Next to the warehouse: `data/warehouse.duckdb` -> `data/warehouse.report.html`."""
    return study.warehouse.with_name(study.warehouse.stem + ".report.html")


def write_report(study: Study, out: Path | None = None) -> Path:
    """Render the report of `study`'s warehouse into `out` (default: `default_out`) and return
    the path. Raises ReportError for a path it must not write, WarehouseBusy when a build has
    the warehouse open."""
    path = Path(out) if out is not None else default_out(study)
    path = path.resolve()
    check_out(study, path)
    con = connect(study.warehouse)
    try:
        page = render(Warehouse.find(con), study.name, read_salt(study.warehouse))
    finally:
        con.close()
    _write_atomically(path, page)
    return path


def check_out(study: Study, path: Path) -> None:
    """Refuse an output path the report must not write: a folder, a file it did not write (a
    user's file, the warehouse...), or a place another command replaces or reads wholesale."""
    if path.is_dir():
        raise ReportError(f"--out {path} is a folder; give a file name ending in .html")
    for name, folder in (("landing", study.landing), ("publish.out", study.publish.out)):
        folder = folder.resolve()
        if path == folder or folder in path.parents:
            raise ReportError(f"--out {path} lies inside {name} ({folder}); write it elsewhere")
    if path.exists() and not _written_by_report(path):
        raise ReportError(
            f"{path} exists and was not written by rlhfw report; not overwriting it "
            "(remove it, or choose another --out)"
        )
    if not path.parent.is_dir():
        raise ReportError(f"--out {path}: folder {path.parent} does not exist")


def _written_by_report(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return GENERATOR.encode() in f.read(_MARKER_WINDOW)
    except OSError:
        return False


def _write_atomically(path: Path, page: str) -> None:
    # A temp file beside it, then a rename: a reader (a browser reloading it) never sees half
    # a page, and a failed write leaves the previous report as it was.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
