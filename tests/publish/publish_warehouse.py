"""The publish tests' warehouse: the generator's publish study (`rlhfw.demo.planted`), written as
export files and run through the real pipeline (`rlhfw.pipeline.extract`, then `build`: dbt).

Six questions (Spanish, Russian, Japanese among them), three writers, three raters, three
pairs per question: one tie, one pair with a single rating, a toxic answer, and an answer in
which the writer typed their own Prolific id. Prolific ids double as Argilla usernames, user ids
are UUIDs, and the Prolific export holds demographics that must never be published.

The marts of the publish rules, `preference_pairs` and `question_splits`, are then views whose
SQL is the dbt models' own (`model_sql`), over plain copies of the other marts and a
`stg_study__settings` table holding the publish settings (`land_publish_settings` puts a
study's there, as extract and build would): a test that edits `pair_scores` sees the edit in
them, as after a build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from publish.warehouse import MART_COLUMNS
from rlhfw import pipeline
from rlhfw.demo import planted, write_study
from study_config import Study, load_study
from tests.oracle import compute_truth
from tests.warehouse import connect_warehouse

SCALE_MIN, SCALE_MAX = planted.SCALE_MIN, planted.SCALE_MAX
MID = (SCALE_MIN + SCALE_MAX) / 2
QUESTIONS = planted.QUESTIONS
ANSWERS = planted.ANSWERS
TOXIC_TEXT = planted.TOXIC_TEXT
SELF_ID_TEXT = planted.SELF_ID_TEXT
DEMOGRAPHICS = planted.DEMOGRAPHICS
NOT_COUNTED_PID = planted.NOT_COUNTED_PID

PROJECT_DIR = Path(__file__).resolve().parents[2]
PUBLISH_MARTS = ("question_splits", "preference_pairs")


def model_sql(name: str) -> str:
    """A mart's SQL as dbt compiles it for DuckDB, each relation read as the table of its
    name (`"memory"."analytics"."pair_scores"` is `pair_scores`)."""
    return _compiled_marts()[name]


@cache
def _compiled_marts() -> dict[str, str]:
    """`dbt compile` of the publish marts with the compile-only `lint` target (no warehouse)."""
    from dbt.cli.main import dbtRunner

    project = str(PROJECT_DIR)
    args = ["compile", "--project-dir", project, "--profiles-dir", project, "--target", "lint"]
    result = dbtRunner().invoke([*args, "--select", *PUBLISH_MARTS, "--quiet"])
    assert result.success, result.exception
    return {
        r.node.name: re.sub(r'"memory"\."[^"]+"\."(\w+)"', r"\1", r.node.compiled_code)
        for r in result.result.results
        if r.node.resource_type == "model"
    }


def install_publish_marts(con: duckdb.DuckDBPyConnection, **publish: object) -> None:
    """`stg_study__settings` with the publish settings (study.yml's defaults but for the
    test fraction, as `make_study`), and the two marts as views over it and the tables."""
    settings = {"min_ratings": 1, "min_margin": 0.0, "seed": 42, "test_fraction": 0.34,
                "validation_fraction": 0.0, **publish}  # fmt: skip
    con.execute(
        """
        create or replace table stg_study__settings as
        select
            $min_ratings::integer as publish_min_ratings,
            $min_margin::double as publish_min_margin,
            $test_fraction::double as publish_test_fraction,
            $seed::varchar as publish_seed,
            $validation_fraction::double as publish_validation_fraction,
            null::varchar as quarantine_reason
        """,
        {k: settings[k] if k != "seed" else str(settings[k]) for k in settings},
    )
    for name in ("question_splits", "preference_pairs"):
        con.execute(f"create or replace view {name} as {model_sql(name)}")


def land_publish_settings(study: Study) -> None:
    """Put `study`'s publish settings into its fixture warehouse, as extract and build would."""
    p = study.publish
    with connect_warehouse(study.warehouse, read_only=False) as con:
        install_publish_marts(
            con,
            min_ratings=p.min_ratings,
            min_margin=p.min_margin,
            seed=p.seed,
            test_fraction=p.test_fraction,
            validation_fraction=p.validation_fraction,
        )


@dataclass
class Person:
    user_id: str
    username: str  # = Prolific participant id


WRITERS = [Person(*person) for person in planted.WRITERS]
RATERS = [Person(*person) for person in planted.RATERS]


@dataclass
class Fixture:
    path: Path
    n_pairs: int
    n_ties: int
    n_single_rating: int
    n_ratings: int
    n_responses: int
    question_ids: list[str]
    pairs: pd.DataFrame
    responses: pd.DataFrame

    @property
    def secrets(self) -> list[str]:
        """Every value that must never appear in the published files."""
        people = WRITERS + RATERS
        values = [p.user_id for p in people] + [p.username for p in people] + [NOT_COUNTED_PID]
        for column in DEMOGRAPHICS.values():
            values += column
        return values


def _quiet(_line: str) -> None:
    pass


def _plain_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Make the marts publish reads plain tables, as an analyst's copy of a warehouse would
    have them: the tests change them with SQL behind dbt's back, so none may stay a view
    (pair_ratings is one in the dbt project) or keep a stamp telling publish its content is
    what dbt built (memo's table comments)."""
    kinds = dict(
        con.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_schema = 'analytics'"
        ).fetchall()
    )
    for name in MART_COLUMNS:
        if name in PUBLISH_MARTS:
            continue
        con.execute(f"create table _plain as select * from {name}")
        con.execute(f"drop {'view' if kinds[name] == 'VIEW' else 'table'} {name}")
        con.execute(f"alter table _plain rename to {name}")


def build_warehouse(path: Path) -> Fixture:
    """Generate the publish study beside `path`, extract it and build the warehouse at `path`
    with dbt; then read back what the tests compare the published dataset with."""
    root = path.parent
    demo = write_study(
        planted.publish_study(),
        root / "study",
        origin="rlhfw.demo.planted.publish_study() (the publish tests' study)",
        warehouse=f"../{path.name}",
        landing="../landing",
        publish_out="../dataset",
    )
    study = load_study(demo.study_path)
    assert study.warehouse == path.resolve()
    pipeline.extract(study, log=_quiet)
    pipeline.build(study, log=_quiet)
    con = connect_warehouse(path, read_only=False)
    try:
        _plain_marts(con)
        # The publish rules' marts as views over those copies (see the module's docstring).
        con.execute("drop view stg_study__settings")
        for name in PUBLISH_MARTS:
            con.execute(f"drop table {name}")
        # With the settings of `make_study`, the study the tests publish with.
        install_publish_marts(con)
        qid = dict(
            con.execute(
                "select distinct question_text, question_id from written_responses"
            ).fetchall()
        )
        question_ids = [qid[q] for q in QUESTIONS]
        pairs = con.execute("select * from pair_scores order by pair_id").df()
        responses = con.execute("select * from written_responses").df()
        n_ratings = con.execute("select count(*) from pair_ratings").fetchone()[0]
    finally:
        con.close()
    # The warehouse dbt built gives the figures the test oracle reads off the written files.
    truth = compute_truth(study)
    assert (len(responses), n_ratings, len(pairs), int(pairs.is_tie.sum())) == (
        truth["counted_responses"],
        truth["counted_ratings"],
        truth["pairs"],
        truth["ties"],
    )
    # In the order of the questions, then of the writers (as planted).
    writer = {p.user_id: i for i, p in enumerate(WRITERS)}
    order = responses.question_id.map(question_ids.index) * len(WRITERS)
    order += responses.writer_user_id.map(writer)
    responses = responses.iloc[order.argsort(kind="stable")].reset_index(drop=True)
    return Fixture(
        path=path,
        n_pairs=len(pairs),
        n_ties=int(pairs.is_tie.sum()),
        n_single_rating=int((pairs.n_ratings == 1).sum()),
        n_ratings=int(n_ratings),
        n_responses=len(responses),
        question_ids=question_ids,
        pairs=pairs,
        responses=responses,
    )


def make_study(root: Path, **publish: object) -> Study:
    """A study whose warehouse and output live under `root` (no export files needed)."""
    return Study.model_validate(
        {
            "name": "fixture-study",
            "path": root / "study.yml",
            "warehouse": root / "data" / "warehouse.duckdb",
            "argilla": {
                "writing": {"sources": [{"dataset": "writing-study", "workspace": "social"}]},
                "rating": {"sources": [{"dataset": "rating-study", "workspace": "social"}]},
            },
            "publish": {"out": root / "data" / "dataset", "test_fraction": 0.34, **publish},
        }
    )
