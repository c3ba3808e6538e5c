"""Argilla: records, responses, users and settings, from export files or a live server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa

from extract.argilla.exports import ExportTables, read_export
from extract.landing import Landing, LandResult, content_sha256, sha256_dir, sha256_file
from extract.settings import read_csv_strings, source_uri
from rlhfw.config import ArgillaSource, Study

USER_COLUMNS = ("user_id", "username", "role", "first_name", "last_name", "inserted_at")


@dataclass
class ArgillaExtract:
    results: list[LandResult] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _with_constants(table: pa.Table, **constants: str | None) -> pa.Table:
    for name, value in constants.items():
        column = pa.array([value] * table.num_rows, pa.string())
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, column)
        else:
            table = table.append_column(name, column)
    return table


def field_names(study: Study, role: str) -> list[str]:
    if role == "writing":
        return [study.argilla.writing.question_field]
    r = study.argilla.rating
    return [r.question_field, r.response_a_field, r.response_b_field]


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
    if "username" not in responses.column_names:
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
    study: Study,
    landing: Landing,
    *,
    api_url: str | None = None,
    api_key: str | None = None,
    log: Callable[[str], None] = print,
) -> ArgillaExtract:
    """Read every configured Argilla source, then land it. Reads all before landing any."""
    read = read_argilla(study, landing, api_url=api_url, api_key=api_key, log=log)
    return land_argilla(read, landing)


@dataclass
class ArgillaRead:
    """Everything read from the Argilla sources, not landed yet."""

    report: ArgillaExtract
    pending: list[tuple[ExportTables, ArgillaSource, str, str, str]]
    users: list[tuple[pa.Table, str, str]]


def read_argilla(
    study: Study,
    landing: Landing,
    *,
    api_url: str | None = None,
    api_key: str | None = None,
    log: Callable[[str], None] = print,
) -> ArgillaRead:
    """Read every configured source; an export whose exact content already landed is skipped."""
    report = ArgillaExtract()
    pending: list[tuple[ExportTables, ArgillaSource, str, str, str]] = []
    users: list[tuple[pa.Table, str, str]] = []
    client = None
    for role in ("writing", "rating"):
        for src in getattr(study.argilla, role).sources:
            if src.export is not None:
                uri = str(src.export)
                sha = sha256_dir(src.export) if src.export.is_dir() else sha256_file(src.export)
                done = landing.completed(uri, sha)
                if done is not None:
                    log(f"argilla {role}: {src.export.name} unchanged since it landed; skipped")
                    report.formats[uri] = done.get("source_format", "")
                    report.skipped.append(uri)
                    continue
                tables = read_export(src.export, field_names(study, role))
            else:
                from extract.argilla.api import ArgillaClient  # only for live sources

                if client is None:
                    client = ArgillaClient.from_env(api_url=api_url, api_key=api_key)
                    table = client.users()
                    users.append((table, f"argilla+{client.url}/users", content_sha256(table)))
                uri = source_uri(src, client.url)
                tables, sha = client.dataset_tables(src.dataset, src.workspace)
            report.formats[uri] = tables.source_format
            report.warnings.extend(tables.warnings)
            pending.append((tables, src, role, uri, sha))
    if study.argilla.users is not None:
        path = study.argilla.users
        users.append((read_users_file(path), str(path), sha256_file(path)))
    return ArgillaRead(report, pending, users)


def land_argilla(read: ArgillaRead, landing: Landing) -> ArgillaExtract:
    """Land what `read_argilla` read; mark each export complete after its last table."""
    report = read.report
    for tables, src, role, uri, sha in read.pending:
        report.results.extend(_land_tables(landing, tables, src, role, uri, sha))
        if src.export is not None:
            landing.mark_complete(uri, sha, source_format=tables.source_format)
    for table, uri, sha in read.users:
        report.results.append(landing.land("argilla", "users", table, uri, sha))
    for table_name in ("records", "responses", "users", "settings"):
        landing.ensure_table("argilla", table_name)
    return report
