"""A live Argilla source read from a stand-in HTTP server: an answer that is not the Argilla
API's JSON (a web page, a login redirect, a wrong shape) is one clear error, and study.yml's
names are checked against the server's settings before any record is pulled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from extract.argilla import extract_argilla
from extract.errors import ExtractError
from extract.landing import Landing
from study_config import Study

Answer = tuple[int, str, bytes]  # status, content type, body

HTML: Answer = (
    200,
    "text/html; charset=utf-8",
    b"<!doctype html><html><body>Argilla</body></html>",
)


def ok(body: object) -> Answer:
    return 200, "application/json", json.dumps(body).encode()


def record(rid: str, fields: dict, question: str, value: object) -> dict:
    return {
        "id": rid,
        "external_id": rid,
        "status": "completed",
        "fields": fields,
        "metadata": {"topic": "work"},
        "responses": [
            {"user_id": "u1", "status": "submitted", "values": {question: {"value": value}}}
        ],
    }


def api() -> dict[str, Answer]:
    """A valid Argilla API with one writing and one rating dataset."""
    d = "/api/v1/datasets"
    pair = {"question": "Why?", "response_a": "A.", "response_b": "B."}
    return {
        "/api/v1/users": ok({"items": [{"id": "u1", "username": "alice", "role": "annotator"}]}),
        "/api/v1/me/workspaces": ok({"items": [{"id": "w1", "name": "ws"}]}),
        "/api/v1/me/datasets": ok(
            {
                "items": [
                    {"id": "d1", "name": "writing", "workspace_id": "w1"},
                    {"id": "d2", "name": "rating", "workspace_id": "w1"},
                ]
            }
        ),
        f"{d}/d1/fields": ok({"items": [{"name": "question", "settings": {"type": "text"}}]}),
        f"{d}/d1/questions": ok(
            {
                "items": [
                    {"name": "response", "settings": {"type": "text"}},
                    {"name": "question_quality", "settings": {"type": "rating"}},
                ]
            }
        ),  # fmt: skip
        f"{d}/d1/records": ok(
            {"items": [record("r1", {"question": "Why?"}, "response", "Because.")], "total": 1}
        ),
        f"{d}/d2/fields": ok({"items": [{"name": n, "settings": {"type": "text"}} for n in pair]}),
        f"{d}/d2/questions": ok(
            {"items": [{"name": "preference", "settings": {"type": "rating"}}]}
        ),
        f"{d}/d2/records": ok({"items": [record("r2", pair, "preference", 3)], "total": 1}),
    }


class FakeServer:
    """Answers GETs from a table of paths; records which paths were asked for."""

    def __init__(self, routes: dict[str, Answer], default: Answer | None = None) -> None:
        self.routes, self.default, self.asked = routes, default, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                path = urlsplit(self.path).path
                server.asked.append(path)
                status, ctype, body = server.routes.get(
                    path, server.default or (404, "application/json", b'{"detail": "Not Found"}')
                )
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                if status in (301, 302, 303, 307):
                    self.send_header("Location", "/login?next=%2F")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def serve() -> Iterator:
    servers: list[FakeServer] = []

    def start(routes: dict[str, Answer], default: Answer | None = None) -> FakeServer:
        servers.append(FakeServer(routes, default).__enter__())
        return servers[-1]

    yield start
    for server in servers:
        server.__exit__()


def live_study(tmp_path: Path, **rating: str) -> Study:
    return Study.model_validate(
        {
            "name": "live",
            "path": tmp_path / "study.yml",
            "landing": tmp_path / "landing",
            "argilla": {
                "writing": {"sources": [{"dataset": "writing", "workspace": "ws"}]},
                "rating": {"sources": [{"dataset": "rating", "workspace": "ws"}], **rating},
            },
        }
    )


def landed(study: Study) -> list[Path]:
    return list(study.landing.rglob("*.parquet")) if study.landing.exists() else []


def extract_error(study: Study, server: FakeServer) -> str:
    with pytest.raises(ExtractError) as info:
        extract_argilla(
            study.argilla,
            Landing(study.landing),
            root=study.root,
            api_url=server.url,
            api_key="k",
            log=print,
        )
    assert not landed(study)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_the_stand_in_api_lands(tmp_path, serve):
    """The control: the valid stand-in is read and lands (so the failures below are real)."""
    server = serve(api())
    study = live_study(tmp_path)
    report = extract_argilla(
        study.argilla,
        Landing(study.landing),
        root=study.root,
        api_url=server.url,
        api_key="k",
        log=print,
    )
    new: dict[str, int] = {}
    for r in report.results:
        new[r.table] = new.get(r.table, 0) + r.new_rows
    assert new == {"records": 2, "responses": 2, "settings": 7, "users": 1}


def test_a_web_page_answering_200_is_one_clear_error(tmp_path, serve):
    server = serve({}, default=HTML)
    message = extract_error(live_study(tmp_path), server)
    assert message == (
        f"{server.url}/api/v1/users: the answer is not the Argilla API's JSON "
        "(HTTP 200, text/html); check that ARGILLA_API_URL is the Argilla server's address"
    )


def test_the_cli_exits_2_on_a_web_page(tmp_path, serve):
    server = serve({}, default=HTML)
    study = live_study(tmp_path)
    config = tmp_path / "study.yml"
    config.write_text(
        json.dumps(study.model_dump(mode="json", include={"name", "landing", "argilla"})),
        encoding="utf-8",
    )
    env = {**os.environ, "ARGILLA_API_URL": server.url, "ARGILLA_API_KEY": "k"}
    proc = subprocess.run(
        [sys.executable, "-m", "rlhfw.cli", "extract", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    err = " ".join(proc.stderr.split())
    assert f"{server.url}/api/v1/users: the answer is not the Argilla API's JSON" in err
    assert not landed(study)


D = "/api/v1/datasets"
WRONG_ANSWERS = {
    "users-a-list": ("/api/v1/users", ok([{"id": "u1"}]), "(no `items` list)"),
    "workspaces-not-objects": ("/api/v1/me/workspaces", ok({"items": ["ws"]}),
                               "(an item is not an object)"),
    "dataset-without-id": ("/api/v1/me/datasets",
                           ok({"items": [{"name": "writing", "workspace_id": "w1"}]}),
                           "(dataset 'writing' has no `id`)"),
    "fields-as-text": (f"{D}/d1/fields", (200, "text/plain", b"OK"), "(HTTP 200, text/plain)"),
    "records-web-page": (f"{D}/d1/records", HTML, "(HTTP 200, text/html)"),
    "records-total-not-a-number": (
        f"{D}/d1/records",
        ok({"items": [record("r1", {"question": "Why?"}, "response", "x")], "total": "many"}),
        "(page at offset 0: `total` 'many')",
    ),
    "records-not-objects": (f"{D}/d1/records", ok({"items": [1, 2], "total": 2}),
                            "(page at offset 0: no `items` objects)"),
}  # fmt: skip


@pytest.mark.parametrize(("path", "answer", "what"), WRONG_ANSWERS.values(), ids=WRONG_ANSWERS)
def test_a_wrong_answer_is_one_clear_error(tmp_path, serve, path, answer, what):
    server = serve({**api(), path: answer})
    message = extract_error(live_study(tmp_path), server)
    assert message.startswith(f"{server.url}{path}: the answer is not the Argilla API's JSON ")
    assert what in message


def test_a_login_redirect_is_one_clear_error(tmp_path, serve):
    server = serve({}, default=(302, "text/html", b""))
    message = extract_error(live_study(tmp_path), server)
    assert message == (
        f"{server.url}/api/v1/users: HTTP 302 redirect to /login?next=%2F: "
        "not the Argilla API (check ARGILLA_API_URL)"
    )


def test_a_question_the_dataset_lacks_fails_before_its_records_are_pulled(tmp_path, serve):
    server = serve(api())
    message = extract_error(live_study(tmp_path, rating_question="rating"), server)
    assert message == (
        f"argilla.rating.rating_question: 'rating' is not a question of dataset 'rating' in "
        f"workspace 'ws' on {server.url} (its questions: preference)"
    )
    assert f"{D}/d2/records" not in server.asked


def test_a_field_the_dataset_lacks_is_an_error(tmp_path, serve):
    server = serve(api())
    message = extract_error(live_study(tmp_path, response_b_field="answer_b"), server)
    assert message.startswith("argilla.rating.response_b_field: 'answer_b' is not a field of ")
    assert message.endswith("(its fields: question, response_a, response_b)")


def test_a_metadata_key_no_live_record_carries_is_an_error(tmp_path, serve):
    server = serve(api())
    message = extract_error(live_study(tmp_path, response_a_metadata="a_writer"), server)
    assert message == (
        f"argilla.rating.response_a_metadata: no record of dataset 'rating' in workspace 'ws' "
        f"on {server.url} carries metadata 'a_writer' (its records' metadata keys: topic)"
    )


def test_records_are_pulled_page_by_page(tmp_path, serve, monkeypatch):
    """Every page is asked of the records endpoint (the stand-in serves the same page)."""
    monkeypatch.setattr("extract.argilla.api.PAGE_SIZE", 1)
    routes = api()
    routes[f"{D}/d1/records"] = ok(
        {"items": [record("r1", {"question": "Why?"}, "response", "Because.")], "total": 3}
    )
    server = serve(routes)
    study = live_study(tmp_path)
    extract_argilla(
        study.argilla,
        Landing(study.landing),
        root=study.root,
        api_url=server.url,
        api_key="k",
        log=print,
    )
    assert server.asked.count(f"{D}/d1/records") == 3


def test_credentials_in_the_server_url_reach_no_message_or_uri():
    from extract.argilla.api import ArgillaClient

    client = ArgillaClient("http://someone:s3cret-pass@127.0.0.1:9/", "key", retries=1, backoff=0)
    assert "s3cret" not in client.url and "s3cret" not in repr(client)
    assert client.url == "http://127.0.0.1:9"
    with pytest.raises(ExtractError) as failed:
        client.users()  # nothing listens on port 9: the error names the address
    assert "127.0.0.1:9" in str(failed.value) and "s3cret" not in str(failed.value)
