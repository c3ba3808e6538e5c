"""Same arguments, same bytes; the output folder is replaced cleanly."""

from __future__ import annotations

import pytest
from demo_helpers import QUESTIONS, SEED, file_hashes

from rlhfw.demo import generate_demo


def test_same_seed_writes_byte_identical_files(demo, tmp_path):
    again = generate_demo(tmp_path / "again", QUESTIONS, SEED)
    first, second = file_hashes(demo.out_dir), file_hashes(again.out_dir)
    assert len(first) == 18  # 3 CSVs, 9 exports (2 of them 3-file folders), yml, README
    assert second == first


def test_another_seed_writes_another_study(demo, tmp_path):
    other = generate_demo(tmp_path / "other", QUESTIONS, SEED + 1)
    a, b = file_hashes(demo.out_dir), file_hashes(other.out_dir)
    assert set(a) == set(b)
    changed = [name for name in a if a[name] != b[name]]
    assert "exports/prolific_writing.csv" in changed
    assert "exports/argilla/rating-ws1/rating_pairs_a.parquet" in changed


def test_regenerating_replaces_only_the_demo_files(tmp_path):
    out = tmp_path / "d"
    generate_demo(out, 12, 3)
    (out / "data").mkdir()
    (out / "data" / "warehouse.duckdb").write_text("left alone")
    (out / "exports" / "stale.csv").write_text("from an older demo")
    before = file_hashes(out / "exports")
    generate_demo(out, 12, 3)
    assert (out / "data" / "warehouse.duckdb").read_text() == "left alone"
    assert not (out / "exports" / "stale.csv").exists()
    assert not (out / ".demo-tmp").exists()
    del before["stale.csv"]
    assert file_hashes(out / "exports") == before


def test_summary_reports_what_was_written(demo, truth):
    assert demo.study_path.is_file()
    # The generator counts what it wrote; the oracle reads the files back.
    landed = truth["landed"]
    for role in ("writing", "rating"):
        assert demo.counts[f"{role}_records"] == landed["argilla/records"]["by_study"][role] > 0
        assert demo.counts[f"{role}_responses"] == landed["argilla/responses"]["by_study"][role]
    assert demo.counts["prolific_submissions"] == landed["prolific/submissions"]["total"]
    assert demo.counts["argilla_users"] == landed["argilla/users"]["total"]
    assert demo.counts["questions"] == truth["questions"] == QUESTIONS
    # No ground truth in the product's output: the oracle is the tests'.
    assert not (demo.out_dir / "ground_truth.json").exists()
    assert all(p.is_file() for p in demo.files)
    assert f"{QUESTIONS} questions" in str(demo)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"questions": 3}, "at least 10"), ({"questions": 20, "engine": "slow"}, "engine")],
)
def test_bad_arguments_are_one_line_errors(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        generate_demo(tmp_path, **kwargs)
