"""Salted pseudonyms for annotators, and redaction of identifiers typed into free text.

A pseudonym is `hmac-sha256(salt, user_id)` cut to 16 hex digits: stable across publishes
with the same salt, not reversible without it. The salt comes from `RLHFW_PSEUDONYM_SALT`, or
is generated once and kept beside the warehouse (`<warehouse>.pseudonym-salt`, mode 0600); it is
never written into the dataset.

Participants sometimes type their Prolific id into an answer ("my ID is 5f3c..."), and some
teams name a workspace after its annotator. Every identifier the warehouse knows (user UUIDs,
usernames, Prolific participant ids) of at least `MIN_REDACT_LEN` characters is replaced by
`[redacted]` in published text and dataset/workspace names, matched whole-word and
case-insensitively. Shorter usernames are not redacted: they are too likely to be ordinary
words.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

import duckdb

from publish.errors import PublishError
from publish.warehouse import Marts, quote

SALT_ENV = "RLHFW_PSEUDONYM_SALT"
MIN_SALT_LEN = 16
MIN_REDACT_LEN = 8
REDACTED = "[redacted]"
# Identifiers made of these characters can be matched literally inside an RE2 pattern.
_SAFE_ID = re.compile(r"[A-Za-z0-9_.@+\-]+")
# A run of (lower-cased) identifier characters long enough to hold a redactable identifier.
_ID_RUN = rf"[a-z0-9_.@+\-]{{{MIN_REDACT_LEN},}}"
# Columns, anywhere in the warehouse, that hold a Prolific participant id.
_PID_COLUMNS = ("participant_id", "prolific_pid")
# RE2 compiles one alternation per this many identifiers (keeps each automaton small).
_REDACT_CHUNK = 500


def salt_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".pseudonym-salt")


def load_salt(warehouse: Path) -> bytes:
    """The pseudonym salt: from the environment, else from (or newly into) the salt file."""
    env = os.environ.get(SALT_ENV)
    if env is not None:
        if len(env) < MIN_SALT_LEN:
            raise PublishError(f"{SALT_ENV} is too short: use at least {MIN_SALT_LEN} characters")
        return env.encode()
    path = salt_path(warehouse)
    try:
        # O_EXCL: two concurrent first runs cannot end up with different salts.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        salt = path.read_text(encoding="ascii").strip()
        if len(salt) < MIN_SALT_LEN:
            raise PublishError(f"pseudonym salt file {path} is empty or too short") from None
        return salt.encode()
    salt = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(salt + "\n")
    return salt.encode()


def pseudonym(salt: bytes, user_id: str) -> str:
    return hmac.new(salt, user_id.encode(), hashlib.sha256).hexdigest()[:16]


def register_pseudonyms(con: duckdb.DuckDBPyConnection, marts: Marts, salt: bytes) -> None:
    """Temp table `_pseudonyms (user_id, pseudonym)` for every rater and writer (one HMAC per
    person, not per row)."""
    ids = con.execute(
        f"""
        select rater_user_id as user_id from {marts.ref("pair_ratings")}
        union
        select writer_user_id from {marts.ref("written_responses")}
        """
    ).fetchall()
    users = sorted(str(u) for (u,) in ids if u is not None)
    con.execute(
        "create or replace temp table _pseudonyms as "
        "select unnest($users::varchar[]) as user_id, unnest($names::varchar[]) as pseudonym",
        {"users": users, "names": [pseudonym(salt, u) for u in users]},
    )


def known_identifiers(con: duckdb.DuckDBPyConnection, marts: Marts) -> list[str]:
    """Every person identifier in the warehouse: user ids, usernames, Prolific ids."""
    pr, wr = marts.ref("pair_ratings"), marts.ref("written_responses")
    rows = con.execute(
        f"""
        select distinct cast(rater_user_id as varchar) from {pr}
        union select distinct rater_username from {pr}
        union select distinct cast(writer_user_id as varchar) from {wr}
        union select distinct writer_username from {wr}
        """
    ).fetchall()
    values: set[str] = {v for (v,) in rows if v}
    # Prolific ids live upstream of the marts (staging/landing); read them where readable.
    relations = con.execute(
        """
        select distinct table_schema, table_name, column_name
        from information_schema.columns
        where table_catalog = current_database() and column_name in ?
        """,
        [list(_PID_COLUMNS)],
    ).fetchall()
    for schema, table, column in relations:
        try:
            rows = con.execute(
                f"select distinct cast({quote(column)} as varchar) "
                f"from {quote(schema)}.{quote(table)}"
            ).fetchall()
        except duckdb.Error:
            # A staging view over landing files that moved; the marts' ids are still covered.
            continue
        values.update(v for (v,) in rows if v)
    return sorted(values)


def _redactable(identifiers: list[str]) -> set[str]:
    """Identifiers long enough not to be ordinary words, and safe inside a pattern."""
    stripped = (i.strip() for i in identifiers)
    return {i for i in stripped if len(i) >= MIN_REDACT_LEN and _SAFE_ID.fullmatch(i)}


def redaction_patterns(identifiers: list[str]) -> list[str]:
    """RE2 patterns that match the identifiers worth redacting, whole-word, any case."""
    # Longest first, so an identifier that is a prefix of another never wins.
    ids = sorted(_redactable(identifiers), key=lambda s: (-len(s), s))
    patterns = []
    for start in range(0, len(ids), _REDACT_CHUNK):
        alts = "|".join(re.escape(i) for i in ids[start : start + _REDACT_CHUNK])
        patterns.append(rf"(?i)\b(?:{alts})\b")
    return patterns


def redact_sql(column: str, patterns: list[str]) -> str:
    """A SQL expression: `column` with every identifier replaced by REDACTED."""
    expr = column
    for pattern in patterns:
        literal = pattern.replace("'", "''")
        expr = f"regexp_replace({expr}, '{literal}', '{REDACTED}', 'g')"
    return expr


def identifiers_in(
    con: duckdb.DuckDBPyConnection, texts_sql: str, identifiers: list[str]
) -> list[str]:
    """The identifiers (lower-cased) that occur as words in a query's one text column.

    Set-based: the texts are split into lower-cased words and semi-joined to the identifiers, so
    the cost does not grow with the number of identifiers. Only words as long as the shortest
    redactable identifier are made: each lies in a run of identifier characters at least that
    long, and the distinct runs are few. The published columns are then redacted with a pattern
    of only the identifiers found (usually none)."""
    ids = sorted({i.lower() for i in _redactable(identifiers)})
    if not ids:
        return []
    rows = con.execute(
        f"""
        with runs as (
            select distinct unnest(regexp_extract_all(lower(text), $run)) as run
            from ({texts_sql}) as t(text)
        ),

        words as (
            -- ids with inner punctuation (UUIDs, user.names) as whole words, and plain
            -- alphanumeric runs so "ws-<prolific id>" still yields the id
            select trim(run, '.-+@') as word from runs
            union
            select unnest(regexp_split_to_array(run, '[^a-z0-9]+')) from runs
        )

        select id from (select unnest($ids::varchar[]) as id) as ids
        semi join words on words.word = ids.id
        order by id
        """,
        {"ids": ids, "run": _ID_RUN},
    ).fetchall()
    return [v for (v,) in rows]


def count_redacted(con: duckdb.DuckDBPyConnection, texts_sql: str, patterns: list[str]) -> int:
    """How many distinct texts (a query's one column) redaction changes."""
    if not patterns:
        return 0
    rows = con.execute(
        f"select count(*) from ({texts_sql}) as t(text) "
        f"where text is not null and {redact_sql('text', patterns)} <> text"
    ).fetchall()
    return int(rows[0][0])
