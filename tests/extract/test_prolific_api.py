"""The Prolific API client against a local test double.

Prolific is a SaaS that cannot run locally, so these tests start a stdlib `http.server` on
127.0.0.1 (random port) that replays recorded responses of the documented shape
(tests/fixtures/prolific/*.json: `results`, `_links.next.href`, `meta.count`) and scripted
failures (429 with Retry-After, 5xx, a slow answer, a malformed page, a refused token). The
client under test is the real one, over real HTTP.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest

from extract.errors import ExtractError
from extract.landing import Landing
from extract.prolific import ApiOptions, ProlificClient, extract_prolific
from study_config import Study

FIXTURES = Path(__file__).parent.parent / "fixtures" / "prolific"
STUDY_ID = "66b2a0c0d1e2f3a4b5c6d7e8"
TOKEN = "tok-SECRET-9f8e7d6c5b4a"
FAST = ApiOptions(backoff_base=0.001, max_retries=3, timeout=5)

STUDY_PATH = f"/api/v1/studies/{STUDY_ID}/"
SUBS_PATH = f"/api/v1/studies/{STUDY_ID}/submissions/"


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeProlific:
    """Scripted replies per route ("/path" or "/path?page=N"); the last reply of a route repeats."""

    def __init__(self) -> None:
        self.routes: dict[str, deque[Reply]] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # (route, raw query, auth)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}/api/v1/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def fixture(self, name: str) -> str:
        return (FIXTURES / name).read_text(encoding="utf-8").replace("{base}", self.base)

    def script(self, route: str, *replies: Reply) -> None:
        self.routes[route] = deque(replies)

    def script_study(self) -> None:
        self.script(STUDY_PATH, Reply(body=self.fixture("study.json")))
        self.script(SUBS_PATH, Reply(body=self.fixture("submissions_page1.json")))
        self.script(f"{SUBS_PATH}?page=2", Reply(body=self.fixture("submissions_page2.json")))

    def hits(self, route: str) -> int:
        return sum(1 for r, _, _ in self.requests if r == route)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (stdlib name)
                parts = urlsplit(self.path)
                page = parse_qs(parts.query).get("page")
                route = parts.path + (f"?page={page[0]}" if page else "")
                fake.requests.append((route, parts.query, self.headers.get("Authorization")))
                queue = fake.routes.get(route)
                reply = (queue.popleft() if len(queue) > 1 else queue[0]) if queue else None
                reply = reply or Reply(404, '{"error": {"detail": "Not found."}}')
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": "application/json", **reply.headers}
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (timeout test)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def __enter__(self) -> FakeProlific:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def fake(monkeypatch) -> Iterator[FakeProlific]:
    with FakeProlific() as server:
        monkeypatch.setenv("PROLIFIC_API_URL", server.base)
        monkeypatch.delenv("PROLIFIC_API_TOKEN", raising=False)
        yield server


def make_study(tmp_path: Path, **prolific: dict) -> Study:
    return Study.model_validate(
        {
            "name": "t",
            "path": tmp_path / "study.yml",
            "prolific": prolific or {"rating": {"study_id": STUDY_ID}},
            "argilla": {
                "writing": {"sources": [{"export": str(tmp_path / "w.json")}]},
                "rating": {"sources": [{"export": str(tmp_path / "r.json")}]},
            },
        }
    )


def landed(root: Path, table: str) -> list[dict]:
    rel = duckdb.connect().sql(
        f"select * exclude (_batch_id, _extracted_at, _row_sha256) "
        f"from read_parquet('{root}/prolific/{table}/*.parquet', union_by_name = true) "
        "order by submission_id"
    )
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def run(tmp_path: Path, options: ApiOptions = FAST, **kw):
    messages: list[str] = []
    results = extract_prolific(
        make_study(tmp_path).prolific,
        Landing(tmp_path / "landing"),
        token=kw.pop("token", TOKEN),
        options=options,
        progress=messages.append,
        **kw,
    )
    return results, messages


def test_pagination_follows_next_links_and_maps_documented_fields(fake, tmp_path):
    fake.script_study()
    results, messages = run(tmp_path)
    assert [(r.table, r.new_rows) for r in results] == [("submissions", 5)]
    assert fake.hits(SUBS_PATH) == 1 and fake.hits(f"{SUBS_PATH}?page=2") == 1
    assert all(auth == f"Token {TOKEN}" for _, _, auth in fake.requests)
    assert "page_size=100" in next(q for r, q, _ in fake.requests if r == SUBS_PATH)

    rows = landed(tmp_path / "landing", "submissions")
    assert [r["submission_id"][-2:] for r in rows] == ["a1", "a2", "a3", "a4", "a5"]
    a1, a3, a5 = rows[0], rows[2], rows[4]
    assert a1["participant_id"] == "5f0c1a2b3c4d5e6f7a8b9c01"
    assert json.loads(a1["extra"])["reward"] == 300  # undocumented-as-column fields are kept
    assert (a1["status"], a1["completion_code"], a1["time_taken"]) == (
        "APPROVED",
        "R7T8Y9U0",
        "1200",
    )
    assert (a3["status"], a3["completion_code"], a3["completed_at"]) == ("RETURNED", "NOCODE", None)
    assert a5["time_taken"] == "1170.25" and a5["completed_at"] == "2024-04-01T10:29:30.250000Z"
    assert {(r["study_id"], r["study_role"]) for r in rows} == {(STUDY_ID, "rating")}
    assert {r["_source_uri"] for r in rows} == {f"prolific+{fake.base}studies/{STUDY_ID}/"}
    assert len(rows[0]["_source_sha256"]) == 64

    # The list endpoint carries no demographics: none land, the table still resolves, we say so.
    demo_dir = tmp_path / "landing" / "prolific" / "demographics"
    assert [p.name for p in demo_dir.iterdir()] == ["schema.parquet"]
    assert any("no demographics landed" in m for m in messages)
    assert any("5/5 submissions" in m for m in messages)


def test_pulling_again_lands_nothing_new(fake, tmp_path):
    fake.script_study()
    run(tmp_path)
    again, _ = run(tmp_path)
    assert [(r.new_rows, r.unchanged_rows) for r in again] == [(0, 5)]


def test_429_honours_retry_after_then_succeeds(fake, tmp_path):
    fake.script_study()
    page1 = fake.fixture("submissions_page1.json")
    fake.script(
        SUBS_PATH,
        Reply(429, '{"error": {"detail": "Too many requests"}}', {"Retry-After": "0"}),
        Reply(body=page1),
    )
    # A large backoff base: only honouring Retry-After: 0 keeps this test fast.
    slow_backoff = ApiOptions(backoff_base=30, max_retries=3, timeout=5)
    start = time.monotonic()
    results, _ = run(tmp_path, options=slow_backoff)
    assert time.monotonic() - start < 10
    assert results[0].new_rows == 5
    assert fake.hits(SUBS_PATH) == 2


def test_500_then_success_retries_with_backoff(fake, tmp_path):
    fake.script_study()
    fake.script(
        f"{SUBS_PATH}?page=2",
        Reply(500, "Internal Server Error", {"Content-Type": "text/plain"}),
        Reply(502, "Bad Gateway", {"Content-Type": "text/plain"}),
        Reply(body=fake.fixture("submissions_page2.json")),
    )
    results, _ = run(tmp_path)
    assert results[0].new_rows == 5
    assert fake.hits(f"{SUBS_PATH}?page=2") == 3


def test_a_server_that_stays_down_fails_after_max_retries(fake, tmp_path):
    fake.script_study()
    fake.script(SUBS_PATH, Reply(503, "unavailable", {"Content-Type": "text/plain"}))
    with pytest.raises(ExtractError) as err:
        run(tmp_path, options=ApiOptions(backoff_base=0.001, max_retries=2))
    assert f"{fake.base}studies/{STUDY_ID}/submissions/" in str(err.value)
    assert "HTTP 503" in str(err.value) and "after 3 tries" in str(err.value)
    assert fake.hits(SUBS_PATH) == 3
    assert not list((tmp_path / "landing").glob("prolific/**/*.parquet"))


def test_a_timeout_is_retried(fake, tmp_path):
    fake.script_study()
    page1 = fake.fixture("submissions_page1.json")
    fake.script(SUBS_PATH, Reply(body=page1, delay=1.0), Reply(body=page1))
    results, _ = run(tmp_path, options=ApiOptions(backoff_base=0.001, max_retries=2, timeout=0.3))
    assert results[0].new_rows == 5
    assert fake.hits(SUBS_PATH) == 2


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<html><body>Maintenance</body></html>", "not JSON"),
        ('{"detail": "ok", "_links": {}}', "no `results` list"),
        ('{"results": [{"participant_id": "x"}]}', "not a submission with `id`"),
    ],
    ids=["html", "no-results", "result-without-id"],
)
def test_a_malformed_page_is_a_clear_error_and_lands_nothing(fake, tmp_path, body, problem):
    fake.script_study()
    fake.script(f"{SUBS_PATH}?page=2", Reply(body=body, headers={"Content-Type": "text/html"}))
    with pytest.raises(ExtractError) as err:
        run(tmp_path)
    msg = str(err.value)
    assert msg.startswith(f"{fake.base}studies/{STUDY_ID}/submissions/?page=2: malformed")
    assert problem in msg and "\n" not in msg
    assert not list((tmp_path / "landing").glob("prolific/**/*.parquet"))


def test_a_refused_token_is_a_clear_error_without_the_token(fake, tmp_path):
    fake.script(STUDY_PATH, Reply(401, fake.fixture("error_401.json")))
    with pytest.raises(ExtractError) as err:
        run(tmp_path)
    msg = str(err.value)
    assert "HTTP 401" in msg and "PROLIFIC_API_TOKEN" in msg
    assert TOKEN not in msg and TOKEN not in repr(err.value) and err.value.__cause__ is None
    assert fake.hits(STUDY_PATH) == 1  # not retried


def test_an_error_body_echoing_the_token_is_redacted(fake, tmp_path):
    echo = json.dumps({"error": {"detail": f"bad request for token {TOKEN}"}})
    fake.script(STUDY_PATH, Reply(400, echo))
    with pytest.raises(ExtractError) as err:
        run(tmp_path)
    assert "HTTP 400" in str(err.value) and "bad request for token ***" in str(err.value)
    assert TOKEN not in str(err.value)


def test_unknown_study_is_a_clear_error(fake, tmp_path):
    with pytest.raises(ExtractError, match=rf"studies/{STUDY_ID}/: HTTP 404"):
        run(tmp_path)


def test_missing_token_names_the_env_var(fake, tmp_path):
    with pytest.raises(ExtractError, match="set PROLIFIC_API_TOKEN") as err:
        run(tmp_path, token=None)
    assert f"study {STUDY_ID}" in str(err.value)
    assert fake.requests == []  # failed before any request


def test_token_comes_from_the_environment(fake, tmp_path, monkeypatch):
    fake.script_study()
    monkeypatch.setenv("PROLIFIC_API_TOKEN", "env-token-1")
    results, _ = run(tmp_path, token=None)
    assert results[0].new_rows == 5
    assert {auth for _, _, auth in fake.requests} == {"Token env-token-1"}


def test_demographics_in_the_response_are_landed(fake, tmp_path):
    fake.script(STUDY_PATH, Reply(body=fake.fixture("study.json")))
    fake.script(SUBS_PATH, Reply(body=fake.fixture("submissions_with_demographics.json")))
    results, _ = run(tmp_path)
    assert [(r.table, r.new_rows) for r in results] == [("submissions", 2), ("demographics", 2)]
    b1, b2 = landed(tmp_path / "landing", "demographics")
    assert (b1["age"], b1["sex"], b1["country_of_residence"]) == ("41", "Male", "Canada")
    assert b1["nationality"] is None  # not in the response
    assert json.loads(b1["extra"]) == {"Fluent languages": "English, French"}
    assert b2["age"] == "DATA_EXPIRED" and b2["study_role"] == "rating"


def test_a_next_link_to_another_host_is_refused(fake, tmp_path):
    fake.script_study()
    page = json.loads(fake.fixture("submissions_page1.json"))
    page["_links"]["next"]["href"] = "https://evil.example/api/v1/studies/x/submissions/?page=2"
    fake.script(SUBS_PATH, Reply(body=json.dumps(page)))
    with pytest.raises(ExtractError, match="`next` link leaves"):
        run(tmp_path)
    assert all(route.startswith("/api/v1/") for route, _, _ in fake.requests)


def test_csv_and_api_roles_land_together(fake, tmp_path):
    fake.script_study()
    study = make_study(
        tmp_path,
        writing={"export": str(FIXTURES / "writing_export.csv")},
        rating={"study_id": STUDY_ID},
    )
    results = extract_prolific(
        study.prolific, Landing(tmp_path / "landing"), token=TOKEN, options=FAST
    )
    assert [(r.table, r.new_rows) for r in results] == [
        ("submissions", 4),
        ("demographics", 4),
        ("submissions", 5),
    ]
    roles = {(r["study_role"], r["study_id"]) for r in landed(tmp_path / "landing", "submissions")}
    assert roles == {("writing", None), ("rating", STUDY_ID)}


def test_client_repr_and_bad_base_url_hide_nothing_secret(monkeypatch):
    client = ProlificClient(TOKEN, base_url="http://127.0.0.1:9/api/v1")
    assert TOKEN not in repr(client) and client.base_url.endswith("/v1/")
    client.close()
    with pytest.raises(ExtractError, match="PROLIFIC_API_URL"):
        ProlificClient(TOKEN, base_url="api.prolific.com")
