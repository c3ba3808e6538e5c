"""`rlhfw participants blocklist`: the writing study's participants, read from a demo study
refreshed by the CLI, written as Prolific's custom blocklist and applied to the rating study.

Prolific is a SaaS that cannot run here, so the API is a small local HTTP double (below) that
serves the study and records the PATCH the command sends: the only double in this file."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from rlhfw.cli import app
from rlhfw.setup.blocklist import default_out
from study_config import load_study
from tests.oracle import _prolific, _source_frames

pytestmark = pytest.mark.slow


def run_cli(*args: str):
    return CliRunner().invoke(app, list(args))


class FakeProlificStudies:
    """GET and PATCH /api/v1/studies/<id>/: a study with filters, every PATCH body recorded."""

    def __init__(self, study_id: str, filters: list[dict]) -> None:
        self.study = {"id": study_id, "name": "rating", "filters": filters}
        self.patches: list[dict] = []
        self.auth: list[str | None] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _known(self) -> bool:
                fake.auth.append(self.headers.get("Authorization"))
                if self.path != f"/api/v1/studies/{study_id}/":
                    self._reply(404, {"error": "Not found."})
                    return False
                return True

            def do_GET(self) -> None:  # noqa: N802 (stdlib name)
                if self._known():
                    self._reply(200, fake.study)

            def do_PATCH(self) -> None:  # noqa: N802
                if self._known():
                    body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                    fake.patches.append(body)
                    fake.study = {**fake.study, **body}
                    self._reply(200, fake.study)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}/api/v1/"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def built(tmp_path_factory, demo_template):
    root = tmp_path_factory.mktemp("blocklist") / "study"
    shutil.copytree(demo_template, root)
    result = run_cli("refresh", "--config", str(root / "study.yml"))
    assert result.exit_code == 0, result.output
    return load_study(root / "study.yml")


def writing_participants_from_the_files(study) -> set[str]:
    """Everyone in the writing study's Prolific export (any status) and everyone who answered
    in a writing export, by the username the users file gives them (= their Prolific id)."""
    pids = set(_prolific(study.prolific.writing.export)["Participant id"])
    users = _prolific(study.argilla.users)
    username = dict(zip(users["id"], users["username"], strict=True))
    cfg = study.argilla.writing
    questions = [cfg.response_question] + ([cfg.quality_question] if cfg.quality_question else [])
    _, responses, _, _ = _source_frames(study, "writing", [cfg.question_field], questions)
    pids |= {username[u] for u in responses["user_id"].dropna() if username.get(u)}
    return {p.strip() for p in pids if p and p.strip()}


def test_the_blocklist_is_the_writing_studys_participants(built):
    result = run_cli("participants", "blocklist", "--config", str(built.path), "--from", "writing")
    assert result.exit_code == 0, result.output
    path = default_out(built)
    ids = path.read_text(encoding="utf-8").splitlines()
    expected = writing_participants_from_the_files(built)
    assert len(ids) == len(set(ids)) == len(expected) > 0
    assert set(ids) == expected
    assert f"{len(ids)} writing-study participants written to {path}" in result.output
    # The ids are personal data: never echoed, and the file is private.
    assert not any(pid in result.output for pid in ids)
    assert path.stat().st_mode & 0o077 == 0
    # The rating study's own raters are not writers in the demo: none of them is blocked
    # unless they also wrote.
    raters = set(_prolific(built.prolific.rating.export)["Participant id"])
    assert set(ids) & raters == expected & raters


def test_applying_it_adds_the_ids_to_the_rating_studys_custom_blocklist(built, monkeypatch):
    rating_id = built.prolific.rating.study_id
    other = {"filter_id": "age", "selected_range": {"lower": 18, "upper": 99}}
    by_hand = {"filter_id": "custom_blocklist", "selected_values": ["aaaaaaaaaaaaaaaaaaaaaaaa"]}
    fake = FakeProlificStudies(rating_id, [other, by_hand])
    monkeypatch.setenv("PROLIFIC_API_URL", fake.base)
    monkeypatch.setenv("PROLIFIC_API_TOKEN", "secret-token-123")
    try:
        result = run_cli(
            "participants", "blocklist", "--config", str(built.path), "--from", "writing",
            "--apply",
        )  # fmt: skip
    finally:
        fake.close()
    assert result.exit_code == 0, result.output
    expected = writing_participants_from_the_files(built)
    (patch,) = fake.patches
    filters = {f["filter_id"]: f for f in patch["filters"]}
    assert filters["age"] == other  # the study's other filters sent back unchanged
    blocked = filters["custom_blocklist"]["selected_values"]
    assert set(blocked) == expected | {"aaaaaaaaaaaaaaaaaaaaaaaa"}  # the hand-made entry kept
    assert blocked == sorted(blocked)
    assert set(fake.auth) == {"Token secret-token-123"}
    assert f"{len(expected)} added, {len(expected) + 1} in all" in result.output
    assert "secret-token-123" not in result.output


def test_bad_uses_exit_2_in_one_line(built, tmp_path, monkeypatch):
    users_file = tmp_path / "mine.csv"
    users_file.write_text("name,notes\nAda,my own file\n", encoding="utf-8")
    result = run_cli(
        "participants", "blocklist", "--config", str(built.path), "--out", str(users_file)
    )
    assert result.exit_code == 2
    assert "not a blocklist this command wrote" in result.output
    assert users_file.read_text(encoding="utf-8") == "name,notes\nAda,my own file\n"

    result = run_cli("participants", "blocklist", "--config", str(built.path), "--from", "x")
    assert result.exit_code == 2 and "--from" in result.output

    monkeypatch.delenv("PROLIFIC_API_TOKEN", raising=False)
    result = run_cli("participants", "blocklist", "--config", str(built.path), "--apply")
    assert result.exit_code == 2 and "PROLIFIC_API_TOKEN" in result.output

    bare = tmp_path / "bare"
    shutil.copytree(built.root, bare, ignore=shutil.ignore_patterns("data"))
    result = run_cli("participants", "blocklist", "--config", str(bare / "study.yml"))
    assert result.exit_code == 2 and "run `rlhfw refresh` first" in result.output
    for out in (result.output,):
        assert "Traceback" not in out and len(out.strip().splitlines()) == 1
