"""Argilla: records, responses, users and settings, from export files or a live server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import duckdb
import pyarrow as pa

from extract.argilla.exports import ExportTables, SourceNames, read_export
from extract.errors import ExtractError
from extract.landing import (
    Landing,
    LandResult,
    Staged,
    content_sha256,
    recorded_uri,
    sha256_dir,
    sha256_file,
)
from extract.settings import read_csv_strings, source_uri
from study_config import Argilla, ArgillaSource

USER_COLUMNS = ("user_id", "username", "role", "first_name", "last_name", "inserted_at")


@dataclass
class ArgillaExtract:
    results: list[LandResult] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _with_constants(table: pa.Table | Staged, **constants: str | None) -> pa.Table | Staged:
    if isinstance(table, Staged):
        return replace(table, constants=table.constants + tuple(constants.items()))
    for name, value in constants.items():
        column = pa.array([value] * table.num_rows, pa.string())
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, column)
        else:
            table = table.append_column(name, column)
    return table


Named = list[tuple[str, str]]  # (config key, configured name)


def configured_names(argilla: Argilla, role: str) -> tuple[Named, Named, Named]:
    """The fields, questions and metadata keys `argilla` (study.yml's `argilla:`) names for a
    study role's sources."""
    if role == "writing":
        w = argilla.writing
        fields = [("question_field", w.question_field)]
        questions = [
            ("response_question", w.response_question),
            ("quality_question", w.quality_question),
        ]
        metadata = [("question_id_metadata", w.question_id_metadata)]
    else:
        r = argilla.rating
        fields = [
            ("question_field", r.question_field),
            ("response_a_field", r.response_a_field),
            ("response_b_field", r.response_b_field),
        ]
        questions = [("rating_question", r.rating_question)]
        metadata = [
            ("response_a_metadata", r.response_a_metadata),
            ("response_b_metadata", r.response_b_metadata),
        ]

    def keyed(pairs: list[tuple[str, str | None]]) -> Named:
        return [(f"argilla.{role}.{key}", value) for key, value in pairs if value is not None]

    return keyed(fields), keyed(questions), keyed(metadata)


def field_names(argilla: Argilla, role: str) -> list[str]:
    """The record fields `argilla` names for a study role's sources."""
    return [name for _key, name in configured_names(argilla, role)[0]]


def _listing(names: list[str] | tuple[str, ...], limit: int = 20) -> str:
    shown = ", ".join(names[:limit])
    more = f", ... (+{len(names) - limit} more)" if len(names) > limit else ""
    return (shown + more) or "none"


def check_names(argilla: Argilla, role: str, names: SourceNames | None, where: str) -> None:
    """Every field and question `argilla` names for the role must be one the source has: a
    response to a question the study does not name would land and then count nowhere. Raises
    ExtractError."""
    if names is None:
        # No settings and no records (or none that show a name): nothing to check against.
        # Such a source lands nothing that could be miscounted; its first records are checked.
        return
    fields, questions, _metadata = configured_names(argilla, role)
    if names.fields is not None:
        for key, value in fields:
            if value not in names.fields:
                raise ExtractError(
                    f"{key}: {value!r} is not a field of {where} "
                    f"(its {names.fields_word}: {_listing(names.fields)})"
                )
    if names.questions is not None:
        note = f"; {names.questions_note}" if names.questions_note else ""
        for key, value in questions:
            if value not in names.questions:
                raise ExtractError(
                    f"{key}: {value!r} is not a question of {where} "
                    f"(its questions: {_listing(names.questions)}{note})"
                )


def check_metadata(argilla: Argilla, role: str, records: pa.Table | Staged, where: str) -> None:
    """Every metadata key `argilla` names for the role must have a value in at least one record
    of a source that has records, else the links it is meant to make silently fall back or fail.
    Raises ExtractError."""
    _fields, _questions, metadata = configured_names(argilla, role)
    if not metadata or records.num_rows == 0:
        return  # no records yet: none could carry the key
    if isinstance(records, Staged):
        db = records.db.cursor()  # a connection of its own to the landing's database
        db.execute(f'create temp view records as select metadata from "{records.name}"')
    else:
        db = duckdb.connect()
        db.register("records", records.select(["metadata"]))
    try:
        for key, value in metadata:
            # Read as staging reads it (macros/text.sql `json_text`: `metadata ->> key`).
            (carried,) = db.execute(
                "select count(*) from records "
                "where json_valid(metadata) and (metadata::json ->> ?) is not null",
                [value],
            ).fetchone()
            if carried:
                continue
            present = [
                k
                for (k,) in db.execute(
                    "select distinct k from (select unnest(json_keys(m)) as k, m from "
                    "(select metadata::json as m from records where json_valid(metadata))) "
                    "where m ->> k is not null order by k"
                ).fetchall()
            ]
            raise ExtractError(
                f"{key}: no record of {where} carries metadata {value!r} "
                f"(its records' metadata keys: {_listing(present)})"
            )
    finally:
        db.close()


def read_users_file(path) -> pa.Table:
    """A users file: `id,username` at least (role, first_name, ... optional)."""
    table = read_csv_strings(path, required=("id", "username"))
    table = table.rename_columns(["user_id" if c == "id" else c for c in table.column_names])
    keep = [c for c in table.column_names if c in USER_COLUMNS]
    return table.select(keep)


def _land_tables(
    landing: Landing, tables: ExportTables, src: ArgillaSource, role: str, uri: str, sha: str
) -> list[LandResult]:
    consts = {
        "dataset": src.label,
        "workspace": src.workspace_label,
        "study_role": role,
    }
    records = _with_constants(tables.records, **consts, source_format=tables.source_format)
    responses = _with_constants(tables.responses, **consts)
    if isinstance(responses, pa.Table) and "username" not in responses.column_names:
        responses = responses.append_column("username", pa.nulls(responses.num_rows, pa.string()))
    out = [
        landing.land("argilla", "records", records, uri, sha),
        landing.land("argilla", "responses", responses, uri, sha),
    ]
    if tables.settings is not None:
        out.append(
            landing.land(
                "argilla", "settings", _with_constants(tables.settings, **consts), uri, sha
            )
        )
    return out


def extract_argilla(
    argilla: Argilla,
    landing: Landing,
    *,
    root: Path,
    api_url: str | None = None,
    api_key: str | None = None,
    log: Callable[[str], None] = print,
) -> ArgillaExtract:
    """Read every Argilla source `argilla` configures, then land it. Reads all before landing
    any. `root`: as `read_argilla`."""
    read = read_argilla(argilla, landing, root=root, api_url=api_url, api_key=api_key, log=log)
    return land_argilla(read, landing)


@dataclass
class ArgillaRead:
    """Everything read from the Argilla sources, not landed yet."""

    report: ArgillaExtract
    pending: list[tuple[ExportTables, ArgillaSource, str, str, str]]
    users: list[tuple[pa.Table, str, str]]


def read_argilla(
    argilla: Argilla,
    landing: Landing,
    *,
    root: Path,
    api_url: str | None = None,
    api_key: str | None = None,
    log: Callable[[str], None] = print,
) -> ArgillaRead:
    """Read every source `argilla` (study.yml's `argilla:`) configures, and its users file; an
    export whose exact content already landed is skipped. Raises ExtractError.

    `root` is the study file's folder: an export is named in messages relative to it, as the
    user wrote it in study.yml."""
    report = ArgillaExtract()
    pending: list[tuple[ExportTables, ArgillaSource, str, str, str]] = []
    users: list[tuple[pa.Table, str, str]] = []
    client = None
    for role in ("writing", "rating"):
        for src in getattr(argilla, role).sources:
            if src.export is not None:
                uri = str(src.export)
                sha = sha256_dir(src.export) if src.export.is_dir() else sha256_file(src.export)
                done = landing.completed(uri, sha)
                if done is not None:
                    log(f"argilla {role}: {src.export.name} unchanged since it landed; skipped")
                    report.formats[uri] = done.get("source_format", "")
                    report.skipped.append(uri)
                    continue
                tables = read_export(
                    src.export,
                    field_names(argilla, role),
                    db=landing.db,
                    prefix=f"export{len(pending)}_",
                )
                # As the user wrote it: relative to the study file's folder.
                where = recorded_uri(str(src.export), root)
                check_names(argilla, role, tables.names, where)
            else:
                from extract.argilla.api import ArgillaClient  # only for live sources

                if client is None:
                    client = ArgillaClient.from_env(api_url=api_url, api_key=api_key)
                    table = client.users()
                    users.append((table, f"argilla+{client.url}/users", content_sha256(table)))
                uri = source_uri(src, client.url)
                in_workspace = f" in workspace {src.workspace!r}" if src.workspace else ""
                where = f"dataset {src.dataset!r}{in_workspace} on {client.url}"
                # Checked from the server's settings before any record is pulled.
                tables, sha = client.dataset_tables(
                    src.dataset,
                    src.workspace,
                    check=partial(check_names, argilla, role, where=where),
                )
            check_metadata(argilla, role, tables.records, where)
            report.formats[uri] = tables.source_format
            report.warnings.extend(tables.warnings)
            pending.append((tables, src, role, uri, sha))
    if argilla.users is not None:
        path = argilla.users
        users.append((read_users_file(path), str(path), sha256_file(path)))
    return ArgillaRead(report, pending, users)


def land_argilla(read: ArgillaRead, landing: Landing) -> ArgillaExtract:
    """Land what `read_argilla` read; mark each export complete after its last table."""
    report = read.report
    for tables, src, role, uri, sha in read.pending:
        report.results.extend(_land_tables(landing, tables, src, role, uri, sha))
        if src.export is not None:
            landing.mark_complete(uri, sha, source_format=tables.source_format)
        for staged in (tables.records, tables.responses):
            if isinstance(staged, Staged):
                landing.drop(staged)
    for table, uri, sha in read.users:
        report.results.append(landing.land("argilla", "users", table, uri, sha))
    for table_name in ("records", "responses", "users", "settings"):
        landing.ensure_table("argilla", table_name)
    return report
