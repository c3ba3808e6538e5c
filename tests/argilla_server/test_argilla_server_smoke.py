"""Smoke test: a real argilla-server starts, takes the demo seed, and returns it over REST.

Reads back with raw REST (the endpoints an extractor would use), not with the helpers that
wrote the data, so a helper bug cannot hide itself.
"""

from __future__ import annotations

import pytest

from .fixture import ArgillaServer, expected_tuples

pytestmark = pytest.mark.integration


def _read_back(server: ArgillaServer, seed: dict) -> tuple[list[tuple], dict[str, dict]]:
    with server.client() as client:
        users = client.get("/api/v1/users")
        users.raise_for_status()
        username_by_id = {u["id"]: u["username"] for u in users.json()["items"]}

        rows: list[tuple] = []
        records: dict[str, dict] = {}
        for dataset in seed["datasets"].values():
            resp = client.get(
                f"/api/v1/datasets/{dataset['id']}/records",
                params={"include": "responses", "limit": 1000},
            )
            resp.raise_for_status()
            body = resp.json()
            assert body["total"] == len(dataset["records"])
            for record in body["items"]:
                records[record["external_id"]] = record
                for response in record["responses"]:
                    rows.append(
                        {
                            "external_id": record["external_id"],
                            "username": username_by_id[response["user_id"]],
                            "status": response["status"],
                            # API shape: {"question": {"value": v}}; discarded may be None.
                            "values": {
                                q: v["value"] for q, v in (response["values"] or {}).items()
                            },
                        }
                    )
    return expected_tuples(rows), records


def test_server_answers_status(argilla_server: ArgillaServer) -> None:
    with argilla_server.client() as client:
        status = client.get("/api/v1/status").json()
    assert status["version"] == "2.8.0"
    assert status["search_engine"]["name"] == "inmemory"


def test_users_are_listed(argilla_server: ArgillaServer, seeded: dict) -> None:
    with argilla_server.client() as client:
        users = client.get("/api/v1/users").json()["items"]
    by_name = {u["username"]: u for u in users}
    assert by_name["owner"]["role"] == "owner"
    for username, info in seeded["users"].items():
        assert by_name[username]["id"] == info["id"]
        assert by_name[username]["role"] == "annotator"


def test_responses_round_trip_with_statuses(argilla_server: ArgillaServer, seeded: dict) -> None:
    actual, _records = _read_back(argilla_server, seeded)
    assert actual == seeded["expected"]
    statuses = {row[4] for row in actual}
    assert statuses == {"submitted", "draft", "discarded"}


def test_draft_was_updated_to_submitted(argilla_server: ArgillaServer, seeded: dict) -> None:
    actual, _records = _read_back(argilla_server, seeded)
    carol_w3 = [row for row in actual if row[:2] == ("w-3", "annotator_carol")]
    assert {(q, s) for _e, _u, q, _v, s in carol_w3} == {
        ("response", "submitted"),
        ("question_quality", "submitted"),
    }


def test_records_fields_metadata_and_status(argilla_server: ArgillaServer, seeded: dict) -> None:
    _actual, records = _read_back(argilla_server, seeded)
    assert records["w-1"]["fields"] == {"question": "Explain photosynthesis to a child."}
    assert records["w-1"]["metadata"]["prompt_id"] == "p-001"
    assert records["r-2"]["fields"]["response_a"] == "Paris"
    assert records["r-3"]["responses"] == []
    assert {ext: r["status"] for ext, r in records.items()} == seeded["record_status"]


def test_annotator_sees_own_workspace_datasets(argilla_server: ArgillaServer, seeded: dict) -> None:
    bob = seeded["users"]["annotator_bob"]
    with argilla_server.client(api_key=bob["api_key"]) as client:
        me = client.get("/api/v1/me").json()
        datasets = client.get("/api/v1/me/datasets").json()["items"]
        # Annotators may not list every user's responses: that needs the owner key.
        forbidden = client.get(f"/api/v1/datasets/{seeded['datasets']['rating']['id']}/records")
    assert me["username"] == "annotator_bob"
    assert {d["name"] for d in datasets} == {"demo-writing", "demo-rating"}
    assert forbidden.status_code == 403


def test_search_engine_serves_the_annotation_queue(
    argilla_server: ArgillaServer, seeded: dict
) -> None:
    # The web UI lists an annotator's pending records through the search engine.
    carol = seeded["users"]["annotator_carol"]
    rating = seeded["datasets"]["rating"]
    query = {
        "filters": {
            "and": [
                {
                    "type": "terms",
                    "scope": {"entity": "response", "property": "status"},
                    "values": ["pending"],
                }
            ]
        }
    }
    with argilla_server.client(api_key=carol["api_key"]) as client:
        resp = client.post(f"/api/v1/me/datasets/{rating['id']}/records/search", json=query)
    assert resp.status_code == 200, resp.text
    found = {item["record"]["external_id"] for item in resp.json()["items"]}
    assert found == {"r-3"}  # carol answered r-1 (draft) and r-2 (submitted)
