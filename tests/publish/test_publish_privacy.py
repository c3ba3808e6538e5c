"""Pseudonyms and the redaction of identifiers typed into free text."""

from __future__ import annotations

import duckdb
import pytest

from publish.privacy import (
    REDACTED,
    identifiers_in,
    known_identifiers,
    pseudonym,
    redact_sql,
    redaction_patterns,
)
from publish.warehouse import Marts

PID = "5f3c2a1b9e8d7c6b5a4f3e2d"
UUID = "0b6f5a1e-7c3d-4e2f-9a8b-1c2d3e4f5a6b"


def _redact(texts: list[str], ids: list[str]) -> list[str]:
    con = duckdb.connect()
    con.execute("create table t as select unnest(?) as text", [texts])
    found = identifiers_in(con, "select text from t", ids)
    sql = redact_sql("text", redaction_patterns(found))
    return [r[0] for r in con.execute(f"select {sql} from t order by rowid").fetchall()]


def test_redaction_whole_words_any_case() -> None:
    texts = [
        f"My Prolific ID is {PID}.",
        f"id:{PID.upper()}, thanks",
        f"user {UUID} here",
        f"not an id: x{PID}y",
        "Anna liked it",  # a short username is an ordinary word: left alone
        f"ws-{PID}",
        None,
    ]
    out = _redact(texts, [PID, UUID, "anna"])
    assert out == [
        f"My Prolific ID is {REDACTED}.",
        f"id:{REDACTED}, thanks",
        f"user {REDACTED} here",
        f"not an id: x{PID}y",
        "Anna liked it",
        f"ws-{REDACTED}",
        None,
    ]


def test_nothing_to_redact_means_no_pattern() -> None:
    con = duckdb.connect()
    con.execute("create table t as select 'plain text' as text")
    assert identifiers_in(con, "select text from t", [PID]) == []
    assert redact_sql("text", redaction_patterns([])) == "text"


def test_known_identifiers_reads_prolific_ids_and_skips_unreadable_views(tmp_path) -> None:
    con = duckdb.connect()
    con.execute("create table pair_ratings as select 'u1' rater_user_id, 'rater-1' rater_username")
    con.execute(
        "create table written_responses as select 'u2' writer_user_id, null writer_username"
    )
    con.execute(f"create table subs as select '{PID}' as participant_id")
    missing = tmp_path / "gone.parquet"
    con.execute(f"copy (select 'x' as participant_id) to '{missing}' (format parquet)")
    con.execute(f"create view stale as select * from read_parquet('{missing}')")
    missing.unlink()
    assert known_identifiers(con, Marts("main")) == sorted(["u1", "rater-1", "u2", PID])


def test_pseudonym_is_keyed_and_short() -> None:
    a = pseudonym(b"salt-one-0123456789", "user")
    assert len(a) == 16 and a == pseudonym(b"salt-one-0123456789", "user")
    assert a != pseudonym(b"salt-two-0123456789", "user")
    assert a != pseudonym(b"salt-one-0123456789", "user2")


@pytest.mark.parametrize("bad", ["it's", "two words"])
def test_unsafe_identifiers_are_not_made_into_patterns(bad: str) -> None:
    assert redaction_patterns([bad * 3]) == []
