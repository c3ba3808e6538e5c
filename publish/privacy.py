"""Salted pseudonyms for annotators, and redaction of identifiers typed into free text.

A pseudonym is `hmac-sha256(salt, user_id)` cut to 16 hex digits: stable across publishes
with the same salt, not reversible without it. The salt comes from `RLHFW_PSEUDONYM_SALT`, or
is generated once and kept beside the warehouse (`<warehouse>.pseudonym-salt`, mode 0600); it is
never written into the dataset.

Participants sometimes type their Prolific id into an answer ("my ID is 5f3c..."), and some
teams name a workspace or dataset after its annotator. Every identifier the warehouse knows
(user UUIDs, usernames, Prolific participant ids) of at least `MIN_REDACT_LEN` characters is
replaced by `[redacted]` in published text and in dataset, workspace and source names (the
files and the card), in any case and wherever it occurs, also glued to other characters
(`ID_<pid>`, `<pid>_thanks`, `abc<pid>123`): a glued id is still the id. The length is the
guard against ordinary words: a shorter identifier (a username like `anna`) is never redacted,
since it would hit words that merely contain it (`Savannah`). The price of matching inside
words: a username that is itself a word of 8+ letters also blanks the longer words holding it.

Published ids. A writer's response id is `md5(question_id | writer user id)` in the warehouse
and a pair id is the md5 of its two response ids: anyone holding the Argilla user list could
recompute them and re-identify every writer. Published response and pair ids are therefore
keyed hashes (`published_id`): the same warehouse id gets the same published id in every
config, so configs still join, and none can be recomputed without the salt. Question ids are
published as they are: they are the md5 of the question text (or a study's own question id
from metadata), which is published beside them, so they tell nothing about a person, and the
card's split rule `sha256("<seed>:<question_id>")` stays checkable by readers. Annotator and
writer ids are the pseudonyms above. The warehouse keeps its own unsalted ids.
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
from publish.warehouse import PERSON_COLUMNS, Marts, quote

SALT_ENV = "RLHFW_PSEUDONYM_SALT"
MIN_SALT_LEN = 16
MIN_REDACT_LEN = 8
REDACTED = "[redacted]"
# Identifiers made of these characters can be matched literally inside an RE2 pattern.
_SAFE_ID = re.compile(r"[A-Za-z0-9_.@+\-]+")
# A run of (lower-cased) identifier characters long enough to hold a redactable identifier:
# every occurrence of one, glued to other such characters or not, lies inside such a run.
_ID_RUN = rf"[a-z0-9_.@+\-]{{{MIN_REDACT_LEN},}}"
# The SQL macro that turns a warehouse response or pair id into its published id.
PUBLISHED_ID_MACRO = "rlhfw_published_id"
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


def _published_id_key(salt: bytes) -> str:
    """The key of the published ids: derived from the salt, so the salt itself never enters
    SQL text, and pseudonyms and published ids never share a key."""
    return hmac.new(salt, b"rlhfw published ids", hashlib.sha256).hexdigest()


def published_id(salt: bytes, kind: str, warehouse_id: str) -> str:
    """The published id of a warehouse id of one kind (`response`, `pair`): 16 hex digits of
    sha256(key:kind:id), the same as the SQL macro `register_published_ids` creates."""
    message = f"{_published_id_key(salt)}:{kind}:{warehouse_id}"
    return hashlib.sha256(message.encode()).hexdigest()[:16]


def register_published_ids(con: duckdb.DuckDBPyConnection, salt: bytes) -> None:
    """Temp macro `rlhfw_published_id(kind, id)`: the published id of a warehouse id.

    A keyed sha256, not HMAC: DuckDB has no hmac, and HMAC built from two sha256 calls made
    2M ids take three times as long. Without the key (secret, like the salt it comes from) the
    ids cannot be recomputed; only 16 hex digits are published, so sha256's length extension
    gives nothing. `kind` keeps a pair id and a response id that happen to be equal apart. A
    temp macro lives in this connection only, never in the warehouse file."""
    key = _published_id_key(salt)  # hex digits: safe inside a SQL literal
    con.execute(
        f"create or replace temp macro {PUBLISHED_ID_MACRO}(kind, id) as "
        f"left(sha256('{key}:' || kind || ':' || id), 16)"
    )


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
        union select distinct cast(writer_user_id as varchar) from {wr}
        """
    ).fetchall()
    values: set[str] = {v for (v,) in rows if v} | set(marts.identifiers)
    # Usernames and Prolific ids live outside the analysts' marts (the personal schema, staging,
    # landing); read them wherever a column of theirs is readable.
    relations = con.execute(
        """
        select table_schema, table_name, list(distinct column_name order by column_name)
        from information_schema.columns
        where table_catalog = current_database() and column_name in ?
        group by all
        order by all
        """,
        [list(PERSON_COLUMNS)],
    ).fetchall()
    for schema, table, columns in relations:
        # All of a relation's columns in one scan: most are views, computed again per query.
        cast = ", ".join(f"cast({quote(c)} as varchar)" for c in columns)
        try:
            rows = con.execute(
                f"select distinct unnest([{cast}]) from {quote(schema)}.{quote(table)}"
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
    """RE2 patterns that match the identifiers worth redacting anywhere (no word boundary: an
    id glued to letters, digits, `_` or `-` is still the id), in any case."""
    # Longest first, so an identifier that is a prefix of another never wins.
    ids = sorted(_redactable(identifiers), key=lambda s: (-len(s), s))
    patterns = []
    for start in range(0, len(ids), _REDACT_CHUNK):
        alts = "|".join(re.escape(i) for i in ids[start : start + _REDACT_CHUNK])
        patterns.append(rf"(?i)(?:{alts})")
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
    """The identifiers (lower-cased) that occur in a query's one text column, in any case and
    also glued to other characters ("ID_<pid>", "abc<pid>123").

    Set-based: an occurrence lies inside a run of identifier characters (letters, digits,
    `_.@+-`) at least `MIN_REDACT_LEN` long, and the distinct runs of lower-cased texts are
    few. Every `MIN_REDACT_LEN`-character window of every run is joined to the identifiers'
    first `MIN_REDACT_LEN` characters, and only the candidates found are checked with
    `contains`: the cost grows with the length of the distinct runs, not with runs times
    identifiers. The published columns are then redacted with a pattern of only the
    identifiers found (usually none)."""
    ids = sorted({i.lower() for i in _redactable(identifiers)})
    if not ids:
        return []
    rows = con.execute(
        f"""
        with runs as (
            select distinct unnest(regexp_extract_all(lower(text), $run)) as run
            from ({texts_sql}) as t(text)
        ),

        windows as (
            select run, substr(run, start, $width) as window
            from (select run, unnest(range(1, length(run) - $width + 2)) as start from runs)
        ),

        ids as (
            select id, left(id, $width) as head from (select unnest($ids::varchar[]) as id)
        )

        select distinct ids.id
        from ids
        inner join windows on windows.window = ids.head
        where contains(windows.run, ids.id)
        order by ids.id
        """,
        {"ids": ids, "run": _ID_RUN, "width": MIN_REDACT_LEN},
    ).fetchall()
    return [v for (v,) in rows]


def redact_values(
    con: duckdb.DuckDBPyConnection, values: list[str], patterns: list[str]
) -> list[str]:
    """Python strings (names for the card) redacted by the same SQL as the published columns."""
    if not patterns:
        return list(values)
    rows = con.execute(
        f"select list_transform($values::varchar[], lambda v: {redact_sql('v', patterns)})",
        {"values": list(values)},
    ).fetchall()
    return list(rows[0][0])


def count_redacted(con: duckdb.DuckDBPyConnection, texts_sql: str, patterns: list[str]) -> int:
    """How many distinct texts (a query's one column) redaction changes."""
    if not patterns:
        return 0
    rows = con.execute(
        f"select count(*) from ({texts_sql}) as t(text) "
        f"where text is not null and {redact_sql('text', patterns)} <> text"
    ).fetchall()
    return int(rows[0][0])
