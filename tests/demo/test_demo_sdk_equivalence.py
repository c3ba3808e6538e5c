"""The fast Arrow path writes exactly what the argilla SDK's own serializers write."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from demo_helpers import QUESTIONS, SEED, file_hashes

from rlhfw.demo.formats import (
    _client_dataset,
    disk_records,
    flat_table,
    offline_client,
    sdk_records,
    v1_format_reference,
    v1_table,
)
from rlhfw.demo.model import DATASETS, build_study


@pytest.fixture(scope="module")
def study():
    return build_study(QUESTIONS, SEED)


def _specs(*fmts):
    return [(i, d) for i, d in enumerate(DATASETS) if d.fmt in fmts]


def test_sdk_engine_writes_the_same_bytes_under_any_hash_seed(demo, tmp_path):
    # Another PYTHONHASHSEED: the SDK pads missing keys by iterating a set, so this also proves
    # the pinned column order holds.
    out = tmp_path / "sdk"
    code = (
        "from rlhfw.demo import generate_demo; "
        f"generate_demo({str(out)!r}, {QUESTIONS}, {SEED}, engine='sdk')"
    )
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)
    assert file_hashes(out) == file_hashes(demo.out_dir)


@pytest.mark.parametrize(("i", "spec"), _specs("flat_parquet", "flat_jsonl", "flat_json"))
def test_flat_table_equals_unpinned_to_datasets(study, i, spec):
    from argilla.records._io import HFDatasetsIO

    recs, resp = study.records[i], study.responses[i]
    with offline_client(SEED) as client:
        hf = HFDatasetsIO.to_datasets(sdk_records(spec, recs, resp), _client_dataset(spec, client))
    fast = flat_table(spec, recs, resp)
    assert sorted(hf.column_names) == sorted(fast.column_names)
    assert hf.data.table.select(fast.column_names).equals(fast)


@pytest.mark.parametrize(("i", "spec"), _specs("disk"))
def test_disk_records_equal_generic_io_nested(study, i, spec):
    from argilla.records._io import GenericIO

    recs, resp = study.records[i], study.responses[i]
    sdk = GenericIO.to_list(sdk_records(spec, recs, resp), flatten=False)
    assert disk_records(spec, recs, resp) == sdk


@pytest.mark.parametrize(("i", "spec"), _specs("v1_parquet", "v1_jsonl"))
def test_v1_arrow_equals_the_v1_port(study, i, spec):
    recs, resp = study.records[i], study.responses[i]
    ref = v1_format_reference(spec, recs, resp)
    fast = v1_table(spec, recs, resp)
    assert ref.data.table.schema.equals(fast.schema)
    assert ref.data.table.equals(fast)
