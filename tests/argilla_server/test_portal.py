"""`rlhfw portal` against a real argilla-server, visited with a real headless Chromium: three
writers get accounts spread over two workspaces, log in and answer as themselves; a second
visit shows the same account and appends nothing; a bad id creates nothing; a writer is refused
at the rating study; two visits at once make one line; no Prolific id reaches the log."""

from __future__ import annotations

import csv
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from rlhfw.setup.portal import COLUMNS, create_app, server_config
from study_config import Study

from .fixture import (
    add_text_field,
    add_text_question,
    api_client,
    create_dataset,
    create_records,
    create_workspace,
    free_port,
    list_users,
    login,
    publish_dataset,
)

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SECRET = "portal-test-secret-0123456789"
WRITING_ID = "65a0c0ffee0000000000000a"
RATING_ID = "65a0c0ffee0000000000000b"


def hex_id() -> str:
    return uuid.uuid4().hex[:24]


def answer_dataset(owner: httpx.Client, workspace: str) -> None:
    """A published one-record writing dataset in a new workspace."""
    ws = create_workspace(owner, workspace)
    ds = create_dataset(owner, "answers", ws["id"])
    add_text_field(owner, ds["id"], "question")
    add_text_question(owner, ds["id"], "response")
    publish_dataset(owner, ds["id"])
    create_records(owner, ds["id"], [{"fields": {"question": "Why is the sky blue?"}}])


def workspace_annotators(owner: httpx.Client, name: str) -> list[str]:
    ws = next(w for w in owner.get("/api/v1/me/workspaces").json()["items"] if w["name"] == name)
    users = owner.get(f"/api/v1/workspaces/{ws['id']}/users").json()["items"]
    return sorted(u["username"] for u in users if u["role"] == "annotator")


def answer_as(url: str, username: str, password: str, workspace: str) -> str:
    """Log in as the participant (token, then /me for their API key) and submit an answer with
    the argilla SDK; returns the user id the server recorded the response under."""
    import argilla as rg
    from argilla._models._record._response import UserResponseModel

    token = login(url, username, password)
    me = httpx.get(f"{url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["username"] == username and me["role"] == "annotator"
    client = rg.Argilla(api_url=url, api_key=me["api_key"])
    dataset = client.datasets(name="answers", workspace=workspace)
    # The SDK lists and searches records through the admins' endpoints: an annotator finds
    # their records the way Argilla's UI does, through /me (with the SDK's own HTTP client).
    search = f"/api/v1/me/datasets/{dataset.id}/records/search"
    found = client.api.http_client.post(search, json={}, params={"include": "responses"})
    record_id = found.raise_for_status().json()["items"][0]["record"]["id"]
    answer = UserResponseModel(
        values={"response": {"value": f"an answer by {username}"}},
        status="submitted",
        user_id=me["id"],
    )
    client.api.records.create_record_response(record_id, answer)
    again = client.api.http_client.post(search, json={}, params={"include": "responses"})
    responses = again.raise_for_status().json()["items"][0]["record"]["responses"]
    assert [(r["status"], r["values"]["response"]["value"]) for r in responses] == [
        ("submitted", f"an answer by {username}")
    ]
    return str(next(r["user_id"] for r in responses))


@pytest.fixture()
def portal(argilla_server, tmp_path):
    """The portal on a free port in a thread (uvicorn with `serve`'s settings)."""
    tag = uuid.uuid4().hex[:8]
    names = {"writing": [f"portal-w1-{tag}", f"portal-w2-{tag}"], "rating": [f"portal-r1-{tag}"]}
    with api_client(argilla_server.url, argilla_server.api_key) as owner:
        for name in [*names["writing"], *names["rating"]]:
            answer_dataset(owner, name)
    study = Study.model_validate(
        {
            "name": "portal",
            "path": tmp_path / "study.yml",
            "prolific": {"writing": {"study_id": WRITING_ID}, "rating": {"study_id": RATING_ID}},
            "argilla": {
                "writing": {"sources": [{"dataset": "answers", "workspace": names["writing"][0]}]},
                "rating": {"sources": [{"dataset": "answers", "workspace": names["rating"][0]}]},
            },
            "portal": {"assignments": tmp_path / "portal" / "assignments.csv", "workspaces": names},
        }
    )
    app = create_app(
        study, api_url=argilla_server.url, api_key=argilla_server.api_key, secret=SECRET
    )
    server = __import__("uvicorn").Server(server_config(app, "127.0.0.1", free_port()))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the portal did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield study, f"http://127.0.0.1:{port}", names
    server.should_exit = True
    thread.join(timeout=10)


def test_participants_get_balanced_accounts_they_can_use(argilla_server, portal, capfd, caplog):
    from playwright.sync_api import sync_playwright

    study, base, names = portal
    url = argilla_server.url
    csv_path = study.portal.assignments
    pids = [hex_id() for _ in range(3)]
    link = f"{base}/?PROLIFIC_PID={{}}&STUDY_ID={{}}&SESSION_ID=x"
    owner = api_client(url, argilla_server.api_key)
    assert CHROMIUM.exists(), f"{CHROMIUM} missing: apt-get install chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 900, "height": 700})

        def visit(pid: str, study_id: str = WRITING_ID) -> tuple[int, dict]:
            resp = page.goto(link.format(pid, study_id))
            assert resp is not None
            shown = {
                key: page.text_content(f"#{key}")
                for key in ("username", "password", "workspace", "message")
                if page.query_selector(f"#{key}")
            }
            return resp.status, shown

        accounts = []
        for i, pid in enumerate(pids):
            status, shown = visit(pid)
            assert status == 200, shown
            accounts.append(shown)
            if i == 0:
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "portal.png"), full_page=True)
        assert [a["username"] for a in accounts] == pids
        # Least-loaded first, ties in the configured order.
        w1, w2 = names["writing"]
        assert [a["workspace"] for a in accounts] == [w1, w2, w1]
        assert workspace_annotators(owner, w1) == sorted([pids[0], pids[2]])
        assert workspace_annotators(owner, w2) == [pids[1]]

        # Each logs in with what the page showed and answers as themselves.
        for a in accounts:
            user_id = answer_as(url, a["username"], a["password"], a["workspace"])
            assert user_id == next(
                u["id"] for u in list_users(owner) if u["username"] == a["username"]
            )

        rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
        assert list(rows[0].keys()) == COLUMNS
        assert [(r["prolific_pid"], r["study_role"], r["workspace"]) for r in rows] == [
            (pid, "writing", a["workspace"]) for pid, a in zip(pids, accounts, strict=True)
        ]
        assert all(r["study_id"] == WRITING_ID and r["session_id"] == "x" for r in rows)
        text = csv_path.read_text(encoding="utf-8")
        assert not any(a["password"] in text for a in accounts)

        # A second visit: the same account, nothing appended.
        before = csv_path.read_bytes()
        status, again = visit(pids[0])
        assert (status, again) == (200, accounts[0])
        assert csv_path.read_bytes() == before

        # A bad id: a 400 page, no user.
        users_before = len(list_users(owner))
        status, shown = visit("not-a-prolific-id")
        assert status == 400 and "Prolific ID" in shown["message"]
        status, _ = visit(pids[0][:-1])
        assert status == 400
        assert len(list_users(owner)) == users_before

        # A writer at the rating study: refused, nothing created or appended.
        status, shown = visit(pids[1], RATING_ID)
        assert status == 403 and "writing study" in shown["message"]
        page.screenshot(path=str(ARTIFACTS / "portal-refused.png"), full_page=True)
        assert workspace_annotators(owner, names["rating"][0]) == []
        assert csv_path.read_bytes() == before
        browser.close()

    # Two visits of a new rater at once: one account, one line.
    rater = hex_id()
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: httpx.get(link.format(rater, RATING_ID)), range(4)))
    assert [r.status_code for r in got] == [200] * 4
    assert len({r.text for r in got}) == 1
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert [r["study_role"] for r in rows if r["prolific_pid"] == rater] == ["rating"]
    assert workspace_annotators(owner, names["rating"][0]) == [rater]
    owner.close()

    # Another secret would show participant 1 a password that does not work: the error page.
    from fastapi.testclient import TestClient

    other = create_app(
        study, api_url=url, api_key=argilla_server.api_key, secret=SECRET + "-changed"
    )
    resp = TestClient(other).get(link.format(pids[0], WRITING_ID).removeprefix(base))
    assert resp.status_code == 500 and "Something is wrong on our side" in resp.text
    assert rows == list(csv.DictReader(csv_path.open(encoding="utf-8")))

    out, err = capfd.readouterr()
    logged = out + err + caplog.text  # printed, and any log record (access lines included)
    assert all(f"GET / {n}" in logged for n in (200, 400, 403, 500))
    assert "does not take the derived password" in logged
    assert not [pid for pid in [*pids, rater] if pid in logged], logged
    assert SECRET not in logged and "PROLIFIC_PID" not in logged
