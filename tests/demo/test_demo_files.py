"""Every demo file opens with the library its format belongs to, and shows the documented shape."""

from __future__ import annotations

import csv
import json
import re
import uuid
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest

from rlhfw.demo.formats import v1_features
from rlhfw.demo.model import DATASETS
from rlhfw.demo.prolific import PROLIFIC_HEADER
from study_config import load_study

HEX24 = re.compile(r"^[0-9a-f]{24}$")


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _path(demo, name: str) -> Path:
    return demo.out_dir / next(d.path for d in DATASETS if d.name == name)


def test_study_yml_loads_and_names_every_export(demo):
    study = load_study(demo.study_path)
    assert [s.label for s in study.argilla.writing.sources] == [
        "writing_social_a",
        "writing_social_b",
        "writing_social_v1",
    ]
    assert len(study.argilla.rating.sources) == 6
    exclude = [s.label for s in study.argilla.rating.sources if s.status_if_missing == "exclude"]
    assert exclude == ["rating_pairs_d"]
    assert study.participants.argilla_username_is_prolific_pid
    assert study.prolific.writing.export.is_file() and study.argilla.users.is_file()
    assert study.warehouse == (demo.out_dir / "data" / "warehouse.duckdb").resolve()


@pytest.mark.parametrize("role", ["writing", "rating"])
def test_prolific_exports_have_the_real_header_and_the_mess(demo, role):
    path = demo.out_dir / "exports" / f"prolific_{role}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        assert tuple(next(csv.reader(f))) == PROLIFIC_HEADER
    rows = _csv(path)
    assert all(HEX24.match(r["Participant id"]) and HEX24.match(r["Submission id"]) for r in rows)
    assert {r["Status"] for r in rows} >= {
        "APPROVED",
        "AWAITING REVIEW",
        "RETURNED",
        "TIMED-OUT",
        "REJECTED",
    }
    by_pid: dict[str, list[str]] = {}
    for r in sorted(rows, key=lambda r: r["Started at"]):
        by_pid.setdefault(r["Participant id"], []).append(r["Status"])
    assert ["RETURNED", "APPROVED"] in by_pid.values()
    cells = [v for r in rows for v in r.values()]
    assert "DATA_EXPIRED" in cells and "CONSENT_REVOKED" in cells
    assert "NOCODE" in {r["Completion code"] for r in rows}


def test_users_file_maps_uuids_to_prolific_ids(demo):
    users = _csv(demo.out_dir / "exports" / "argilla_users.csv")
    assert list(users[0]) == ["id", "username"]
    assert all(uuid.UUID(u["id"]).version == 4 for u in users)
    pids = {
        r["Participant id"]
        for role in ("writing", "rating")
        for r in _csv(demo.out_dir / "exports" / f"prolific_{role}.csv")
    }
    strangers = {u["username"] for u in users} - pids
    assert "admin" in strangers and len(strangers) >= 3  # Argilla users with no submission


def test_flat_parquet_is_the_2x_flat_table(demo):
    hf = datasets.Dataset.from_parquet(str(_path(demo, "writing_social_a")))
    assert hf.column_names[:3] == ["id", "status", "_server_id"]
    assert {
        "question",
        "topic",
        "batch",
        "response.responses",
        "response.responses.users",
        "response.responses.status",
        "question_quality.responses",
    } <= set(hf.column_names)
    rows = hf.to_list()
    # Lists are per question and not aligned: some writers skipped the quality rating.
    assert any(
        len(r["response.responses"] or []) != len(r["question_quality.responses"] or [])
        for r in rows
    )
    statuses = {s for r in rows for s in (r["response.responses.status"] or [])}
    assert statuses == {"submitted", "draft", "discarded"}
    rating = pq.read_table(_path(demo, "rating_pairs_a")).to_pylist()
    # A record nobody answered holds null (not []) in every list column.
    assert any(
        r["preference.responses"] is None and r["preference.responses.users"] is None
        for r in rating
    )
    assert 9 in {v for r in rating for v in (r["preference.responses"] or [])}


def test_flat_json_and_jsonl_load(demo):
    lines = datasets.Dataset.from_json(str(_path(demo, "rating_pairs_b")))
    assert "preference.responses" in lines.column_names and len(lines) > 0
    rows = json.loads(_path(demo, "rating_pairs_c").read_text(encoding="utf-8"))
    assert list(rows[0])[:6] == [
        "id",
        "status",
        "_server_id",
        "question",
        "response_a",
        "response_b",
    ]
    assert all(set(r) == set(rows[0]) for r in rows)


@pytest.mark.parametrize("name", ["writing_social_b", "rating_pairs_d"])
def test_disk_folder_loads_with_the_argilla_sdk(demo, name):
    import argilla as rg
    from argilla.records._io import JsonIO

    from rlhfw.demo.formats import offline_client

    folder = _path(demo, name)
    with offline_client(0):  # the SDK's loaders ask for its default client
        settings = rg.Settings.from_json(folder / ".argilla" / "settings.json")
        records = JsonIO._records_from_json(folder / "records.json")
    assert [q.name for q in settings.questions][:1] in (["response"], ["preference"])
    dataset = json.loads((folder / ".argilla" / "dataset.json").read_text())
    assert dataset["name"] == name and dataset["status"] == "ready"
    assert records and all(isinstance(r, rg.Record) for r in records)
    raw = (folder / "records.json").read_bytes()
    assert raw.isascii()  # json.dump escapes non-ASCII as \uXXXX
    data = json.loads(raw)
    items = [i for r in data for its in r["responses"].values() for i in its]
    assert items and all(set(i) == {"value", "user_id"} for i in items)  # no response status


def test_disk_export_escapes_non_ascii(demo):
    raw = (_path(demo, "writing_social_b") / "records.json").read_text(encoding="ascii")
    assert re.search(r"\\u[0-9a-f]{4}", raw)


@pytest.mark.parametrize("name", ["writing_social_v1", "rating_pairs_v1", "rating_pairs_v1_extra"])
def test_v1_exports_have_v1_features(demo, name):
    spec = next(d for d in DATASETS if d.name == name)
    path = _path(demo, name)
    hf = (
        datasets.Dataset.from_parquet(str(path))
        if path.suffix == ".parquet"
        else datasets.Dataset.from_json(str(path), features=v1_features(spec))
    )
    assert hf.features == v1_features(spec)
    rows = hf.to_list()
    q = "response" if spec.role == "writing" else "preference"
    assert all(isinstance(r[q], list) for r in rows)  # never null in v1, [] when unanswered
    assert all(isinstance(json.loads(r["metadata"]), dict) for r in rows)
    assert all(r["external_id"] for r in rows)


def test_v1_record_nobody_answered_holds_an_empty_list(demo):
    rows = pq.read_table(_path(demo, "rating_pairs_v1")).to_pylist()
    with _path(demo, "rating_pairs_v1_extra").open(encoding="utf-8") as f:
        rows += [json.loads(line) for line in f]
    assert any(r["preference"] == [] for r in rows)
    assert 0 in {i["value"] for r in rows for i in r["preference"]}  # out of range, v1 int32
