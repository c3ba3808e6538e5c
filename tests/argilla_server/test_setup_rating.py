"""`rlhfw setup rating` against a real argilla-server.

The warehouse here is a DuckDB file holding only a hand-made `analytics.rating_tasks` with the
mart's columns: it stands in for the mart, whose pairs are tested with the dbt models. These
tests check what setup does with its rows: records with the pair ids, texts and response ids,
the rating question's scale, a re-run that adds nothing, new rows added alone, a question's
pairs kept in one dataset, and one-line errors for a warehouse that cannot be read.
"""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest
from typer.testing import CliRunner

from rlhfw.cli import app
from rlhfw.setup.rating import scale_description
from study_config import Study

from .setup_cli import dataset_state, invoke, one_line_error, unique, write_study

pytestmark = pytest.mark.integration

WRITING = {"sources": [{"export": "unused.json"}], "question_id_metadata": "question_id"}
TABLE = """
create schema if not exists analytics;
create table analytics.rating_tasks (
    pair_id varchar, question_id varchar, question_text varchar,
    response_a_id varchar, response_b_id varchar,
    response_a_text varchar, response_b_text varchar,
    planned_raters bigint, pair_number integer, n_question_responses integer
);
"""


def pair(question: str, n: int) -> tuple:
    return (
        f"{question}-p{n}",
        question,
        f"Question {question}?",
        f"{question}-r{n}a",
        f"{question}-r{n}b",
        f"Answer A of pair {n} of {question}.",
        f"Answer B of pair {n} of {question}.",
        3,
        n,
        4,
    )


def add_pairs(warehouse, pairs: list[tuple]) -> None:
    with duckdb.connect(str(warehouse)) as con:
        if not con.execute(
            "select 1 from information_schema.tables where table_name = 'rating_tasks'"
        ).fetchall():
            con.execute(TABLE)
        con.executemany(
            "insert into analytics.rating_tasks values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", pairs
        )


def rating_config(sources: list[tuple[str, str]], **extra) -> dict:
    return {
        "sources": [{"workspace": ws, "dataset": ds} for ws, ds in sources],
        "response_a_metadata": "response_a_id",
        "response_b_metadata": "response_b_id",
        "expected_ratings_per_pair": 2,
        **extra,
    }


def setup_rating(monkeypatch, server, config):
    return invoke(monkeypatch, server, "setup", "rating", "-c", str(config))


def test_setup_rating_logs_the_pairs_once(tmp_path, argilla_server, monkeypatch):
    workspace = unique("ws-rating")
    config = write_study(
        tmp_path,
        WRITING,
        rating_config(
            [(workspace, "rating")], scale={"min": 1, "max": 8, "low_means": "response_b"}
        ),
    )
    warehouse = tmp_path / "warehouse.duckdb"
    add_pairs(warehouse, [pair("q1", 1), pair("q1", 2), pair("q2", 1)])

    first = setup_rating(monkeypatch, argilla_server, config)
    assert first.exit_code == 0, first.output
    assert first.stdout.strip().splitlines()[-1] == (
        "setup rating: 1 dataset (1 created), 3 pairs (3 added, 0 already there)"
    )
    state = dataset_state(argilla_server, workspace, "rating")
    assert state["distribution"] == {"strategy": "overlap", "min_submitted": 2}
    assert [f["name"] for f in state["fields"]] == ["question", "response_a", "response_b"]
    [question] = state["questions"]
    assert question["name"] == "preference" and question["settings"]["type"] == "rating"
    assert [o["value"] for o in question["settings"]["options"]] == list(range(1, 9))
    # low_means response_b: 1 is the second answer's end of the scale.
    assert question["description"] == (
        "1: the second answer (B) is much better\n8: the first answer (A) is much better"
    )
    assert {m["name"]: m["visible_for_annotators"] for m in state["metadata-properties"]} == {
        "response_a_id": False,
        "response_b_id": False,
        "question_id": False,
    }
    expected = {
        p[0]: {
            "fields": {"question": p[2], "response_a": p[5], "response_b": p[6]},
            "metadata": {"response_a_id": p[3], "response_b_id": p[4], "question_id": p[1]},
        }
        for p in [pair("q1", 1), pair("q1", 2), pair("q2", 1)]
    }
    got = {
        r["external_id"]: {"fields": r["fields"], "metadata": r["metadata"]}
        for r in state["records"]
    }
    assert got == expected

    again = setup_rating(monkeypatch, argilla_server, config)
    assert again.exit_code == 0, again.output
    assert again.stdout.strip().splitlines()[-1] == (
        "setup rating: 1 dataset, 3 pairs (0 added, 3 already there)"
    )
    assert dataset_state(argilla_server, workspace, "rating") == state

    add_pairs(warehouse, [pair("q1", 3), pair("q3", 1)])
    third = setup_rating(monkeypatch, argilla_server, config)
    assert third.exit_code == 0, third.output
    assert third.stdout.strip().splitlines()[-1] == (
        "setup rating: 1 dataset, 5 pairs (2 added, 3 already there)"
    )
    after = dataset_state(argilla_server, workspace, "rating")
    assert after["records"][:3] == state["records"]
    assert {r["external_id"] for r in after["records"][3:]} == {"q1-p3", "q3-p1"}


def test_a_questions_pairs_stay_in_one_dataset(tmp_path, argilla_server, monkeypatch):
    sources = [(unique("ws-ra"), "rating"), (unique("ws-rb"), "rating")]
    config = write_study(tmp_path, WRITING, rating_config(sources))
    warehouse = tmp_path / "warehouse.duckdb"
    # q1 (1 pair) -> A, q2 (3 pairs) -> B, q3 (1 pair) -> A: A holds 2, B holds 3.
    add_pairs(warehouse, [pair("q1", 1), *(pair("q2", n) for n in (1, 2, 3)), pair("q3", 1)])
    first = setup_rating(monkeypatch, argilla_server, config)
    assert first.exit_code == 0, first.output

    def where() -> dict[str, set]:
        return {
            ws: {r["external_id"] for r in dataset_state(argilla_server, ws, ds)["records"]}
            for ws, ds in sources
        }

    a, b = (ws for ws, _ in sources)
    assert where() == {a: {"q1-p1", "q3-p1"}, b: {"q2-p1", "q2-p2", "q2-p3"}}
    # A new pair of q2 joins its question in B, though A holds fewer records.
    add_pairs(warehouse, [pair("q2", 4)])
    second = setup_rating(monkeypatch, argilla_server, config)
    assert second.exit_code == 0, second.output
    assert where()[b] == {"q2-p1", "q2-p2", "q2-p3", "q2-p4"}


def test_no_mart_yet_makes_the_dataset_and_warehouse_problems_stop_with_one_line(
    tmp_path, argilla_server, monkeypatch
):
    workspace = unique("ws-rating-bad")
    config = write_study(tmp_path, WRITING, rating_config([(workspace, "rating")]))
    warehouse = tmp_path / "warehouse.duckdb"

    # Before the first build: the dataset is made, empty, so refreshes can read it.
    first = setup_rating(monkeypatch, argilla_server, config)
    assert first.exit_code == 0, first.output
    assert "setup rating: 1 dataset (1 created), no rating tasks yet: run `rlhfw refresh`" in (
        first.stdout
    )
    assert dataset_state(argilla_server, workspace, "rating")["records"] == []
    duckdb.connect(str(warehouse)).close()
    again = setup_rating(monkeypatch, argilla_server, config)
    assert again.exit_code == 0 and "1 dataset, no rating tasks yet" in again.stdout

    add_pairs(warehouse, [pair("q1", 1)])
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('open', flush=True); time.sleep(60)", str(warehouse)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        # Busy, not bad input: exit 3, like every command that meets a warehouse in use.
        result = setup_rating(monkeypatch, argilla_server, config)
        assert result.exit_code == 3, result.output
        (line,) = result.stderr.strip().splitlines()
        assert f"warehouse {warehouse} is open for writing in" in line
    finally:
        holder.kill()
        holder.wait()

    no_keys = tmp_path / "no_keys"
    no_keys.mkdir()
    config = write_study(no_keys, WRITING, {"sources": [{"workspace": workspace, "dataset": "r"}]})
    line = one_line_error(setup_rating(monkeypatch, argilla_server, config))
    assert "argilla.rating.response_a_metadata: setup needs it set" in line


def test_card_scale_labels_describe_the_rating_question(tmp_path):
    study = Study.model_validate(
        {
            "name": "labels",
            "path": tmp_path / "study.yml",
            "argilla": {"writing": WRITING, "rating": {"sources": [{"export": "r.json"}]}},
            "publish": {"card": {"scale_labels": {1: "A is far better", 4: "a tie"}}},
        }
    )
    assert scale_description(study, list(range(1, 9))) == "1: A is far better\n4: a tie"


def test_a_rating_dataset_with_other_settings_is_refused_and_left_alone(
    tmp_path, argilla_server, monkeypatch
):
    workspace = unique("ws-rating-mismatch")
    add_pairs(tmp_path / "warehouse.duckdb", [pair("q1", 1)])
    made = write_study(tmp_path, WRITING, rating_config([(workspace, "rating")]))
    assert setup_rating(monkeypatch, argilla_server, made).exit_code == 0
    before = dataset_state(argilla_server, workspace, "rating")
    cases = [
        ({"expected_ratings_per_pair": 5}, "min_submitted is 2, not 5"),
        ({"scale": {"min": 1, "max": 7}}, "question 'preference' has values [1, 2, 3, 4, 5, 6, "),
        ({"response_b_metadata": "writer_b"}, "no metadata property 'writer_b'"),
    ]
    for i, (extra, difference) in enumerate(cases):
        folder = tmp_path / str(i)
        folder.mkdir()
        config = write_study(folder, WRITING, rating_config([(workspace, "rating")], **extra))
        # Each folder's study has a warehouse of its own (write_study puts it there).
        add_pairs(folder / "warehouse.duckdb", [pair("q1", 1), pair("q2", 1)])
        line = one_line_error(setup_rating(monkeypatch, argilla_server, config))
        assert f"dataset {workspace}/rating exists with other settings" in line
        assert difference in line
        assert dataset_state(argilla_server, workspace, "rating") == before

    # Checked before connecting: names Argilla would refuse, a scale it cannot show.
    bad = tmp_path / "bad"
    bad.mkdir()
    for extra, expected in (
        ({"response_a_field": "question"}, "question_field and response_a_field are both"),
        ({"scale": {"min": 1, "max": 12}}, "Argilla's rating questions take values 0 to 10"),
    ):
        config = write_study(bad, WRITING, rating_config([(workspace, "other")], **extra))
        monkeypatch.setenv("ARGILLA_API_URL", "http://127.0.0.1:9")
        line = one_line_error(CliRunner().invoke(app, ["setup", "rating", "-c", str(config)]))
        assert expected in line
