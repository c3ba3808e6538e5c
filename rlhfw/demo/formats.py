"""Write one demo dataset in its Argilla export format.

Two engines write the same bytes:

- `sdk`: builds `argilla.Record` objects and runs the argilla 2.8 SDK's own serializers
  (`GenericIO.to_dict/to_list(flatten=True)`, `HFDatasetsIO.to_datasets`, `JsonIO.to_json`,
  `Dataset.to_disk`). One Python object per record: fine for tests, slow at 100k questions.
- `fast`: builds the same Arrow tables column-wise (list columns from offsets) and hands them to
  the same `datasets` writers. `tests/demo/test_sdk_equivalence.py` proves both engines write
  byte-identical files on a small study.

Argilla v1 (`FeedbackDataset.format_as("datasets")`) is not shipped by argilla 2.8, so
`v1_format_reference` is a faithful port of v1's `HuggingFaceDatasetMixin._huggingface_format`
(same features, column order and quirks: `[]` for a record without responses, the shared `Value`
whose id ends as "suggestion", `metadata` as a JSON string); the fast engine builds that layout
in Arrow and is tested against the port.

Column order: the SDK pads keys a record lacks by iterating a set, so its column order (and the
key order inside each flat JSON object) depends on PYTHONHASHSEED. Both engines pin one order:
id, status, _server_id, fields, metadata (declared, then extra keys), then per question
`<q>.responses`, `.users`, `.status`.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import pyarrow as pa

from rlhfw.demo.model import MIN_SUBMITTED, DatasetSpec
from rlhfw.demo.text import TOPICS

EXTRA_METADATA = {"writing": ("note",), "rating": ("requeued",)}


@contextlib.contextmanager
def quiet_datasets() -> Iterator[None]:
    """`datasets` draws progress bars by default; the demo is quiet unless asked."""
    was = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was:
            datasets.enable_progress_bars()


def metadata_keys(spec: DatasetSpec, recs: pd.DataFrame) -> list[str]:
    """Metadata columns present in this dataset: declared ones, then extra keys that occur."""
    keys = list(spec.metadata)
    for k in EXTRA_METADATA[spec.role]:
        if k not in keys and k in recs and recs[k].notna().any():
            keys.append(k)
    return keys


def _meta_dict(row: dict, keys: list[str]) -> dict:
    out = {}
    for k in keys:
        v = row[k]
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        out[k] = int(v) if k == "batch" else v
    return out


# ---------------------------------------------------------------------------------------------
# fast engine: Arrow tables


def _list_column(counts: np.ndarray, values: pa.Array, null_when_empty: bool) -> pa.Array:
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    mask = pa.array(counts == 0) if null_when_empty else None
    return pa.ListArray.from_arrays(offsets, values, mask=mask)


def _value_type(qtype: str, v1: bool) -> pa.DataType:
    if qtype == "text":
        return pa.string()
    return pa.int32() if v1 else pa.int64()


def flat_table(spec: DatasetSpec, recs: pd.DataFrame, resp: pd.DataFrame) -> pa.Table:
    """The 2.x flat export (`records.to_datasets()` / `to_list(flatten=True)`) as Arrow."""
    n = len(recs)
    cols: dict[str, pa.Array] = {
        "id": pa.array(recs.external_id.tolist(), pa.string()),
        "status": pa.array(recs.status.tolist(), pa.string()),
        "_server_id": pa.array(recs.server_id.tolist(), pa.string()),
    }
    for f in spec.fields:
        cols[f] = pa.array(recs[f].tolist(), pa.string())
    for k in metadata_keys(spec, recs):
        vals = [None if v is None or v != v else v for v in recs[k].tolist()]
        cols[k] = pa.array(vals, pa.int64() if k == "batch" else pa.string())
    for qname, qtype, _ in spec.questions:
        r = resp[resp.question == qname]
        if r.empty:  # the SDK makes a column only for a question someone answered
            continue
        counts = np.bincount(r.rec.to_numpy(), minlength=n)
        vt = _value_type(qtype, v1=False)
        cols[f"{qname}.responses"] = _list_column(counts, pa.array(r.value.tolist(), vt), True)
        cols[f"{qname}.responses.users"] = _list_column(
            counts, pa.array(r.user_id.tolist(), pa.string()), True
        )
        cols[f"{qname}.responses.status"] = _list_column(
            counts, pa.array(r.status.tolist(), pa.string()), True
        )
    return pa.table(cols)


def v1_features(spec: DatasetSpec) -> datasets.Features:
    """v1's `datasets.Features`, built the way v1 builds them (shared Value object included)."""
    from datasets import Features, Value

    feats: dict = {}
    for f in spec.fields:
        feats[f] = Value(dtype="string", id="field")
    for qname, qtype, _ in spec.questions:
        value = Value(dtype="string" if qtype == "text" else "int32", id="question")
        feats[qname] = [
            {
                "user_id": Value(dtype="string", id="question"),
                "value": value,
                "status": Value(dtype="string", id="question"),
            }
        ]
        value.id = "suggestion"  # v1 mutates the Value it already put in the question's struct
        feats[f"{qname}-suggestion"] = value
        feats[f"{qname}-suggestion-metadata"] = {
            "type": Value(dtype="string", id="suggestion-metadata"),
            "score": Value(dtype="float32", id="suggestion-metadata"),
            "agent": Value(dtype="string", id="suggestion-metadata"),
        }
    feats["external_id"] = Value(dtype="string", id="external_id")
    feats["metadata"] = Value(dtype="string", id="metadata")
    return Features(feats)


def v1_table(spec: DatasetSpec, recs: pd.DataFrame, resp: pd.DataFrame) -> pa.Table:
    """The v1 `format_as("datasets")` layout as Arrow (see `v1_format_reference`)."""
    n = len(recs)
    features = v1_features(spec)
    cols: dict[str, pa.Array] = {}
    for f in spec.fields:
        cols[f] = pa.array(recs[f].tolist(), pa.string())
    for qname, qtype, _ in spec.questions:
        r = resp[resp.question == qname]
        counts = np.bincount(r.rec.to_numpy(), minlength=n)
        item = pa.StructArray.from_arrays(
            [
                pa.array(r.user_id.tolist(), pa.string()),
                pa.array(r.value.tolist(), _value_type(qtype, v1=True)),
                pa.array(r.status.tolist(), pa.string()),
            ],
            names=["user_id", "value", "status"],
        )
        cols[qname] = _list_column(counts, item, null_when_empty=False)
        cols[f"{qname}-suggestion"] = pa.nulls(n, _value_type(qtype, v1=True))
        cols[f"{qname}-suggestion-metadata"] = pa.StructArray.from_arrays(
            [pa.nulls(n, pa.string()), pa.nulls(n, pa.float32()), pa.nulls(n, pa.string())],
            names=["type", "score", "agent"],
        )
    keys = metadata_keys(spec, recs)
    cols["external_id"] = pa.array(recs.external_id.tolist(), pa.string())
    cols["metadata"] = pa.array(
        [json.dumps(_meta_dict(row, keys)) for row in recs[keys].to_dict("records")], pa.string()
    )
    return pa.table(cols).cast(features.arrow_schema)


def _hf(table: pa.Table, features: datasets.Features | None = None) -> datasets.Dataset:
    info = datasets.DatasetInfo(features=features) if features is not None else None
    return datasets.Dataset(table, info=info)  # a pyarrow table, held in RAM


def disk_records(spec: DatasetSpec, recs: pd.DataFrame, resp: pd.DataFrame) -> list[dict]:
    """`records.json` of `Dataset.to_disk`: nested records, responses without status."""
    keys = metadata_keys(spec, recs)
    by_rec: dict[int, dict] = {}
    for rec, q, v, u in zip(
        resp.rec.tolist(),
        resp.question.tolist(),
        resp.value.tolist(),
        resp.user_id.tolist(),
        strict=True,
    ):
        by_rec.setdefault(rec, {}).setdefault(q, []).append({"value": v, "user_id": u})
    out = []
    fields = spec.fields
    for row in recs.to_dict("records"):
        out.append(
            {
                "id": row["external_id"],
                "fields": {f: row[f] for f in fields if row[f] is not None},
                "metadata": _meta_dict(row, keys),
                "suggestions": {},
                "responses": by_rec.get(row["rec"], {}),
                "vectors": {},
                "status": row["status"],
                "_server_id": row["server_id"],
            }
        )
    return out


# ---------------------------------------------------------------------------------------------
# sdk engine: argilla objects and serializers


def sdk_records(spec: DatasetSpec, recs: pd.DataFrame, resp: pd.DataFrame) -> list:
    """argilla `Record`s as the server hands them out (server id and record status set)."""
    import argilla as rg

    keys = metadata_keys(spec, recs)
    by_rec: dict[int, list] = {}
    for rec, q, v, u, s in zip(
        resp.rec.tolist(),
        resp.question.tolist(),
        resp.value.tolist(),
        resp.user_id.tolist(),
        resp.status.tolist(),
        strict=True,
    ):
        by_rec.setdefault(rec, []).append(rg.Response(q, v, user_id=uuid.UUID(u), status=s))
    out = []
    for row in recs.to_dict("records"):
        r = rg.Record(
            id=row["external_id"],
            fields={f: row[f] for f in spec.fields},
            metadata=_meta_dict(row, keys),
            responses=by_rec.get(row["rec"], []),
        )
        r._model.id = uuid.UUID(row["server_id"])
        r._model.status = row["status"]
        out.append(r)
    return out


def canonical_columns(spec: DatasetSpec, recs: pd.DataFrame, present: list[str]) -> list[str]:
    """The pinned flat column order (see module doc), restricted to columns present."""
    order = ["id", "status", "_server_id", *spec.fields, *metadata_keys(spec, recs)]
    for qname, _, _ in spec.questions:
        order += [f"{qname}.responses", f"{qname}.responses.users", f"{qname}.responses.status"]
    return [c for c in order if c in present]


def sdk_flat_dataset(spec: DatasetSpec, recs, resp, client) -> datasets.Dataset:
    """What `dataset.records.to_datasets()` does (`HFDataset.from_dict(GenericIO.to_dict(...,
    flatten=True))`, then the SDK's attribute uncasting), with the column order pinned."""
    from argilla.records._io import GenericIO, HFDatasetsIO

    ds = _client_dataset(spec, client)
    d = GenericIO.to_dict(sdk_records(spec, recs, resp), flatten=True)
    order = canonical_columns(spec, recs, list(d))
    hf = datasets.Dataset.from_dict({c: d[c] for c in order})
    return HFDatasetsIO._uncast_argilla_attributes_to_datasets(hf, ds.schema)


def sdk_flat_list(spec: DatasetSpec, recs, resp) -> list[dict]:
    from argilla.records._io import GenericIO

    rows = GenericIO.to_list(sdk_records(spec, recs, resp), flatten=True)
    order = canonical_columns(spec, recs, list(rows[0]) if rows else [])
    return [{k: r[k] for k in order} for r in rows]


class _V1Response:
    def __init__(self, user_id: str, status: str | None):
        self.user_id, self.status, self.values = user_id, status, {}


class _V1Value:
    def __init__(self, value):
        self.value = value


class _V1Record:
    def __init__(self, fields, responses, metadata, external_id):
        self.fields, self.responses = fields, responses
        self.metadata, self.external_id, self.suggestions = metadata, external_id, []


def v1_format_reference(spec: DatasetSpec, recs, resp) -> datasets.Dataset:
    """Port of argilla v1 `HuggingFaceDatasetMixin._huggingface_format` (argilla<2), record by
    record, over minimal stand-ins for v1's FeedbackRecord / ResponseSchema."""
    keys = metadata_keys(spec, recs)
    users: dict[int, dict[str, _V1Response]] = {}
    for rec, q, v, u, s in zip(
        resp.rec.tolist(),
        resp.question.tolist(),
        resp.value.tolist(),
        resp.user_id.tolist(),
        resp.status.tolist(),
        strict=True,
    ):
        r = users.setdefault(rec, {}).setdefault(u, _V1Response(u, s))
        r.values[q] = _V1Value(v)
    records = [
        _V1Record(
            {f: row[f] for f in spec.fields},
            list(users.get(row["rec"], {}).values()),
            _meta_dict(row, keys),
            row["external_id"],
        )
        for row in recs.to_dict("records")
    ]
    features = v1_features(spec)
    hf: dict[str, list] = {name: [] for name in features}
    questions = spec.questions
    for record in records:
        for f in spec.fields:
            hf[f].append(record.fields.get(f, None))
        for qname, _, _ in questions:
            if not record.responses:
                hf[qname].append([])
            else:
                responses = []
                for response in record.responses:
                    if qname not in response.values:
                        continue
                    responses.append(
                        {
                            "user_id": response.user_id,
                            "value": response.values[qname].value,
                            "status": response.status,
                        }
                    )
                hf[qname].append(responses)
            hf[f"{qname}-suggestion"].append(None)
            hf[f"{qname}-suggestion-metadata"].append({"type": None, "score": None, "agent": None})
        hf["metadata"].append(json.dumps(record.metadata) if record.metadata else {})
        hf["external_id"].append(record.external_id or None)
    return datasets.Dataset.from_dict(hf, features=features)


# ---------------------------------------------------------------------------------------------
# the Argilla client the SDK needs for settings and to_disk (no server: a mock transport)


_EPOCH = datetime(2024, 3, 1, 9, 0, 0)


@contextlib.contextmanager
def offline_client(seed: int) -> Iterator[object]:
    """An `argilla.Argilla` client answering the few calls `to_disk` makes from a mock
    transport; the SDK's global default client is restored afterwards."""
    import argilla as rg
    import httpx

    owner = str(uuid.UUID(int=seed + 1, version=4))

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        stamp = _EPOCH.isoformat()
        if path == "/api/v1/me":
            return httpx.Response(
                200,
                json={
                    "id": owner,
                    "username": "admin",
                    "role": "owner",
                    "first_name": "Admin",
                    "last_name": None,
                    "api_key": "demo",
                    "inserted_at": stamp,
                    "updated_at": stamp,
                },
            )
        if path.startswith("/api/v1/workspaces/"):
            ws_id = path.rsplit("/", 1)[-1]
            return httpx.Response(
                200,
                json={
                    "id": ws_id,
                    "name": _WS_NAMES.get(ws_id, "default"),
                    "inserted_at": stamp,
                    "updated_at": stamp,
                },
            )
        return httpx.Response(404, json={"detail": f"not served offline: {path}"})

    previous = rg.Argilla._default_client
    try:
        yield rg.Argilla(
            api_url="http://argilla.demo.invalid",
            api_key="demo",
            mounts={"all://": httpx.MockTransport(handler)},
        )
    finally:
        rg.Argilla._default_client = previous


_WS_NAMES: dict[str, str] = {}


def _stable_uuid(*parts: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "rlhfw-demo/" + "/".join(parts))


def settings_for(spec: DatasetSpec):
    import argilla as rg

    if spec.role == "writing":
        fields = [rg.TextField(name="question", title="Question")]
        questions = [
            rg.TextQuestion(name="response", title="Your answer", required=True),
            rg.RatingQuestion(
                name="question_quality",
                title="How good is this question?",
                values=[1, 2, 3, 4, 5],
                required=False,
            ),
        ]
        guidelines = "Answer the question in a few sentences, then rate the question."
    else:
        fields = [
            rg.TextField(name="question", title="Question"),
            rg.TextField(name="response_a", title="Answer A"),
            rg.TextField(name="response_b", title="Answer B"),
        ]
        questions = [
            rg.RatingQuestion(
                name="preference",
                title="1 = A is much better ... 8 = B is much better",
                values=list(range(1, 9)),
                required=True,
            )
        ]
        guidelines = "Read both answers and say which one is better."
    return rg.Settings(
        guidelines=guidelines,
        fields=fields,
        questions=questions,
        metadata=[
            rg.TermsMetadataProperty("topic", options=list(TOPICS)),
            rg.IntegerMetadataProperty("batch"),
        ],
        allow_extra_metadata=True,
        distribution=rg.TaskDistribution(min_submitted=MIN_SUBMITTED[spec.role]),
    )


def _client_dataset(spec: DatasetSpec, client):
    import argilla as rg
    from argilla._models import DatasetModel

    ws_id = _stable_uuid("workspace", spec.workspace)
    _WS_NAMES[str(ws_id)] = spec.workspace
    created = _EPOCH + timedelta(days=0 if spec.role == "writing" else 30)
    model = DatasetModel(
        id=_stable_uuid("dataset", spec.workspace, spec.name),
        name=spec.name,
        status="ready",
        workspace_id=ws_id,
        inserted_at=created,
        updated_at=created + timedelta(days=14),
        last_activity_at=created + timedelta(days=13),
        distribution={"strategy": "overlap", "min_submitted": MIN_SUBMITTED[spec.role]},
        guidelines=None,
    )
    ds = rg.Dataset.from_model(model, client=client)
    ds.settings = settings_for(spec)
    return ds


# ---------------------------------------------------------------------------------------------


def write_dataset(
    spec: DatasetSpec,
    recs: pd.DataFrame,
    resp: pd.DataFrame,
    root: Path,
    client,
    engine: str = "fast",
) -> Path:
    """Write one dataset at `root / spec.path` in its format; returns the path."""
    from argilla.records._io import JsonIO

    path = root / spec.path
    path.parent.mkdir(parents=True, exist_ok=True)
    with quiet_datasets():
        if spec.fmt in ("flat_parquet", "flat_jsonl"):
            if engine == "sdk":
                hf = sdk_flat_dataset(spec, recs, resp, client)
            else:
                hf = _hf(flat_table(spec, recs, resp))
            if spec.fmt == "flat_parquet":
                hf.to_parquet(str(path))
            else:
                hf.to_json(str(path))
        elif spec.fmt == "flat_json":
            rows = (
                sdk_flat_list(spec, recs, resp)
                if engine == "sdk"
                else flat_table(spec, recs, resp).to_pylist()
            )
            with path.open("w") as f:
                json.dump(rows, f)
        elif spec.fmt in ("v1_parquet", "v1_jsonl"):
            if engine == "sdk":
                hf = v1_format_reference(spec, recs, resp)
            else:
                hf = _hf(v1_table(spec, recs, resp), v1_features(spec))
            if spec.fmt == "v1_parquet":
                hf.to_parquet(str(path))
            else:
                hf.to_json(str(path))
        elif spec.fmt == "disk":
            path.mkdir(parents=True, exist_ok=True)
            ds = _client_dataset(spec, client)
            ds.to_disk(str(path), with_records=False)
            records_path = path / ds._DEFAULT_RECORDS_PATH
            if engine == "sdk":
                JsonIO.to_json(sdk_records(spec, recs, resp), records_path)
            else:
                with records_path.open("w") as f:
                    json.dump(disk_records(spec, recs, resp), f)
        else:
            raise ValueError(f"unknown export format {spec.fmt!r}")
    return path
