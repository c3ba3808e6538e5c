"""Argilla export files of each generation land as the same canonical responses.

Export files are made with the real argilla SDK serializers (GenericIO), as a team's exports are.
"""

from __future__ import annotations

import json
import uuid

import argilla as rg
import datasets
import pyarrow.parquet as pq
import pytest
from argilla.records._io._generic import GenericIO

from extract.argilla.exports import FLAT, NESTED, V1, read_export
from extract.errors import ExtractError

U1, U2, U3 = (str(uuid.UUID(int=i)) for i in (1, 2, 3))

# (record id, user, question, value, status): the truth every format must give back.
TRUTH = [
    ("r1", U1, "response", "Ça va, 日本 👍", "submitted"),
    ("r1", U1, "question_quality", 4, "submitted"),
    ("r1", U2, "response", "a draft", "draft"),
    ("r2", U3, "question_quality", 9, "submitted"),  # out of range: landed as is
    ("r2", U2, "response", "   ", "discarded"),
]


def sdk_records() -> list[rg.Record]:
    by_record: dict[str, list[rg.Response]] = {}
    for rid, user, question, value, status in TRUTH:
        by_record.setdefault(rid, []).append(
            rg.Response(question, value, user_id=uuid.UUID(user), status=status)
        )
    questions = {"r1": "Why do people queue?", "r2": "Is it rude to be late?", "r3": "Empty?"}
    return [
        rg.Record(
            id=rid, fields={"question": q}, metadata={"batch": 1}, responses=by_record.get(rid, [])
        )
        for rid, q in questions.items()
    ]


def canonical(tables, with_status: bool = True) -> list[tuple]:
    out = []
    for row in tables.responses.to_pylist():
        value = json.loads(row["value_json"])
        out.append(
            (
                row["record_id"],
                row["user_id"],
                row["question_name"],
                value,
                row["status"] if with_status else None,
            )
        )
    return sorted(out, key=repr)


def truth(with_status: bool = True) -> list[tuple]:
    return sorted(((r, u, q, v, s if with_status else None) for r, u, q, v, s in TRUTH), key=repr)


@pytest.fixture()
def flat_rows():
    return GenericIO.to_list(sdk_records(), flatten=True)


def test_flat_parquet(tmp_path, flat_rows):
    path = tmp_path / "ws.parquet"
    datasets.Dataset.from_list(flat_rows).to_parquet(str(path))
    tables = read_export(path, ["question"])
    assert tables.source_format == FLAT
    assert canonical(tables) == truth()
    records = {r["record_id"]: r for r in tables.records.to_pylist()}
    assert set(records) == {"r1", "r2", "r3"}  # r3 has no responses (null lists) and still lands
    assert json.loads(records["r1"]["fields"]) == {"question": "Why do people queue?"}
    assert json.loads(records["r1"]["metadata"]) == {"batch": 1}


def test_flat_jsonl_with_shuffled_columns(tmp_path, flat_rows):
    path = tmp_path / "ws.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for row in flat_rows:
            f.write(json.dumps(dict(reversed(list(row.items())))) + "\n")
    tables = read_export(path, ["question"])
    assert tables.source_format == FLAT
    assert canonical(tables) == truth()


def test_nested_records_json_has_no_status_and_says_so(tmp_path):
    folder = tmp_path / "to_disk"
    folder.mkdir()
    (folder / "records.json").write_text(
        json.dumps(GenericIO.to_list(sdk_records(), flatten=False)), encoding="utf-8"
    )
    tables = read_export(folder, ["question"])
    assert tables.source_format == NESTED
    assert canonical(tables) == truth(with_status=False)
    assert any("no response status" in w for w in tables.warnings)


def test_a_record_larger_than_duckdbs_default_json_object_still_reads(tmp_path):
    # DuckDB reads JSON objects up to 16 MB by default; the reader raises the bound only for a
    # file that needs it (a larger bound costs memory on every export).
    long_answer = "word " * (17 * 2**20 // 5)
    record = rg.Record(
        id="r1",
        fields={"question": "Why?"},
        responses=[rg.Response("response", long_answer, user_id=uuid.UUID(U1))],
    )
    # One record dumped as one JSON object: DuckDB reads the file as one object of its size.
    path = tmp_path / "record.json"
    path.write_text(json.dumps(GenericIO.to_list([record], flatten=False)[0]), encoding="utf-8")
    tables = read_export(path, ["question"])
    assert [json.loads(r["value_json"]) for r in tables.responses.to_pylist()] == [long_answer]


def test_v1_format_as_datasets(tmp_path):
    rows = []
    for rec in sdk_records():
        row = {
            "question": rec.fields["question"],
            "external_id": rec.id,
            "metadata": json.dumps(dict(rec.metadata)),
        }
        for q in ("response", "question_quality"):
            row[q] = [
                {"user_id": u, "value": json.dumps(v), "status": s}
                for rid, u, qq, v, s in TRUTH
                if rid == rec.id and qq == q
            ]
            row[f"{q}-suggestion"] = None
            row[f"{q}-suggestion-metadata"] = {"type": None, "score": None, "agent": None}
        rows.append(row)
    path = tmp_path / "v1.parquet"
    datasets.Dataset.from_list(rows).to_parquet(str(path))
    tables = read_export(path, ["question"])
    assert tables.source_format == V1
    got = [
        (r, u, q, json.loads(v) if isinstance(v, str) else v, s)
        for r, u, q, v, s in canonical(tables)
    ]
    assert sorted(got, key=repr) == truth()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("export.csv", b"a,b\n1,2\n", "unknown export format"),
        ("empty.jsonl", b"", "empty"),
        ("junk.parquet", b"PAR1 this is not parquet", "cannot read"),
    ],
)
def test_bad_files_fail_with_the_file_named(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ExtractError, match=message) as info:
        read_export(path)
    assert str(path) in str(info.value)


def test_truncated_parquet_is_a_clear_error(tmp_path, flat_rows):
    path = tmp_path / "ws.parquet"
    datasets.Dataset.from_list(flat_rows).to_parquet(str(path))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ExtractError, match="cannot read"):
        read_export(path)


def test_a_table_that_is_not_an_argilla_export(tmp_path):
    path = tmp_path / "other.parquet"
    pq.write_table(datasets.Dataset.from_dict({"x": [1]}).data.table, path)
    with pytest.raises(ExtractError, match="not an Argilla export"):
        read_export(path)
