"""`rlhfw portal`: the page a Prolific study URL points to. Each arriving participant gets an
Argilla annotator account in a workspace of their study, and the assignment is appended to
`portal.assignments` (a CSV that `rlhfw extract` lands as study/portal_assignments).

The rules:
- The URL carries Prolific's `PROLIFIC_PID`, `STUDY_ID` and `SESSION_ID`. The id must be 24
  lowercase hex characters, and STUDY_ID must be `prolific.writing.study_id` or
  `prolific.rating.study_id` of study.yml: that picks the role (there is no other way to pick
  one, so a role is reachable only when its study id is in the config). Otherwise a 400 page,
  and nothing is created.
- The account is named by the Prolific id. Its password is derived, never stored:
  HMAC-SHA256(RLHFW_PORTAL_SECRET, id), URL-safe base64, 20 characters. A second visit finds
  the account and its workspace on Argilla and shows the same page; it appends nothing. An
  existing account that does not take that password (the secret changed, or it was made by
  hand) gets the error page, never a password that does not work.
- A new participant joins the workspace of their role with the fewest annotators (ties: the
  order of `portal.workspaces`, by default the workspaces of the role's live Argilla sources).
- One person, one role: an id already assigned to the other role (on Argilla or in the CSV) is
  refused with a 403 page. Writers must never rate, and raters have seen others' answers.
- The CSV is append-only (header written when the file is created, each line fsynced) and
  holds no password. One lock covers look-up, creation and append, so two visits of the same
  id at once make one account and one line; serve one process only.
- Argilla unreachable (or a 5xx): a 503 page, "try again in a minute", nothing appended.
- Nothing personal is logged: one line per request with the path only (uvicorn's access log,
  which prints query strings, is off), and the secrets are never printed.

Environment: ARGILLA_API_URL and ARGILLA_API_KEY (an owner: it creates users), and
RLHFW_PORTAL_SECRET (16 characters or more; changing it changes every password shown).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from extract.schemas import schema_of
from rlhfw.setup import SetupError
from rlhfw.setup.portal_argilla import Accounts, ArgillaDown, PortalBroken
from rlhfw.setup.portal_pages import account_page, message_page
from study_config import Study

ROLES = ("writing", "rating")
COLUMNS = schema_of("study", "portal_assignments").names
SECRET_ENV = "RLHFW_PORTAL_SECRET"
MIN_SECRET_CHARS = 16
_PID = re.compile(r"[0-9a-f]{24}")
# Never cached (it shows a password), and the Argilla link never sends this URL as referrer.
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def valid_pid(pid: str | None) -> bool:
    """Whether `pid` looks like a Prolific participant id (24 lowercase hex characters)."""
    return pid is not None and _PID.fullmatch(pid) is not None


def password_for(secret: str, pid: str) -> str:
    """The participant's Argilla password: derived from the secret, so it is never stored."""
    digest = hmac.new(secret.encode(), pid.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:20]


def workspaces_of(study: Study, role: str) -> list[str]:
    """The workspaces a role's participants are spread over, in tie-break order."""
    configured = dict(study.portal.workspaces) if study.portal is not None else {}
    sources = getattr(study.argilla, role).sources
    names = configured.get(role) or [s.workspace for s in sources if s.is_live and s.workspace]
    return list(dict.fromkeys(names))


def roles_by_study_id(study: Study) -> dict[str, str]:
    """Prolific study id -> role, for each role the portal can serve."""
    found = {}
    for role in ROLES:
        prolific = getattr(study.prolific, role)
        if prolific is not None and prolific.study_id and workspaces_of(study, role):
            found[prolific.study_id] = role
    return found


def read_assignments(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def append_assignment(path: Path, row: dict) -> None:
    """Append one line (and the header to a new file), on disk before the page is shown."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        if f.tell() == 0:
            writer.writerow(COLUMNS)
        writer.writerow([row[c] for c in COLUMNS])
        f.flush()
        os.fsync(f.fileno())


@dataclass(frozen=True)
class Visit:
    pid: str
    role: str
    study_id: str
    session_id: str


@dataclass(frozen=True)
class Assigned:
    workspace: str
    new: bool  # whether this visit created the assignment


class Refused(RuntimeError):
    """The participant belongs to the other role."""


def assign(accounts: Accounts, study: Study, visit: Visit, password: str) -> Assigned:
    """Find or make the participant's account and workspace; append the CSV line if missing.
    Callers hold the portal's lock."""
    assert study.portal is not None
    other = "rating" if visit.role == "writing" else "writing"
    logged = read_assignments(study.portal.assignments)
    if any(r["prolific_pid"] == visit.pid and r["study_role"] == other for r in logged):
        raise Refused(other)
    names = workspaces_of(study, visit.role)
    user = accounts.user(visit.pid)
    workspace = None
    if user is not None:
        if user["role"] != "annotator":
            raise PortalBroken("an Argilla user with a participant's name is not an annotator")
        theirs = accounts.workspaces_of_user(user["id"])
        if set(theirs) & set(workspaces_of(study, other)):
            raise Refused(other)
        # The page must never show a password that does not work (RLHFW_PORTAL_SECRET changed,
        # or the account was made by hand): say so in the log, show the error page.
        if not accounts.can_log_in(visit.pid, password):
            raise PortalBroken(
                "a participant's account does not take the derived password (was "
                f"{SECRET_ENV} changed, or the account made by hand?)"
            )
        workspace = next((w for w in names if w in theirs), None)
    new = workspace is None
    if workspace is None:
        ids = accounts.workspace_ids()
        missing = [w for w in names if w not in ids]
        if missing:
            raise PortalBroken(f"workspace {missing[0]!r} is not on Argilla")
        loads = [accounts.annotators_in(ids[w]) for w in names]
        workspace = names[min(range(len(names)), key=lambda i: (loads[i], i))]
        if user is None:
            user = accounts.create_user(visit.pid, password)
        accounts.add_to_workspace(ids[workspace], user["id"])
    if not any(r["prolific_pid"] == visit.pid and r["study_role"] == visit.role for r in logged):
        row = {
            "assigned_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "prolific_pid": visit.pid,
            "study_id": visit.study_id,
            "session_id": visit.session_id,
            "study_role": visit.role,
            "argilla_username": visit.pid,
            "argilla_user_id": user["id"],
            "workspace": workspace,
        }
        append_assignment(study.portal.assignments, row)
    return Assigned(workspace, new)


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status, headers=_HEADERS)


def create_app(
    study: Study,
    *,
    api_url: str,
    api_key: str,
    secret: str | None,
    log: Callable[[str], None] = print,
) -> FastAPI:
    """The portal as an ASGI app (SetupError on a config or secret it cannot work with)."""
    if study.portal is None:
        raise SetupError(f"{study.path}: no `portal:` section: add one to serve the portal")
    if not secret or len(secret) < MIN_SECRET_CHARS:
        raise SetupError(f"{SECRET_ENV} must be set, {MIN_SECRET_CHARS} characters or more")
    roles = roles_by_study_id(study)
    if not roles:
        raise SetupError(
            f"{study.path}: no study to serve: set prolific.writing.study_id (or rating) and "
            "give that role workspaces (portal.workspaces, or live Argilla sources)"
        )
    public_url = study.portal.argilla_public_url or api_url
    accounts = Accounts(api_url, api_key)
    lock = threading.Lock()
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.accounts = accounts

    @app.middleware("http")
    async def log_path_only(request: Request, call_next):
        response = await call_next(request)
        log(f"{request.method} {request.url.path} {response.status_code}")
        return response

    @app.get("/", response_class=HTMLResponse)
    def arrive(request: Request) -> HTMLResponse:
        q = request.query_params
        pid = q.get("PROLIFIC_PID")
        if not valid_pid(pid):
            return _html(
                message_page(
                    "This link is not complete",
                    "The link has no valid Prolific ID. Please open the study again from Prolific.",
                ),
                400,
            )
        role = roles.get(q.get("STUDY_ID", ""))
        if role is None:
            return _html(
                message_page(
                    "This link is not for a study here",
                    "The link names no study we run. Please open the study again from Prolific.",
                ),
                400,
            )
        assert pid is not None
        visit = Visit(pid, role, q.get("STUDY_ID", ""), q.get("SESSION_ID", ""))
        password = password_for(secret, pid)
        try:
            with lock:
                done = assign(accounts, study, visit, password)
        except Refused as refused:
            log(f"refused a participant of the {refused} study at the {role} study")
            return _html(
                message_page(
                    "You cannot take part in this study",
                    f"You already took part in the {refused} study of this project, so you "
                    f"cannot take part in the {role} study. Please return this study on "
                    "Prolific.",
                ),
                403,
            )
        except ArgillaDown as exc:
            log(f"warning: {exc}")
            return _html(
                message_page(
                    "Please try again in a minute",
                    "The annotation server cannot be reached right now. Please reload this "
                    "page in a minute.",
                ),
                503,
            )
        except PortalBroken as exc:
            log(f"error: {exc}")
            return _html(
                message_page(
                    "Something is wrong on our side",
                    "This study's set-up has a problem. Please try again later, or message "
                    "the researchers on Prolific.",
                ),
                500,
            )
        if done.new:
            log(f"assigned a {role} participant to workspace {done.workspace}")
        return _html(account_page(role, public_url, pid, password, done.workspace))

    return app


def _no_access_lines(record: logging.LogRecord) -> bool:
    return False


def server_config(app: FastAPI, host: str, port: int):
    """uvicorn's settings for the portal, without its access log: that prints query strings,
    and a query string holds the participant's Prolific id (the app logs paths only).

    `access_log=False` alone is not enough: uvicorn logs access lines whenever its access
    logger has a handler, and anyone may attach one (pytest does). A filter on the logger drops
    them before any handler sees them."""
    import uvicorn

    config = uvicorn.Config(
        app, host=host, port=port, access_log=False, server_header=False, workers=1
    )
    access = logging.getLogger("uvicorn.access")
    if _no_access_lines not in access.filters:
        access.addFilter(_no_access_lines)
    return config


def serve(study: Study, host: str, port: int, log: Callable[[str], None]) -> None:
    """Check the environment and Argilla's workspaces, then serve until interrupted."""
    import uvicorn

    env = {k: os.environ.get(k) for k in ("ARGILLA_API_URL", "ARGILLA_API_KEY")}
    unset = [k for k, v in env.items() if not v]
    if unset:
        raise SetupError(f"{unset[0]} is not set: the portal creates users on that server")
    app = create_app(
        study,
        api_url=env["ARGILLA_API_URL"] or "",
        api_key=env["ARGILLA_API_KEY"] or "",
        secret=os.environ.get(SECRET_ENV),
        log=log,
    )
    assert study.portal is not None
    csv_path = study.portal.assignments
    try:
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        writable = os.access(csv_path if csv_path.exists() else csv_path.parent, os.W_OK)
    except OSError:
        writable = False
    if not writable:
        raise SetupError(f"portal.assignments: cannot write {csv_path}")
    roles = roles_by_study_id(study)
    try:
        ids = app.state.accounts.workspace_ids()
    except (ArgillaDown, PortalBroken) as exc:
        raise SetupError(str(exc)) from None
    for role in roles.values():
        missing = [w for w in workspaces_of(study, role) if w not in ids]
        if missing:
            raise SetupError(f"{role} workspace {missing[0]!r} is not on Argilla (or not yours)")
        log(f"portal: {role} participants go to {', '.join(workspaces_of(study, role))}")
    log(f"portal: serving http://{host}:{port}/ (assignments: {study.portal.assignments})")
    uvicorn.Server(server_config(app, host, port)).run()
