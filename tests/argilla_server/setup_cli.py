"""Helpers for the `rlhfw setup` tests: a study.yml, the CLI run in-process, and a dataset's
state read over REST (settings and records) to compare before and after a run."""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml
from typer.testing import CliRunner

from rlhfw.cli import app

from .fixture import _json, api_client, list_records


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def write_study(tmp_path: Path, writing: dict, rating: dict, **top) -> Path:
    study = {
        "name": "setup-test",
        "warehouse": str(tmp_path / "warehouse.duckdb"),
        "landing": str(tmp_path / "landing"),
        "publish": {"out": str(tmp_path / "out")},
        "argilla": {"writing": writing, "rating": rating},
        **top,
    }
    path = tmp_path / "study.yml"
    path.write_text(yaml.safe_dump(study), encoding="utf-8")
    return path


def invoke(monkeypatch, server, *args: str, api_key: str | None = None):
    """Run `rlhfw <args>` in-process with the server's address and key in the environment."""
    monkeypatch.delenv("RLHFW_DEBUG", raising=False)
    monkeypatch.setenv("ARGILLA_API_URL", server.url)
    monkeypatch.setenv("ARGILLA_API_KEY", api_key or server.api_key)
    return CliRunner().invoke(app, list(args))


def find_dataset(server, workspace: str, name: str) -> dict | None:
    with api_client(server.url, server.api_key) as http:
        workspaces = {w["id"]: w["name"] for w in _json(http.get("/api/v1/me/workspaces"))["items"]}
        for d in _json(http.get("/api/v1/me/datasets"))["items"]:
            if d["name"] == name and workspaces.get(d["workspace_id"]) == workspace:
                return d
    return None


def dataset_state(server, workspace: str, name: str) -> dict:
    """Everything a setup run could change: settings (fields, questions, metadata properties,
    guidelines, distribution) and records (ids, fields, metadata, updated_at)."""
    found = find_dataset(server, workspace, name)
    assert found is not None, f"no dataset {workspace}/{name}"
    dataset_id = found["id"]
    with api_client(server.url, server.api_key) as http:
        dataset = _json(http.get(f"/api/v1/datasets/{dataset_id}"))
        state = {
            "guidelines": dataset["guidelines"],
            "distribution": dataset["distribution"],
            "updated_at": dataset["updated_at"],
        }
        for kind in ("fields", "questions"):
            state[kind] = _json(http.get(f"/api/v1/datasets/{dataset_id}/{kind}"))["items"]
        path = f"/api/v1/me/datasets/{dataset_id}/metadata-properties"
        state["metadata-properties"] = _json(http.get(path))["items"]
        state["records"] = [
            {k: r.get(k) for k in ("id", "external_id", "fields", "metadata", "updated_at")}
            for r in list_records(http, dataset_id, include=())
        ]
    return state


def one_line_error(result) -> str:
    """The CLI failed with exit 2 and a single `error:` line, no traceback."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]
