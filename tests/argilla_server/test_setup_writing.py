"""`rlhfw setup writing` against a real argilla-server: datasets created once, questions spread
over the live sources, a re-run changes nothing, a dataset with other settings is refused and
left as it is, bad questions files and bad credentials stop with one line."""

from __future__ import annotations

import json

import pytest

from rlhfw.setup.writing import question_id

from .fixture import (
    _json,
    add_rating_question,
    add_text_field,
    add_text_question,
    api_client,
    create_dataset,
    create_workspace,
    publish_dataset,
)
from .setup_cli import dataset_state, invoke, one_line_error, unique, write_study

pytestmark = pytest.mark.integration

RATING = {"sources": [{"dataset": "unused", "workspace": "unused"}]}


def writing_config(sources: list[tuple[str, str]], **extra) -> dict:
    return {
        "sources": [{"workspace": ws, "dataset": ds} for ws, ds in sources],
        "question_id_metadata": "question_id",
        "expected_responses_per_question": 3,
        **extra,
    }


def write_csv(path, texts: list[str]) -> None:
    lines = ["question"] + ['"' + t.replace('"', '""') + '"' for t in texts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_setup_writing_spreads_and_a_rerun_changes_nothing(tmp_path, argilla_server, monkeypatch):
    sources = [(unique("ws-a"), "writing"), (unique("ws-b"), "writing")]
    (tmp_path / "guidelines.md").write_text("Answer in your own words.\n", encoding="utf-8")
    config = write_study(
        tmp_path,
        writing_config(sources, guidelines="guidelines.md"),
        RATING,
        publish={"out": str(tmp_path / "out"), "card": {"quality_scale_labels": {1: "poor"}}},
    )
    texts = [f"Question number {i}?" for i in range(11)]
    questions = tmp_path / "questions.csv"
    # The last line repeats the first up to whitespace: the same question, counted once.
    write_csv(questions, [*texts, "Question  number 0?"])

    first = invoke(monkeypatch, argilla_server, "setup", "writing", "-c", str(config),
                   "--questions", str(questions))  # fmt: skip
    assert first.exit_code == 0, first.output
    assert first.stdout.strip().splitlines()[-1] == (
        "setup writing: 2 datasets (2 created), 11 questions (11 added, 0 already there)"
    )
    states = [dataset_state(argilla_server, ws, ds) for ws, ds in sources]
    counts = [len(s["records"]) for s in states]
    assert sorted(counts) == [5, 6]
    ids = {}
    for state in states:
        assert state["distribution"] == {"strategy": "overlap", "min_submitted": 3}
        assert state["guidelines"] == "Answer in your own words."
        assert [f["name"] for f in state["fields"]] == ["question"]
        assert {q["name"]: q["settings"]["type"] for q in state["questions"]} == {
            "response": "text",
            "question_quality": "rating",
        }
        quality = next(q for q in state["questions"] if q["name"] == "question_quality")
        assert [o["value"] for o in quality["settings"]["options"]] == [1, 2, 3, 4, 5]
        assert quality["description"] == "1: poor"
        assert [m["name"] for m in state["metadata-properties"]] == ["question_id"]
        for r in state["records"]:
            assert r["metadata"] == {"question_id": r["external_id"]}
            ids[r["external_id"]] = r["fields"]["question"]
    assert ids == {question_id(t): t for t in texts}

    again = invoke(monkeypatch, argilla_server, "setup", "writing", "-c", str(config),
                   "--questions", str(questions))  # fmt: skip
    assert again.exit_code == 0, again.output
    assert again.stdout.strip().splitlines()[-1] == (
        "setup writing: 2 datasets, 11 questions (0 added, 11 already there)"
    )
    assert [dataset_state(argilla_server, ws, ds) for ws, ds in sources] == states

    # A second file: 5 new questions (JSONL, with ids) and 2 already there; only the 5 land.
    more = tmp_path / "more.jsonl"
    rows = [{"id": f"new-{i}", "question": f"A new question {i}?"} for i in range(5)]
    rows += [{"question": texts[0]}, {"question": texts[1]}]
    more.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    third = invoke(monkeypatch, argilla_server, "setup", "writing", "-c", str(config),
                   "--questions", str(more))  # fmt: skip
    assert third.exit_code == 0, third.output
    assert third.stdout.strip().splitlines()[-1] == (
        "setup writing: 2 datasets, 7 questions (5 added, 2 already there)"
    )
    after = [dataset_state(argilla_server, ws, ds) for ws, ds in sources]
    assert sorted(len(s["records"]) for s in after) == [8, 8]
    for before, now in zip(states, after, strict=True):
        old = {r["id"]: r for r in before["records"]}
        assert [r for r in now["records"] if r["id"] in old] == before["records"]
    added = {r["external_id"]: r for s in after for r in s["records"]}.keys() - ids.keys()
    assert added == {f"new-{i}" for i in range(5)}


def _precreate(server, workspace: str, name: str, min_submitted: int) -> None:
    with api_client(server.url, server.api_key) as http:
        ws = create_workspace(http, workspace)
        ds = create_dataset(http, name, ws["id"], min_submitted=min_submitted)
        add_text_field(http, ds["id"], "question")
        add_text_question(http, ds["id"], "response")
        add_rating_question(http, ds["id"], "question_quality", range(1, 6))
        body = {"name": "question_id", "title": "question_id", "settings": {"type": "terms"}}
        _json(http.post(f"/api/v1/datasets/{ds['id']}/metadata-properties", json=body))
        publish_dataset(http, ds["id"])


def test_a_dataset_with_other_settings_is_refused_and_left_alone(
    tmp_path, argilla_server, monkeypatch
):
    workspace = unique("ws-mismatch")
    _precreate(argilla_server, workspace, "writing", min_submitted=1)
    before = dataset_state(argilla_server, workspace, "writing")
    questions = tmp_path / "questions.csv"
    write_csv(questions, ["Why is the sky blue?"])
    cases = [
        ({}, "min_submitted is 1, not 3"),
        (
            {
                "expected_responses_per_question": 1,
                "response_question": "question_quality",
                "quality_question": None,
            },
            "question 'question_quality' is a RatingQuestion, not a TextQuestion",
        ),
        ({"expected_responses_per_question": 1, "question_field": "prompt"}, "no field 'prompt'"),
    ]
    for i, (extra, difference) in enumerate(cases):
        folder = tmp_path / str(i)
        folder.mkdir()
        config = write_study(folder, writing_config([(workspace, "writing")], **extra), RATING)
        result = invoke(monkeypatch, argilla_server, "setup", "writing", "-c", str(config),
                        "--questions", str(questions))  # fmt: skip
        line = one_line_error(result)
        assert f"dataset {workspace}/writing exists with other settings" in line
        assert difference in line
        assert dataset_state(argilla_server, workspace, "writing") == before


def test_bad_questions_files_stop_with_one_line(tmp_path, argilla_server, monkeypatch):
    config = write_study(tmp_path, writing_config([(unique("ws-bad"), "writing")]), RATING)
    files = {
        "no_column.csv": ("text\nWhy?\n", "line 1: no `question` column (the header is ['text'])"),
        "empty.csv": ("id,question\nq1,Why?\nq2,  \n", "line 3: empty question text"),
        "dupe.csv": (
            "id,question\nq1,Why?\nq2,How?\nq1,Where?\n",
            "line 4: id 'q1' is also the id of another question (line 2)",
        ),
        "dupe.jsonl": (
            '{"id": 7, "question": "Why?"}\n{"id": "7", "question": "How?"}\n',
            "line 2: id '7' is also the id of another question (line 1)",
        ),
        "broken.jsonl": ('{"question": "Why?"}\n{"question": \n', "line 2: not a JSON object"),
        "nothing.jsonl": ('{"text": "Why?"}\n', "line 1: no `question` text"),
        "questions.txt": ("Why?\n", "expected a .csv or .jsonl questions file"),
    }
    for name, (content, expected) in files.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        result = invoke(monkeypatch, argilla_server, "setup", "writing", "-c", str(config),
                        "--questions", str(path))  # fmt: skip
        assert one_line_error(result) == f"error: {path}: {expected}"
    missing = tmp_path / "missing.csv"
    result = invoke(monkeypatch, argilla_server, "setup", "writing", "-c", str(config),
                    "--questions", str(missing))  # fmt: skip
    assert one_line_error(result) == f"error: {missing}: questions file not found"


def test_config_and_connection_problems_stop_with_one_line(tmp_path, argilla_server, monkeypatch):
    questions = tmp_path / "questions.csv"
    write_csv(questions, ["Why is the sky blue?"])
    workspace = unique("ws-conn")
    config = write_study(tmp_path, writing_config([(workspace, "writing")]), RATING)
    args = ("setup", "writing", "-c", str(config), "--questions", str(questions))

    monkeypatch.delenv("ARGILLA_API_URL", raising=False)
    runner_env = {"ARGILLA_API_URL": None}
    from typer.testing import CliRunner

    from rlhfw.cli import app

    result = CliRunner(env=runner_env).invoke(app, list(args))
    assert "ARGILLA_API_URL" in one_line_error(result)

    wrong = "not-the-key-0123456789"
    result = invoke(monkeypatch, argilla_server, *args, api_key=wrong)
    line = one_line_error(result)
    assert "refused ARGILLA_API_KEY" in line
    assert wrong not in result.output

    monkeypatch.setenv("ARGILLA_API_URL", "http://127.0.0.1:9")
    result = CliRunner().invoke(app, list(args))
    assert "cannot reach Argilla at http://127.0.0.1:9" in one_line_error(result)

    no_id = tmp_path / "no_id"
    no_id.mkdir()
    config = write_study(no_id, {"sources": [{"workspace": workspace, "dataset": "w"}]}, RATING)
    result = invoke(monkeypatch, argilla_server, "setup", "writing", "-c", str(config),
                    "--questions", str(questions))  # fmt: skip
    assert "argilla.writing.question_id_metadata: setup needs it set" in one_line_error(result)

    exports = tmp_path / "exports"
    exports.mkdir()
    config = write_study(
        exports,
        {"sources": [{"export": "w.json"}], "question_id_metadata": "question_id"},
        RATING,
    )
    result = invoke(monkeypatch, argilla_server, "setup", "writing", "-c", str(config),
                    "--questions", str(questions))  # fmt: skip
    assert "argilla.writing.sources: no live source" in one_line_error(result)
    # None of these runs created anything.
    from .setup_cli import find_dataset

    assert find_dataset(argilla_server, workspace, "writing") is None
