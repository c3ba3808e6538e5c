"""`run_publish`: marts in, dataset folder out (and toxicity scores back into the warehouse)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from engines import is_duckdb
from publish import card, dataset, hub, pairs, privacy, toxicity
from publish.errors import NothingRated, PublishError
from publish.warehouse import Marts, connect, copy_marts, find_marts
from study_config import Study


@dataclass(frozen=True)
class PublishReport:
    out: Path
    pairs: dict[str, int]  # split -> pairs written
    ties_dropped: int
    dropped: dict[str, int]  # reason -> pairs not published (ties included)
    ratings: int  # rows of the ratings config, all splits
    responses: int  # rows of the responses config, all splits
    texts_scored: int  # distinct texts scored this run
    cache_hits: int  # distinct texts whose score came from the cache
    toxic_responses: int
    toxicity_backend: str
    toxicity_model: str
    toxicity_seconds: float
    redacted_texts: int
    pushed_to: str | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def texts_per_second(self) -> float | None:
        if self.texts_scored == 0 or self.toxicity_seconds <= 0:
            return None
        return self.texts_scored / self.toxicity_seconds

    def lines(self) -> list[str]:
        """A short human summary for the CLI."""
        splits = ", ".join(f"{s} {n:,}" for s, n in self.pairs.items())
        rate = f" ({self.texts_per_second:,.0f} texts/s)" if self.texts_per_second else ""
        out = [
            f"pairs: {splits}; dropped: "
            + (", ".join(f"{k} {v:,}" for k, v in self.dropped.items() if v) or "none"),
            f"ratings {self.ratings:,}, responses {self.responses:,}, "
            f"toxic responses {self.toxic_responses:,}",
            f"toxicity ({self.toxicity_backend}): scored {self.texts_scored:,}{rate}, "
            f"cache hits {self.cache_hits:,}",
            f"written to {self.out}" + (f"; pushed to {self.pushed_to}" if self.pushed_to else ""),
        ]
        if self.redacted_texts:
            out.append(f"identifiers redacted in {self.redacted_texts:,} texts")
        return out + self.warnings

    def to_dict(self) -> dict:
        return {**asdict(self), "out": str(self.out)}


def _check_paths(study: Study, out: Path) -> None:
    warehouse = study.warehouse.resolve()
    salt = privacy.salt_path(warehouse)
    for path, what in ((warehouse, "the warehouse"), (salt, "the pseudonym salt")):
        if path == out or path.is_relative_to(out):
            raise PublishError(f"publish.out {out} must not contain {what} ({path})")


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    rows = con.execute(sql).fetchall()
    return rows[0][0] if rows else None


def _facts(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    study: Study,
    tox: toxicity.ToxicityStats,
    pair_splits: dict[str, int],
    files: dict[str, dict[str, str]],
    rows: dict[str, dict[str, int]],
    dropped: dict[str, int],
    redacted: int,
    repo_id: str | None,
    names: dict[str, list[str]],
    redact: Callable[[str], str],
    study_text: card.StudyText,
    changelog: list[str],
    generated_at: str,
) -> card.CardFacts:
    """What the card says. `names` are the study's names as published (redacted, see
    `_card_names`); `redact` is applied to the agreement scopes (`workspace/dataset`)."""
    pp, pr = marts.ref("preference_pairs"), marts.ref("pair_ratings")
    wr, qq = marts.ref("written_responses"), marts.ref("question_quality")
    # One unit for both: a question's mean quality, each rated question weighing the same.
    q_mean, q_median, q_n, q_questions = con.execute(
        f"""
        select
            avg(mean_quality),
            median(mean_quality),
            coalesce(sum(n_quality_ratings), 0),
            count(*)
        from {qq}
        where n_quality_ratings > 0
        """
    ).fetchall()[0]
    agreement = con.execute(
        f"""
        select study, {redact("scope")} as scope, level, alpha, n_units, n_coders, n_values
        from {marts.ref("study_agreement")}
        order by study, scope <> 'overall', scope, level
        """
    ).fetchall()
    cols = ("study", "scope", "level", "alpha", "n_units", "n_coders", "n_values")
    scale = study.argilla.rating.scale
    quality = study.argilla.writing.quality_scale
    return card.CardFacts(
        name=names["name"][0],
        license=study.publish.license,
        language=list(study.publish.card.language),
        repo_id=repo_id,
        folder_name=names["folder"][0],
        pair_splits=pair_splits,
        files=files,
        rows=rows,
        dropped=dropped,
        n_pairs_rated=int(_scalar(con, f"select count(*) from {pp}")),
        n_questions=int(_scalar(con, f"select count(*) from {marts.ref('question_splits')}")),
        n_responses=int(_scalar(con, f"select count(*) from {wr}")),
        n_ratings=int(_scalar(con, f"select count(*) from {pr}")),
        n_raters=int(_scalar(con, f"select count(distinct rater_user_id) from {pr}")),
        n_writers=int(_scalar(con, f"select count(distinct writer_user_id) from {wr}")),
        scale_min=scale.min,
        scale_max=scale.max,
        quality_min=quality.min,
        quality_max=quality.max,
        quality_mean=None if q_mean is None else float(q_mean),
        quality_median=None if q_median is None else float(q_median),
        n_quality_ratings=int(q_n),
        n_quality_questions=int(q_questions),
        agreement=[dict(zip(cols, row, strict=True)) for row in agreement],
        toxicity_backend=tox.backend,
        toxicity_model=tox.model,
        toxicity_threshold=study.publish.toxicity.threshold,
        toxicity_limits=toxicity.limits_text(study.publish.toxicity),
        toxic_responses=tox.toxic_responses,
        toxic_pair_sides=int(
            _scalar(
                con,
                "select coalesce(sum(chosen_is_toxic::int + rejected_is_toxic::int), 0) "
                "from _pairs",
            )
        ),
        min_ratings=study.publish.min_ratings,
        min_margin=study.publish.min_margin,
        test_fraction=study.publish.test_fraction,
        validation_fraction=study.publish.validation_fraction,
        seed=study.publish.seed,
        redacted_texts=redacted,
        writing_sources=names["writing_sources"],
        rating_sources=names["rating_sources"],
        counted_statuses=list(study.prolific.counted_statuses),
        generated_at=generated_at,
        study=study_text,
        changelog=changelog,
        low_means=scale.low_means,
    )


def _card_names(study: Study) -> dict[str, list[str]]:
    """The names from study.yml the card (and a push's commit message) shows: a study, folder
    or Argilla dataset may be named after a participant, so they are redacted like any text."""
    return {
        "name": [study.publish.name or study.name],
        "folder": [Path(study.publish.out).name],
        "writing_sources": [s.label for s in study.argilla.writing.sources],
        "rating_sources": [s.label for s in study.argilla.rating.sources],
    }


def _card_texts(study: Study) -> dict[str, str]:
    """`publish.card`'s texts by key (scale labels as `scale_labels:<value>`), the guidelines
    file's text under `guidelines`: all are published, so all are redacted like any text."""
    cfg = study.publish.card
    texts = {
        key: value
        for key in (
            "version",
            "task_description",
            "recruitment",
            "pay",
            "intended_uses",
            "limitations",
            "citation",
        )  # fmt: skip
        if (value := getattr(cfg, key))
    }
    for key in ("scale_labels", "quality_scale_labels"):
        texts |= {f"{key}:{v}": label for v, label in getattr(cfg, key).items()}
    if cfg.guidelines is not None:
        try:
            texts["guidelines"] = cfg.guidelines.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PublishError(
                f"publish.card.guidelines: cannot read {cfg.guidelines}: {exc}"
            ) from None
        texts["guidelines_name"] = cfg.guidelines.name
    return texts


def _study_text(texts: dict[str, str]) -> card.StudyText:
    def labels(key: str) -> dict[int, str]:
        return {int(k.split(":")[1]): v for k, v in texts.items() if k.startswith(f"{key}:")}

    plain = ("version", "task_description", "guidelines", "guidelines_name", "recruitment", "pay",
             "intended_uses", "limitations", "citation")  # fmt: skip
    return card.StudyText(
        **{key: texts.get(key) for key in plain},
        scale_labels=labels("scale_labels"),
        quality_scale_labels=labels("quality_scale_labels"),
    )


def _previous_release(out: Path) -> dict | None:
    """The marker of the dataset now in `out` (read before it is replaced), if any."""
    try:
        marker = json.loads((out / dataset.MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _release_counts(rows: dict) -> dict[str, int]:
    """Rows per config, summed over its splits (`conversational` holds the rows of `pairs`).
    `rows` maps config -> split -> rows (a marker may also hold "config/split" -> rows)."""
    counts: dict[str, int] = {}
    for key, value in rows.items():
        config = key.split("/")[0]
        n = sum(int(v) for v in value.values()) if isinstance(value, dict) else int(value)
        if config != "conversational":
            counts[config] = counts.get(config, 0) + n
    return counts


def changelog(
    previous: dict | None, rows: dict, generated_at: str, version: str | None
) -> list[str]:
    """The card's changelog, newest first: this release's line (rows per config, and how many
    were added since the previous publish of the same folder), then the previous ones.

    The previous counts are the previous marker's `rows`; a marker of an older publish has only
    its `pairs` per split, so the other configs' changes are unknown there."""
    now = _release_counts(rows)
    before: dict[str, int] | None = None
    history: list[str] = []
    if previous is not None:
        if isinstance(previous.get("rows"), dict):
            before = _release_counts(previous["rows"])
        elif isinstance(previous.get("pairs"), dict):
            before = {"pairs": sum(int(n) for n in previous["pairs"].values())}
        else:
            before = {}
        history = [line for line in previous.get("changelog") or [] if isinstance(line, str)]

    def change(config: str) -> str:
        if before is None:
            return ""
        if config not in before:
            return " (change unknown)"
        return f" ({now[config] - before[config]:+,})"

    head = f"{generated_at}" + (f", version {version}" if version else "")
    counts = ", ".join(f"{config} {n:,}{change(config)}" for config, n in now.items())
    since = "first publish to this folder" if before is None else "change since the previous"
    return [f"{head}: {counts} ({since})", *history]


def run_publish(
    study: Study,
    *,
    push_to_hub: str | None = None,
    progress: bool = True,
    refresh_state: dict | None = None,
) -> PublishReport:
    """Score toxicity, build the dataset folder at `study.publish.out` atomically, optionally
    push it to the Hub. Raises PublishError (one-line message) on unusable input.

    `refresh_state` (from a refresh) is recorded in the marker, so the next refresh can tell
    that nothing changed since."""
    started = time.perf_counter()
    cfg = study.publish
    out = Path(os.path.abspath(cfg.out))
    _check_paths(study, out)
    token = hub.check_push(push_to_hub) if push_to_hub else None
    # What a killed publish left beside `out` (only folders proven to be its own).
    dataset.remove_leftover_temp(out)
    dataset.check_replaceable(out)
    previous = _previous_release(out)
    warehouse = study.warehouse.resolve()

    con = connect(warehouse, create=not is_duckdb(study))
    try:
        # A study built on another engine: its marts, copied here first.
        if is_duckdb(study):
            marts = find_marts(con, warehouse)
        else:
            marts = copy_marts(con, study, warehouse)
        salt = privacy.load_salt(warehouse)
        pairs.check_settings(con, marts, cfg)
        privacy.register_published_ids(con, salt)
        tox = toxicity.score_texts(con, marts, cfg.toxicity, study.root, progress=progress)
        dropped = pairs.build_pairs(con, marts, threshold=cfg.toxicity.threshold)
        privacy.register_pseudonyms(con, marts, salt)
        pr, wr = marts.ref("pair_ratings"), marts.ref("written_responses")
        names = _card_names(study)
        texts = _card_texts(study)
        con.execute(
            "create or replace temp table _card_names as select unnest($names) as text",
            {"names": [n for values in names.values() for n in values] + list(texts.values())},
        )
        # Every published free-text or name column: participants type ids into answers, and
        # some setups name a workspace or dataset after its annotator (agreement scopes are
        # `workspace/dataset`). `_text_toxicity` holds every response and published pair text.
        texts_sql = f"""
            select text from _text_toxicity
            union select prompt from {marts.ref("preference_pairs")}
            union select question_text from {wr}
            union select dataset from {wr} union select workspace from {wr}
            union select dataset from {pr} union select workspace from {pr}
            union select scope from {marts.ref("study_agreement")}
            union select text from _card_names
        """
        typed_in = privacy.identifiers_in(con, texts_sql, privacy.known_identifiers(con, marts))
        patterns = privacy.redaction_patterns(typed_in)

        def redact(column: str) -> str:
            return privacy.redact_sql(column, patterns)

        redacted = privacy.count_redacted(con, texts_sql, patterns)
        names = {k: privacy.redact_values(con, v, patterns) for k, v in names.items()}
        texts = dict(
            zip(texts, privacy.redact_values(con, list(texts.values()), patterns), strict=True)
        )
        study_text = _study_text(texts)

        # An empty split cannot be loaded by `datasets`: only splits with rows are written.
        counts = _split_counts(con, "select split from _pairs", "published pairs")
        if not counts:
            reasons = ", ".join(f"{k} {v}" for k, v in dropped.items() if v)
            if not reasons:
                raise NothingRated("no preference pair to publish: no pair has been rated yet")
            raise PublishError(f"no preference pair to publish (dropped: {reasons})")
        qs = marts.ref("question_splits")
        # Ratings and responses are split by their question, as the pairs are; a config
        # without any row still gets an (empty) train file, so the card's configs all load.
        rating_splits = _split_counts(
            con, f"select s.split from {pr} as r left join {qs} as s using (question_id)", "ratings"
        ) or {"train": 0}
        response_splits = _split_counts(
            con, f"select s.split from {wr} as w left join {qs} as s using (question_id)",
            "responses",
        ) or {"train": 0}  # fmt: skip
        _rating_pair_ids(con, marts)
        written: dict[str, dict[str, int]] = {}

        def build(folder: Path) -> None:
            files: dict[str, dict[str, str]] = {}
            # Each file straight from its query: from a temp table in between, a computed column
            # (a redacted text) would be declared `required` in the parquet schema when that
            # table holds no null in it.
            threshold = cfg.toxicity.threshold
            for config, split, sql in [
                *[("pairs", s, dataset.pairs_sql(s, redact)) for s in counts],
                *[("conversational", s, dataset.conversational_sql(s, redact)) for s in counts],
                *[("ratings", s, _ratings_sql(marts, redact, s)) for s in rating_splits],
                *[("responses", s, _responses_sql(marts, redact, threshold, s))
                  for s in response_splits],
            ]:  # fmt: skip
                path, rows = dataset.write_split(con, sql, folder, config, split)
                files.setdefault(config, {})[split] = path
                written.setdefault(config, {})[split] = rows
            generated_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            log = changelog(previous, written, generated_at, study_text.version)
            facts = _facts(
                con, marts, study, tox, counts, files, written, dropped, redacted, push_to_hub,
                names, redact, study_text, log, generated_at,
            )  # fmt: skip
            (folder / "README.md").write_text(card.render(facts), encoding="utf-8")
            dataset.write_marker(
                folder,
                {"generated_at": facts.generated_at, "version": study_text.version,
                 "pairs": counts, "rows": dict(written), "changelog": log, "dropped": dropped,
                 "toxicity_backend": tox.backend, "toxicity_model": tox.model,
                 "refresh_state": refresh_state},
            )  # fmt: skip

        dataset.write_atomically(out, build)
    except duckdb.Error as exc:
        # A mart whose types differ from the contract, most likely: one line for the CLI.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PublishError(f"reading the warehouse {warehouse} failed: {first}") from exc
    finally:
        con.close()

    pushed = None
    if push_to_hub and token:
        pushed = hub.push(out, push_to_hub, token, f"rlhfw publish {names['name'][0]}")
    warnings = []
    if cfg.test_fraction > 0 and counts.get("test", 0) == 0:
        warnings.append("warning: the test split is empty (too few questions for test_fraction)")
    if cfg.validation_fraction > 0 and counts.get("validation", 0) == 0:
        warnings.append(
            "warning: the validation split is empty (too few questions for validation_fraction)"
        )
    return PublishReport(
        out=out,
        pairs=counts,
        ties_dropped=dropped.get("tie", 0),
        dropped=dropped,
        ratings=sum(written["ratings"].values()),
        responses=sum(written["responses"].values()),
        texts_scored=tox.texts_scored,
        cache_hits=tox.cache_hits,
        toxic_responses=tox.toxic_responses,
        toxicity_backend=tox.backend,
        toxicity_model=tox.model,
        toxicity_seconds=tox.seconds,
        redacted_texts=redacted,
        pushed_to=pushed,
        seconds=time.perf_counter() - started,
        warnings=warnings,
    )


def _split_counts(con: duckdb.DuckDBPyConnection, sql: str, what: str) -> dict[str, int]:
    """Rows per split of a query's `split` column, in pairs.SPLITS order, only splits with
    rows. Raises PublishError for a row without a known split: it would be in no file."""
    found = dict(con.execute(f"select split, count(*) from ({sql}) group by 1").fetchall())
    unknown = sum(n for s, n in found.items() if s not in pairs.SPLITS)
    if unknown:
        raise PublishError(
            f"{unknown} {what} have no {'/'.join(pairs.SPLITS)} split: rebuild with `rlhfw build`"
        )
    return {s: int(found[s]) for s in pairs.SPLITS if found.get(s)}


def _rating_pair_ids(con: duckdb.DuckDBPyConnection, marts: Marts) -> None:
    """Temp table `_rating_pair_ids`: each rated pair's published ids and whether it is
    published, once per pair (warehouse pair and response ids as keys). The ratings files
    join it: a rating per row made 4 sha256 and the pair lookup 1.4M times at 100x, 2.8 ratings
    per pair."""
    ids = privacy.PUBLISHED_ID_MACRO
    con.execute(
        f"""
        create or replace temp table _rating_pair_ids as
        select
            pair_id,
            response_1_id,
            response_2_id,
            {ids}('pair', pair_id) as published_pair_id,
            {ids}('response', response_1_id) as published_response_1_id,
            {ids}('response', response_2_id) as published_response_2_id,
            pair_id in (select warehouse_pair_id from _pairs) as pair_published
        from (
            select distinct pair_id, response_1_id, response_2_id
            from {marts.ref("pair_ratings")}
        )
        """
    )


def _ratings_sql(marts: Marts, redact: Callable[[str], str], split: str) -> str:
    # Sorted by the published ids (the output columns): the order of the warehouse ids would
    # tell something about them. Response ids are the published ones, as in `pairs`; the
    # pair's come from `_rating_pair_ids`, and the one shown as A is one of the pair's two.
    ids = privacy.PUBLISHED_ID_MACRO
    return f"""
        select
            i.published_pair_id as pair_id,
            r.question_id,
            i.published_response_1_id as response_1_id,
            i.published_response_2_id as response_2_id,
            case r.response_a_id
                when r.response_1_id then i.published_response_1_id
                when r.response_2_id then i.published_response_2_id
                else {ids}('response', r.response_a_id)
            end as response_a_id,
            p.pseudonym as annotator_id,
            r.rating,
            r.oriented_rating,
            {redact("r.dataset")} as dataset,
            {redact("r.workspace")} as workspace,
            r.rated_at,
            i.pair_published
        from {marts.ref("pair_ratings")} as r
        left join _rating_pair_ids as i
            on i.pair_id is not distinct from r.pair_id
            and i.response_1_id is not distinct from r.response_1_id
            and i.response_2_id is not distinct from r.response_2_id
        left join _pseudonyms as p on p.user_id = cast(r.rater_user_id as varchar)
        left join {marts.ref("question_splits")} as s on s.question_id = r.question_id
        where s.split = '{split}'
        order by question_id, pair_id, annotator_id, rated_at
    """


def _responses_sql(marts: Marts, redact: Callable[[str], str], threshold: float, split: str) -> str:
    # Sorted by the published response id (the output column), as the ratings are.
    return f"""
        select
            {privacy.PUBLISHED_ID_MACRO}('response', w.response_id) as response_id,
            w.question_id,
            {redact("w.question_text")} as question_text,
            {redact("w.response_text")} as response_text,
            p.pseudonym as writer_id,
            {redact("w.dataset")} as dataset,
            {redact("w.workspace")} as workspace,
            w.responded_at,
            q.mean_quality as question_mean_quality,
            q.median_quality as question_median_quality,
            q.n_quality_ratings as question_n_quality_ratings,
            t.toxicity,
            t.toxicity >= {float(threshold)!r} as is_toxic
        from {marts.ref("written_responses")} as w
        left join _pseudonyms as p on p.user_id = cast(w.writer_user_id as varchar)
        left join {marts.ref("question_quality")} as q on q.question_id = w.question_id
        left join {marts.ref("response_toxicity")} as t on t.response_id = w.response_id
        left join {marts.ref("question_splits")} as s on s.question_id = w.question_id
        where s.split = '{split}'
        order by question_id, response_id
    """
