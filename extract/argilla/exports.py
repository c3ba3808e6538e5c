"""Argilla export files of every generation → the canonical records/responses/settings tables.

Supported (detected from the file, not its name):
- 2.x flat table (`records.to_list(flatten=True)`, `to_datasets()`, `to_hub` parquet), as Parquet,
  JSON or JSONL: per question `<q>.responses`, `<q>.responses.users`, `<q>.responses.status`.
- 2.x nested records (`Dataset.to_disk` folder's `records.json`, or `to_json`/`to_dict` output):
  `responses: {q: [{value, user_id}]}`. It carries no response status: landed as null.
- v1 `FeedbackDataset.format_as("datasets")`: per question a list of `{user_id, value, status}`,
  `external_id`, `metadata` as a JSON string. Parquet, JSON/JSONL, or a `save_to_disk` folder.

Everything runs as DuckDB SQL over the file so a million-record export never becomes Python
objects. The per-question lists of the flat table are zipped per question only (lists of different
questions are not aligned). Columns the format does not explain are kept in `metadata`/`extra`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from extract.errors import ExtractError
from extract.landing import Staged

FLAT = "argilla2_flat"
NESTED = "argilla2_records"
V1 = "argilla1_datasets"

_V1_RESERVED = {"external_id", "metadata", "id", "vectors"}
_FLAT_RESERVED = {"id", "status", "_server_id"}


@dataclass(frozen=True)
class SourceNames:
    """The field and question names a source defines, to check study.yml's names against.

    None: the source cannot tell (a flat export in which nobody answered yet names no question).
    """

    fields: tuple[str, ...] | None
    questions: tuple[str, ...] | None
    # A flat table's columns are fields and metadata alike: nothing tells them apart.
    fields_word: str = "fields"
    # Why a name may be missing although the dataset has it (said in the error).
    questions_note: str = ""


@dataclass
class ExportTables:
    """What one export file yields, in landing-contract columns (extract/schemas.py)."""

    source_format: str
    records: pa.Table | Staged
    responses: pa.Table | Staged
    settings: pa.Table | None = None
    warnings: list[str] = field(default_factory=list)
    names: SourceNames | None = None  # None: nothing to check the configured names against


def _q(name: str) -> str:
    """Quote an identifier for DuckDB (export column names hold dots and dashes)."""
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


class _Reader:
    def __init__(self, path: Path, db: duckdb.DuckDBPyConnection | None = None) -> None:
        self.path = path
        self.raw_kind = ""  # what `raw` is, once loaded: a table or a view
        if db is None:
            db = duckdb.connect()
            db.execute("set preserve_insertion_order = true").fetchall()
        self.db = db

    def load(self) -> None:
        """Make the export readable as `raw` (a table; a view over a Parquet file), whatever
        container it came in."""
        path = self.path
        try:
            if path.is_dir():
                self._load_dir(path)
            elif path.suffix.lower() == ".parquet":
                self._view(f"select * from read_parquet({_lit(str(path))})", parse_once=False)
            elif path.suffix.lower() in (".json", ".jsonl", ".ndjson"):
                self._load_json(path)
            else:
                raise ExtractError(
                    f"{path}: unknown export format (expected .parquet, .json, .jsonl, "
                    "a to_disk folder or a datasets save_to_disk folder)"
                )
        except ExtractError:
            raise
        except (duckdb.Error, OSError, ValueError, pa.ArrowException) as exc:
            raise ExtractError(f"{path}: cannot read the export: {_first_line(exc)}") from None

    def _view(self, sql: str, parse_once: bool = True) -> None:
        # A table, not a view, unless the file is Parquet (cheap to scan again): the file is
        # parsed once, not once per query over it (JSON parsing was most of reading an export).
        self.raw_kind = "table" if parse_once else "view"
        self.db.execute(f"create or replace {self.raw_kind} raw as {sql}").fetchall()
        self.db.execute("select count(*) from raw").fetchall()  # fail early on a bad file

    def _load_json(self, path: Path) -> None:
        with path.open("rb") as f:
            head = f.read(1).lstrip() or f.read(64).lstrip()[:1]
        if not head:
            raise ExtractError(f"{path}: the file is empty")
        fmt = "array" if head == b"[" else "newline_delimited"
        read = f"read_json({_lit(str(path))}, format = {_lit(fmt)}, sample_size = -1"
        try:
            self._view(f"select * from {read})")
        except duckdb.Error as exc:
            # DuckDB's buffers grow with maximum_object_size, so it is raised only for a file
            # that needs it (one huge JSON value): a 1000x export read under it does not fit
            # in the memory limit. No object is larger than its file.
            if "maximum_object_size" not in str(exc):
                raise
            size = max(path.stat().st_size + 1, 16 * 2**20)
            self._view(f"select * from {read}, maximum_object_size = {size})")

    def _load_dir(self, path: Path) -> None:
        if (path / "records.json").exists():
            self._load_json(path / "records.json")
            return
        if (path / "dataset_info.json").exists() or (path / "state.json").exists():
            import datasets  # heavy import, only for this container

            ds = datasets.load_from_disk(str(path))
            if isinstance(ds, datasets.DatasetDict):
                table = pa.concat_tables([d.data.table for d in ds.values()])
            else:
                table = ds.data.table
            self.db.register("raw_arrow", table)
            self._view("select * from raw_arrow")
            self.db.unregister("raw_arrow")
            return
        raise ExtractError(
            f"{path}: folder holds neither records.json (Argilla to_disk) nor a datasets "
            "save_to_disk dataset"
        )

    def columns(self) -> dict[str, str]:
        rows = self.db.execute("describe raw").fetchall()
        return {name: str(typ) for name, typ, *_ in rows}

    def arrow(self, sql: str) -> pa.Table:
        return self.db.sql(sql).to_arrow_table()

    def stage(self, name: str, sql: str) -> Staged:
        """`sql`'s rows as table `name` of the reader's connection."""
        self.db.execute(f"create or replace table {_q(name)} as {sql}").fetchall()
        rows = self.db.execute(f"select count(*) from {_q(name)}").fetchall()[0][0]
        return Staged(self.db, name, rows)

    def close(self) -> None:
        if self.raw_kind:
            self.db.execute(f"drop {self.raw_kind} if exists raw").fetchall()


def detect_format(columns: dict[str, str]) -> str:
    if any(c.endswith(".responses") for c in columns) or {"_server_id", "status"} <= set(columns):
        if "responses" not in columns:
            return FLAT
    if "responses" in columns and "fields" in columns:
        return NESTED
    v1_question = any(
        t.startswith("STRUCT(") and "user_id" in t and "status" in t and t.endswith("[]")
        for t in columns.values()
    )
    if v1_question or {"external_id", "metadata"} <= set(columns):
        return V1
    raise ExtractError(
        "not an Argilla export: no `<question>.responses` columns (2.x flat), no "
        "`fields`/`responses` (2.x records), no `external_id`/`metadata` (v1)"
    )


def _value_columns(value: str, value_type: str) -> str:
    """value_json / value_number / value_text from one response value expression."""
    is_text = value_type.upper().startswith("VARCHAR") or value_type == "JSON"
    number = (
        f"try_cast({value} as double)"
        if is_text or value_type.upper() in {"BIGINT", "INTEGER", "DOUBLE", "FLOAT", "HUGEINT"}
        else "null::double"
    )
    if value_type == "JSON":
        text = f"case when json_type({value}) = 'VARCHAR' then {value} ->> '$' end"
        number = (
            f"case when json_type({value}) in ('BIGINT', 'UBIGINT', 'DOUBLE') "
            f"then ({value} ->> '$')::double else try_cast({value} ->> '$' as double) end"
        )
        as_json = f"{value}::varchar"
    else:
        text = f"{value}::varchar" if is_text else "null::varchar"
        as_json = f"to_json({value})::varchar"
    return f"{as_json} as value_json, {number} as value_number, {text} as value_text"


def _struct_json(cols: Iterable[str]) -> str:
    cols = list(cols)
    if not cols:
        return "'{}'"
    return "to_json(struct_pack(" + ", ".join(f"{_q(c)} := {_q(c)}" for c in cols) + "))::varchar"


def _list_element_type(list_type: str) -> str:
    return list_type[:-2] if list_type.endswith("[]") else "JSON"


def _flat_columns(cols: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """A flat table's answered questions, its suggestion columns, and the rest (fields and
    metadata, which the table does not tell apart)."""
    questions = sorted(c[: -len(".responses")] for c in cols if c.endswith(".responses"))
    owned = set(_FLAT_RESERVED)
    for q in questions:
        owned |= {f"{q}.responses", f"{q}.responses.users", f"{q}.responses.status"}
    suggestion_cols = [c for c in cols if ".suggestion" in c and c not in owned]
    owned |= set(suggestion_cols)
    rest = [c for c in cols if c not in owned]
    return questions, suggestion_cols, rest


def _flat(reader: _Reader, cols: dict[str, str], field_names: set[str]) -> tuple[str, list[str]]:
    questions, suggestion_cols, rest = _flat_columns(cols)
    fields = [c for c in rest if c in field_names]
    metadata = [c for c in rest if c not in field_names]
    server_id = "_server_id::varchar" if "_server_id" in cols else "null::varchar"
    record_id = f"coalesce({server_id}, id::varchar)" if "id" in cols else server_id
    records = (
        f"select {record_id} as record_id, "
        f"{'id::varchar' if 'id' in cols else 'null::varchar'} as external_id, "
        f"{'status::varchar' if 'status' in cols else 'null::varchar'} as record_status, "
        f"{_struct_json(fields)} as fields, {_struct_json(metadata)} as metadata, "
        f"{_struct_json(suggestion_cols)} as extra, "
        "null::varchar as inserted_at, null::varchar as updated_at from raw"
    )
    parts = []
    for q in questions:
        values, users = _q(f"{q}.responses"), _q(f"{q}.responses.users")
        status_col = f"{q}.responses.status"
        status = f"unnest({_q(status_col)})" if status_col in cols else "null"
        vtype = _list_element_type(cols[f"{q}.responses"])
        parts.append(
            f"select record_id, {_lit(q)} as question_name, user_id::varchar as user_id, "
            f"{_value_columns('value', vtype)}, status::varchar as status from ("
            f"select {record_id} as record_id, unnest({values}) as value, "
            f"unnest({users}) as user_id, {status} as status from raw)"
        )
    return records, parts


def _v1_question_columns(cols: dict[str, str]) -> list[str]:
    """Columns holding lists of {user_id, value, status}: a v1 table's questions."""
    return [
        c
        for c, t in cols.items()
        if t.startswith("STRUCT(") and t.endswith("[]") and "user_id" in t and "value" in t
    ]


def _v1(reader: _Reader, cols: dict[str, str], field_names: set[str]) -> tuple[str, list[str]]:
    questions = _v1_question_columns(cols)
    suggestion_cols = [c for c in cols if c.endswith("-suggestion") or c.endswith("-metadata")]
    owned = set(questions) | set(suggestion_cols) | _V1_RESERVED
    fields = [c for c in cols if c not in owned]
    field_json = _struct_json(fields)
    ext = "external_id::varchar" if "external_id" in cols else "null::varchar"
    record_id = f"coalesce({ext}, left(md5({field_json}), 16))"
    meta = "metadata::varchar" if "metadata" in cols else "'{}'"
    records = (
        f"select {record_id} as record_id, {ext} as external_id, null::varchar as record_status, "
        f"{field_json} as fields, {meta} as metadata, {_struct_json(suggestion_cols)} as extra, "
        "null::varchar as inserted_at, null::varchar as updated_at from raw"
    )
    parts = []
    for q in questions:
        elem = _list_element_type(cols[q])
        vtype = _struct_field_type(elem, "value")
        status = "r.status::varchar" if "status" in elem else "null::varchar"
        parts.append(
            f"select record_id, {_lit(q)} as question_name, r.user_id::varchar as user_id, "
            f"{_value_columns('r.value', vtype)}, {status} as status from ("
            f"select {record_id} as record_id, unnest({_q(q)}) as r from raw)"
        )
    return records, parts


def _struct_field_type(struct_type: str, name: str) -> str:
    """The type of one field of a DuckDB STRUCT(...) type string ('JSON' when unsure)."""
    inner = struct_type[len("STRUCT(") : -1]
    depth, start, parts = 0, 0, []
    for i, ch in enumerate(inner):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i].strip())
            start = i + 1
    parts.append(inner[start:].strip())
    for part in parts:
        fname, _, ftype = part.partition(" ")
        if fname.strip('"') == name:
            return ftype.strip()
    return "JSON"


def _nested(reader: _Reader, cols: dict[str, str]) -> tuple[str, list[str]]:
    server_id = "_server_id::varchar" if "_server_id" in cols else "null::varchar"
    record_id = f"coalesce({server_id}, id::varchar)"
    extras = [c for c in ("suggestions", "vectors") if c in cols]
    records = (
        f"select {record_id} as record_id, id::varchar as external_id, "
        f"{'status::varchar' if 'status' in cols else 'null::varchar'} as record_status, "
        "to_json(fields)::varchar as fields, "
        f"{'to_json(metadata)::varchar' if 'metadata' in cols else chr(39) + '{}' + chr(39)} "
        f"as metadata, {_struct_json(extras)} as extra, "
        "null::varchar as inserted_at, null::varchar as updated_at from raw"
    )
    rtype = cols["responses"]
    parts = []
    if rtype.startswith("STRUCT("):
        for q in _struct_field_names(rtype):
            elem = _list_element_type(_struct_field_type(rtype, q))
            vtype = _struct_field_type(elem, "value") if elem.startswith("STRUCT(") else "JSON"
            parts.append(
                f"select record_id, {_lit(q)} as question_name, r.user_id::varchar as user_id, "
                f"{_value_columns('r.value', vtype)}, null::varchar as status from ("
                f"select {record_id} as record_id, unnest(responses.{_q(q)}) as r from raw)"
            )
    elif rtype == "JSON":
        # Heterogeneous files make DuckDB fall back to JSON: walk it with json functions.
        parts.append(
            "select record_id, q as question_name, r ->> 'user_id' as user_id, "
            f"{_value_columns(chr(40) + 'r -> ' + chr(39) + 'value' + chr(39) + chr(41), 'JSON')},"
            " null::varchar as status from ("
            f"select {record_id} as record_id, unnest(json_keys(responses)) as q, responses "
            "from raw) as k, unnest(json_extract(k.responses -> k.q, '$[*]')) as t(r)"
        )
    return records, parts


def _struct_field_names(struct_type: str) -> list[str]:
    inner = struct_type[len("STRUCT(") : -1]
    depth, start, names = 0, 0, []
    for i, ch in enumerate(inner + ","):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            names.append(inner[start:i].strip().split(" ", 1)[0].strip('"'))
            start = i + 1
    return [n for n in names if n]


def _settings_from_disk(folder: Path) -> tuple[list[dict], list[str]]:
    """Fields and questions of a to_disk folder's `.argilla/settings.json`, if readable."""
    path = folder / ".argilla" / "settings.json"
    if not path.exists():
        return [], []
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [], [f"{path}: settings not readable ({_first_line(exc)}); landed without them"]
    rows = []
    for kind in ("fields", "questions"):
        for item in settings.get(kind) or []:
            rows.append(
                {
                    "kind": kind.rstrip("s"),
                    "name": item.get("name"),
                    "title": item.get("title"),
                    "type": (item.get("settings") or {}).get("type") or item.get("type"),
                    "settings_json": json.dumps(item, sort_keys=True, ensure_ascii=False),
                }
            )
    return rows, []


_FLAT_NOTE = "a flat export names only the questions that have a response or suggestion"
_NESTED_NOTE = (
    "records.json names only the questions that have a response or suggestion; "
    ".argilla/settings.json would name them all"
)


def names_from_settings(rows: Iterable[dict]) -> SourceNames | None:
    """Fields and questions as the dataset's own settings define them (every one, answered or
    not): a to_disk folder's `.argilla/settings.json`, or a live server's."""
    rows = list(rows)
    fields = sorted({r["name"] for r in rows if r.get("kind") == "field" and r.get("name")})
    questions = sorted({r["name"] for r in rows if r.get("kind") == "question" and r.get("name")})
    if not fields and not questions:
        return None
    return SourceNames(tuple(fields) or None, tuple(questions) or None)


def _key_names(reader: _Reader, column: str, column_type: str | None) -> set[str]:
    """The keys an object-valued column holds across the export's rows."""
    if column_type is None:
        return set()
    if column_type.startswith("STRUCT("):
        return set(_struct_field_names(column_type))
    if column_type.startswith("MAP("):
        sql = f"select distinct unnest(map_keys({_q(column)})) from raw"
    elif column_type == "JSON":
        sql = f"select distinct unnest(json_keys({_q(column)})) from raw"
    else:
        return set()
    try:
        return {k for (k,) in reader.db.execute(sql).fetchall() if k is not None}
    except duckdb.Error:
        return set()  # not objects after all: this column names nothing


def _source_names(
    reader: _Reader, cols: dict[str, str], fmt: str, has_records: bool
) -> SourceNames | None:
    """The field and question names the export's own shape shows (None: it shows none)."""
    if fmt == FLAT:
        if not has_records:
            return None  # a flat table's columns come from its records: an empty one has none
        answered, suggestion_cols, rest = _flat_columns(cols)
        questions = set(answered) | {c.split(".suggestion")[0] for c in suggestion_cols}
        return SourceNames(
            tuple(sorted(rest)) or None,
            tuple(sorted(questions)) or None,
            fields_word="field and metadata columns",
            questions_note=_FLAT_NOTE,
        )
    if fmt == V1:
        # format_as("datasets") writes a column per question and per suggestion whether or not
        # anyone answered; an all-empty question column is not typed as a list of structs in
        # JSON, so its `-suggestion` column names it too.
        suggestion_cols = {c for c in cols if c.endswith(("-suggestion", "-metadata"))}
        questions = set(_v1_question_columns(cols))
        questions |= {c[: -len("-suggestion")] for c in cols if c.endswith("-suggestion")}
        owned = questions | suggestion_cols | _V1_RESERVED
        fields = sorted(c for c in cols if c not in owned)
        return SourceNames(tuple(fields) or None, tuple(sorted(questions)) or None)
    fields = _key_names(reader, "fields", cols.get("fields"))
    questions = _key_names(reader, "responses", cols.get("responses"))
    questions |= _key_names(reader, "suggestions", cols.get("suggestions"))
    return SourceNames(
        tuple(sorted(fields)) or None,
        tuple(sorted(questions)) or None,
        questions_note=_NESTED_NOTE,
    )


def read_export(
    path: Path,
    field_names: Iterable[str] = (),
    *,
    db: duckdb.DuckDBPyConnection | None = None,
    prefix: str = "",
) -> ExportTables:
    """Read one Argilla export file/folder into canonical tables. Raises ExtractError.

    With `db` (the landing's, `Landing.db`), records and responses stay there as tables
    `<prefix>records` and `<prefix>responses` (`Staged`), not in Python memory."""
    path = Path(path)
    if not path.exists():
        raise ExtractError(f"{path}: export not found")
    reader = _Reader(path, db)
    try:
        return _read(reader, path, field_names, staged=db is not None, prefix=prefix)
    finally:
        if db is not None:
            reader.close()


def _read(
    reader: _Reader, path: Path, field_names: Iterable[str], *, staged: bool, prefix: str
) -> ExportTables:
    reader.load()
    cols = reader.columns()
    try:
        fmt = detect_format(cols)
    except ExtractError as exc:
        raise ExtractError(f"{path}: {exc}") from None
    names = set(field_names)
    if fmt == FLAT:
        records_sql, parts = _flat(reader, cols, names)
    elif fmt == V1:
        records_sql, parts = _v1(reader, cols, names)
    else:
        records_sql, parts = _nested(reader, cols)
    responses_sql = (
        "select * from (" + " union all ".join(parts) + ") where user_id is not null "
        "or value_json is not null"
    )
    try:
        if staged:
            records = reader.stage(f"{prefix}records", records_sql)
            responses = reader.stage(f"{prefix}responses", responses_sql) if parts else None
        else:
            records = reader.arrow(records_sql)
            responses = reader.arrow(responses_sql) if parts else None
    except duckdb.Error as exc:
        raise ExtractError(f"{path}: unexpected export content: {_first_line(exc)}") from None
    warnings = []
    settings_rows: list[dict] = []
    if path.is_dir():
        settings_rows, warnings = _settings_from_disk(path)
    # The dataset's own settings name every field and question; the export's shape may not.
    source_names = names_from_settings(settings_rows) or _source_names(
        reader, cols, fmt, records.num_rows > 0
    )
    if fmt == NESTED and responses is not None and responses.num_rows:
        warnings.append(
            f"{path}: this format carries no response status; {responses.num_rows} responses "
            "landed with status unknown"
        )
    return ExportTables(
        source_format=fmt,
        records=records,
        responses=responses if responses is not None else _empty_responses(),
        settings=pa.Table.from_pylist(settings_rows) if settings_rows else None,
        warnings=warnings,
        names=source_names,
    )


def _empty_responses() -> pa.Table:
    s = pa.string()
    return pa.schema(
        [
            ("record_id", s),
            ("question_name", s),
            ("user_id", s),
            ("value_json", s),
            ("value_number", pa.float64()),
            ("value_text", s),
            ("status", s),
        ]
    ).empty_table()
