"""The publish tests' warehouse: the generator's publish study (`rlhfw.demo.planted`), written as
export files and run through the real pipeline (`rlhfw.pipeline.extract`, then `build`: dbt).

Six questions (Spanish, Russian, Japanese among them), three writers, three raters, three
pairs per question: one tie, one pair with a single rating, a toxic answer, and an answer in
which the writer typed their own Prolific id. Prolific ids double as Argilla usernames, user ids
are UUIDs, and the Prolific export holds demographics that must never be published.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from publish.warehouse import MART_COLUMNS
from rlhfw import pipeline
from rlhfw.demo import planted, write_study
from study_config import Study, load_study
from tests.oracle import compute_truth

SCALE_MIN, SCALE_MAX = planted.SCALE_MIN, planted.SCALE_MAX
MID = (SCALE_MIN + SCALE_MAX) / 2
QUESTIONS = planted.QUESTIONS
ANSWERS = planted.ANSWERS
TOXIC_TEXT = planted.TOXIC_TEXT
SELF_ID_TEXT = planted.SELF_ID_TEXT
DEMOGRAPHICS = planted.DEMOGRAPHICS
NOT_COUNTED_PID = planted.NOT_COUNTED_PID


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
            "where table_schema = 'main'"
        ).fetchall()
    )
    for name in MART_COLUMNS:
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
    con = duckdb.connect(str(path))
    try:
        _plain_marts(con)
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
