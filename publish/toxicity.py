"""Toxicity scores for every published text, cached by text hash, written back to the warehouse.

Backends (`publish.toxicity.backend` in study.yml):

- `profanity` (default, offline): alt-profanity-check's shipped model (TF-IDF + calibrated
  linear SVM). An offensive-language score: it flags "I hate Mondays" and profanity used
  positively, and misses hate speech that uses no slur.
- `transformers`: a local text-classification model directory. `positive_labels` name the
  labels (from the model's `config.id2label`) that count as toxic. Single-label models
  (softmax): the score is the SUM of the positive labels' probabilities, i.e. the probability
  that the text is in any positive class. Multi-label models (`problem_type:
  multi_label_classification`, sigmoid): the score is the MAX of the positive labels'
  probabilities, since independent sigmoids can sum past 1.

Cache: table `toxicity_cache (backend, model, text_sha256, toxicity, scored_at)` in the warehouse,
in the marts' schema, one row per text (by the sha256 of its UTF-8 bytes) and what its score
depends on: the backend and the model's identity. dbt never touches it, and a publish scores
only the texts whose hash is not there for this backend and model. The transformers model id is
a fingerprint of the model directory's files, the positive labels and max_length, so a changed
model or setting is rescored. Scores are stored raw; `is_toxic` (score >= threshold) is applied
at publish time, so changing the threshold rescores nothing. Scores are inserted chunk by chunk,
so a long run that is interrupted keeps what it scored. `response_toxicity` (the written
responses' scores, for SQL) is written again from the cache by every publish.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import duckdb
import numpy as np
import pyarrow as pa
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from publish.errors import PublishError
from publish.warehouse import Marts
from study_config import Toxicity

PROFANITY_LIMITS = (
    "alt-profanity-check is a TF-IDF + linear SVM model trained on offensive-language data "
    "(Davidson et al. 2017 and Jigsaw comments). It scores offensive language, not harm: it "
    'flags harmless uses of strong words ("I hate Mondays", profanity used positively), misses '
    "hateful or demeaning text that uses no slur or swear word, does not understand context or "
    "sarcasm, and was trained on English only."
)
TRANSFORMERS_LIMITS = (
    "A classifier reflects its training data: check the model's own card for the kinds of "
    "toxicity it was trained to detect, its languages and its known biases. Scores were computed "
    "on texts truncated to {max_length} tokens."
)

# Show a progress bar when scoring is likely to take more than a few seconds.
_PROGRESS_MIN_TEXTS = 5000
_PROFANITY_CHUNK = 10_000
_TRANSFORMERS_CHUNK_BATCHES = 20


class Scorer(Protocol):
    backend: str
    model_id: str
    chunk_size: int

    def load(self) -> None: ...

    def score(self, texts: list[str]) -> np.ndarray: ...


class ProfanityScorer:
    backend = "profanity"
    chunk_size = _PROFANITY_CHUNK

    def __init__(self) -> None:
        self.model_id = f"alt-profanity-check=={importlib.metadata.version('alt-profanity-check')}"

    def load(self) -> None:
        # Importing unpickles the model (~3 s): done once, outside the timed scoring.
        from profanity_check import predict_prob

        self._predict = predict_prob

    def score(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._predict(texts), dtype=np.float64)


def _fingerprint(model_dir: Path, extra: str) -> str:
    """Hash of the model directory's top-level files (names and bytes) and the settings."""
    h = hashlib.sha256(extra.encode())
    for file in sorted(p for p in model_dir.iterdir() if p.is_file()):
        h.update(file.name.encode())
        with file.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:12]


class TransformersScorer:
    backend = "transformers"

    def __init__(self, cfg: Toxicity, study_root: Path) -> None:
        assert cfg.model is not None  # the config validator guarantees it
        self.cfg = cfg
        self.chunk_size = cfg.batch_size * _TRANSFORMERS_CHUNK_BATCHES
        settings = f"labels={sorted(cfg.positive_labels)};max_length={cfg.max_length}"
        if cfg.model.is_dir():
            self.source = str(cfg.model)
            self.model_id = f"{cfg.model.name}@{_fingerprint(cfg.model, settings)}"
        elif cfg.allow_hub:
            # The config resolved the path; the hub id is the value as written in study.yml.
            try:
                self.source = cfg.model.relative_to(study_root).as_posix()
            except ValueError:
                self.source = cfg.model.as_posix()
            digest = hashlib.sha256(settings.encode()).hexdigest()[:12]
            self.model_id = f"{self.source}@{digest}"
        else:
            raise PublishError(
                f"toxicity model directory not found: {cfg.model} "
                "(set publish.toxicity.allow_hub: true to download a hub model)"
            )
        self._loaded: tuple | None = None

    def load(self) -> None:
        self._load()

    def _load(self) -> tuple:
        if self._loaded is not None:
            return self._loaded
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        local = not self.cfg.allow_hub
        try:
            tok = AutoTokenizer.from_pretrained(self.source, local_files_only=local)
            model = AutoModelForSequenceClassification.from_pretrained(
                self.source, local_files_only=local
            )
        except (OSError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise PublishError(f"cannot load toxicity model {self.source}: {first}") from None
        id2label = {int(k): str(v) for k, v in model.config.id2label.items()}
        wanted = self.cfg.positive_labels
        if not wanted:
            raise PublishError(
                f"publish.toxicity.positive_labels is empty; the model's labels are "
                f"{sorted(id2label.values())}"
            )
        unknown = [lab for lab in wanted if lab not in id2label.values()]
        if unknown:
            raise PublishError(
                f"publish.toxicity.positive_labels: {unknown[0]!r} is not a label of "
                f"{self.source}; its labels are {sorted(id2label.values())}"
            )
        positive = sorted(i for i, lab in id2label.items() if lab in wanted)
        multi_label = model.config.problem_type == "multi_label_classification"
        if tok.pad_token is None:
            if tok.eos_token is None:
                raise PublishError(f"tokenizer of {self.source} has no pad or eos token")
            tok.pad_token = tok.eos_token
        if model.config.pad_token_id is None:
            model.config.pad_token_id = tok.pad_token_id
        max_length = self.cfg.max_length
        if tok.model_max_length and tok.model_max_length < 1_000_000:
            max_length = min(max_length, int(tok.model_max_length))
        device = "cuda" if torch.cuda.is_available() else "cpu"
        model.to(device).eval()
        self._loaded = (torch, tok, model, positive, multi_label, max_length, device)
        return self._loaded

    def score(self, texts: list[str]) -> np.ndarray:
        torch, tok, model, positive, multi_label, max_length, device = self._load()
        # Sort by length so each batch pads to a similar length; results are put back in order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty(len(texts), dtype=np.float64)
        index = torch.tensor(positive, device=device)
        bs = self.cfg.batch_size
        with torch.inference_mode():
            for start in range(0, len(order), bs):
                idx = order[start : start + bs]
                enc = tok(
                    [texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=max_length,
                    return_tensors="pt",
                ).to(device)
                logits = model(**enc).logits.float()
                if multi_label:
                    probs = torch.sigmoid(logits).index_select(1, index).max(dim=1).values
                else:
                    probs = torch.softmax(logits, dim=-1).index_select(1, index).sum(dim=1)
                out[idx] = probs.clamp(0, 1).cpu().numpy()
        return out


def make_scorer(cfg: Toxicity, study_root: Path) -> Scorer:
    if cfg.backend == "profanity":
        return ProfanityScorer()
    return TransformersScorer(cfg, study_root)


def limits_text(cfg: Toxicity) -> str:
    if cfg.backend == "profanity":
        return PROFANITY_LIMITS
    return TRANSFORMERS_LIMITS.format(max_length=cfg.max_length)


@dataclass(frozen=True)
class ToxicityStats:
    backend: str
    model: str
    texts: int  # distinct texts needing a score (responses, questions are not scored)
    texts_scored: int  # newly scored this run
    cache_hits: int
    seconds: float  # time spent scoring
    responses: int
    toxic_responses: int

    @property
    def texts_per_second(self) -> float | None:
        return self.texts_scored / self.seconds if self.seconds > 0 else None


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} texts/s" if speed else "… texts/s", style="progress.data.speed")


@contextmanager
def _progress(show: bool, total: int, label: str) -> Iterator[Callable[[int], None]]:
    if not show:
        yield lambda n: None
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _ensure_cache(con: duckdb.DuckDBPyConnection, marts: Marts) -> str:
    cache = marts.ref("toxicity_cache")
    con.execute(
        f"""
        create table if not exists {cache} (
            backend varchar not null,
            model varchar not null,
            text_sha256 varchar not null,
            toxicity double not null,
            scored_at timestamp with time zone not null,
            primary key (backend, model, text_sha256)
        )
        """
    )
    return cache


def score_texts(
    con: duckdb.DuckDBPyConnection,
    marts: Marts,
    cfg: Toxicity,
    study_root: Path,
    *,
    progress: bool = True,
) -> ToxicityStats:
    """Score every written response and published pair text the cache lacks for this backend
    and model; write `response_toxicity`. Leaves temp table `_text_toxicity (text, toxicity,
    scored_at)` for the later steps, which join it on the text itself: every text is in it,
    and comparing strings is cheaper than hashing each side."""
    scorer = make_scorer(cfg, study_root)
    cache = _ensure_cache(con, marts)
    wr, pairs = marts.ref("written_responses"), marts.ref("preference_pairs")
    rt = marts.ref("response_toxicity")
    key = [scorer.backend, scorer.model_id]
    # Pair texts are scored too, so a pair side never lacks a score even if its text differs
    # from the written response it was linked to (none does, in a warehouse dbt built).
    # Distinct texts first, then one hash per text (not one per pair side).
    con.execute(
        f"""
        create or replace temp table _texts as
        select sha256(t) as text_sha256, t as text
        from (
            select distinct t
            from (
                select response_text as t from {wr}
                union all select chosen from {pairs} where is_published
                union all select rejected from {pairs} where is_published
            )
            where t is not null
        )
        """
    )
    n_texts = con.execute("select count(*) from _texts").fetchall()[0][0]
    missing = con.sql(
        f"""
        select x.text_sha256, x.text
        from _texts as x
        anti join (select text_sha256 from {cache} where backend = ? and model = ?) as c
            using (text_sha256)
        order by length(x.text), x.text_sha256
        """,
        params=key,
    ).to_arrow_table()
    n_missing = missing.num_rows
    seconds = 0.0
    show = (
        progress
        and n_missing > 0
        and (scorer.backend == "transformers" or n_missing >= _PROGRESS_MIN_TEXTS)
    )
    if n_missing:
        scorer.load()  # only now: a refresh with everything cached never loads a model
    with _progress(show, n_missing, f"toxicity ({scorer.backend})") as advance:
        for start in range(0, n_missing, scorer.chunk_size):
            chunk = missing.slice(start, scorer.chunk_size)
            texts = chunk.column("text").to_pylist()
            t0 = time.perf_counter()
            scores = scorer.score(texts)
            seconds += time.perf_counter() - t0
            if scores.shape != (len(texts),) or not np.isfinite(scores).all():
                raise PublishError(f"toxicity backend {scorer.backend} returned invalid scores")
            scored = pa.table(
                {"text_sha256": chunk.column("text_sha256"), "toxicity": pa.array(scores)}
            )
            con.register("_scored", scored)
            con.execute(
                f"""
                insert into {cache}
                select ?, ?, text_sha256, toxicity, now() from _scored
                """,
                key,
            )
            con.unregister("_scored")
            advance(len(texts))
    con.execute(
        f"""
        create or replace temp table _text_toxicity as
        select x.text, c.toxicity, c.scored_at
        from _texts as x
        inner join {cache} as c using (text_sha256)
        where c.backend = ? and c.model = ?
        """,
        key,
    )
    con.execute(
        f"""
        create or replace table {rt} as
        select
            wr.response_id,
            t.toxicity,
            t.toxicity >= ? as is_toxic,
            ? as backend,
            ? as model,
            t.scored_at
        from {wr} as wr
        inner join _text_toxicity as t on t.text = wr.response_text
        order by wr.response_id
        """,
        [cfg.threshold, *key],
    )
    responses, toxic = con.execute(
        f"select count(*), count(*) filter (where is_toxic) from {rt}"
    ).fetchall()[0]
    return ToxicityStats(
        backend=scorer.backend,
        model=scorer.model_id,
        texts=n_texts,
        texts_scored=n_missing,
        cache_hits=n_texts - n_missing,
        seconds=seconds,
        responses=responses,
        toxic_responses=toxic,
    )
