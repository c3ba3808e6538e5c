"""Pseudonyms and the redaction of identifiers typed into free text."""

from __future__ import annotations

import duckdb
import pytest

from publish.privacy import (
    REDACTED,
    identifiers_in,
    known_identifiers,
    pseudonym,
    published_id,
    redact_sql,
    redact_values,
    redaction_patterns,
    register_published_ids,
)
from publish.warehouse import Marts

PID = "5f3c2a1b9e8d7c6b5a4f3e2d"
UUID = "0b6f5a1e-7c3d-4e2f-9a8b-1c2d3e4f5a6b"
USERNAME = "rater.jones_77"  # an Argilla username of at least MIN_REDACT_LEN characters


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
        "Anna liked it, Savannah too",  # a short username is an ordinary word: left alone
        f"ws-{PID}",
        None,
    ]
    out = _redact(texts, [PID, UUID, "anna"])
    assert out == [
        f"My Prolific ID is {REDACTED}.",
        f"id:{REDACTED}, thanks",
        f"user {REDACTED} here",
        "Anna liked it, Savannah too",
        f"ws-{REDACTED}",
        None,
    ]


@pytest.mark.parametrize("person", [PID, UUID, USERNAME])
def test_redaction_of_ids_glued_to_other_characters(person: str) -> None:
    glued = [
        ("ID_{}", "ID_{}"),
        ("{}_thanks", "{}_thanks"),
        ("abc{}123", "abc{}123"),
        ("x-{}-y", "x-{}-y"),
        ("{}", "{}"),
        ("twice:{}{}", "twice:{}{}"),
    ]
    for case in (str, str.upper, str.title):
        texts = [form.format(*[case(person)] * form.count("{}")) for form, _ in glued]
        want = [form.format(*[REDACTED] * form.count("{}")) for _, form in glued]
        assert _redact(texts, [person, "anna"]) == want, case


def test_short_identifiers_never_redact_words() -> None:
    # Below MIN_REDACT_LEN an id is not redacted even where it stands alone: glued matching
    # would blank every word that contains it.
    assert _redact(["anna7 wrote to Savannah7", "x-anna7-y"], ["anna7"]) == [
        "anna7 wrote to Savannah7",
        "x-anna7-y",
    ]


def test_redact_values_uses_the_same_patterns() -> None:
    con = duckdb.connect()
    patterns = redaction_patterns([PID])
    assert redact_values(con, [f"ws-{PID.upper()}", "social"], patterns) == [
        f"ws-{REDACTED}",
        "social",
    ]
    assert redact_values(con, ["social"], []) == ["social"]


def test_published_ids_are_keyed_and_the_same_in_sql_and_python() -> None:
    salt = b"salt-one-0123456789"
    con = duckdb.connect()
    register_published_ids(con, salt)
    ids = ["3f2a1b0c9d8e7f6a", "x", "it's"]
    got = con.execute(
        "select list_transform(?::varchar[], lambda i: rlhfw_published_id('response', i))",
        [ids],
    ).fetchall()[0][0]
    assert got == [published_id(salt, "response", i) for i in ids]
    assert all(len(g) == 16 for g in got)
    one = published_id(salt, "response", ids[0])
    assert one != published_id(b"salt-two-0123456789", "response", ids[0])
    assert one != published_id(salt, "pair", ids[0])
    assert one != pseudonym(salt, ids[0])
    assert con.execute("select rlhfw_published_id('pair', null)").fetchall() == [(None,)]


def test_nothing_to_redact_means_no_pattern() -> None:
    con = duckdb.connect()
    con.execute("create table t as select 'plain text' as text")
    assert identifiers_in(con, "select text from t", [PID]) == []
    assert redact_sql("text", redaction_patterns([])) == "text"


def test_known_identifiers_reads_prolific_ids_and_skips_unreadable_views(tmp_path) -> None:
    con = duckdb.connect()
    con.execute("create table pair_ratings as select 'u1' rater_user_id")
    con.execute("create table written_responses as select 'u2' writer_user_id")
    # Usernames, as the personal schema's `participants` holds them.
    con.execute("create table participants as select 'u1' user_id, 'rater-1' username")
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
