"""A real argilla-server 2.8.0 process for integration tests, plus REST helpers and demo seed.

The server runs from its own venv (``.venv-argilla-server``, made by
``scripts/argilla_server.sh install``) because its pins conflict with the project's dbt.
It uses SQLite, a private redis-server and the in-memory search engine from
``inmemory_engine.py``; every byte of state lives in a temp dir, nothing in the repo is written.

Typical use (pytest)::

    from tests.argilla_server.fixture import ArgillaServer, install_problem, seed_demo

    @pytest.fixture(scope="module")
    def argilla_server():
        if (problem := install_problem()) is not None:
            pytest.fail(problem, pytrace=False)
        with ArgillaServer() as server:
            yield server

The REST helpers take an ``httpx.Client`` from :func:`api_client` and use the same ``/api/v1``
endpoints as the Argilla web UI. Responses must be created with the annotator's own client
(its ``api_key`` is returned by :func:`create_user`): the server attributes a response to the
authenticated user.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

ARGILLA_SERVER_VERSION = "2.8.0"
REPO_ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "launch.py"
INSTALL_HINT = "run `scripts/argilla_server.sh install`"
API_KEY_HEADER = "X-Argilla-Api-Key"

DEFAULT_OWNER_USERNAME = "owner"
DEFAULT_OWNER_PASSWORD = "owner-password-1"
DEFAULT_OWNER_API_KEY = "owner.apikey.integration-tests"

RESPONSE_STATUSES = ("submitted", "draft", "discarded")


# ---------------------------------------------------------------------------------------------
# Locating the install
# ---------------------------------------------------------------------------------------------
def server_venv() -> Path:
    """The argilla-server venv; ARGILLA_SERVER_VENV overrides the in-repo default."""
    return Path(os.environ.get("ARGILLA_SERVER_VENV", REPO_ROOT / ".venv-argilla-server"))


def server_python() -> Path:
    return server_venv() / "bin" / "python"


def find_redis_server() -> str | None:
    """Path of a redis-server binary (ARGILLA_TEST_REDIS_SERVER overrides PATH lookup)."""
    override = os.environ.get("ARGILLA_TEST_REDIS_SERVER")
    if override:
        return override if os.access(override, os.X_OK) else None
    for candidate in (shutil.which("redis-server"), "/usr/bin/redis-server"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def install_problem() -> str | None:
    """Return why the server cannot start (a message naming the fix), or None if it can.

    Cheap (filesystem checks only), so a conftest can call it at collection time and decide
    whether to fail or skip. The smoke test fails: a missing install must not look green.
    """
    python = server_python()
    if not python.exists():
        return f"argilla-server venv not found at {server_venv()}: {INSTALL_HINT}"
    dist_infos = list(
        server_venv().glob(
            f"lib/python*/site-packages/argilla_server-{ARGILLA_SERVER_VERSION}.dist-info"
        )
    )
    if not dist_infos:
        return (
            f"argilla-server=={ARGILLA_SERVER_VERSION} is not installed in {server_venv()}: "
            f"{INSTALL_HINT}"
        )
    if find_redis_server() is None:
        return f"redis-server binary not found on PATH: {INSTALL_HINT} (installs it with apt)"
    return None


def require_install() -> None:
    """Raise RuntimeError with the install hint if the server cannot be started."""
    problem = install_problem()
    if problem is not None:
        raise RuntimeError(problem)


# ---------------------------------------------------------------------------------------------
# Process management
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    """An unused 127.0.0.1 TCP port (tiny race until the child binds it; fine for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # Linux PR_SET_PDEATHSIG: if pytest is SIGKILLed, the children get SIGTERM instead of
    # lingering and holding ports on a CI machine.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _tail(path: Path, lines: int = 60) -> str:
    try:
        with path.open(errors="replace") as fh:
            return "".join(deque(fh, maxlen=lines))
    except OSError:
        return f"<no log at {path}>"


class ArgillaServerError(RuntimeError):
    """The server failed to start; the message carries the relevant log tails."""


class ArgillaServer:
    """Start redis + argilla-server on free 127.0.0.1 ports with a known owner API key.

    ``start()`` blocks until ``GET /api/v1/me`` answers 200 with the owner key, so callers can
    use ``url`` / ``api_key`` immediately. ``stop()`` terminates every child and deletes the
    temp dir; it is idempotent and also registered with atexit as a safety net.
    """

    def __init__(
        self,
        *,
        owner_username: str = DEFAULT_OWNER_USERNAME,
        owner_password: str = DEFAULT_OWNER_PASSWORD,
        api_key: str = DEFAULT_OWNER_API_KEY,
        owner_workspace: str | None = None,
        startup_timeout: float = 120.0,
        keep_dir: bool = False,
    ) -> None:
        self.owner_username = owner_username
        self.owner_password = owner_password
        self.api_key = api_key
        self.owner_workspace = owner_workspace
        self.startup_timeout = startup_timeout
        self.keep_dir = keep_dir
        self.workdir: Path | None = None
        self.port: int | None = None
        self.redis_port: int | None = None
        self.startup_seconds: float | None = None
        self._procs: list[tuple[str, subprocess.Popen]] = []

    # -- public API ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("ArgillaServer is not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def server_log(self) -> Path:
        return self._dir / "server.log"

    def client(self, api_key: str | None = None, timeout: float = 30.0) -> httpx.Client:
        """An httpx client for this server authenticated as the owner (or ``api_key``)."""
        return api_client(self.url, api_key or self.api_key, timeout=timeout)

    def start(self) -> ArgillaServer:
        require_install()
        redis_bin = find_redis_server()
        assert redis_bin is not None  # checked by require_install
        started = time.monotonic()
        self.workdir = Path(tempfile.mkdtemp(prefix="argilla-server-"))
        atexit.register(self.stop)
        try:
            self._start(redis_bin)
        except BaseException:
            log_dir = self.workdir
            self.keep_dir = self.keep_dir or bool(os.environ.get("ARGILLA_TEST_KEEP_DIR"))
            self.stop()
            if self.keep_dir:
                print(f"argilla-server logs kept in {log_dir}")
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        for _name, proc in reversed(self._procs):
            _terminate(proc)
        self._procs.clear()
        if self.workdir is not None and not self.keep_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.port = None
        atexit.unregister(self.stop)

    def __enter__(self) -> ArgillaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals -----------------------------------------------------------------------------
    @property
    def _dir(self) -> Path:
        if self.workdir is None:
            raise RuntimeError("ArgillaServer is not started")
        return self.workdir

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        # The project venv's variables must not leak into the server venv's interpreter.
        for var in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
            env.pop(var, None)
        env.update(
            ARGILLA_HOME_PATH=str(self._dir / "home"),
            ARGILLA_DATABASE_URL=f"sqlite+aiosqlite:///{self._dir / 'argilla.db'}",
            ARGILLA_REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            ARGILLA_SEARCH_ENGINE="inmemory",
            # No network here: keep HF telemetry/hub lookups off.
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_OFFLINE="1",
            # Keep __pycache__ out of tests/argilla_server (launcher imports the engine module).
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONUNBUFFERED="1",
        )
        return env

    def _spawn(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen:
        log = (self._dir / f"{name}.log").open("wb")
        try:
            proc = subprocess.Popen(
                list(argv),
                cwd=self._dir,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() can signal the whole tree
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()
        self._procs.append((name, proc))
        return proc

    def _run_cli(self, name: str, args: Sequence[str], env: Mapping[str, str]) -> None:
        proc = self._spawn(name, [str(server_python()), "-m", "argilla_server", *args], env)
        try:
            code = proc.wait(timeout=self.startup_timeout)
        except subprocess.TimeoutExpired as exc:
            raise ArgillaServerError(
                f"`argilla_server {' '.join(args[:3])}` timed out after {self.startup_timeout}s"
                f"\n--- {name}.log ---\n{_tail(self._dir / f'{name}.log')}"
            ) from exc
        finally:
            self._procs.remove((name, proc))
        if code != 0:
            raise ArgillaServerError(
                f"`argilla_server {' '.join(args[:3])}` exited with {code}"
                f"\n--- {name}.log ---\n{_tail(self._dir / f'{name}.log')}"
            )

    def _start(self, redis_bin: str) -> None:
        deadline = time.monotonic() + self.startup_timeout
        self.redis_port = free_port()
        self._spawn(
            "redis",
            [
                redis_bin,
                "--port", str(self.redis_port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self._dir),
                "--daemonize", "no",
            ],
            os.environ,
        )  # fmt: skip
        env = self._env()
        self._run_cli("migrate", ["database", "migrate"], env)

        # Server start and owner creation overlap: both only need the migrated schema, and
        # each costs ~7 s of imports. Readiness below waits for both (it authenticates).
        self.port = free_port()
        self._spawn(
            "server",
            [str(server_python()), str(LAUNCHER), "--host", "127.0.0.1", "--port", str(self.port)],
            env,
        )
        user_args = [
            "database", "users", "create",
            "--first-name", self.owner_username,
            "--username", self.owner_username,
            "--password", self.owner_password,
            "--api-key", self.api_key,
            "--role", "owner",
        ]  # fmt: skip
        if self.owner_workspace:
            user_args += ["--workspace", self.owner_workspace]
        self._run_cli("create-owner", user_args, env)
        self._wait_ready(deadline)

    def _wait_ready(self, deadline: float) -> None:
        last_error = "no attempt"
        with httpx.Client(timeout=5.0) as http:
            while time.monotonic() < deadline:
                for name, proc in self._procs:
                    if proc.poll() is not None:
                        raise ArgillaServerError(
                            f"{name} exited with {proc.returncode} during startup"
                            f"\n--- {name}.log ---\n{_tail(self._dir / f'{name}.log')}"
                        )
                try:
                    resp = http.get(f"{self.url}/api/v1/me", headers={API_KEY_HEADER: self.api_key})
                    if resp.status_code == 200:
                        return
                    last_error = f"HTTP {resp.status_code}: {resp.text[:200]}"
                except httpx.HTTPError as exc:
                    last_error = repr(exc)
                time.sleep(0.25)
        raise ArgillaServerError(
            f"argilla-server did not answer /api/v1/me within {self.startup_timeout}s "
            f"(last: {last_error})\n--- server.log ---\n{_tail(self.server_log)}"
            f"\n--- redis.log ---\n{_tail(self._dir / 'redis.log', 20)}"
        )


def _terminate(proc: subprocess.Popen, grace: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=grace)


# ---------------------------------------------------------------------------------------------
# REST helpers (same /api/v1 endpoints as the web UI)
# ---------------------------------------------------------------------------------------------
def api_client(url: str, api_key: str, timeout: float = 30.0) -> httpx.Client:
    """An httpx client for ``url`` authenticated with the ``X-Argilla-Api-Key`` header."""
    return httpx.Client(base_url=url, headers={API_KEY_HEADER: api_key}, timeout=timeout)


class ArgillaApiError(RuntimeError):
    pass


def _json(resp: httpx.Response) -> Any:
    # Surface the server's validation detail: a bare raise_for_status hides why a 422 happened.
    if resp.is_error:
        raise ArgillaApiError(
            f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}: {resp.text}"
        )
    return resp.json() if resp.content else None


def login(url: str, username: str, password: str) -> str:
    """OAuth2 password login (``POST /api/v1/token``, form data) returning a bearer token."""
    with httpx.Client(base_url=url, timeout=30.0) as http:
        token = _json(http.post("/api/v1/token", data={"username": username, "password": password}))
    return str(token["access_token"])


def create_workspace(client: httpx.Client, name: str) -> dict:
    """``POST /api/v1/workspaces`` -> {id, name, inserted_at, updated_at}."""
    return _json(client.post("/api/v1/workspaces", json={"name": name}))


def create_user(
    client: httpx.Client,
    username: str,
    password: str,
    *,
    role: str = "annotator",
    first_name: str | None = None,
    last_name: str | None = None,
) -> dict:
    """``POST /api/v1/users`` (owner only) -> user dict including ``id`` and ``api_key``.

    Password must be 8..100 chars. The returned ``api_key`` authenticates as that user.
    """
    body: dict[str, Any] = {
        "username": username,
        "password": password,
        "role": role,
        "first_name": first_name or username,
    }
    if last_name:
        body["last_name"] = last_name
    return _json(client.post("/api/v1/users", json=body))


def list_users(client: httpx.Client) -> list[dict]:
    """``GET /api/v1/users`` (owner only) -> [{id, username, first_name, role, api_key, ...}]."""
    return list(_json(client.get("/api/v1/users"))["items"])


def add_user_to_workspace(client: httpx.Client, workspace_id: str, user_id: str) -> dict:
    """``POST /api/v1/workspaces/{workspace_id}/users`` {user_id} -> the user dict."""
    return _json(client.post(f"/api/v1/workspaces/{workspace_id}/users", json={"user_id": user_id}))


def create_dataset(
    client: httpx.Client,
    name: str,
    workspace_id: str,
    *,
    guidelines: str | None = None,
    min_submitted: int = 1,
) -> dict:
    """``POST /api/v1/datasets`` -> draft dataset dict (add fields/questions, then publish).

    ``min_submitted`` is the overlap distribution: submitted responses needed for a record to
    become ``completed``.
    """
    body: dict[str, Any] = {
        "name": name,
        "workspace_id": workspace_id,
        "distribution": {"strategy": "overlap", "min_submitted": min_submitted},
    }
    if guidelines:
        body["guidelines"] = guidelines
    return _json(client.post("/api/v1/datasets", json=body))


def add_text_field(
    client: httpx.Client,
    dataset_id: str,
    name: str,
    *,
    title: str | None = None,
    required: bool = True,
    use_markdown: bool = False,
) -> dict:
    """``POST /api/v1/datasets/{id}/fields`` with ``settings.type = "text"``."""
    body = {
        "name": name,
        "title": title or name,
        "required": required,
        "settings": {"type": "text", "use_markdown": use_markdown},
    }
    return _json(client.post(f"/api/v1/datasets/{dataset_id}/fields", json=body))


def add_rating_question(
    client: httpx.Client,
    dataset_id: str,
    name: str,
    values: Iterable[int],
    *,
    title: str | None = None,
    description: str | None = None,
    required: bool = True,
) -> dict:
    """``POST /api/v1/datasets/{id}/questions`` rating; values are ints in 0..10, 2..11 of them."""
    body: dict[str, Any] = {
        "name": name,
        "title": title or name,
        "required": required,
        "settings": {"type": "rating", "options": [{"value": int(v)} for v in values]},
    }
    if description:
        body["description"] = description
    return _json(client.post(f"/api/v1/datasets/{dataset_id}/questions", json=body))


def add_text_question(
    client: httpx.Client,
    dataset_id: str,
    name: str,
    *,
    title: str | None = None,
    description: str | None = None,
    required: bool = True,
    use_markdown: bool = False,
) -> dict:
    """``POST /api/v1/datasets/{id}/questions`` with ``settings.type = "text"``."""
    body: dict[str, Any] = {
        "name": name,
        "title": title or name,
        "required": required,
        "settings": {"type": "text", "use_markdown": use_markdown},
    }
    if description:
        body["description"] = description
    return _json(client.post(f"/api/v1/datasets/{dataset_id}/questions", json=body))


def publish_dataset(client: httpx.Client, dataset_id: str) -> dict:
    """``PUT /api/v1/datasets/{id}/publish``; needs >=1 field and >=1 required question."""
    return _json(client.put(f"/api/v1/datasets/{dataset_id}/publish"))


def _record_items(records: Iterable[Mapping[str, Any]]) -> list[dict]:
    items = []
    for rec in records:
        item: dict[str, Any] = {"fields": dict(rec["fields"])}
        for key in ("external_id", "metadata", "id"):
            if rec.get(key) is not None:
                item[key] = rec[key]
        items.append(item)
    return items


def create_records(
    client: httpx.Client, dataset_id: str, records: Iterable[Mapping[str, Any]]
) -> list[dict]:
    """``POST /api/v1/datasets/{id}/records/bulk`` (<=500 per call) on a published dataset.

    Each record: ``{"fields": {...}, "external_id": str?, "metadata": {...}?}``. Returns the
    created records (``id``, ``external_id``, ``status``, ``fields``, ``metadata``...).
    """
    body = {"items": _record_items(records)}
    return list(
        _json(client.post(f"/api/v1/datasets/{dataset_id}/records/bulk", json=body))["items"]
    )


def upsert_records(
    client: httpx.Client, dataset_id: str, records: Iterable[Mapping[str, Any]]
) -> list[dict]:
    """``PUT /api/v1/datasets/{id}/records/bulk``: update records matched by ``id`` or
    ``external_id`` (fields/metadata replaced where given), create the rest."""
    body = {"items": _record_items(records)}
    return list(
        _json(client.put(f"/api/v1/datasets/{dataset_id}/records/bulk", json=body))["items"]
    )


def _wrap_values(values: Mapping[str, Any] | None) -> dict | None:
    # The API nests each answer: {"question_name": {"value": ...}}.
    if values is None:
        return None
    return {question: {"value": value} for question, value in values.items()}


def create_response(
    user_client: httpx.Client,
    record_id: str,
    values: Mapping[str, Any] | None,
    status: str = "submitted",
) -> dict:
    """``POST /api/v1/records/{record_id}/responses`` as the user behind ``user_client``.

    ``values`` is plain ``{question_name: value}`` (wrapped for the API). ``submitted`` needs a
    value for every required question; ``draft``/``discarded`` may pass partial values or None.
    One response per (record, user): a second POST is a 409; use :func:`update_response`.
    """
    _check_status(status)
    body: dict[str, Any] = {"status": status}
    if values is not None:
        body["values"] = _wrap_values(values)
    return _json(user_client.post(f"/api/v1/records/{record_id}/responses", json=body))


def update_response(
    user_client: httpx.Client,
    response_id: str,
    values: Mapping[str, Any] | None,
    status: str,
) -> dict:
    """``PUT /api/v1/responses/{response_id}``: replaces values and status (owner or author)."""
    _check_status(status)
    body: dict[str, Any] = {"status": status}
    if values is not None:
        body["values"] = _wrap_values(values)
    return _json(user_client.put(f"/api/v1/responses/{response_id}", json=body))


def _check_status(status: str) -> None:
    if status not in RESPONSE_STATUSES:
        raise ValueError(f"response status must be one of {RESPONSE_STATUSES}, got {status!r}")


def list_records(
    client: httpx.Client,
    dataset_id: str,
    *,
    include: Sequence[str] = ("responses",),
    page_size: int = 1000,
) -> list[dict]:
    """All records of a dataset via ``GET /api/v1/datasets/{id}/records?include=...``.

    Pages with offset/limit (server max limit 1000), ordered by ``inserted_at``. Reads SQL
    directly (no search engine), and needs owner/admin rights (all users' responses).
    """
    records: list[dict] = []
    while True:
        params: list[tuple[str, Any]] = [("offset", len(records)), ("limit", page_size)]
        params += [("include", inc) for inc in include]
        page = _json(client.get(f"/api/v1/datasets/{dataset_id}/records", params=params))
        records.extend(page["items"])
        if not page["items"] or len(records) >= page.get("total", 0):
            return records


# ---------------------------------------------------------------------------------------------
# Demo seed
# ---------------------------------------------------------------------------------------------
DEMO_WORKSPACE = "rlhf-demo"
DEMO_PASSWORD = "annotator-pass-1"
DEMO_ANNOTATORS = ("annotator_alice", "annotator_bob", "annotator_carol")

_WRITING_RECORDS = [
    {"external_id": "w-1", "fields": {"question": "Explain photosynthesis to a child."},
     "metadata": {"prompt_id": "p-001", "source": "demo", "batch": 1}},
    {"external_id": "w-2", "fields": {"question": "Write a haiku about databases."},
     "metadata": {"prompt_id": "p-002", "source": "demo", "batch": 1}},
    {"external_id": "w-3", "fields": {"question": "Summarise the plot of Hamlet in two lines."},
     "metadata": {"prompt_id": "p-003", "source": "demo", "batch": 2}},
]  # fmt: skip
_RATING_RECORDS = [
    {"external_id": "r-1",
     "fields": {"question": "What is 2+2?", "response_a": "4", "response_b": "22"},
     "metadata": {"prompt_id": "p-101", "model_a": "m-small", "model_b": "m-large"}},
    {"external_id": "r-2",
     "fields": {"question": "Capital of France?", "response_a": "Paris", "response_b": "Lyon"},
     "metadata": {"prompt_id": "p-102", "model_a": "m-large", "model_b": "m-small"}},
    {"external_id": "r-3",
     "fields": {"question": "Largest planet?", "response_a": "Jupiter", "response_b": "Saturn"},
     "metadata": {"prompt_id": "p-103", "model_a": "m-small", "model_b": "m-large"}},
]  # fmt: skip

# (dataset key, external id, annotator, values or None, status). A response listed twice is
# created with the first entry and updated to the second (exercises PUT /responses/{id}).
_WRITING_RESPONSES: list[tuple[str, str, str, dict | None, str]] = [
    ("writing", "w-1", "annotator_alice",
     {"response": "Plants eat sunlight to make food.", "question_quality": 4}, "submitted"),
    ("writing", "w-1", "annotator_bob",
     {"response": "Light + water + CO2 -> sugar.", "question_quality": 2}, "submitted"),
    ("writing", "w-2", "annotator_alice", {"response": "Rows in silence wait"}, "draft"),
    ("writing", "w-2", "annotator_bob", None, "discarded"),
    ("writing", "w-3", "annotator_carol", {"response": "A prince hesitates."}, "draft"),
    ("writing", "w-3", "annotator_carol",
     {"response": "A prince avenges his father; almost everyone dies.", "question_quality": 5},
     "submitted"),
]  # fmt: skip
_RATING_RESPONSES: list[tuple[str, str, str, dict | None, str]] = [
    ("rating", "r-1", "annotator_alice", {"preference": 7}, "submitted"),
    ("rating", "r-1", "annotator_bob", {"preference": 2}, "submitted"),
    ("rating", "r-1", "annotator_carol", {"preference": 5}, "draft"),
    ("rating", "r-2", "annotator_alice", {"preference": 1}, "discarded"),
    ("rating", "r-2", "annotator_carol", {"preference": 8}, "submitted"),
    # r-3 deliberately has no responses (a pending record).
]  # fmt: skip


def seed_demo(server: ArgillaServer, workspace_name: str = DEMO_WORKSPACE) -> dict:
    """Create a workspace, 3 annotators, a writing and a rating dataset, records and responses.

    Returns (ids are strings)::

        {
          "url": str, "owner_api_key": str,
          "workspace": {"id", "name"},
          "users": {username: {"id", "username", "password", "api_key", "role"}},
          "datasets": {
            "writing": {"id", "name", "fields": [...], "questions": {name: type},
                        "records": {external_id: record_id}},
            "rating":  {...same...},
          },
          "responses": [{"dataset", "dataset_id", "external_id", "record_id", "username",
                         "user_id", "response_id", "status", "values": {q: v} | None}],
          "expected": [(external_id, username, question | None, value | None, status)],
          "record_status": {external_id: "pending" | "completed"},
        }

    ``expected`` has one tuple per (response, question answered) in its final state; a
    response without values (discarded w-2/bob) appears once with question/value None.
    External ids are unique across both datasets.
    """
    result: dict[str, Any] = {"url": server.url, "owner_api_key": server.api_key}
    with server.client() as owner:
        ws = create_workspace(owner, workspace_name)
        result["workspace"] = {"id": ws["id"], "name": ws["name"]}

        users: dict[str, dict] = {}
        for username in DEMO_ANNOTATORS:
            user = create_user(owner, username, DEMO_PASSWORD, role="annotator")
            add_user_to_workspace(owner, ws["id"], user["id"])
            users[username] = {
                "id": user["id"],
                "username": username,
                "password": DEMO_PASSWORD,
                "api_key": user["api_key"],
                "role": user["role"],
            }
        result["users"] = users

        datasets: dict[str, dict] = {}
        writing = create_dataset(owner, "demo-writing", ws["id"], guidelines="Answer the prompt.")
        add_text_field(owner, writing["id"], "question", title="Prompt")
        add_text_question(owner, writing["id"], "response", title="Your answer")
        add_rating_question(owner, writing["id"], "question_quality", range(1, 6),
                            title="Prompt quality")  # fmt: skip
        publish_dataset(owner, writing["id"])
        created = create_records(owner, writing["id"], _WRITING_RECORDS)
        datasets["writing"] = {
            "id": writing["id"],
            "name": writing["name"],
            "fields": ["question"],
            "questions": {"response": "text", "question_quality": "rating"},
            "records": {r["external_id"]: r["id"] for r in created},
        }

        rating = create_dataset(owner, "demo-rating", ws["id"], guidelines="Pick the better one.")
        for field in ("question", "response_a", "response_b"):
            add_text_field(owner, rating["id"], field)
        add_rating_question(owner, rating["id"], "preference", range(1, 9),
                            description="1 = A much better ... 8 = B much better")  # fmt: skip
        publish_dataset(owner, rating["id"])
        created = create_records(owner, rating["id"], _RATING_RECORDS)
        datasets["rating"] = {
            "id": rating["id"],
            "name": rating["name"],
            "fields": ["question", "response_a", "response_b"],
            "questions": {"preference": "rating"},
            "records": {r["external_id"]: r["id"] for r in created},
        }
        result["datasets"] = datasets

    final: dict[tuple[str, str], dict] = {}
    clients = {name: server.client(api_key=u["api_key"]) for name, u in users.items()}
    try:
        for dkey, ext_id, username, values, status in _WRITING_RESPONSES + _RATING_RESPONSES:
            record_id = datasets[dkey]["records"][ext_id]
            previous = final.get((ext_id, username))
            if previous is None:
                resp = create_response(clients[username], record_id, values, status)
            else:
                resp = update_response(clients[username], previous["response_id"], values, status)
            final[(ext_id, username)] = {
                "dataset": dkey,
                "dataset_id": datasets[dkey]["id"],
                "external_id": ext_id,
                "record_id": record_id,
                "username": username,
                "user_id": users[username]["id"],
                "response_id": resp["id"],
                "status": status,
                "values": dict(values) if values is not None else None,
            }
    finally:
        for client in clients.values():
            client.close()

    result["responses"] = list(final.values())
    result["expected"] = expected_tuples(result["responses"])
    # Overlap distribution with min_submitted=1: any submitted response completes a record.
    result["record_status"] = {
        ext_id: "pending" for ds in datasets.values() for ext_id in ds["records"]
    }
    for resp in result["responses"]:
        if resp["status"] == "submitted":
            result["record_status"][resp["external_id"]] = "completed"
    return result


def expected_tuples(responses: Iterable[Mapping[str, Any]]) -> list[tuple]:
    """Flatten response dicts to sorted (external_id, username, question, value, status)."""
    rows: list[tuple] = []
    for resp in responses:
        values = resp.get("values") or {}
        if not values:
            rows.append((resp["external_id"], resp["username"], None, None, resp["status"]))
        for question, value in values.items():
            rows.append((resp["external_id"], resp["username"], question, value, resp["status"]))
    return sorted(rows, key=repr)
