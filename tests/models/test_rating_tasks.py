"""The `rating_tasks` mart held to a Python re-implementation of its rule (docs/architecture.md,
"Rating tasks"), and to the properties the rule is for: every pair of a question's counted
answers once, each answer shown first in half its pairs (within one), the nearest pairs first
under a cap, the same rows for the same seed, and the warehouse's pair id, so ratings link.

The synthetic study has four counted answers per question; the other sizes (1 to 9 answers)
come from a copy of its warehouse whose `written_responses` is replaced, with `rating_tasks`
and the settings view run again on a copy of its landing zone (a new settings version landed
there for a seed or a cap)."""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import Build, run_dbt

from extract.landing import Landing
from extract.schemas import schema_of
from tests.warehouse import connect_warehouse

COLUMNS = [
    "pair_id",
    "question_id",
    "question_text",
    "response_a_id",
    "response_b_id",
    "response_a_text",
    "response_b_text",
    "planned_raters",
    "pair_number",
    "n_question_responses",
]
TASKS_SQL = f"select {', '.join(COLUMNS)} from rating_tasks order by question_id, pair_number"
RESPONSES_SQL = (
    "select question_id, question_text, response_id, response_text from written_responses"
)
SIZES = range(1, 10)  # answers per question of the replaced written_responses
SETTINGS_COLUMNS = ["rating_pairs_per_question", "rating_pairs_seed"]


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def pair_id(one: str, other: str) -> str:
    """The linking's pair id (int_rating_records_linked_to_responses)."""
    return md5(f"{min(one, other)}|{max(one, other)}")[:16]


def expected_tasks(responses: list[tuple], seed: str, cap: int | None, planned: int) -> list:
    """The mart's rows by the rule, from (question_id, question_text, response_id, text) rows."""
    by_question: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for question, question_text, response, text in responses:
        by_question[(question, question_text)].append((response, text))
    rows = []
    for (question, question_text), answers in sorted(by_question.items()):
        circle = sorted(answers, key=lambda a: (md5(f"{seed}|{a[0]}"), a[0]))
        n = len(circle)
        pairs = []
        for i in range(n):
            for j in range(i + 1, n):
                d = j - i
                first, second = (circle[i], circle[j]) if 2 * d <= n else (circle[j], circle[i])
                pid = pair_id(first[0], second[0])
                pairs.append((min(d, n - d), md5(f"{seed}|{pid}"), pid, first, second))
        pairs.sort()
        for number, (_, _, pid, first, second) in enumerate(pairs[:cap], start=1):
            rows.append(
                (pid, question, question_text, first[0], second[0], first[1], second[1],
                 planned, number, n)
            )  # fmt: skip
    return rows


def firsts_per_answer(rows: list[tuple]) -> dict[str, Counter]:
    """Per question: how often each answer is shown first (A), and in how many pairs."""
    tally: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        question, a, b = row[1], row[3], row[4]
        tally[question][("first", a)] += 1
        tally[question][("pairs", a)] += 1
        tally[question][("pairs", b)] += 1
        tally[question][("first", b)] += 0
    return tally


def land_settings(landing: Path, when: datetime, base: dict, **settings: object) -> None:
    """A new version of study/settings: the study's own row with `settings` changed."""
    version = Landing(landing, extracted_at=when)
    try:
        table = pa.Table.from_pylist([{**base, **settings}], schema=schema_of("study", "settings"))
        version.land("study", "settings", table, "test://study/settings", "1" * 64)
    finally:
        version.close()


def sized_responses() -> list[tuple]:
    """Questions with 1 to 9 answers: (question_id, question_text, response_id, text)."""
    rows = []
    for n in SIZES:
        question = md5(f"question {n}")[:16]
        for writer in range(n):
            response = md5(f"{question}|writer-{writer}")[:16]
            rows.append((question, f"Question {n}?", response, f"Answer {writer} to {n}."))
    return rows


def copy_build(source: Build, workdir: Path) -> Build:
    workdir.mkdir(parents=True)
    shutil.copytree(source.landing, workdir / "landing")
    shutil.copy(source.warehouse, workdir / "warehouse.duckdb")
    return Build(source.data, workdir / "landing", workdir / "warehouse.duckdb", workdir, 0.0)


def run_tasks(build: Build) -> None:
    """Run the settings view (on this copy's landing zone) and the mart again."""
    select = ("--select", "stg_study__settings", "rating_tasks")
    ok, failures = run_dbt(build.workdir, build.landing, build.warehouse, "run", *select)
    assert ok, failures


@pytest.fixture(scope="module")
def sized(text_study: Build, tmp_path_factory: pytest.TempPathFactory):
    """`rating_tasks` of questions with 1 to 9 answers, built once per (seed, cap)."""
    builds: dict[tuple[str, int | None], Build] = {}
    base = text_study.data.rows[("study", "settings")][0]

    def build(seed: str, cap: int | None) -> Build:
        if (seed, cap) not in builds:
            copy = copy_build(text_study, tmp_path_factory.mktemp("tasks") / "copy")
            land_settings(
                copy.landing, datetime(2025, 3, 3, tzinfo=UTC), base,
                rating_pairs_seed=seed, rating_pairs_per_question=cap,
            )  # fmt: skip
            with connect_warehouse(copy.warehouse, read_only=False) as con:
                con.execute("delete from analytics.written_responses")
                con.executemany(
                    "insert into analytics.written_responses "
                    "(question_id, question_text, response_id, response_text, writer_user_id) "
                    "values (?, ?, ?, ?, 'writer')",
                    sized_responses(),
                )
            run_tasks(copy)
            builds[(seed, cap)] = copy
        return builds[(seed, cap)]

    return build


# ------------------------------------------------------------------ the synthetic study's build


def test_every_pair_of_counted_answers_once_under_the_linking_pair_id(text_study: Build) -> None:
    tasks = text_study.query(TASKS_SQL)
    responses = text_study.query(RESPONSES_SQL)
    ((planned, cap, seed),) = text_study.query(
        "select expected_ratings_per_pair, rating_pairs_per_question, rating_pairs_seed "
        "from stg_study__settings"
    )
    assert (cap, seed) == (None, "42")  # study.yml's defaults: every pair
    # The strongest check: the rule re-implemented, row for row.
    assert tasks == expected_tasks(responses, seed, cap, planned)

    answers: dict[str, set[str]] = defaultdict(set)
    for question, _, response, _ in responses:
        answers[question].add(response)
    pairs: dict[str, set[frozenset]] = defaultdict(set)
    for pid, question, _, a, b, *_ in tasks:
        assert a != b and {a, b} <= answers[question]
        assert pid == pair_id(a, b)
        pairs[question].add(frozenset((a, b)))
    assert len(tasks) == len({t[0] for t in tasks})
    for question, ids in answers.items():
        n = len(ids)
        assert {frozenset((a, b)) for a in ids for b in ids if a < b} == pairs[question]
        assert len(pairs[question]) == n * (n - 1) // 2
    # Every counted answer appears; no response that does not count does.
    shown = {t[3] for t in tasks} | {t[4] for t in tasks}
    assert shown == {r for _, _, r, _ in responses}
    # (A duplicate answer shares its id with the writer's counted one: left out here.)
    uncounted = text_study.query(
        "select response_id from int_written_responses_evaluated where not is_counted "
        "except select response_id from int_written_responses_evaluated where is_counted"
    )
    assert uncounted and not shown & {r for (r,) in uncounted}
    # The ratings of the synthetic study link to tasks: every rated pair is one.
    rated = {p for (p,) in text_study.query("select distinct pair_id from pair_ratings")}
    assert rated and rated <= {t[0] for t in tasks}
    assert {t[7] for t in tasks} == {planned}


def test_four_answers_are_each_first_in_one_or_two_of_three_pairs(text_study: Build) -> None:
    tasks = text_study.query(TASKS_SQL)
    assert tasks and {t[9] for t in tasks} == {4}
    for tally in firsts_per_answer(tasks).values():
        firsts = sorted(v for (kind, _), v in tally.items() if kind == "first")
        assert {v for (kind, _), v in tally.items() if kind == "pairs"} == {3}
        # The circular tournament with an even n: two answers first in n/2, two in n/2 - 1.
        assert firsts == [1, 1, 2, 2]


def test_counts_are_bigint(text_study: Build) -> None:
    types = dict(
        text_study.query(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'analytics' and table_name = 'rating_tasks'"
        )
    )
    assert list(types) == COLUMNS
    assert {types[c] for c in ("planned_raters", "pair_number", "n_question_responses")} == {
        "BIGINT"
    }


# ------------------------------------------------------------- questions of 1 to 9 answers


@pytest.mark.slow  # runs dbt on a warehouse of its own
@pytest.mark.parametrize(("seed", "cap"), [("42", None), ("7", None), ("7", 5)])
def test_the_mart_equals_the_rule(sized, seed: str, cap: int | None) -> None:
    build = sized(seed, cap)
    settings = f"select {', '.join(SETTINGS_COLUMNS)} from stg_study__settings"
    assert build.query(settings) == [(cap, seed)]
    tasks = build.query(TASKS_SQL)
    assert tasks == expected_tasks(sized_responses(), seed, cap, 3)
    per_question = Counter(t[9] for t in tasks)
    # A question with one answer has no pair; the others min(cap, C(n, 2)).
    for n in SIZES:
        pairs = n * (n - 1) // 2
        assert per_question[n] == (pairs if cap is None else min(cap, pairs))


@pytest.mark.slow  # runs dbt on a warehouse of its own
def test_every_answer_is_first_in_half_its_pairs_within_one(sized) -> None:
    for seed in ("42", "7"):
        tasks = sized(seed, None).query(TASKS_SQL)
        assert {t[9] for t in tasks} == set(SIZES) - {1}
        for question_tally in firsts_per_answer(tasks).values():
            answers = {a for (_, a) in question_tally}
            n = len(answers)
            firsts = sorted(question_tally[("first", a)] for a in answers)
            assert all(question_tally[("pairs", a)] == n - 1 for a in answers)
            if n % 2:
                assert firsts == [(n - 1) // 2] * n
            else:
                assert firsts == [n // 2 - 1] * (n // 2) + [n // 2] * (n // 2)
            assert all(abs(2 * f - (n - 1)) <= 1 for f in firsts)


@pytest.mark.slow  # runs dbt on a warehouse of its own
def test_the_nearest_pairs_come_first(sized) -> None:
    """The first n pairs of a question (n >= 3) are the distance-1 cycle: a single cycle
    through every answer, each answer first in exactly one of its two pairs; a cap keeps a
    prefix of that order."""
    full = sized("7", None).query(TASKS_SQL)
    for n in SIZES:
        if n < 3:
            continue
        rows = [t for t in full if t[9] == n and t[8] <= n]
        assert len(rows) == n
        neighbours: dict[str, set[str]] = defaultdict(set)
        for _, _, _, a, b, *_ in rows:
            neighbours[a].add(b)
            neighbours[b].add(a)
        assert len(neighbours) == n and all(len(v) == 2 for v in neighbours.values())
        start = next(iter(neighbours))
        seen, here, before = {start}, start, None
        while True:  # walk the cycle: it reaches every answer before it closes
            here, before = next(x for x in neighbours[here] if x != before), here
            if here == start:
                break
            seen.add(here)
        assert len(seen) == n
        assert sorted(Counter(t[3] for t in rows).values()) == [1] * n
    capped = sized("7", 5).query(TASKS_SQL)
    assert capped == [t for t in full if t[8] <= 5]


@pytest.mark.slow  # runs dbt on a warehouse of its own
def test_another_seed_changes_the_order_not_the_pairs(sized) -> None:
    one, other = sized("42", None).query(TASKS_SQL), sized("7", None).query(TASKS_SQL)
    assert sorted(t[0] for t in one) == sorted(t[0] for t in other)
    firsts = {t[0]: t[3] for t in one}
    numbers = {t[0]: t[8] for t in one}
    assert sum(firsts[t[0]] != t[3] for t in other) > len(one) / 5
    assert sum(numbers[t[0]] != t[8] for t in other) > len(one) / 5


# ------------------------------------------------------------------------ settings landed


@pytest.mark.slow  # runs dbt on a warehouse of its own
def test_an_older_landing_gets_the_defaults_and_bad_values_are_quarantined(
    text_study: Build, tmp_path: Path
) -> None:
    copy = copy_build(text_study, tmp_path / "old")
    for path in (copy.landing / "study" / "settings").glob("*.parquet"):
        table = pq.read_table(path)
        pq.write_table(table.drop_columns(SETTINGS_COLUMNS), path)
    run_tasks(copy)
    assert copy.query(f"select {', '.join(SETTINGS_COLUMNS)} from stg_study__settings") == [
        (None, "42")
    ]
    assert copy.query(TASKS_SQL) == text_study.query(TASKS_SQL)

    # The staging view reads the landing as it is: no build needed to see a new version.
    base = text_study.data.rows[("study", "settings")][0]
    for day, bad, reason in [
        (4, {"rating_pairs_seed": "seven"}, "invalid_number"),
        (5, {"rating_pairs_seed": "07"}, "invalid_number"),
        (6, {"rating_pairs_per_question": 0}, "invalid_value"),
        (7, {"rating_pairs_per_question": 3, "rating_pairs_seed": "-3"}, None),
    ]:
        land_settings(copy.landing, datetime(2025, 3, day, tzinfo=UTC), base, **bad)
        assert copy.query("select quarantine_reason from stg_study__settings") == [(reason,)]
    assert copy.query(f"select {', '.join(SETTINGS_COLUMNS)} from stg_study__settings") == [
        (3, "-3")
    ]
