"""`rlhfw portal` without a server: the password rule, the id check, the pages that need no
Argilla, and a 503 when Argilla is down (tests/argilla_server/test_portal.py runs it for real)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rlhfw.setup import SetupError
from rlhfw.setup.portal import create_app, password_for, valid_pid, workspaces_of
from study_config import load_study

WRITING_ID = "65a0c0ffee0000000000000a"
RATING_ID = "65a0c0ffee0000000000000b"
PID = "5f3e1a2b3c4d5e6f7a8b9c0d"
SECRET = "a test secret of more than 16 characters"


def write_study(folder: Path, portal: str = "portal: {}") -> Path:
    path = folder / "study.yml"
    path.write_text(
        f"""
name: portal test
prolific:
  writing: {{study_id: "{WRITING_ID}"}}
  rating: {{study_id: "{RATING_ID}"}}
argilla:
  writing:
    sources: [{{dataset: answers, workspace: w1}}, {{dataset: answers, workspace: w2}}]
  rating:
    sources: [{{dataset: pairs, workspace: r1}}]
{portal}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture()
def study(tmp_path):
    return load_study(write_study(tmp_path), check_files=False)


def test_the_password_is_derived_from_the_secret_and_the_id():
    password = password_for(SECRET, PID)
    assert password == password_for(SECRET, PID)  # the same on every visit
    assert len(password) == 20 and password.replace("-", "").replace("_", "").isalnum()
    assert password != password_for(SECRET, "5f3e1a2b3c4d5e6f7a8b9c0e")
    assert password != password_for(SECRET + "!", PID)


@pytest.mark.parametrize(
    ("pid", "ok"),
    [
        (PID, True),
        (None, False),
        ("", False),
        (PID[:-1], False),  # 23 characters
        (PID + "0", False),  # 25
        (PID.upper(), False),  # Prolific ids are lowercase
        ("5f3e1a2b3c4d5e6f7a8b9c0g", False),  # not hex
        (PID + "\n", False),
        ("../" + PID[3:], False),
    ],
)
def test_prolific_ids_are_24_lowercase_hex_characters(pid, ok):
    assert valid_pid(pid) is ok


def test_workspaces_default_to_the_live_sources_and_the_config_overrides_them(tmp_path, study):
    assert workspaces_of(study, "writing") == ["w1", "w2"]
    assert workspaces_of(study, "rating") == ["r1"]
    other = load_study(
        write_study(tmp_path, "portal: {workspaces: {writing: [w2, w9]}}"), check_files=False
    )
    assert workspaces_of(other, "writing") == ["w2", "w9"]
    assert workspaces_of(other, "rating") == ["r1"]


@pytest.mark.parametrize("secret", [None, "", "too short"])
def test_the_portal_needs_a_long_enough_secret(study, secret):
    with pytest.raises(SetupError, match="RLHFW_PORTAL_SECRET"):
        create_app(study, api_url="http://127.0.0.1:9", api_key="k", secret=secret)


def test_a_study_without_a_portal_section_is_refused(tmp_path):
    study = load_study(write_study(tmp_path, ""), check_files=False)
    with pytest.raises(SetupError, match="portal"):
        create_app(study, api_url="http://127.0.0.1:9", api_key="k", secret=SECRET)


def _client(study, lines):
    # Port 9 (discard) has no listener here: every call to Argilla fails to connect.
    app = create_app(
        study, api_url="http://127.0.0.1:9", api_key="k", secret=SECRET, log=lines.append
    )
    return TestClient(app)


@pytest.mark.parametrize(
    "query",
    [
        f"STUDY_ID={WRITING_ID}",
        f"PROLIFIC_PID=nothex&STUDY_ID={WRITING_ID}",
        f"PROLIFIC_PID={PID}",
        f"PROLIFIC_PID={PID}&STUDY_ID=65a0c0ffee0000000000000c",
    ],
)
def test_a_bad_link_gets_a_400_page_and_nothing_is_written(study, query):
    lines: list[str] = []
    resp = _client(study, lines).get(f"/?{query}&SESSION_ID=s")
    assert resp.status_code == 400
    assert "Please open the study again from Prolific" in resp.text
    assert not study.portal.assignments.exists()
    assert lines == ["GET / 400"]


def test_argilla_down_gives_a_503_page_and_appends_nothing(study):
    lines: list[str] = []
    resp = _client(study, lines).get(f"/?PROLIFIC_PID={PID}&STUDY_ID={WRITING_ID}&SESSION_ID=s")
    assert resp.status_code == 503
    assert "try again in a minute" in resp.text
    assert resp.headers["cache-control"] == "no-store"
    assert not study.portal.assignments.exists()
    assert PID not in "\n".join(lines) and lines[-1] == "GET / 503"


def test_serve_refuses_a_missing_secret_or_an_unreachable_argilla(study, monkeypatch):
    from rlhfw.setup.portal import serve

    monkeypatch.setenv("ARGILLA_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("ARGILLA_API_KEY", "owner key")
    monkeypatch.delenv("RLHFW_PORTAL_SECRET", raising=False)
    with pytest.raises(SetupError, match="RLHFW_PORTAL_SECRET must be set"):
        serve(study, "127.0.0.1", 0, print)
    monkeypatch.setenv("RLHFW_PORTAL_SECRET", SECRET)
    with pytest.raises(SetupError, match="cannot reach Argilla") as refused:
        serve(study, "127.0.0.1", 0, print)
    assert SECRET not in str(refused.value) and "owner key" not in str(refused.value)
    monkeypatch.delenv("ARGILLA_API_KEY")
    with pytest.raises(SetupError, match="ARGILLA_API_KEY is not set"):
        serve(study, "127.0.0.1", 0, print)


def test_uvicorn_access_lines_are_dropped_whoever_handles_them(study):
    import logging

    from rlhfw.setup.portal import server_config

    app = create_app(study, api_url="http://127.0.0.1:9", api_key="k", secret=SECRET)
    config = server_config(app, "127.0.0.1", 0)
    assert config.access_log is False
    line = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "GET %s"',
        ("x", f"/?PROLIFIC_PID={PID}"),
        None,
    )
    assert not logging.getLogger("uvicorn.access").filter(line)


class FakeArgilla:
    """The calls `assign` makes, over in-memory users and workspaces."""

    def __init__(self, members: dict[str, list[str]]) -> None:
        self.members = members  # workspace -> usernames
        self.passwords: dict[str, str] = {}

    def user(self, username):
        known = username in self.passwords or any(username in m for m in self.members.values())
        return {"id": f"id-{username}", "role": "annotator"} if known else None

    def workspaces_of_user(self, user_id):
        return [w for w, m in self.members.items() if user_id.removeprefix("id-") in m]

    def can_log_in(self, username, password):
        return self.passwords.get(username) == password

    def workspace_ids(self):
        return {w: w for w in self.members}

    def annotators_in(self, workspace_id):
        return len(self.members[workspace_id])

    def create_user(self, username, password):
        self.passwords[username] = password
        return {"id": f"id-{username}"}

    def add_to_workspace(self, workspace_id, user_id):
        self.members[workspace_id].append(user_id.removeprefix("id-"))


def test_assign_balances_ties_in_order_and_refuses_the_other_role_from_argilla(study):
    from rlhfw.setup.portal import Refused, Visit, assign, read_assignments

    fake = FakeArgilla({"w1": ["someone"], "w2": [], "r1": []})
    pids = [f"{n:024x}" for n in range(1, 5)]
    got = [
        assign(fake, study, Visit(pid, "writing", WRITING_ID, "s"), password_for(SECRET, pid))
        for pid in pids
    ]
    assert [a.workspace for a in got] == ["w2", "w1", "w2", "w1"]
    assert all(a.new for a in got)
    again = assign(
        fake, study, Visit(pids[0], "writing", WRITING_ID, "s2"), password_for(SECRET, pids[0])
    )
    assert again == type(again)("w2", False)
    assert [r["prolific_pid"] for r in read_assignments(study.portal.assignments)] == pids

    # The CSV lost (a fresh file): Argilla alone still knows a writer, who may not rate.
    study.portal.assignments.unlink()
    with pytest.raises(Refused):
        assign(fake, study, Visit(pids[1], "rating", RATING_ID, "s"), password_for(SECRET, pids[1]))
    assert not study.portal.assignments.exists() and fake.members["r1"] == []
    # ... and a known writer whose line was lost gets it back on their next visit.
    assign(fake, study, Visit(pids[1], "writing", WRITING_ID, "s"), password_for(SECRET, pids[1]))
    assert [r["workspace"] for r in read_assignments(study.portal.assignments)] == ["w1"]
