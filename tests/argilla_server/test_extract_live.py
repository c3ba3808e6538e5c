"""Extract from a real argilla-server: every response lands with its status (drafts and
discards included), re-extracting lands nothing, and a changed response lands as a new version."""

from __future__ import annotations

import json

import duckdb
import pytest

from extract.argilla import extract_argilla
from extract.landing import Landing
from study_config import Study

from .fixture import update_response

pytestmark = pytest.mark.integration


def live_study(tmp_path, seed: dict) -> Study:
    ws = seed["workspace"]["name"]
    return Study.model_validate(
        {
            "name": "live",
            "path": tmp_path / "study.yml",
            "landing": tmp_path / "landing",
            "argilla": {
                "writing": {"sources": [{"dataset": "demo-writing", "workspace": ws}]},
                "rating": {"sources": [{"dataset": "demo-rating", "workspace": ws}]},
            },
        }
    )


def landed_tuples(root) -> list[tuple]:
    """(external id, username, question, value, status), latest version of each response."""
    rows = duckdb.sql(
        f"""
        with responses as (
            select * from read_parquet('{root}/argilla/responses/*.parquet', union_by_name = true)
            qualify row_number() over (
                partition by record_id, user_id, question_name order by _extracted_at desc
            ) = 1
        ),
        records as (select distinct record_id, external_id
            from read_parquet('{root}/argilla/records/*.parquet', union_by_name = true)),
        users as (select distinct user_id, username
            from read_parquet('{root}/argilla/users/*.parquet', union_by_name = true))
        select records.external_id, users.username, question_name, value_json, status
        from responses
        join records using (record_id)
        left join users using (user_id)
        """
    ).fetchall()
    return sorted(
        ((e, u, q, json.loads(v) if v is not None else None, s) for e, u, q, v, s in rows),
        key=repr,
    )


def test_every_live_response_lands_with_its_status(tmp_path, argilla_server, seeded):
    study = live_study(tmp_path, seeded)
    kw = {"api_url": argilla_server.url, "api_key": argilla_server.api_key, "log": print}
    report = extract_argilla(study.argilla, Landing(study.landing), root=study.root, **kw)
    assert report.formats and set(report.formats.values()) == {"argilla_live"}
    assert landed_tuples(study.landing) == sorted(seeded["expected"], key=repr)
    statuses = {t[-1] for t in seeded["expected"]}
    assert {"submitted", "draft", "discarded"} <= statuses  # the seed covers them all

    # No change on the server: nothing new lands.
    again = extract_argilla(study.argilla, Landing(study.landing), root=study.root, **kw)
    assert sum(r.new_rows for r in again.results) == 0

    # One response changes: only its rows land, as a new version.
    draft = next(r for r in seeded["responses"] if r["status"] == "draft" and r["values"])
    user = seeded["users"][draft["username"]]
    values = dict(draft["values"])
    question = next(iter(values))
    values[question] = "edited" if isinstance(values[question], str) else values[question] % 5 + 1
    with argilla_server.client(api_key=user["api_key"]) as client:
        update_response(client, draft["response_id"], values, "draft")
    third = extract_argilla(study.argilla, Landing(study.landing), root=study.root, **kw)
    new = {r.table: r.new_rows for r in third.results if r.new_rows}
    assert new == {"responses": 1}  # only the edited question's row changed
    got = [
        t
        for t in landed_tuples(study.landing)
        if t[0] == draft["external_id"] and t[1] == draft["username"] and t[2] == question
    ]
    assert [t[3] for t in got] == [values[question]]


def test_landed_users_never_carry_api_keys(tmp_path, argilla_server, seeded):
    study = live_study(tmp_path, seeded)
    extract_argilla(
        study.argilla,
        Landing(study.landing),
        root=study.root,
        api_url=argilla_server.url,
        api_key=argilla_server.api_key,
    )
    keys = [u["api_key"] for u in seeded["users"].values()] + [argilla_server.api_key]
    for file in study.landing.rglob("*.parquet"):
        data = file.read_bytes()
        assert not any(k.encode() in data for k in keys), file
