"""The publish step end to end on the fixture warehouse: pairs, configs, card, splits, cache,
privacy, atomic write, errors and the hub boundary."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from pathlib import Path

import datasets
import duckdb
import pyarrow.parquet as pq
import pytest
import yaml
from publish_warehouse import (
    DEMOGRAPHICS,
    MID,
    SELF_ID_TEXT,
    TOXIC_TEXT,
    WRITERS,
    Fixture,
    land_publish_settings,
    make_study,
    model_sql,
)

import publish.dataset
import publish.hub
import publish.toxicity
from publish import PublishError, PublishReport, run_publish
from publish.dataset import MARKER, write_atomically
from publish.privacy import REDACTED, load_salt, published_id, salt_path
from study_config import Study
from tests.oracle import split_of
from tests.warehouse import connect_warehouse


def load(out: Path, config: str, tmp_path: Path) -> datasets.DatasetDict:
    return datasets.load_dataset(str(out), config, cache_dir=str(tmp_path / "hf-cache"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def front_matter(out: Path) -> dict:
    text = (out / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def published(text: str) -> str:
    """A fixture text as published: the Prolific id a writer typed in is redacted."""
    return text.replace(WRITERS[2].username, REDACTED)


def config_files(out: Path, name: str) -> dict[str, Path]:
    """split -> file of one config, as the card declares it."""
    config = next(c for c in front_matter(out)["configs"] if c["config_name"] == name)
    return {e["split"]: out / e["path"] for e in config["data_files"]}


def test_publish_writes_loadable_configs(study_env: tuple[Study, Fixture], tmp_path: Path) -> None:
    study, fx = study_env
    report = run_publish(study, progress=False)
    out = study.publish.out

    assert isinstance(report, PublishReport)
    assert report.out == out
    assert report.ties_dropped == fx.n_ties == 1
    assert sum(report.pairs.values()) == fx.n_pairs - fx.n_ties
    assert report.ratings == fx.n_ratings
    assert report.responses == fx.n_responses
    assert report.texts_scored == fx.n_responses  # pair texts are the same texts
    assert report.cache_hits == 0
    assert report.toxic_responses == 1

    pairs = load(out, "pairs", tmp_path)
    assert {s: pairs[s].num_rows for s in pairs} == report.pairs
    rows = [r for s in pairs for r in pairs[s]]
    # Published pair and response ids are the warehouse's, salted (privacy.published_id).
    salt = load_salt(study.warehouse)
    expected = fx.pairs[~fx.pairs.is_tie].copy()
    expected.index = [published_id(salt, "pair", p) for p in expected.pair_id]
    assert {r["pair_id"] for r in rows} == set(expected.index)
    for r in rows:
        src = expected.loc[r["pair_id"]]
        assert r["chosen_response_id"] == published_id(salt, "response", src.preferred_response_id)
        chosen_is_1 = src.preferred_response_id == src.response_1_id
        first, second = published(src.response_1_text), published(src.response_2_text)
        assert r["chosen"] == (first if chosen_is_1 else second)
        assert r["rejected"] == (second if chosen_is_1 else first)
        # Higher is better for each side, whichever side `chosen` was stored on: m, the mean
        # oriented so that low means chosen is better, is rejected's score, 1 + 8 - m chosen's.
        m = src.mean_rating if chosen_is_1 else 1 + 8 - src.mean_rating
        med = src.median_rating if chosen_is_1 else 1 + 8 - src.median_rating
        assert r["score_chosen"] == pytest.approx(1 + 8 - m)
        assert r["score_rejected"] == pytest.approx(m)
        assert r["median_score_chosen"] == pytest.approx(1 + 8 - med)
        assert r["median_score_rejected"] == pytest.approx(med)
        assert r["score_chosen"] > MID > r["score_rejected"]
        assert r["preference_strength"] == pytest.approx(src.margin / 3.5)
        assert 0 < r["preference_strength"] <= 1
        assert "margin" not in r and "mean_rating" not in r
        assert r["n_ratings"] == src.n_ratings
    # Non-ASCII text survives byte for byte.
    prompts = {r["prompt"] for r in rows}
    assert "¿Qué opinas del café por la mañana? ☕" in prompts
    assert "日本の首都はどこですか？" in prompts
    assert any(r["chosen"] == "Winter: snow, tea and quiet days. ❄️" or
               r["rejected"] == "Winter: snow, tea and quiet days. ❄️" for r in rows)  # fmt: skip
    # The toxic answer is kept and flagged, on whichever side it is.
    toxic_sides = [
        (r[f"{side}_is_toxic"], r[f"{side}_toxicity"])
        for r in rows
        for side in ("chosen", "rejected")
        if r[side] == TOXIC_TEXT
    ]
    assert toxic_sides and all(flag and score >= 0.5 for flag, score in toxic_sides)
    assert sum(r["chosen_is_toxic"] + r["rejected_is_toxic"] for r in rows) == len(toxic_sides)

    conv = load(out, "conversational", tmp_path)
    by_id = {r["pair_id"]: r for r in rows}
    for r in conv["train"]:
        assert r["prompt"] == [{"role": "user", "content": by_id[r["pair_id"]]["prompt"]}]
        assert r["chosen"] == [{"role": "assistant", "content": by_id[r["pair_id"]]["chosen"]}]
        assert r["rejected"][0]["content"] == by_id[r["pair_id"]]["rejected"]

    by_split = load(out, "ratings", tmp_path)
    assert set(by_split) == set(report.pairs)  # the fixture's test questions all have pairs
    ratings = datasets.concatenate_datasets([by_split[s] for s in by_split])
    assert ratings.num_rows == fx.n_ratings
    assert len(set(ratings["annotator_id"])) == 3
    assert all(re.fullmatch(r"[0-9a-f]{16}", a) for a in ratings["annotator_id"])
    tie_ratings = int(fx.pairs.loc[fx.pairs.is_tie, "n_ratings"].sum())
    assert sum(not p for p in ratings["pair_published"]) == tie_ratings
    assert "split" not in ratings.column_names
    # The pair's published response ids, the side shown first among them, both ratings.
    sides = {
        published_id(salt, "pair", p.pair_id): {
            published_id(salt, "response", p.response_1_id),
            published_id(salt, "response", p.response_2_id),
        }
        for p in fx.pairs.itertuples()
    }
    for r in ratings:
        assert {r["response_1_id"], r["response_2_id"]} == sides[r["pair_id"]]
        assert r["response_a_id"] in sides[r["pair_id"]]
        assert r["oriented_rating"] in (r["rating"], 1 + 8 - r["rating"])
    # Both orders were shown, and whether the oriented rating mirrors the raw one follows
    # from the order shown alone (the same way for every rating: the scale's low end is
    # fixed to one side). Ratings are integers, never the midpoint 4.5.
    shown_reversed = [r["response_a_id"] == r["response_2_id"] for r in ratings]
    assert any(shown_reversed) and not all(shown_reversed)
    mirrored = [r["oriented_rating"] != r["rating"] for r in ratings]
    assert len({m == rev for m, rev in zip(mirrored, shown_reversed, strict=True)}) == 1

    responses = load(out, "responses", tmp_path)
    responses = datasets.concatenate_datasets([responses[s] for s in responses])
    assert responses.num_rows == fx.n_responses
    toxic = [r for r in responses if r["is_toxic"]]
    assert [r["response_text"] for r in toxic] == [TOXIC_TEXT]
    assert all(r["question_mean_quality"] is not None for r in responses)

    # Toxicity is written back to the warehouse for SQL.
    con = connect_warehouse(study.warehouse)
    n, n_toxic, backends = con.execute(
        "select count(*), count(*) filter (where is_toxic), list(distinct backend) "
        "from response_toxicity"
    ).fetchall()[0]
    con.close()
    assert (n, n_toxic, backends) == (fx.n_responses, 1, ["profanity"])


def test_card_front_matter_and_statistics(study_env: tuple[Study, Fixture]) -> None:
    study, fx = study_env
    report = run_publish(study, progress=False)
    fm = front_matter(study.publish.out)
    assert fm["license"] == "cc-by-4.0"
    assert fm["size_categories"] == ["n<1K"]
    assert "text-generation" in fm["task_categories"]
    configs = {c["config_name"]: c for c in fm["configs"]}
    assert set(configs) == {"pairs", "conversational", "ratings", "responses"}
    assert configs["pairs"]["default"] is True
    for c in configs.values():
        for entry in c["data_files"]:
            assert (study.publish.out / entry["path"]).is_file()
    text = (study.publish.out / "README.md").read_text(encoding="utf-8")
    assert "| ties dropped | 1 |" in text
    assert f"| preference pairs | {sum(report.pairs.values())} " in text
    assert "| rating | overall | interval | 0.612 |" in text  # alpha from study_agreement
    # One unit for mean and median: each rated question's mean quality.
    assert (
        "mean over the 6 rated questions of each question's mean rating (13 ratings) | 3.75 |"
        in text
    )
    assert "median over the same questions of each question's mean rating | 3.75 |" in text
    assert "| toxic responses | 1 of 18 (5.6%) |" in text
    assert "I hate Mondays" in text  # the profanity model's limits are stated
    assert 'load_dataset("path/to/dataset", "pairs")' in text
    assert str(study.warehouse.parent) not in text  # no local paths leak into the card


def test_splits_are_by_question_and_deterministic(study_env: tuple[Study, Fixture]) -> None:
    study, fx = study_env
    run_publish(study, progress=False)
    out = study.publish.out
    files = config_files(out, "pairs")
    questions = {s: set(pq.read_table(p)["question_id"].to_pylist()) for s, p in files.items()}
    assert questions["train"] and questions["test"]
    assert not questions["train"] & questions["test"]
    # Each question's split is a pure function of (seed, question_id).
    for split, qids in questions.items():
        assert all(split_of(q, 42, 0.34) == split for q in qids)
    # ratings and responses are split by the same rule.
    for config in ("ratings", "responses"):
        for split, path in config_files(out, config).items():
            qids = pq.read_table(path)["question_id"].to_pylist()
            assert qids and all(split_of(q, 42, 0.34) == split for q in qids), config


def test_every_config_and_split_loads_and_no_question_is_in_two_splits(
    study_env: tuple[Study, Fixture], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a validation fraction every config has the three splits, each loadable with
    `datasets.load_dataset(out, config)` offline, and no question is in two splits of any
    config (nor in two different splits across configs)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    _, fx = study_env
    study = make_study(tmp_path, validation_fraction=0.33)
    land_publish_settings(study)
    report = run_publish(study, progress=False)
    assert set(report.pairs) == {"train", "validation", "test"}
    out = study.publish.out
    configs = [c["config_name"] for c in front_matter(out)["configs"]]
    assert configs == ["pairs", "conversational", "ratings", "responses"]
    split_of_question: dict[str, str] = {}
    for config in configs:
        data = load(out, config, tmp_path)
        assert set(data) == {"train", "validation", "test"}, config
        seen: dict[str, str] = {}
        for split, rows in data.items():
            assert rows.num_rows > 0
            for q in set(rows["question_id"]):
                assert seen.setdefault(q, split) == split, (config, q)
                assert split_of_question.setdefault(q, split) == split, (config, q)
                assert split_of(q, 42, 0.34, 0.33) == split
    assert set(split_of_question) == set(fx.question_ids)


def test_a_validation_fraction_moves_only_train_questions() -> None:
    """Stable across releases: unchanged fractions never move a question; adding a
    validation fraction takes questions from `train` only, never from `test`."""
    ids = [f"q{i:05d}" for i in range(4000)]
    before = {q: split_of(q, 42, 0.2) for q in ids}
    after = {q: split_of(q, 42, 0.2, 0.1) for q in ids}
    assert {q for q in ids if before[q] == "test"} == {q for q in ids if after[q] == "test"}
    moved = {q for q in ids if before[q] != after[q]}
    assert moved and all(before[q] == "train" and after[q] == "validation" for q in moved)
    share = len(moved) / len(ids)
    assert 0.08 < share < 0.12


def test_split_assignment_share_and_seed() -> None:
    ids = [f"q{i:05d}" for i in range(4000)]
    share = sum(split_of(q, 42, 0.2) == "test" for q in ids) / len(ids)
    assert 0.17 < share < 0.23
    assert [split_of(q, 42, 0.2) for q in ids] == [split_of(q, 42, 0.2) for q in ids]
    assert [split_of(q, 7, 0.2) for q in ids] != [split_of(q, 42, 0.2) for q in ids]
    assert all(split_of(q, 42, 0.0) == "train" for q in ids)
    # Raising the fraction only moves questions into test, never out of it.
    small = {q for q in ids if split_of(q, 42, 0.1) == "test"}
    assert small <= {q for q in ids if split_of(q, 42, 0.2) == "test"}


def test_the_question_splits_mart_follows_split_of() -> None:
    """The dbt model's SQL gives every question the split of the Python rule (the card's),
    for many ids, odd ones, another seed, the extreme fractions and a fraction equal to a
    question's own hash fraction (the boundary); a question with written responses only is
    split too."""
    ids = [f"q{i:05d}" for i in range(3000)] + ["é", "it's", "0", "a:b", "日本"]
    con = duckdb.connect()
    con.execute("create table pair_scores as select unnest(?::varchar[]) as question_id", [ids])
    con.execute("create table written_responses as select 'only-written' as question_id")
    digest = hashlib.sha256(b"42:q00000").digest()
    boundary = int.from_bytes(digest[:8], "big") / 2**64
    for seed, fraction, validation in [
        (42, 0.2, 0.0), (7, 0.5, 0.0), (-3, 0.5, 0.0), (42, 0.0, 0.0), (42, 1.0, 0.0),
        (42, boundary, 0.0), (42, 0.2, 0.1), (7, 0.0, 0.3), (42, 0.1, boundary - 0.1),
    ]:  # fmt: skip
        con.execute(
            "create or replace table stg_study__settings as select ?::varchar as publish_seed, "
            "?::double as publish_test_fraction, ?::double as publish_validation_fraction, "
            "null as quarantine_reason",
            [str(seed), fraction, validation],
        )
        got = dict(con.execute(f"select question_id, split from ({model_sql('question_splits')})"
                               ).fetchall())  # fmt: skip
        assert got == {q: split_of(q, seed, fraction, validation) for q in [*ids, "only-written"]}


def test_thresholds_drop_pairs_with_reasons(study_env: tuple[Study, Fixture], tmp_path: Path):
    study, fx = study_env
    strict = make_study(tmp_path, min_ratings=2, min_margin=2.0)
    land_publish_settings(strict)
    report = run_publish(strict, progress=False)
    ps = fx.pairs
    below_ratings = int(((~ps.is_tie) & (ps.n_ratings < 2)).sum())
    below_margin = int(((~ps.is_tie) & (ps.n_ratings >= 2) & (ps.margin < 2.0)).sum())
    assert below_ratings == 1 and below_margin > 0
    assert report.dropped == {
        "tie": 1,
        "below_min_ratings": below_ratings,
        "below_min_margin": below_margin,
        "invalid_preference": 0,
    }
    assert sum(report.pairs.values()) == len(ps) - 1 - below_ratings - below_margin
    # The counts are the mart's: an analyst's `group by drop_reason` gives the card's numbers.
    con = connect_warehouse(strict.warehouse)
    by_reason = dict(
        con.execute(
            "select drop_reason, count(*) from preference_pairs "
            "where drop_reason is not null group by 1"
        ).fetchall()
    )
    con.close()
    assert by_reason == {k: v for k, v in report.dropped.items() if v}


def test_settings_the_warehouse_was_not_built_with_are_refused(
    study_env: tuple[Study, Fixture], tmp_path: Path
) -> None:
    """The rules apply in dbt, from the settings extract landed: a study.yml edited since would
    publish by the old rules under a card stating the new ones. One line, nothing written."""
    study, _ = study_env
    for changed, named in [
        ({"min_margin": 1.5}, "min_margin 1.5 in study.yml, 0.0 in the warehouse"),
        ({"min_ratings": 3}, "min_ratings 3 in study.yml, 1 in the warehouse"),
        ({"seed": 7}, "seed 7 in study.yml, 42 in the warehouse"),
        ({"test_fraction": 0.5}, "test_fraction 0.5 in study.yml, 0.34 in the warehouse"),
        ({"validation_fraction": 0.2},
         "validation_fraction 0.2 in study.yml, 0.0 in the warehouse"),
    ]:  # fmt: skip
        edited = make_study(tmp_path, **changed)
        with pytest.raises(PublishError, match="publish settings changed") as err:
            run_publish(edited, progress=False)
        assert named in str(err.value) and "rlhfw refresh" in str(err.value)
        assert "\n" not in str(err.value)
        assert not edited.publish.out.exists()
    # Once built with them (extract lands them, build applies them), they publish.
    land_publish_settings(edited)
    assert run_publish(edited, progress=False).pairs


def test_second_publish_scores_nothing(study_env: tuple[Study, Fixture]) -> None:
    study, fx = study_env
    first = run_publish(study, progress=False)
    second = run_publish(study, progress=False)
    assert first.texts_scored == fx.n_responses
    assert (second.texts_scored, second.cache_hits) == (0, fx.n_responses)
    assert second.toxic_responses == first.toxic_responses

    # A changed text is the only one scored again; a new threshold rescores nothing.
    con = connect_warehouse(study.warehouse, read_only=False)
    con.execute("update written_responses set response_text = 'A brand new answer.' "
                "where response_text = 'Prefiero el té, la verdad.'")  # fmt: skip
    con.close()
    third = run_publish(study, progress=False)
    # The old text is still a pair's side (pair_scores was not edited): 17 + 2 texts.
    assert (third.texts_scored, third.cache_hits) == (1, fx.n_responses)
    lenient = study.model_copy(
        update={"publish": study.publish.model_copy(
            update={"toxicity": study.publish.toxicity.model_copy(update={"threshold": 0.001})}
        )}
    )  # fmt: skip
    fourth = run_publish(lenient, progress=False)
    assert fourth.texts_scored == 0
    assert fourth.toxic_responses == fx.n_responses


def test_the_cache_is_keyed_by_text_backend_and_model(
    study_env: tuple[Study, Fixture], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One row per text hash and model; another model identity (a new package version here)
    scores every text again and keeps the first model's scores beside its own."""
    study, fx = study_env
    run_publish(study, progress=False)
    real_init = publish.toxicity.ProfanityScorer.__init__

    def newer_release(self: publish.toxicity.ProfanityScorer) -> None:
        real_init(self)
        self.model_id = "alt-profanity-check==99.0"

    monkeypatch.setattr(publish.toxicity.ProfanityScorer, "__init__", newer_release)
    other = run_publish(study, progress=False)
    assert (other.texts_scored, other.cache_hits) == (fx.n_responses, 0)
    assert other.toxicity_model == "alt-profanity-check==99.0"
    monkeypatch.setattr(publish.toxicity.ProfanityScorer, "__init__", real_init)
    back = run_publish(study, progress=False)
    assert (back.texts_scored, back.cache_hits) == (0, fx.n_responses)

    con = connect_warehouse(study.warehouse)
    rows = con.execute("select backend, model, text_sha256 from toxicity_cache").fetchall()
    models = dict(con.execute("select distinct model, backend from response_toxicity").fetchall())
    con.close()
    texts = set(fx.responses.response_text)
    assert sorted(rows) == sorted(
        ("profanity", model, hashlib.sha256(text.encode()).hexdigest())
        for model in ("alt-profanity-check==1.9.1", "alt-profanity-check==99.0")
        for text in texts
    )
    # response_toxicity is written by every publish, from the model that published.
    assert models == {"alt-profanity-check==1.9.1": "profanity"}


def test_failure_mid_write_keeps_previous_dataset(
    study_env: tuple[Study, Fixture], monkeypatch: pytest.MonkeyPatch
) -> None:
    study, _ = study_env
    run_publish(study, progress=False)
    out = study.publish.out
    before = snapshot(out)

    real = publish.dataset.write_split
    calls = []

    def disk_full_on_third(*args, **kwargs):
        calls.append(args[3:])
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(publish.dataset, "write_split", disk_full_on_third)
    with pytest.raises(PublishError, match="No space left on device"):
        run_publish(study.model_copy(update={"name": "changed"}), progress=False)
    assert len(calls) == 3  # it did fail mid-write, after two files
    assert snapshot(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(
        ["dataset", "warehouse.duckdb", "warehouse.duckdb.pseudonym-salt"]
    )


def test_interrupted_swap_is_repaired(tmp_path: Path) -> None:
    out = tmp_path / "dataset"

    def ok(folder: Path) -> None:
        (folder / MARKER).write_text("{}")

    write_atomically(out, ok)
    (out / "README.md").write_text("old release")
    # A run killed between "rename old aside" and "rename new in".
    os.rename(out, tmp_path / ".dataset.old-deadbeef")
    (tmp_path / ".dataset.tmp-deadbeef").mkdir()

    def fail(folder: Path) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_atomically(out, fail)
    assert (out / "README.md").read_text() == "old release"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset"]


def test_refuses_to_replace_a_folder_it_did_not_write(study_env: tuple[Study, Fixture]) -> None:
    study, _ = study_env
    out = study.publish.out
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    with pytest.raises(PublishError, match="refusing to replace"):
        run_publish(study, progress=False)
    assert (out / "notes.txt").read_text() == "precious"
    inside = study.model_copy(
        update={"publish": study.publish.model_copy(update={"out": study.warehouse.parent})}
    )
    with pytest.raises(PublishError, match="must not contain the warehouse"):
        run_publish(inside, progress=False)


def test_no_personal_data_in_any_output_file(study_env: tuple[Study, Fixture]) -> None:
    study, fx = study_env
    run_publish(study, progress=False)
    out = study.publish.out
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) >= 7  # README, marker, 2+2 pairs/conversational, ratings, responses
    long_secrets = [v for v in fx.secrets if len(v) >= 5]
    short_secrets = {v for v in fx.secrets if len(v) < 5}  # ages: digits occur by chance
    decoded, cells, columns = [], set(), set()
    for path in files:
        raw = path.read_bytes()
        for secret in long_secrets:
            assert secret.encode() not in raw, (secret, path.name)
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            columns.update(table.column_names)
            rows = table.to_pylist()
            cells.update(str(v) for row in rows for v in row.values())
            decoded.append(json.dumps(rows, ensure_ascii=False, default=str))
        else:
            decoded.append(raw.decode("utf-8"))
    text = "\n".join(decoded)
    for secret in long_secrets:
        assert secret not in text, secret
    assert not short_secrets & cells
    assert not columns & (set(DEMOGRAPHICS) | {"participant_id", "rater_username",
                                               "writer_username", "rater_user_id"})  # fmt: skip
    # The participant who typed their Prolific id into an answer: redacted, answer kept.
    assert SELF_ID_TEXT.replace(WRITERS[2].username, REDACTED) in text
    # The salt stays beside the warehouse, private, and out of the dataset.
    salt = salt_path(study.warehouse)
    assert stat.S_IMODE(salt.stat().st_mode) == 0o600
    assert salt.read_text().strip() not in text


def test_a_publish_from_the_cache_still_redacts(study_env: tuple[Study, Fixture]) -> None:
    """A publish whose scores all come from the cache still finds the identifiers typed into
    the texts and redacts them."""
    study, _ = study_env
    first = run_publish(study, progress=False)
    second = run_publish(study, progress=False)
    assert first.texts_scored > 0 and second.texts_scored == 0
    assert second.redacted_texts == first.redacted_texts > 0
    for config in ("pairs", "conversational", "responses"):
        for path in config_files(study.publish.out, config).values():
            text = json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False, default=str)
            assert WRITERS[2].username not in text, (config, path.name)


def test_pseudonyms_follow_the_salt(
    study_env: tuple[Study, Fixture], monkeypatch: pytest.MonkeyPatch
) -> None:
    study, _ = study_env

    def annotators() -> list[str]:
        table = pq.read_table(config_files(study.publish.out, "ratings")["train"])
        return sorted(set(table["annotator_id"].to_pylist()))

    run_publish(study, progress=False)
    first = annotators()
    run_publish(study, progress=False)
    assert annotators() == first  # stable: the stored salt is reused
    monkeypatch.setenv("RLHFW_PSEUDONYM_SALT", "another-salt-of-enough-length")
    run_publish(study, progress=False)
    assert set(annotators()).isdisjoint(first)
    monkeypatch.setenv("RLHFW_PSEUDONYM_SALT", "short")
    with pytest.raises(PublishError, match="too short"):
        run_publish(study, progress=False)


def test_unusable_warehouse_gives_one_line_errors(study_env: tuple[Study, Fixture], tmp_path):
    study, _ = study_env
    missing = make_study(tmp_path / "nowhere")
    with pytest.raises(PublishError, match="warehouse not found.*rlhfw build") as err:
        run_publish(missing, progress=False)
    assert "\n" not in str(err.value)

    empty = make_study(tmp_path / "empty")
    empty.warehouse.parent.mkdir(parents=True)
    connect_warehouse(empty.warehouse, read_only=False).close()
    with pytest.raises(
        PublishError, match=r"lacks mart\(s\) preference_pairs, question_splits.*run `rlhfw build`"
    ):
        run_publish(empty, progress=False)

    con = connect_warehouse(study.warehouse, read_only=False)
    con.execute("create table built as from preference_pairs")
    con.execute("drop view preference_pairs")
    con.execute("create table preference_pairs as select * exclude (agreement) from built")
    con.close()
    with pytest.raises(PublishError, match="preference_pairs .*lacks column.*agreement"):
        run_publish(study, progress=False)
    assert not study.publish.out.exists()

    con = connect_warehouse(study.warehouse, read_only=False)
    con.execute("alter table preference_pairs add column agreement varchar")
    con.execute("update preference_pairs set agreement = 'high'")
    con.close()
    with pytest.raises(PublishError, match="reading the warehouse .* failed: Conversion") as err:
        run_publish(study, progress=False)
    assert "\n" not in str(err.value)
    assert not study.publish.out.exists()


def test_no_pairs_left_is_an_error(study_env: tuple[Study, Fixture], tmp_path: Path) -> None:
    study, _ = study_env
    none_left = make_study(tmp_path, min_ratings=99)
    land_publish_settings(none_left)
    with pytest.raises(PublishError, match="no preference pair to publish.*below_min_ratings 17"):
        run_publish(none_left, progress=False)
    assert not none_left.publish.out.exists()


class RecordingHfApi:
    calls: list[tuple[str, dict]] = []

    def __init__(self, token: str | None = None) -> None:
        self.calls.append(("init", {"token": token}))

    def create_repo(self, repo_id: str, **kwargs: object) -> None:
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))

    def upload_folder(self, **kwargs: object) -> object:
        # What would be uploaded: the complete folder at call time.
        folder = Path(str(kwargs["folder_path"]))
        files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        self.calls.append(("upload_folder", {**kwargs, "files": files}))
        return type("CommitInfo", (), {"commit_url": "https://hub.example/commit/1"})()


def test_push_to_hub_boundary(
    study_env: tuple[Study, Fixture], monkeypatch: pytest.MonkeyPatch
) -> None:
    study, _ = study_env
    with pytest.raises(PublishError, match="HF_TOKEN is not set"):
        run_publish(study, push_to_hub="org/name", progress=False)
    assert not study.publish.out.exists()  # checked before any work
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    with pytest.raises(PublishError, match="not a hub dataset id"):
        run_publish(study, push_to_hub="no-slash", progress=False)

    RecordingHfApi.calls = []
    monkeypatch.setattr(publish.hub, "HfApi", RecordingHfApi)
    report = run_publish(study, push_to_hub="org/name", progress=False)
    assert report.pushed_to == "https://hub.example/commit/1"
    kinds = [k for k, _ in RecordingHfApi.calls]
    assert kinds == ["init", "create_repo", "upload_folder"]
    assert RecordingHfApi.calls[0][1] == {"token": "hf_test_token"}
    create = RecordingHfApi.calls[1][1]
    assert create["repo_id"] == "org/name" and create["repo_type"] == "dataset"
    assert create["private"] is True and create["exist_ok"] is True
    upload = RecordingHfApi.calls[2][1]
    assert upload["folder_path"] == str(study.publish.out)
    assert upload["repo_id"] == "org/name" and upload["repo_type"] == "dataset"
    assert MARKER in upload["ignore_patterns"]
    assert "pairs/*" in upload["delete_patterns"]  # the previous release's files go
    assert "README.md" in upload["files"]
    assert 'load_dataset("org/name", "pairs")' in (study.publish.out / "README.md").read_text()


def test_marts_in_another_schema(study_env: tuple[Study, Fixture], tmp_path: Path) -> None:
    study, fx = study_env
    con = connect_warehouse(study.warehouse, read_only=False)
    con.execute("create schema marts")
    # The marts publish reads, as dbt would build them into another schema (tables).
    for t in ("preference_pairs", "question_splits"):
        con.execute(f"create table marts.{t} as from analytics.{t}; drop view analytics.{t}")
    for t in ("pair_scores", "written_responses", "pair_ratings", "question_quality",
              "study_agreement"):  # fmt: skip
        con.execute(f"create table marts.{t} as from analytics.{t}; drop table analytics.{t}")
    con.close()
    report = run_publish(study, progress=False)
    assert sum(report.pairs.values()) == fx.n_pairs - 1
    con = connect_warehouse(study.warehouse)
    assert con.execute("select count(*) from marts.response_toxicity").fetchall()[0][0] == 18
    con.close()


def test_copy_of_study_dir_is_untouched_by_cleanup(study_env: tuple[Study, Fixture]) -> None:
    """Stale temp folders of this output are removed; unrelated siblings are not."""
    study, _ = study_env
    parent = study.publish.out.parent
    (parent / ".dataset.tmp-0badc0de").mkdir()
    (parent / ".other.tmp-0badc0de").mkdir()
    run_publish(study, progress=False)
    assert not (parent / ".dataset.tmp-0badc0de").exists()
    assert (parent / ".other.tmp-0badc0de").exists()
    shutil.rmtree(parent / ".other.tmp-0badc0de")
