"""The models read the same on every engine: DuckDB-only SQL lives only in dispatch macros.

A grep, as issue 24 asks: the models' SQL, the SQL inside their YAML (data test expressions,
unit test fixtures) and every macro that is not an engine's own variant (`duckdb__...`) must
not use a DuckDB-only spelling. Engine differences go behind `adapter.dispatch` macros
(macros/engines.sql and the other macros' `duckdb__` / `postgres__` / `spark__` variants).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

# DuckDB spellings with no counterpart on PostgreSQL or Spark (or a different meaning there).
DUCKDB_ONLY = {
    "qualify": r"\bqualify\b",
    "* exclude / * replace": r"\*\s*(exclude|replace)\s*\(",
    "anti / semi / asof join": r"\b(anti|semi|asof)\s+(inner\s+|left\s+)?join\b",
    "union by name": r"\bunion\s+(all\s+)?by\s+name\b",
    ":: cast": r"::",
    "** power": r"\*\*",
    "try_cast": r"\btry_cast\s*\(",
    "list functions": r"\b(list|list_\w+|flatten|len|array_to_string|unnest|range)\s*\(",
    "list comprehension": r"\[[^\]]*\bfor\s+\w+\s+in\b",
    "lambda": r"\blambda\b|->\s",
    "JSON functions": r"\b(json_\w+|from_json)\s*\(|->>",
    "regexp functions": r"\bregexp_(matches|full_match|extract\w*|split\w*)\s*\(",
    "median / quantile": r"\b(median|quantile\w*|list_median)\s*\(",
    "isnan / isfinite": r"\b(isnan|isfinite|isinf)\s*\(",
    "hash": r"\bhash\s*\(",
    "DuckDB types": r"\b(u?bigint\s*\[\]|ubigint|hugeint|uhugeint|varint|struct|map)\b",
    "DuckDB table functions": r"\b(read_parquet|read_csv\w*|glob|generate_series)\s*\(",
    "strftime / epoch": r"\b(strftime|strptime|epoch\w*|date_diff|datediff)\s*\(",
    "string_split / split_part": r"\b(string_split\w*|str_split\w*)\s*\(",
}

ENGINE_VARIANT = re.compile(r"^(duckdb|postgres|spark)__")
MACRO = re.compile(r"{%-?\s*(?:macro|test)\s+(\w+)\s*\(.*?{%-?\s*end(?:macro|test)\s*-?%}", re.S)


def _code(sql: str) -> str:
    """SQL without comments (Jinja, block and line comments), Jinja (macro calls are checked
    where the macro is defined) or string literals."""
    sql = re.sub(r"{#.*?#}|{{.*?}}|{%.*?%}", " ", sql, flags=re.S)
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    sql = re.sub(r"--[^\n]*", " ", sql)
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def _findings(text: str) -> list[str]:
    code = _code(text)
    return [name for name, pattern in DUCKDB_ONLY.items() if re.search(pattern, code, re.I)]


def _yaml_sql(node) -> list[str]:
    """Every SQL string in a models YAML: test expressions, unit test fixture rows."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("format") == "sql" and isinstance(node.get("rows"), str):
            found.append(node["rows"])
        for key, value in node.items():
            if key in ("expression", "where", "condition") and isinstance(value, str):
                found.append(value)
            else:
                found += _yaml_sql(value)
    elif isinstance(node, list):
        for item in node:
            found += _yaml_sql(item)
    return found


def _sources() -> list[tuple[str, str]]:
    """(where, SQL) for every model, models YAML string, singular test and portable macro."""
    sources: list[tuple[str, str]] = []
    for path in sorted((ROOT / "models").rglob("*.sql")):
        sources.append((str(path.relative_to(ROOT)), path.read_text("utf-8")))
    for path in sorted((ROOT / "models").rglob("*.yml")):
        for i, sql in enumerate(_yaml_sql(yaml.safe_load(path.read_text("utf-8")))):
            sources.append((f"{path.relative_to(ROOT)} (SQL string {i + 1})", sql))
    for folder in ("macros", "tests/dbt"):
        for path in sorted((ROOT / folder).rglob("*.sql")):
            text = path.read_text("utf-8")
            macros = list(MACRO.finditer(text))
            if not macros:  # a singular test: plain SQL
                sources.append((str(path.relative_to(ROOT)), text))
            for macro in macros:
                if not ENGINE_VARIANT.match(macro.group(1)):
                    sources.append((f"{path.relative_to(ROOT)}: {macro.group(1)}", macro.group(0)))
    return sources


def test_the_grep_sees_every_kind_of_file():
    wheres = [w for w, _ in _sources()]
    assert any(w.startswith("models/marts/") and w.endswith(".sql") for w in wheres)
    assert any("SQL string" in w for w in wheres)
    assert any(w.startswith("macros/versions.sql: ") for w in wheres)
    assert not any(w.startswith("macros/engines.sql: duckdb__") for w in wheres)


@pytest.mark.parametrize(
    "sql",
    [
        "select * from t qualify row_number() over () = 1",
        "select * exclude (a) from t",
        "select 1 from a anti join b using (k)",
        "select x::int from t",
        "select list(x order by y) from t",
        "select median(x) from t",
        "select try_cast(x as double) from t",
        "select [v * v for v in xs] from t",
        "select cast('0x' || h as ubigint) from t",
    ],
)
def test_the_grep_finds_duckdb_only_sql(sql):
    assert _findings(sql)


def test_the_grep_ignores_comments_and_strings():
    assert _findings("-- qualify is DuckDB's\nselect 'median(x)' as s {# list(x) #}") == []


def test_models_use_no_duckdb_only_sql_outside_dispatch_macros():
    found = {where: names for where, text in _sources() if (names := _findings(text))}
    assert found == {}
