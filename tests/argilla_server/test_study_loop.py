"""The whole method in one run, as a team runs it, against the real argilla-server: questions ->
`rlhfw setup writing` -> writers arrive at `rlhfw portal` in a real headless Chromium, log in
to Argilla with what the page showed and answer as themselves -> `rlhfw refresh` ->
`rlhfw setup rating` (pairs linked by metadata ids) -> the blocklist -> raters arrive at the
portal and rate -> refresh -> publish; then a late writer's answers add only their pairs.

Prolific cannot run here: its part is the CSV exports a team downloads (written by the test
from the participants who took part), the documented way in besides the API."""

from __future__ import annotations

import csv
import hashlib
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
import uvicorn
import yaml
from typer.testing import CliRunner

from rlhfw.cli import app
from rlhfw.setup.portal import create_app, server_config
from study_config import load_study
from tests.warehouse import connect_warehouse

from .fixture import _json, api_client, free_port, login

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
SECRET = "loop-test-portal-secret-0123456789"
WRITING_ID = "65b0c0ffee00000000000001"
RATING_ID = "65b0c0ffee00000000000002"
QUESTIONS = [
    f"Question number {i}: what would you advise a friend who {i} times?" for i in range(6)
]
PROLIFIC_HEADER = ["Submission id", "Participant id", "Status", "Started at", "Completed at"]


def pid() -> str:
    return uuid.uuid4().hex[:24]


def cli(monkeypatch, server, *args: str):
    monkeypatch.delenv("RLHFW_DEBUG", raising=False)
    monkeypatch.setenv("ARGILLA_API_URL", server.url)
    monkeypatch.setenv("ARGILLA_API_KEY", server.api_key)
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def write_prolific(path: Path, pids: list[str]) -> None:
    """A Prolific export as downloaded: everyone approved."""
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(PROLIFIC_HEADER)
        for i, p in enumerate(pids):
            out.writerow([f"sub{p[:12]}{i:04d}", p, "APPROVED", "2026-12-01T10:00:00Z", ""])


def write_study(root: Path, tag: str) -> Path:
    study = {
        "name": "loop",
        "prolific": {
            "writing": {"study_id": WRITING_ID, "export": "exports/prolific_writing.csv"},
            "rating": {"study_id": RATING_ID, "export": "exports/prolific_rating.csv"},
        },
        "argilla": {
            "writing": {
                "sources": [
                    {"dataset": "writing", "workspace": f"loop-w1-{tag}"},
                    {"dataset": "writing", "workspace": f"loop-w2-{tag}"},
                ],
                "question_id_metadata": "question_id",
                "expected_responses_per_question": 4,
            },
            "rating": {
                "sources": [{"dataset": "rating", "workspace": f"loop-r-{tag}"}],
                "response_a_metadata": "response_a_id",
                "response_b_metadata": "response_b_id",
                "expected_ratings_per_pair": 3,
            },
        },
        "portal": {"assignments": "portal/assignments.csv"},
        "publish": {"out": "data/dataset", "test_fraction": 0.2},
    }
    (root / "exports").mkdir(parents=True)
    path = root / "study.yml"
    path.write_text(yaml.safe_dump(study, sort_keys=False), encoding="utf-8")
    with (root / "questions.csv").open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "question"])
        out.writerows((f"q{i}", q) for i, q in enumerate(QUESTIONS))
    return path


class Portal:
    """`rlhfw portal`'s app under uvicorn (serve's settings) in a thread."""

    def __init__(self, study, server) -> None:
        portal = create_app(study, api_url=server.url, api_key=server.api_key, secret=SECRET)
        self.server = uvicorn.Server(server_config(portal, "127.0.0.1", free_port()))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "no portal"
            time.sleep(0.05)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def arrive(page, base: str, participant: str, study_id: str) -> tuple[int, dict]:
    """A participant follows the Prolific study URL; what the page shows them."""
    resp = page.goto(f"{base}/?PROLIFIC_PID={participant}&STUDY_ID={study_id}&SESSION_ID=s1")
    assert resp is not None
    shown = {
        key: page.text_content(f"#{key}")
        for key in ("username", "password", "workspace", "url", "message")
        if page.query_selector(f"#{key}")
    }
    return resp.status, shown


def answer_all(account: dict, dataset: str, values) -> int:
    """Log in with the page's credentials, find the dataset in their workspace as the Argilla
    UI does (through /me) and submit `values(record)` for each record; returns how many."""
    url = account["url"]
    token = login(url, account["username"], account["password"])
    me = _json(httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}))
    with api_client(url, me["api_key"]) as http:
        spaces = {w["id"]: w["name"] for w in _json(http.get("/api/v1/me/workspaces"))["items"]}
        (found,) = [
            d
            for d in _json(http.get("/api/v1/me/datasets"))["items"]
            if d["name"] == dataset and spaces[d["workspace_id"]] == account["workspace"]
        ]
        search = f"/api/v1/me/datasets/{found['id']}/records/search"
        items = _json(http.post(search, json={}, params={"limit": 1000}))["items"]
        for item in items:
            record = item["record"]
            answer = {name: {"value": v} for name, v in values(record).items()}
            body = {"status": "submitted", "values": answer}
            _json(http.post(f"/api/v1/records/{record['id']}/responses", json=body))
    return len(items)


def writing_values(username: str):
    def values(record: dict) -> dict:
        qid = record["metadata"]["question_id"]
        return {"response": f"{username[:6]} answers {qid}: be kind.", "question_quality": 4}

    return values


def rating_values(rater: int):
    # A rating that depends on the pair and the rater: pairs get margins, raters disagree a bit.
    # Raters do not see the response ids (hidden metadata): the value comes from the texts.
    def values(record: dict) -> dict:
        a = hashlib.md5(record["fields"]["response_a"].encode()).hexdigest()
        return {"preference": 1 + (int(a[:4], 16) + rater) % 8}

    return values


def query(study, sql: str) -> list[tuple]:
    with connect_warehouse(study.warehouse) as con:
        return con.execute(sql).fetchall()


def rating_records(server, workspace: str) -> list[dict]:
    with api_client(server.url, server.api_key) as http:
        spaces = {w["name"]: w["id"] for w in _json(http.get("/api/v1/me/workspaces"))["items"]}
        (found,) = [
            d
            for d in _json(http.get("/api/v1/me/datasets"))["items"]
            if d["name"] == "rating" and d["workspace_id"] == spaces[workspace]
        ]
        return _json(http.get(f"/api/v1/datasets/{found['id']}/records", params={"limit": 1000}))[
            "items"
        ]


def test_the_whole_method_from_questions_to_a_published_dataset(
    tmp_path, argilla_server, monkeypatch
):
    from playwright.sync_api import sync_playwright

    tag = uuid.uuid4().hex[:8]
    root = tmp_path / "study"
    config = str(write_study(root, tag))
    study = load_study(config, check_files=False)
    exports = root / "exports"

    # 1-2. The writing datasets, and the rating dataset made empty so refreshes can read it.
    out = cli(monkeypatch, argilla_server, "setup", "writing", "-c", config,
              "--questions", str(root / "questions.csv"))  # fmt: skip
    assert "setup writing: 2 datasets (2 created), 6 questions (6 added, 0 already there)" in out
    out = cli(monkeypatch, argilla_server, "setup", "rating", "-c", config)
    assert "no rating tasks yet" in out

    writers, raters = [pid() for _ in range(8)], [pid() for _ in range(3)]
    portal = Portal(study, argilla_server)
    assert CHROMIUM.exists(), f"{CHROMIUM} missing: apt-get install chromium"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
            )
            page = browser.new_page()

            # 3-4. Writers arrive through the portal and answer in their workspace.
            accounts = {}
            for w in writers:
                status, shown = arrive(page, portal.base, w, WRITING_ID)
                assert status == 200, shown
                accounts[w] = shown
            assert Counter(a["workspace"] for a in accounts.values()) == {
                f"loop-w1-{tag}": 4,
                f"loop-w2-{tag}": 4,
            }
            for w, account in accounts.items():
                assert answer_all(account, "writing", writing_values(w)) == 3
            # One more got an account and left: no answer, no Prolific submission, but they
            # saw the writing study, so they are blocked from the rating study too.
            idle = pid()
            assert arrive(page, portal.base, idle, WRITING_ID)[0] == 200
            write_prolific(exports / "prolific_writing.csv", writers)
            write_prolific(exports / "prolific_rating.csv", [])
            cli(monkeypatch, argilla_server, "refresh", "-c", config)
            assert query(study, "select count(*) from written_responses") == [(24,)]

            # 5. The rating tasks, pushed with the response ids in metadata.
            out = cli(monkeypatch, argilla_server, "setup", "rating", "-c", config)
            assert "setup rating: 1 dataset, 36 pairs (36 added, 0 already there)" in out
            records = rating_records(argilla_server, f"loop-r-{tag}")
            tasks = query(study, "select pair_id, response_a_id, response_b_id from rating_tasks")
            assert {
                (r["external_id"], r["metadata"]["response_a_id"], r["metadata"]["response_b_id"])
                for r in records
            } == set(tasks)
            # Four answers a question: each shown first in 1 or 2 of its 3 pairs.
            first = Counter(a for _, a, _ in tasks)
            answers = {x for _, a, b in tasks for x in (a, b)}
            assert len(answers) == 24 and {first[x] for x in answers} <= {1, 2}

            # 6. The blocklist is the writing study's participants (the idle one included).
            cli(monkeypatch, argilla_server, "participants", "blocklist", "-c", config)
            blocked = (root / "data" / "warehouse.blocklist.csv").read_text().split()
            assert sorted(blocked) == sorted([*writers, idle])

            # Raters arrive; a writer is turned away from the rating study.
            status, shown = arrive(page, portal.base, writers[0], RATING_ID)
            assert status == 403, shown
            for i, r in enumerate(raters):
                status, shown = arrive(page, portal.base, r, RATING_ID)
                assert status == 200 and shown["workspace"] == f"loop-r-{tag}", shown
                assert answer_all(shown, "rating", rating_values(i)) == 36
            write_prolific(exports / "prolific_rating.csv", raters)

            # 7. Refresh and publish: every pair linked by id, rated three times, published.
            out = cli(monkeypatch, argilla_server, "refresh", "-c", config)
            assert query(
                study, "select count(*) from exclusions where exclusion_reason = 'unlinkable'"
            ) == [(0,)]
            assert query(study, "select count(*), min(n_ratings) from pair_scores") == [(36, 3)]
            assert query(
                study,
                "select study_role, count(*) from analytics_personal.stg_study__portal_assignments"
                " group by 1 order by 1",
            ) == [("rating", 3), ("writing", 9)]
            assert (root / "data" / "dataset" / "README.md").is_file()

            # A late writer: only the pairs of their answers are added.
            late = pid()
            status, account = arrive(page, portal.base, late, WRITING_ID)
            assert status == 200
            assert answer_all(account, "writing", writing_values(late)) == 3
            write_prolific(exports / "prolific_writing.csv", [*writers, late])
            cli(monkeypatch, argilla_server, "refresh", "-c", config)
            records = rating_records(argilla_server, f"loop-r-{tag}")
            out = cli(monkeypatch, argilla_server, "setup", "rating", "-c", config)
            assert "48 pairs (12 added, 36 already there)" in out
            after = rating_records(argilla_server, f"loop-r-{tag}")
            kept = {r["external_id"]: r["updated_at"] for r in records}
            now = {r["external_id"]: r["updated_at"] for r in after}
            assert {k: now[k] for k in kept} == kept  # the pushed pairs untouched
            assert len(after) == 48
            browser.close()
    finally:
        portal.close()
