"""Prolific submissions and demographics: from a CSV export, or from the Prolific API.

Each study role (`writing`, `rating`) lands into `prolific/submissions` and
`prolific/demographics` (columns in extract/schemas.py). Values land as strings exactly as the
source gave them: `DATA_EXPIRED`, `CONSENT_REVOKED`, `NOCODE` are kept, staging decides what they
mean. Every source is read completely before anything lands, so a bad file or a failed API call
leaves the landing zone untouched.

The CSV reader is Arrow's (multi-threaded, all columns typed as strings); the only per-row work in
Python is mapping API JSON, which is bounded by the number of participants, not ratings.
"""

from __future__ import annotations

import codecs
import csv
import email.utils
import hashlib
import io
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from extract.errors import ExtractError
from extract.landing import Landing, LandResult, sha256_file
from extract.schemas import schema_of
from study_config import Prolific, ProlificStudy

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

SOURCE = "prolific"
ROLES = ("writing", "rating")
TOKEN_ENV = "PROLIFIC_API_TOKEN"
API_URL_ENV = "PROLIFIC_API_URL"
DEFAULT_API_URL = "https://api.prolific.com/api/v1/"

SUBMISSIONS = schema_of(SOURCE, "submissions")
DEMOGRAPHICS = schema_of(SOURCE, "demographics")

# Export header (normalized: lower case, runs of space/underscore -> one space) -> landed column.
SUBMISSION_HEADERS = {
    "submission id": "submission_id",
    "participant id": "participant_id",
    "study id": "study_id",
    "status": "status",
    "started at": "started_at",
    "completed at": "completed_at",
    "reviewed at": "reviewed_at",
    "archived at": "archived_at",
    "time taken": "time_taken",
    "completion code": "completion_code",
    "total approvals": "total_approvals",
}
DEMOGRAPHIC_HEADERS = {
    "age": "age",
    "sex": "sex",
    "ethnicity simplified": "ethnicity_simplified",
    "country of birth": "country_of_birth",
    "country of residence": "country_of_residence",
    "nationality": "nationality",
    "language": "language",
    "student status": "student_status",
    "employment status": "employment_status",
}
REQUIRED_HEADERS = ("submission id", "participant id", "status")
_DEMOGRAPHIC_COLUMNS = tuple(DEMOGRAPHIC_HEADERS.values())

# Documented submission fields of `GET /studies/{id}/submissions/` (and of the single-submission
# endpoint, which names some of them differently) -> landed column; the first present wins.
API_FIELDS: dict[str, tuple[str, ...]] = {
    "submission_id": ("id",),
    "participant_id": ("participant_id", "participant"),
    "status": ("status",),
    "started_at": ("started_at",),
    "completed_at": ("completed_at",),
    "reviewed_at": ("reviewed_at",),
    "archived_at": ("archived_at",),
    "time_taken": ("time_taken",),
    "completion_code": ("study_code", "entered_code"),
    "total_approvals": ("total_approvals",),
}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ApiOptions:
    """Retries, timeouts and paging of the API client. Tests shrink `backoff_base`."""

    max_retries: int = 5
    backoff_base: float = 1.0  # seconds; attempt n waits base * 2**n
    max_wait: float = 120.0  # cap on one wait, Retry-After included
    timeout: float = 30.0  # per request
    page_size: int = 100
    max_pages: int = 100_000  # a `next` chain longer than this is a server bug, not data


@dataclass(frozen=True)
class ProlificPull:
    """One study role read completely, ready to land."""

    role: str
    source_uri: str
    source_sha256: str
    submissions: pa.Table | None  # None only for an export that landed before (below)
    demographics: pa.Table | None  # None: the source carries no demographics
    study_id: str | None = None  # as configured
    from_export: bool = False
    landed_before: dict | None = None  # an unchanged export's completion marker: not read

    @property
    def done_key(self) -> str:
        """The completion marker's key: the rows read depend on the role and study id too."""
        return _done_key(self.source_uri, self.role, self.study_id)


# --------------------------------------------------------------------------------------------
# Entry point


def extract_prolific(
    prolific: Prolific,
    landing: Landing,
    *,
    token: str | None = None,
    progress: Progress | None = None,
    options: ApiOptions | None = None,
    api_url: str | None = None,
) -> list[LandResult]:
    """Land the Prolific studies `prolific` (study.yml's `prolific:`) configures (CSV export,
    else API) into the landing zone.

    `token` defaults to env PROLIFIC_API_TOKEN and `api_url` to env PROLIFIC_API_URL (else the
    public API). Every role is read before anything lands. Raises ExtractError.
    """
    pulls = read_prolific(
        prolific, token=token, progress=progress, options=options, api_url=api_url, landing=landing
    )
    return land_prolific(pulls, landing, progress=progress)


def read_prolific(
    prolific: Prolific,
    *,
    token: str | None = None,
    progress: Progress | None = None,
    options: ApiOptions | None = None,
    api_url: str | None = None,
    landing: Landing | None = None,
) -> list[ProlificPull]:
    """Read every Prolific study `prolific` configures (nothing lands). Raises ExtractError.

    With `landing`, an export whose exact bytes already landed completely (for the same role
    and study id) is not read again: a scheduled refresh re-reads only exports that changed."""
    say = progress or (lambda _msg: None)
    pulls: list[ProlificPull] = []
    for role in ROLES:
        cfg: ProlificStudy | None = getattr(prolific, role)
        if cfg is None:
            continue
        done = _landed_before(landing, cfg.export, role, cfg.study_id)
        if done is not None:
            pulls.append(done)
            say(f"prolific {role}: {cfg.export} unchanged since it landed; skipped")
        elif cfg.export is not None:
            pulls.append(read_export(cfg.export, role=role, study_id=cfg.study_id))
            say(f"prolific {role}: read {pulls[-1].submissions.num_rows} rows from {cfg.export}")
        else:
            assert cfg.study_id
            pulls.append(
                pull_api(
                    cfg.study_id,
                    role=role,
                    token=_token(token, role, cfg.study_id),
                    base_url=api_url,
                    options=options,
                    progress=say,
                )
            )
    return pulls


def land_prolific(
    pulls: list[ProlificPull], landing: Landing, *, progress: Progress | None = None
) -> list[LandResult]:
    """Land what `read_prolific` read."""
    say = progress or (lambda _msg: None)
    results: list[LandResult] = []
    for pull in pulls:
        if pull.landed_before is not None:
            # Nothing read, nothing new: the counts the export landed with, as unchanged rows.
            for table in ("submissions", "demographics"):
                rows = pull.landed_before.get(f"{table}_rows")
                if rows is not None:
                    results.append(LandResult(SOURCE, table, pull.source_uri, 0, int(rows), None))
            continue
        results.append(
            landing.land(
                SOURCE, "submissions", pull.submissions, pull.source_uri, pull.source_sha256
            )
        )
        if pull.demographics is None:
            msg = (
                f"prolific {pull.role}: {pull.source_uri} carries no demographic fields; "
                "no demographics landed (use a CSV export for them)"
            )
            log.info(msg)
            say(msg)
            _mark_landed(landing, pull)
            continue
        results.append(
            landing.land(
                SOURCE, "demographics", pull.demographics, pull.source_uri, pull.source_sha256
            )
        )
        _mark_landed(landing, pull)
    # dbt's sources must resolve even for a study with no Prolific part configured.
    for table in ("submissions", "demographics"):
        landing.ensure_table(SOURCE, table)
    return results


def _done_key(source_uri: str, role: str, study_id: str | None) -> str:
    return f"{source_uri}#prolific:{role}:{study_id or ''}"


def _landed_before(
    landing: Landing | None, export: Path | None, role: str, study_id: str | None
) -> ProlificPull | None:
    """A pull standing for an export whose exact bytes landed completely before, else None
    (then it is read, and a missing or unreadable file reports itself there)."""
    if landing is None or export is None:
        return None
    path = Path(export).resolve()
    if not path.is_file():
        return None
    sha = sha256_file(path)
    done = landing.completed(_done_key(str(path), role, study_id), sha)
    if done is None:
        return None
    return ProlificPull(
        role, str(path), sha, None, None, study_id, from_export=True, landed_before=done
    )


def _mark_landed(landing: Landing, pull: ProlificPull) -> None:
    """Only an export is marked (an API pull has no file to recognise next time)."""
    if not pull.from_export:
        return
    landing.mark_complete(
        pull.done_key,
        pull.source_sha256,
        submissions_rows=pull.submissions.num_rows,
        **(
            {"demographics_rows": pull.demographics.num_rows}
            if pull.demographics is not None
            else {}
        ),
    )


def _token(token: str | None, role: str, study_id: str) -> str:
    return api_token(
        token,
        f"prolific.{role}: study {study_id} is read from the Prolific API (no `export` given) "
        "and needs an API token",
    )


def api_token(token: str | None, why: str = "the Prolific API needs a token") -> str:
    """The API token: `token`, else env PROLIFIC_API_TOKEN; ExtractError saying `why` if none."""
    value = (token or os.environ.get(TOKEN_ENV) or "").strip()
    if not value:
        raise ExtractError(f"{why}: set {TOKEN_ENV}")
    return value


# --------------------------------------------------------------------------------------------
# CSV export


def _norm(header: str) -> str:
    return re.sub(r"[\s_]+", " ", header).strip().lower()


def _scan(path: Path) -> tuple[str, int, bytes, bool]:
    """One pass over the bytes: sha256, size, the head (for the header) and quote parity."""
    h = hashlib.sha256()
    size = 0
    quotes = 0
    head = b""
    try:
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
                size += len(chunk)
                quotes += chunk.count(b'"')
                if len(head) < (1 << 16):
                    head += chunk[: (1 << 16) - len(head)]
    except FileNotFoundError:
        raise ExtractError(f"{path}: Prolific export not found") from None
    except OSError as exc:
        raise ExtractError(f"{path}: cannot read the Prolific export: {exc.strerror}") from None
    return h.hexdigest(), size, head, quotes % 2 == 1


def _header(path: Path, head: bytes) -> list[str]:
    if b"\x00" in head:
        raise ExtractError(f"{path}: not a CSV file (binary content)")
    try:
        # Incremental: the head may end inside a multi-byte character.
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        raise ExtractError(f"{path}: not a CSV file (not UTF-8 text)") from None
    if not text.strip():
        raise ExtractError(f"{path}: the Prolific export is empty")
    row = next(csv.reader(io.StringIO(text)), [])
    if not any(cell.strip() for cell in row):
        raise ExtractError(f"{path}: the Prolific export has no header row")
    return row


def _parse_error(path: Path, exc: Exception) -> ExtractError:
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    m = re.search(r"Expected (\d+) columns, got (\d+)", msg)
    if m:
        # Arrow's message quotes the row itself; keep personal data out of the error.
        return ExtractError(
            f"{path}: malformed CSV: a row has {m.group(2)} fields where the header has "
            f"{m.group(1)} (truncated or not a Prolific export?)"
        )
    if "UTF8" in msg or "UTF-8" in msg:
        return ExtractError(f"{path}: not a CSV file (not UTF-8 text)")
    return ExtractError(f"{path}: cannot parse the Prolific export: {msg[:200]}")


def read_export(path: Path, *, role: str, study_id: str | None = None) -> ProlificPull:
    """Read a Prolific CSV export (any column order, header case/space tolerant, BOM, CRLF)."""
    path = Path(path).resolve()
    if path.is_dir():
        raise ExtractError(f"{path}: expected a CSV file, found a folder")
    sha, size, head, odd_quotes = _scan(path)
    if size == 0:
        raise ExtractError(f"{path}: the Prolific export is empty")
    names = _header(path, head)
    if odd_quotes:
        raise ExtractError(f"{path}: malformed CSV: unterminated quoted field (truncated file?)")

    keys = [_norm(n) if n.strip() else f"column {i + 1}" for i, n in enumerate(names)]
    dup = next((k for i, k in enumerate(keys) if k in keys[:i]), None)
    if dup is not None:
        raise ExtractError(f"{path}: column {dup!r} appears twice in the header")
    for req in REQUIRED_HEADERS:
        if req not in keys:
            wanted = req.capitalize()
            raise ExtractError(f"{path}: missing required column {wanted!r}")

    try:
        raw = pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                # Only an empty cell is missing; 'NA', 'null', 'DATA_EXPIRED' stay as text.
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise _parse_error(path, exc) from None
    if raw.column_names != names or any(t != pa.string() for t in raw.schema.types):
        raise ExtractError(f"{path}: cannot parse the header row of the Prolific export")

    cols = dict(zip(keys, raw.columns, strict=True))
    n = raw.num_rows
    by_target = {SUBMISSION_HEADERS.get(k) or DEMOGRAPHIC_HEADERS.get(k): k for k in keys}
    by_target.pop(None, None)

    def col(target: str) -> pa.Array | pa.ChunkedArray:
        key = by_target.get(target)
        return cols[key] if key is not None else pa.nulls(n, pa.string())

    role_col = pa.repeat(pa.scalar(role, pa.string()), n)
    sid = col("study_id")
    _check_study_ids(path, role, sid, study_id)
    if study_id is not None:
        sid = pc.coalesce(sid, pa.scalar(study_id, pa.string()))
    common = {
        "submission_id": col("submission_id"),
        "participant_id": col("participant_id"),
        "study_id": sid,
        "study_role": role_col,
    }
    submissions = pa.table(
        {
            **common,
            **{c: col(c) for c in SUBMISSIONS.names if c not in common},
        },
        schema=SUBMISSIONS,
    )

    extra_keys = [
        (name.strip() or key, key)
        for name, key in zip(names, keys, strict=True)
        if key not in SUBMISSION_HEADERS and key not in DEMOGRAPHIC_HEADERS
    ]
    has_demo = any(k in by_target for k in _DEMOGRAPHIC_COLUMNS) or extra_keys
    demographics = None
    if has_demo:
        demographics = pa.table(
            {
                **common,
                **{c: col(c) for c in _DEMOGRAPHIC_COLUMNS},
                "extra": _extra_json({label: cols[key] for label, key in extra_keys}, n),
            },
            schema=DEMOGRAPHICS,
        )
    return ProlificPull(role, str(path), sha, submissions, demographics, study_id, from_export=True)


def _check_study_ids(
    path: Path, role: str, column: pa.Array | pa.ChunkedArray, configured: str | None
) -> None:
    """The export must be of the configured study: another study's submissions would be counted
    as this one's (their rows carry their own study id, which staging does not compare)."""
    ids = sorted({v.strip() for v in pc.unique(column).to_pylist() if v and v.strip()})
    if len(ids) > 1:
        shown = ", ".join(ids[:10]) + (f", ... (+{len(ids) - 10} more)" if len(ids) > 10 else "")
        raise ExtractError(
            f"{path}: the Study id column holds {len(ids)} studies' ids ({shown}); "
            f"prolific.{role}.export must be one study's export"
        )
    if ids and configured and ids[0] != configured.strip():
        raise ExtractError(
            f"{path}: the export is of study {ids[0]} but prolific.{role}.study_id is "
            f"{configured.strip()} (another study's export?)"
        )


def _extra_json(columns: dict[str, pa.ChunkedArray], n: int) -> pa.Array | pa.ChunkedArray:
    """One JSON object per row from the given columns (set-based, in DuckDB)."""
    if not columns:
        return pa.repeat(pa.scalar("{}", pa.string()), n)
    aliases = {f"c{i}": label for i, label in enumerate(columns)}
    table = pa.table({alias: columns[label] for alias, label in aliases.items()})
    args = ", ".join(
        "'" + label.replace("'", "''") + "', " + alias for alias, label in aliases.items()
    )
    con = duckdb.connect()
    try:
        con.register("extra_src", table)
        out = con.sql(f"select json_object({args})::varchar as extra from extra_src")
        return out.to_arrow_table().column("extra")
    finally:
        con.close()


# --------------------------------------------------------------------------------------------
# API


class ProlificClient:
    """A small Prolific API client: token auth, retries with backoff, `next`-link pagination.

    The token lives only in the HTTP client's headers; it is never part of a message or repr.
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        options: ApiOptions | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        base = base_url or os.environ.get(API_URL_ENV) or DEFAULT_API_URL
        self.base_url = base if base.endswith("/") else base + "/"
        origin = urlsplit(self.base_url)
        if origin.scheme not in ("http", "https") or not origin.netloc:
            raise ExtractError(
                f"Prolific API URL {self.base_url!r} is not an http(s) URL (check {API_URL_ENV})"
            )
        self._origin = (origin.scheme, origin.netloc)
        self.options = options or ApiOptions()
        self._sleep = sleep
        self._secret = token
        import httpx  # only API pulls need it: an export's extract skips the import (~0.2 s)

        self._http = httpx.Client(
            headers={
                "Authorization": f"Token {token}",
                "Accept": "application/json",
                "User-Agent": "rlhf-warehouse",
            },
            timeout=self.options.timeout,
            follow_redirects=True,
        )

    def __repr__(self) -> str:
        return f"ProlificClient(base_url={self.base_url!r}, token=***)"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ProlificClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _error(self, msg: str) -> ExtractError:
        # Belt and braces: a server could echo the token back in an error body.
        return ExtractError(msg.replace(self._secret, "***") if self._secret else msg)

    def _wait(self, attempt: int, resp: httpx.Response | None) -> float:
        if resp is not None and resp.status_code == 429:
            after = _retry_after(resp.headers.get("Retry-After"))
            if after is not None:
                return min(after, self.options.max_wait)
        return min(self.options.backoff_base * (2**attempt), self.options.max_wait)

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        """GET `url` (absolute, or relative to the base) and return its JSON, retrying 429/5xx."""
        return self.request_json("GET", url, params=params)

    def request_json(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send `method` to `url` and return the reply's JSON, retrying 429/5xx: only for
        idempotent requests (a GET, or a PATCH that sets a whole value)."""
        import httpx

        url = urljoin(self.base_url, url)
        tries = self.options.max_retries + 1
        for attempt in range(tries):
            last = attempt == tries - 1
            try:
                resp = self._http.request(method, url, params=params, json=json)
            except httpx.TransportError as exc:  # timeouts, refused/reset connections
                if last:
                    raise self._error(
                        f"{url}: no answer from the Prolific API after {tries} tries "
                        f"({type(exc).__name__})"
                    ) from None
                self._sleep(self._wait(attempt, None))
                continue
            code = resp.status_code
            if code == 429 or code >= 500:
                if last:
                    raise self._error(
                        f"{url}: HTTP {code} {resp.reason_phrase} from the Prolific API "
                        f"after {tries} tries"
                    )
                self._sleep(self._wait(attempt, resp))
                continue
            if code in (401, 403):
                raise self._error(
                    f"{url}: HTTP {code} {resp.reason_phrase}: the Prolific API refused the "
                    f"token; check {TOKEN_ENV}"
                )
            if code == 404:
                raise self._error(f"{url}: HTTP 404 Not Found: no such Prolific resource")
            if code >= 400:
                raise self._error(f"{url}: HTTP {code} {resp.reason_phrase}: {_detail(resp)}")
            try:
                return resp.json()
            except ValueError:
                ctype = resp.headers.get("content-type", "no content type")
                raise self._error(
                    f"{url}: malformed response: not JSON (HTTP {code}, {ctype})"
                ) from None
        raise AssertionError("unreachable")

    def study(self, study_id: str) -> dict[str, Any]:
        url = urljoin(self.base_url, f"studies/{study_id}/")
        body = self.get_json(url)
        if not isinstance(body, dict):
            raise self._error(f"{url}: malformed response: expected a study object")
        return body

    def submissions(self, study_id: str, progress: Progress | None = None) -> list[dict]:
        """Every submission of a study, following `_links.next.href` page by page."""
        url: str | None = urljoin(self.base_url, f"studies/{study_id}/submissions/")
        params: dict[str, Any] | None = {"page_size": self.options.page_size}
        seen: set[str] = set()
        out: list[dict] = []
        total: int | None = None
        pages = 0
        while url:
            if url in seen:  # a `next` pointing back at a fetched page ends the list
                break
            if pages >= self.options.max_pages:
                raise self._error(f"{url}: more than {self.options.max_pages} pages; giving up")
            seen.add(url)
            page = self.get_json(url, params=params)
            pages += 1
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise self._error(f"{url}: malformed page: no `results` list")
            bad = next(
                (r for r in page["results"] if not isinstance(r, dict) or "id" not in r), None
            )
            if bad is not None:
                raise self._error(f"{url}: malformed page: a result is not a submission with `id`")
            out.extend(page["results"])
            meta = page.get("meta")
            if isinstance(meta, dict) and isinstance(meta.get("count"), int):
                total = meta["count"]
            if progress:
                progress(f"prolific study {study_id}: {len(out)}/{total or '?'} submissions")
            url = self._next(url, page)
            params = None  # the next link carries its own query
        return out

    def _next(self, url: str, page: dict) -> str | None:
        links = page.get("_links")
        nxt = links.get("next") if isinstance(links, dict) else None
        href = nxt.get("href") if isinstance(nxt, dict) else nxt
        if not isinstance(href, str) or not href:
            return None
        target = urljoin(url, href)
        parts = urlsplit(target)
        if (parts.scheme, parts.netloc) != self._origin:
            # Following it would send the token to another host.
            raise self._error(f"{url}: malformed page: `next` link leaves {self.base_url}")
        return target


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
        err = body.get("error", body) if isinstance(body, dict) else body
        text = err.get("detail", err) if isinstance(err, dict) else err
        text = text if isinstance(text, str) else json.dumps(text)
    except ValueError:
        text = resp.text
    return " ".join(text.split())[:200] or "(no detail)"


def _text(value: Any) -> str | None:
    """A JSON value as the string it would read in an export; nested values as JSON text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _first(record: dict, keys: tuple[str, ...]) -> Any:
    return next((record[k] for k in keys if k in record), None)


def api_tables(
    results: list[dict], *, role: str, study_id: str
) -> tuple[pa.Table, pa.Table | None]:
    """Map pulled submissions onto the landing columns; demographics only if the API sent any."""
    subs = {c: [_text(_first(r, keys)) for r in results] for c, keys in API_FIELDS.items()}
    n = len(results)
    subs["study_id"] = [study_id] * n
    subs["study_role"] = [role] * n
    # Fields no column names (reward, bonus_payments, ...) are kept, not dropped.
    mapped = {k for keys in API_FIELDS.values() for k in keys} | {"demographics"}
    mapped |= set(_DEMOGRAPHIC_COLUMNS)
    subs["extra"] = [
        json.dumps({k: v for k, v in r.items() if k not in mapped}, sort_keys=True, default=str)
        for r in results
    ]
    submissions = pa.table(subs).select(SUBMISSIONS.names).cast(SUBMISSIONS)

    # Demographics: a nested `demographics` object, else top-level demographic fields.
    demo_rows: list[dict[str, Any]] = []
    for r in results:
        nested = r.get("demographics")
        if isinstance(nested, dict):
            fields = {_norm(k).replace(" ", "_"): (k, v) for k, v in nested.items()}
        else:
            fields = {k: (k, r[k]) for k in _DEMOGRAPHIC_COLUMNS if k in r}
        demo_rows.append(fields)
    if not any(demo_rows):
        return submissions, None
    demo: dict[str, list[str | None]] = {
        "submission_id": subs["submission_id"],
        "participant_id": subs["participant_id"],
        "study_id": subs["study_id"],
        "study_role": subs["study_role"],
    }
    for c in _DEMOGRAPHIC_COLUMNS:
        demo[c] = [_text(f[c][1]) if c in f else None for f in demo_rows]
    demo["extra"] = [
        json.dumps(
            {k: _text(v) for key, (k, v) in f.items() if key not in _DEMOGRAPHIC_COLUMNS},
            ensure_ascii=False,
        )
        for f in demo_rows
    ]
    return submissions, pa.table(demo).select(DEMOGRAPHICS.names).cast(DEMOGRAPHICS)


def pull_api(
    study_id: str,
    *,
    role: str,
    token: str,
    base_url: str | None = None,
    options: ApiOptions | None = None,
    progress: Progress | None = None,
) -> ProlificPull:
    """Pull one study's submissions from the Prolific API."""
    with ProlificClient(token, base_url=base_url, options=options) as client:
        info = client.study(study_id)
        name = info.get("name") or info.get("internal_name") or study_id
        if progress:
            progress(f"prolific {role}: study {study_id} ({name})")
        results = client.submissions(study_id, progress=progress)
        base = client.base_url
    # Offset pages can shift while a study is live: keep one (the last seen) per submission id.
    by_id = {str(r["id"]): r for r in results}
    results = [by_id[k] for k in sorted(by_id)]
    canonical = json.dumps(results, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    sha = hashlib.sha256(canonical.encode()).hexdigest()
    submissions, demographics = api_tables(results, role=role, study_id=study_id)
    uri = f"prolific+{base}studies/{study_id}/"
    return ProlificPull(role, uri, sha, submissions, demographics)
