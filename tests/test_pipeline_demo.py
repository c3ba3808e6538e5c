"""End to end on the demo study: extract → dbt build → publish, held to the generator's own
ground truth (an independent implementation of the counting rules), plus the release checks."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import datasets
import duckdb
import pyarrow.parquet as pq
import pytest

from rlhfw import pipeline
from rlhfw.dbt import code_version, last_build_code, last_build_path
from study_config import load_study
from tests.warehouse import connect_warehouse

QUIET = lambda _line: None  # noqa: E731

REASON_TYPES = {"responses": "written_response", "ratings": "rating", "quality": "question_quality"}


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory, demo_template) -> tuple:
    import shutil

    root = tmp_path_factory.mktemp("e2e") / "study"
    shutil.copytree(demo_template, root)
    study = load_study(root / "study.yml")
    pipeline.extract(study, QUIET)
    pipeline.build(study, QUIET)
    report = pipeline.publish(study, QUIET)
    truth = json.loads((root / "ground_truth.json").read_text())
    return study, truth, report


def query(study, sql: str) -> list[tuple]:
    con = connect_warehouse(study.warehouse)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_marts_equal_the_ground_truth(refreshed):
    study, truth, _ = refreshed
    assert (
        query(study, "select count(*) from written_responses")[0][0] == truth["counted_responses"]
    )
    assert query(study, "select count(*) from pair_ratings")[0][0] == truth["counted_ratings"]
    pairs, ties = query(study, "select count(*), count(*) filter (where is_tie) from pair_scores")[
        0
    ]
    assert (pairs, ties) == (truth["pairs"], truth["ties"])
    got = {
        (t, r): n
        for t, r, n in query(
            study, "select item_type, exclusion_reason, count(*) from exclusions group by all"
        )
    }
    for kind, reasons in truth["exclusions"].items():
        for reason, n in reasons.items():
            assert got.get((REASON_TYPES[kind], reason), 0) == n, (kind, reason)
    n_quality, mean_quality = query(
        study,
        "select sum(n_quality_ratings), sum(mean_quality * n_quality_ratings) "
        "/ sum(n_quality_ratings) from question_quality",
    )[0]
    assert n_quality == truth["question_quality"]["n"]
    assert mean_quality == pytest.approx(truth["question_quality"]["mean"], abs=1e-9)


def test_sampled_pairs_have_the_expected_scores(refreshed):
    study, truth, _ = refreshed
    for sample in truth["pair_samples"]:
        rows = query(
            study,
            f"select response_1_id, response_2_id, n_ratings, mean_rating, is_tie "
            f"from pair_scores where pair_id = '{sample['pair_id']}'",
        )
        if sample["n_ratings"] == 0:
            assert rows == []
            continue
        assert rows, sample["why"]
        r1, r2, n, mean, tie = rows[0]
        assert (r1, r2, n, tie) == (
            sample["response_1_id"],
            sample["response_2_id"],
            sample["n_ratings"],
            sample["is_tie"],
        ), sample["why"]
        assert mean == pytest.approx(sample["mean_rating"], abs=1e-9)


@pytest.mark.slow
def test_a_second_build_changes_nothing_and_republish_scores_nothing(refreshed):
    study, _, first = refreshed
    marts = ("pair_scores", "written_responses", "pair_ratings", "exclusions", "study_agreement")
    before = {m: query(study, f"select * from {m} order by all") for m in marts}
    pipeline.build(study, QUIET)
    assert {m: query(study, f"select * from {m} order by all") for m in marts} == before
    again = pipeline.publish(study, QUIET)
    assert first.texts_scored > 0
    assert again.texts_scored == 0 and again.cache_hits == first.texts_scored + first.cache_hits


def test_the_dataset_loads_splits_by_question_and_holds_no_identities(refreshed):
    study, truth, _ = refreshed
    out = study.publish.out
    pairs = datasets.load_dataset(str(out), "pairs")
    assert set(pairs) == {"train", "test"}
    needed = {
        "prompt",
        "chosen",
        "rejected",
        "question_id",
        "pair_id",
        "score_chosen",
        "score_rejected",
        "preference_strength",
        "n_ratings",
        "rating_std",
        "agreement",
        "chosen_toxicity",
        "rejected_toxicity",
        "chosen_is_toxic",
        "rejected_is_toxic",
    }
    assert needed <= set(pairs["train"].column_names)
    assert "margin" not in pairs["train"].column_names  # TRL's reward loss would consume it
    assert min(pairs["train"]["preference_strength"]) >= 0
    chosen, rejected = pairs["train"]["score_chosen"], pairs["train"]["score_rejected"]
    assert all(c > r for c, r in zip(chosen, rejected, strict=True))
    assert not set(pairs["train"]["question_id"]) & set(pairs["test"]["question_id"])
    assert len(pairs["train"]) + len(pairs["test"]) == truth["pairs"] - truth["ties"]
    # Rows come in a stable order (question, then pair), in both pair formats.
    conversational = datasets.load_dataset(str(out), "conversational")
    for split in ("train", "test"):
        for config in (pairs, conversational):
            keys = list(zip(config[split]["question_id"], config[split]["pair_id"], strict=True))
            assert keys == sorted(keys)

    secrets: set[str] = set()
    root = study.path.parent / "exports"
    for csv in ("prolific_writing.csv", "prolific_rating.csv", "argilla_users.csv"):
        con = duckdb.connect()
        rel = con.sql(f"select * from read_csv('{root / csv}', all_varchar = true)")
        for col in rel.columns:
            if col.lower() in {"participant id", "id", "username", "submission id"}:
                secrets |= {v for (v,) in con.sql(f'select "{col}" from rel').fetchall() if v}
    assert len(secrets) > 50  # the scan has something to find
    for file in Path(out).rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            leaked = [s for s in secrets if s.encode() in data]
            assert not leaked, (file, leaked[:3])


def duckdb_cli(warehouse: Path, sql: str) -> list[str]:
    """What an analyst's `duckdb -readonly <warehouse>` prints for `sql`, one line per row."""
    cli = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "duckdb"
    proc = subprocess.run(
        [str(cli), "-readonly", "-csv", "-noheader", str(warehouse), sql],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_duckdb_cli_opens_the_warehouse_read_only(refreshed):
    study, truth, _ = refreshed
    assert duckdb_cli(study.warehouse, "select count(*) from analytics.pair_scores") == [
        str(truth["pairs"])
    ]


# Columns that hold a person's identifiers; none may be in the analysts' schema.
PERSON_COLUMNS = {"participant_id", "prolific_pid", "username", "argilla_username"}


def test_the_analysts_schema_lists_only_documented_relations(refreshed, tmp_path):
    """`duckdb -readonly warehouse.duckdb`, `use analytics; show tables`: every relation there is
    documented (a description for it and each of its columns in dbt's manifest), and none holds
    personal data, which lives in `analytics_personal`."""
    from rlhfw.dbt import run_dbt

    study, _, _ = refreshed
    shown = set(duckdb_cli(study.warehouse, "use analytics; show tables"))
    assert {"pair_scores", "study_agreement", "response_toxicity"} <= shown

    assert run_dbt(study, "parse", ["--target-path", str(tmp_path / "target")]).ok
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    documented = {}
    for node in [*manifest["nodes"].values(), *manifest["sources"].values()]:
        if node["resource_type"] in ("model", "seed", "source") and node["schema"] == "analytics":
            documented[node.get("alias") or node["name"]] = node
    undocumented = sorted(shown - documented.keys())
    assert not undocumented, f"in the analysts' schema but not documented: {undocumented}"

    con = duckdb.connect(str(study.warehouse), read_only=True)
    try:
        columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'analytics'"
        ).fetchall()
        personal = {
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'analytics_personal'"
            ).fetchall()
        }
    finally:
        con.close()
    for table in shown:
        node = documented[table]
        assert node["description"].strip(), f"{table} has no description"
        described = {c for c, doc in node["columns"].items() if doc["description"].strip()}
        missing = sorted(c for t, c in columns if t == table and c not in described)
        assert not missing, f"{table}: columns without a description: {missing}"
    assert not [(t, c) for t, c in columns if c in PERSON_COLUMNS or c.endswith("_username")]
    assert {"stg_prolific__demographics", "stg_prolific__submissions", "participants"} <= personal
    assert not [t for t in shown if "demographic" in t or "prolific" in t]


def test_prolific_ids_are_only_in_the_personal_schema(refreshed):
    """Staging, intermediate and marts carry Argilla user ids; a Prolific id names a person on
    another service, and only the models in `analytics_personal` hold one."""
    study, _, _ = refreshed
    con = duckdb.connect(str(study.warehouse), read_only=True)
    try:
        holders = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            # A text column: `argilla_username_is_prolific_pid` is a setting, not an id.
            "where data_type = 'VARCHAR' and (column_name in ('prolific_pid', 'participant_id') "
            "or column_name like '%\\_prolific\\_pid' escape '\\')"
        ).fetchall()
    finally:
        con.close()
    assert {t for s, t, _ in holders if s == "analytics_personal"} >= {"participants"}
    assert [h for h in holders if h[0] != "analytics_personal"] == []


@pytest.mark.slow
def test_a_failed_build_exits_1_and_leaves_the_dataset_untouched(refreshed, tmp_path):
    import shutil
    import sys

    study, _, _ = refreshed
    root = tmp_path / "study"
    shutil.copytree(study.path.parent, root)
    broken = load_study(root / "study.yml")
    before = {p: p.read_bytes() for p in broken.publish.out.rglob("*") if p.is_file()}
    assert before
    # A landing zone that lost a table: dbt's on-run-start check refuses to build from it.
    shutil.move(broken.landing / "argilla" / "users", tmp_path / "users-aside")
    proc = subprocess.run(
        [sys.executable, "-m", "rlhfw.cli", "build", "--config", str(root / "study.yml")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "dbt build failed" in proc.stderr
    after = {p: p.read_bytes() for p in broken.publish.out.rglob("*") if p.is_file()}
    assert after == before


@pytest.mark.slow
def test_a_refresh_builds_from_scratch_only_when_the_code_changed(refreshed, tmp_path):
    """The refresh's one decision (pipeline.needs_full_refresh): the incremental tables are
    rebuilt from scratch when the code that built them is not the current code."""
    import shutil

    shutil.copytree(refreshed[0].path.parent, tmp_path / "study")
    study = load_study(tmp_path / "study" / "study.yml")
    assert pipeline.needs_full_refresh(study) is None
    assert last_build_code(study) == code_version()
    last_build_path(study).write_text('{"code_version": "other code"}')
    assert "code changed" in pipeline.needs_full_refresh(study)
    lines: list[str] = []
    pipeline.refresh(study, lines.append, force=True)
    assert any("dbt build --full-refresh: the models' code changed" in line for line in lines)
    assert pipeline.needs_full_refresh(study) is None
    # A plain build under other code leaves the tables partly as that code computed them: the
    # next refresh rebuilds them.
    last_build_path(study).write_text('{"code_version": "other code"}')
    pipeline.build(study, QUIET)
    assert not last_build_path(study).exists()
    assert "no build" in pipeline.needs_full_refresh(study)


@pytest.mark.slow
def test_a_refresh_with_nothing_new_skips_build_and_publish(refreshed):
    from publish.dataset import MARKER

    study, _, _ = refreshed
    assert pipeline.refresh(study, QUIET) is not None  # published by a refresh: state recorded
    marker = (study.publish.out / MARKER).read_bytes()
    published = study.publish.out.stat().st_ino  # each publish swaps in a new folder
    built = study.warehouse.stat().st_mtime_ns
    lines: list[str] = []
    assert pipeline.refresh(study, lines.append) is None
    assert any("nothing new since the last refresh" in line for line in lines)
    assert (study.publish.out / MARKER).read_bytes() == marker
    assert study.publish.out.stat().st_ino == published
    assert study.warehouse.stat().st_mtime_ns == built
    # Any setting (here the published margin) or landed file makes it a real refresh again.
    stricter = study.model_copy(
        update={"publish": study.publish.model_copy(update={"min_margin": 0.5})}
    )
    assert pipeline.refresh_state(stricter) != pipeline.refresh_state(study)
    assert pipeline.refresh(study, QUIET, force=True) is not None
    assert study.publish.out.stat().st_ino != published
    assert study.warehouse.stat().st_mtime_ns != built


@pytest.mark.slow
def test_publish_settings_reach_the_dataset_through_the_warehouse(refreshed):
    """The publish rules run in dbt (`preference_pairs`, `question_splits`) on the settings
    extract landed: a publish with edited settings and no build is refused in one line and
    leaves the dataset as it was; a refresh lands and applies them, and the dataset holds
    what the marts say. Every publish writes the responses file again (with unchanged inputs,
    the same bytes)."""
    from publish import PublishError

    study, _, _ = refreshed

    def files() -> dict[str, Path]:
        return {p.parent.name: p for p in study.publish.out.glob("*/train-*.parquet")}

    pipeline.publish(study, QUIET)
    before = {name: path.read_bytes() for name, path in files().items()}
    edited = study.model_copy(
        update={"publish": study.publish.model_copy(
            update={"min_margin": study.publish.min_margin + 0.5, "seed": study.publish.seed + 1}
        )}
    )  # fmt: skip
    with pytest.raises(PublishError, match="publish settings changed.*min_margin") as err:
        pipeline.publish(edited, QUIET)
    assert "\n" not in str(err.value) and "rlhfw refresh" in str(err.value)
    assert {name: path.read_bytes() for name, path in files().items()} == before

    try:
        report = pipeline.refresh(edited, QUIET)
        dropped = dict(query(study, "select drop_reason, count(*) from preference_pairs "
                                    "where not is_published group by 1"))  # fmt: skip
        assert dropped == {reason: n for reason, n in report.dropped.items() if n}
        assert dropped.get("below_min_margin")
        assert query(study, "select distinct seed from question_splits") == [
            (str(edited.publish.seed),)
        ]
        for split in ("train", "test"):
            (path,) = study.publish.out.glob(f"pairs/{split}-*.parquet")
            got = sorted(pq.read_table(path)["question_id"].to_pylist())
            want = query(study, "select question_id from preference_pairs where is_published "
                                f"and split = '{split}' order by 1")  # fmt: skip
            assert got == [q for (q,) in want]
        responses = files()["responses"]
        inode = responses.stat().st_ino
        pipeline.publish(edited, QUIET)
        again = files()["responses"]
        assert again.stat().st_ino != inode  # written again, not linked
        assert again.name == responses.name  # the same content
    finally:
        pipeline.refresh(study, QUIET)  # as the other tests found it
