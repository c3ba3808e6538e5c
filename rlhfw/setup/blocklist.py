"""The writing study's participants as the rating study's blocklist.

A writer must never rate answers (their own among them), and Argilla's task distribution
cannot keep one user away from some records, so the rating study is closed to everyone who
took part in the writing study. Who took part is the warehouse's personal model
`study_participants` (a Prolific submission of any status, a portal account, or an answer in
Argilla): the blocklist is read from the last build, so run `rlhfw refresh` first.

The CSV holds one Prolific id per line, no header: the list Prolific's custom blocklist box
takes. With `apply`, the ids are added to the rating study's `custom_blocklist` filter through
the Prolific API; ids already in that filter (blocked by hand, say) stay, and the study's
other filters are sent back unchanged.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from rlhfw.setup import SetupError, open_warehouse
from study_config import Study

BLOCKLIST_FILTER = "custom_blocklist"
ROLES = ("writing", "rating")
# A line of a file this command writes: one id, no separators.
_ID_LINE = re.compile(r"[A-Za-z0-9_-]+")


def default_out(study: Study) -> Path:
    return study.warehouse.with_name(f"{study.warehouse.name.split('.')[0]}.blocklist.csv")


def participants_of(study: Study, role: str) -> list[str]:
    """The Prolific ids of everyone who took part in the study `role`, sorted."""
    con = open_warehouse(study.warehouse)
    try:
        found = con.execute(
            "select table_schema from information_schema.tables "
            "where table_name = 'study_participants' and table_schema like '%personal'"
        ).fetchall()
        if not found:
            raise SetupError(
                f"{study.warehouse} has no study_participants model: run `rlhfw refresh` first"
            )
        schema = found[0][0].replace('"', '""')
        rows = con.execute(
            f'select distinct prolific_pid from "{schema}".study_participants '
            "where study_role = ? and trim(prolific_pid) <> '' order by 1",
            [role],
        ).fetchall()
    finally:
        con.close()
    return [pid for (pid,) in rows]


def write_ids(path: Path, ids: list[str]) -> None:
    """Write `ids` one per line, atomically. A file there that this command did not write (any
    line that is not a lone id) is never replaced."""
    if path.is_dir():
        raise SetupError(f"{path} is a folder; give --out a file name")
    if path.exists():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            lines = ["?"]
        if any(not _ID_LINE.fullmatch(line) for line in lines):
            raise SetupError(f"{path} exists and is not a blocklist this command wrote: left as is")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("".join(f"{pid}\n" for pid in ids))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)  # Prolific ids: personal data
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def apply_blocklist(study_id: str, ids: list[str]) -> tuple[int, int]:
    """Add `ids` to the Prolific study's custom blocklist; returns (ids added, ids in it now)."""
    from extract.errors import ExtractError
    from extract.prolific import ProlificClient, api_token

    try:
        with ProlificClient(api_token(None)) as client:
            filters = client.study(study_id).get("filters") or []
            kept = [f for f in filters if f.get("filter_id") != BLOCKLIST_FILTER]
            before = {
                str(v)
                for f in filters
                if f.get("filter_id") == BLOCKLIST_FILTER
                for v in f.get("selected_values") or []
            }
            blocked = sorted(before | set(ids))
            client.request_json(
                "PATCH",
                f"studies/{study_id}/",
                json={
                    "filters": [
                        *kept,
                        {"filter_id": BLOCKLIST_FILTER, "selected_values": blocked},
                    ]
                },
            )
    except ExtractError as exc:
        raise SetupError(str(exc)) from None
    return len(set(ids) - before), len(blocked)


def blocklist(
    study: Study,
    from_role: str,
    out: Path | None,
    apply: bool,
    log: Callable[[str], None],
) -> str:
    """Write the blocklist of study `from_role`'s participants (and apply it to the other)."""
    if from_role not in ROLES:
        raise SetupError(f"--from: expected one of {', '.join(ROLES)} (got {from_role!r})")
    target_role = "rating" if from_role == "writing" else "writing"
    target = getattr(study.prolific, target_role)
    if apply and (target is None or not target.study_id):
        raise SetupError(
            f"{study.path}: prolific.{target_role}.study_id: needed to apply the blocklist "
            "to that study"
        )
    ids = participants_of(study, from_role)
    if not ids:
        raise SetupError(
            f"no {from_role}-study participants in {study.warehouse}: nothing to block "
            "(run `rlhfw refresh` after the study's data is in)"
        )
    path = (out or default_out(study)).resolve()
    write_ids(path, ids)
    line = f"blocklist: {len(ids)} {from_role}-study participants written to {path}"
    if apply:
        assert target is not None and target.study_id
        log(f"applying it to the {target_role} study through the Prolific API")
        added, total = apply_blocklist(target.study_id, ids)
        line += f"; {target_role} study's custom blocklist: {added} added, {total} in all"
    return line
