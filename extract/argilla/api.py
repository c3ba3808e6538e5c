"""A live Argilla server over REST: datasets by name and workspace, settings, users, and every
record with every response (drafts and discards included, which the SDK would drop).

Pages are kept as the server's JSON bytes and flattened by DuckDB, so a large dataset never
becomes a Python object per record. The records listing has no `updated_at` filter, so each pull
is a full one; the landing zone keeps only rows whose content changed (row-hash dedupe), which
makes the landed result incremental.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import duckdb
import httpx
import pyarrow as pa
from rich.progress import Progress

from extract.argilla.exports import ExportTables, SourceNames, names_from_settings
from extract.errors import ExtractError
from extract.landing import content_sha256

LIVE = "argilla_live"
PAGE_SIZE = 1000
RETRY_STATUS = {429, 500, 502, 503, 504}


def _without_credentials(url: str) -> str:
    """`url` without a `user:password@` part."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class ArgillaClient:
    """Read-only client. The API key is held privately and never appears in messages."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 0.5,
        progress: bool = True,
    ) -> None:
        # Credentials in the URL (`http://user:secret@host`) reach the server, never a message,
        # a log or a landed source uri: those use `self.url`, the address without them.
        self.url = _without_credentials(url.rstrip("/"))
        self._http = httpx.Client(
            base_url=url.rstrip("/"), headers={"X-Argilla-Api-Key": api_key}, timeout=timeout
        )
        self.retries = retries
        self.backoff = backoff
        self.progress = progress

    def __repr__(self) -> str:
        return f"ArgillaClient({self.url!r})"

    @classmethod
    def from_env(cls, api_url: str | None = None, api_key: str | None = None) -> ArgillaClient:
        url = api_url or os.environ.get("ARGILLA_API_URL")
        key = api_key or os.environ.get("ARGILLA_API_KEY")
        if not url or not key:
            missing = "ARGILLA_API_URL" if not url else "ARGILLA_API_KEY"
            raise ExtractError(f"a live Argilla source needs the env var {missing}")
        # A progress bar for a person at a terminal; in a cron log or a pipe it is noise.
        return cls(url, key, progress=sys.stdout.isatty())

    def _get(self, path: str, params: dict | None = None) -> httpx.Response:
        for attempt in range(self.retries + 1):
            try:
                resp = self._http.get(path, params=params)
            except httpx.TransportError as exc:
                if attempt == self.retries:
                    raise ExtractError(
                        f"{self.url}{path}: cannot reach the server ({exc})"
                    ) from None
            else:
                if resp.status_code not in RETRY_STATUS or attempt == self.retries:
                    break
            time.sleep(self.backoff * 2**attempt)
        if resp.status_code in (401, 403):
            raise ExtractError(
                f"{self.url}{path}: HTTP {resp.status_code}: check ARGILLA_API_KEY (an owner or "
                "admin key is needed to read every response)"
            )
        if resp.is_redirect:
            # httpx does not follow redirects: the API never sends one, a login proxy does.
            raise ExtractError(
                f"{self.url}{path}: HTTP {resp.status_code} redirect to "
                f"{resp.headers.get('location', '?')}: not the Argilla API (check ARGILLA_API_URL)"
            )
        if resp.status_code != 200:
            raise ExtractError(f"{self.url}{path}: HTTP {resp.status_code}")
        return resp

    def _not_the_api(self, path: str, what: str) -> ExtractError:
        return ExtractError(
            f"{self.url}{path}: the answer is not the Argilla API's JSON ({what}); "
            "check that ARGILLA_API_URL is the Argilla server's address"
        )

    def _json(self, resp: httpx.Response, path: str) -> object:
        """The answer's JSON. A web page answering 200 (the UI, a proxy's login page) is not."""
        try:
            return resp.json()
        except ValueError:  # not JSON, or not text at all
            ctype = resp.headers.get("content-type", "no content type").split(";")[0]
            raise self._not_the_api(path, f"HTTP {resp.status_code}, {ctype}") from None

    def _items(self, path: str) -> list[dict]:
        body = self._json(self._get(path), path)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise self._not_the_api(path, "no `items` list")
        if not all(isinstance(item, dict) for item in items):
            raise self._not_the_api(path, "an item is not an object")
        return items

    def users(self) -> pa.Table:
        rows = [
            {
                "user_id": str(u.get("id")),
                "username": u.get("username"),
                "role": u.get("role"),
                "first_name": u.get("first_name"),
                "last_name": u.get("last_name"),
                "inserted_at": u.get("inserted_at"),
            }
            for u in self._items("/api/v1/users")
        ]
        return pa.Table.from_pylist(
            rows,
            schema=pa.schema([(k, pa.string()) for k in (rows[0] if rows else {"user_id": 0})]),
        )

    def find_dataset(self, name: str, workspace: str | None) -> dict:
        workspaces = {w.get("id"): w.get("name") for w in self._items("/api/v1/me/workspaces")}
        matches = [
            d
            for d in self._items("/api/v1/me/datasets")
            if d.get("name") == name
            and (workspace is None or workspaces.get(d.get("workspace_id")) == workspace)
        ]
        if not matches:
            where = f" in workspace {workspace!r}" if workspace else ""
            raise ExtractError(
                f"{self.url}: no dataset {name!r}{where} (a study's datasets are made by "
                "`rlhfw setup writing` and `rlhfw setup rating`)"
            )
        if len(matches) > 1:
            raise ExtractError(f"{self.url}: dataset {name!r} is in several workspaces: name one")
        if not matches[0].get("id"):
            raise self._not_the_api("/api/v1/me/datasets", f"dataset {name!r} has no `id`")
        return matches[0]

    def settings(self, dataset_id: str) -> pa.Table:
        rows = []
        for kind in ("fields", "questions"):
            for item in self._items(f"/api/v1/datasets/{dataset_id}/{kind}"):
                settings = item.get("settings")
                rows.append(
                    {
                        "kind": kind.rstrip("s"),
                        "name": item.get("name"),
                        "title": item.get("title"),
                        "type": settings.get("type") if isinstance(settings, dict) else None,
                        "settings_json": json.dumps(item, sort_keys=True, default=str),
                    }
                )
        return pa.Table.from_pylist(rows)

    def _pages(self, dataset_id: str, folder: Path) -> list[Path]:
        """Save every records page (with responses) as the server sent it."""
        files, offset, total = [], 0, None
        with Progress(transient=True, disable=not self.progress) as bar:
            task = bar.add_task(f"records of {dataset_id}", total=None)
            url_path = f"/api/v1/datasets/{dataset_id}/records"
            while total is None or offset < total:
                params = {"offset": offset, "limit": PAGE_SIZE, "include": ["responses"]}
                resp = self._get(url_path, params=params)
                body = self._json(resp, url_path)
                items = body.get("items") if isinstance(body, dict) else None
                if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                    raise self._not_the_api(
                        url_path, f"page at offset {offset}: no `items` objects"
                    )
                total = body.get("total", offset + len(items))
                if not isinstance(total, int):
                    raise self._not_the_api(url_path, f"page at offset {offset}: `total` {total!r}")
                if not items:
                    break
                path = folder / f"page-{len(files):06d}.json"
                path.write_bytes(resp.content)
                files.append(path)
                offset += len(items)
                bar.update(task, completed=offset, total=total)
        return files

    def dataset_tables(
        self,
        name: str,
        workspace: str | None,
        check: Callable[[SourceNames | None], None] | None = None,
    ) -> tuple[ExportTables, str]:
        """Records, responses and settings of one live dataset, and a hash of its content.

        `check` sees the dataset's field and question names before any record is pulled."""
        dataset = self.find_dataset(name, workspace)
        settings = self.settings(str(dataset["id"]))
        names = names_from_settings(settings.to_pylist())
        if check is not None:
            check(names)
        with tempfile.TemporaryDirectory(prefix="rlhfw-argilla-") as tmp:
            pages = self._pages(str(dataset["id"]), Path(tmp))
            records, responses = flatten_pages(pages)
        tables = ExportTables(
            LIVE, records, responses, settings if settings.num_rows else None, names=names
        )
        digest = content_sha256(records) + content_sha256(responses)
        return tables, hashlib.sha256(digest.encode()).hexdigest()


_RECORDS_SQL = """
select r ->> 'id' as record_id, r ->> 'external_id' as external_id,
    r ->> 'status' as record_status,
    coalesce(nullif((r -> 'fields')::varchar, 'null'), '{}') as fields,
    coalesce(nullif((r -> 'metadata')::varchar, 'null'), '{}') as metadata,
    json_object('suggestions', r -> 'suggestions')::varchar as extra,
    r ->> 'inserted_at' as inserted_at, r ->> 'updated_at' as updated_at
from items
"""

# One row per response x question; a response without values (a bare discard) keeps one row
# with a null question so its status still lands.
_RESPONSES_SQL = """
with responses as (
    select r ->> 'id' as record_id, unnest(json_extract(r, '$.responses[*]')) as resp from items
),
keyed as (
    select record_id, resp,
        unnest(coalesce(json_keys(resp -> 'values'), [])
            || case when coalesce(len(json_keys(resp -> 'values')), 0) = 0
                then [null::varchar] else [] end) as question_name
    from responses
)
select record_id, question_name, resp ->> 'user_id' as user_id,
    (resp -> 'values' -> question_name -> 'value')::varchar as value_json,
    try_cast(resp -> 'values' -> question_name ->> 'value' as double) as value_number,
    case when json_type(resp -> 'values' -> question_name -> 'value') = 'VARCHAR'
        then resp -> 'values' -> question_name ->> 'value' end as value_text,
    resp ->> 'status' as status,
    resp ->> 'inserted_at' as inserted_at, resp ->> 'updated_at' as updated_at
from keyed
"""


def flatten_pages(pages: list[Path]) -> tuple[pa.Table, pa.Table]:
    """Records and responses tables from saved `GET /datasets/{id}/records` pages."""
    db = duckdb.connect()
    if pages:
        listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in pages)
        db.execute(
            "create view items as select unnest(items) as r from read_json("
            f"[{listed}], columns = {{items: 'JSON[]'}}, maximum_object_size = 1073741824)"
        ).fetchall()
    else:
        db.execute("create view items as select null::json as r where false").fetchall()
    return db.sql(_RECORDS_SQL).to_arrow_table(), db.sql(_RESPONSES_SQL).to_arrow_table()
