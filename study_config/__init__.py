"""The study configuration (`study.yml`), parsed once into typed objects.

Every path in the file is relative to the file itself. Errors raise `ConfigError`, whose
message names the file, the key and what was expected, in one line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PROLIFIC_STATUSES = (
    "RESERVED",
    "ACTIVE",
    "TIMED-OUT",
    "AWAITING REVIEW",
    "APPROVED",
    "RETURNED",
    "REJECTED",
    "SCREENED OUT",
)


class ConfigError(ValueError):
    """A study.yml that cannot be used. The message is one line, fit for a user."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProlificStudy(_Model):
    """One Prolific study: read from a CSV export, or from the API when `export` is absent."""

    study_id: str | None = None
    export: Path | None = None

    @model_validator(mode="after")
    def _one_way_in(self) -> ProlificStudy:
        if self.export is None and not self.study_id:
            raise ValueError("give `export` (a CSV file) or `study_id` (read from the API)")
        return self


class Prolific(_Model):
    writing: ProlificStudy | None = None
    rating: ProlificStudy | None = None
    counted_statuses: list[str] = Field(default_factory=lambda: ["APPROVED", "AWAITING REVIEW"])

    @model_validator(mode="after")
    def _known_statuses(self) -> Prolific:
        unknown = [s for s in self.counted_statuses if s not in PROLIFIC_STATUSES]
        if unknown:
            raise ValueError(f"unknown status {unknown[0]!r}; expected one of {PROLIFIC_STATUSES}")
        return self


class ArgillaSource(_Model):
    """One Argilla dataset: an export file/folder, or a live dataset on a server."""

    export: Path | None = None
    dataset: str | None = None
    workspace: str | None = None
    # records.json (to_disk) carries no response status: count such responses or not.
    status_if_missing: Literal["submitted", "exclude"] = "submitted"
    # Optional labels; default to the export's file name or the live dataset/workspace.
    name: str | None = None

    @model_validator(mode="after")
    def _one_way_in(self) -> ArgillaSource:
        if (self.export is None) == (self.dataset is None):
            raise ValueError("give exactly one of `export` (a file/folder) or `dataset` (live)")
        return self

    @property
    def is_live(self) -> bool:
        return self.export is None

    @property
    def label(self) -> str:
        """The dataset name this source lands under."""
        if self.name:
            return self.name
        if self.dataset:
            return self.dataset
        assert self.export is not None
        return self.export.name.split(".")[0]

    @property
    def workspace_label(self) -> str:
        return self.workspace or "default"


class Scale(_Model):
    min: int = 1
    max: int = 8
    low_means: Literal["response_a", "response_b"] = "response_a"

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        return self


class WritingStudy(_Model):
    sources: list[ArgillaSource]
    question_field: str = "question"
    response_question: str = "response"
    quality_question: str | None = "question_quality"
    quality_scale: Scale = Scale(min=1, max=5)
    expected_responses_per_question: int = Field(default=4, ge=1)
    # Metadata key holding a stable question id, when the study has one.
    question_id_metadata: str | None = None
    # `rlhfw setup writing`: the guidelines file shown in the writing datasets.
    guidelines: Path | None = None


class RatingStudy(_Model):
    sources: list[ArgillaSource]
    question_field: str = "question"
    response_a_field: str = "response_a"
    response_b_field: str = "response_b"
    rating_question: str = "preference"
    scale: Scale = Scale()
    expected_ratings_per_pair: int = Field(default=3, ge=1)
    # Metadata keys that name the writing study's (question, writer) of each side, if present.
    response_a_metadata: str | None = None
    response_b_metadata: str | None = None
    # The rating tasks (mart `rating_tasks`): at most this many pairs per question (None: all
    # pairs of its counted answers), chosen and shown in an order drawn from `pairs_seed`.
    pairs_per_question: int | None = Field(default=None, ge=1)
    pairs_seed: int = 42
    # `rlhfw setup rating`: the guidelines file shown in the rating dataset.
    guidelines: Path | None = None


class Argilla(_Model):
    users: Path | None = None
    writing: WritingStudy
    rating: RatingStudy


class Portal(_Model):
    """`rlhfw portal`: the page the Prolific study URL points to. It gives each participant an
    Argilla account in a workspace of their study and appends the assignment to `assignments`
    (a CSV that extract lands as study/portal_assignments)."""

    assignments: Path = Path("portal/assignments.csv")
    # The Argilla address shown to participants (default: ARGILLA_API_URL).
    argilla_public_url: str | None = None
    # The workspaces a study's participants are spread over (least-loaded first); default: the
    # workspaces of that study's live Argilla sources.
    workspaces: dict[Literal["writing", "rating"], list[str]] = Field(default_factory=dict)


class Participants(_Model):
    argilla_username_is_prolific_pid: bool = True
    mapping: Path | None = None

    @model_validator(mode="after")
    def _mapping_when_needed(self) -> Participants:
        if not self.argilla_username_is_prolific_pid and self.mapping is None:
            raise ValueError("`mapping` is required when argilla_username_is_prolific_pid is false")
        return self


class Toxicity(_Model):
    backend: Literal["profanity", "transformers"] = "profanity"
    threshold: float = Field(default=0.5, ge=0, le=1)
    model: Path | None = None  # transformers: a local model directory
    positive_labels: list[str] = Field(default_factory=list)
    batch_size: int = Field(default=32, ge=1)
    max_length: int = Field(default=512, ge=8)
    allow_hub: bool = False

    @model_validator(mode="after")
    def _model_for_transformers(self) -> Toxicity:
        if self.backend == "transformers" and self.model is None:
            raise ValueError("backend `transformers` needs `model` (a local model directory)")
        return self


class Card(_Model):
    """What the dataset card says about the study (`publish.card`), every key optional: a
    missing one is left out of the card (`language` defaults to English). Texts are published as
    written, after the same redaction of known identifiers as every published text."""

    version: str | None = None  # the release's version, e.g. "1.2.0"
    language: list[str] = Field(default_factory=lambda: ["en"])  # ISO 639-1 codes
    task_description: str | None = None  # what participants were asked to do
    guidelines: Path | None = None  # a text/markdown file shown to participants (included)
    scale_labels: dict[int, str] = Field(default_factory=dict)  # rating value -> label
    quality_scale_labels: dict[int, str] = Field(default_factory=dict)  # quality value -> label
    recruitment: str | None = None  # who was recruited, how many, which pools
    pay: str | None = None  # what participants were paid
    intended_uses: str | None = None
    limitations: str | None = None
    citation: str | None = None  # BibTeX

    @model_validator(mode="before")
    @classmethod
    def _language_list(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("language"), str):
            return {**data, "language": [data["language"]]}
        return data

    @model_validator(mode="after")
    def _language_codes(self) -> Card:
        bad = [c for c in self.language if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", c)]
        if bad or not self.language:
            raise ValueError(
                f"language: expected a list of language codes like `en` (got {bad or []!r})"
            )
        return self


class Publish(_Model):
    out: Path = Path("data/dataset")
    name: str | None = None
    license: str = "cc-by-4.0"
    min_ratings: int = Field(default=1, ge=1)
    min_margin: float = Field(default=0.0, ge=0)
    test_fraction: float = Field(default=0.1, ge=0, lt=1)
    # Optional third split, by the same per-question hash: 0 publishes train and test only.
    validation_fraction: float = Field(default=0.0, ge=0, lt=1)
    seed: int = 42
    toxicity: Toxicity = Toxicity()
    card: Card = Card()

    @model_validator(mode="after")
    def _fractions_leave_a_train_split(self) -> Publish:
        if self.test_fraction + self.validation_fraction >= 1:
            raise ValueError("test_fraction + validation_fraction must be less than 1")
        return self


class Study(_Model):
    name: str
    warehouse: Path = Path("data/warehouse.duckdb")
    landing: Path = Path("data/landing")
    # The profiles.yml target that builds the models (engines/__init__.py): unset is the DuckDB
    # file at `warehouse`; `postgres` or `spark` build the same models there.
    target: str | None = None
    prolific: Prolific = Prolific()
    argilla: Argilla
    participants: Participants = Participants()
    portal: Portal | None = None
    publish: Publish = Publish()
    # Where this config was read from; set by `load_study`.
    path: Path = Path("study.yml")

    @property
    def root(self) -> Path:
        return self.path.parent

    @model_validator(mode="after")
    def _labels_on_the_scales(self) -> Study:
        card = self.publish.card
        for key, labels, scale in (
            ("scale_labels", card.scale_labels, self.argilla.rating.scale),
            ("quality_scale_labels", card.quality_scale_labels, self.argilla.writing.quality_scale),
        ):
            off = [v for v in labels if not scale.min <= v <= scale.max]
            if off:
                raise ValueError(
                    f"publish.card.{key}: value {off[0]} is off the scale {scale.min}-{scale.max}"
                )
        return self


def _resolve_paths(node: object, base: Path) -> object:
    """Make every Path in the parsed config absolute, relative to the config's folder."""
    if isinstance(node, Path):
        return node if node.is_absolute() else (base / node).resolve()
    if isinstance(node, BaseModel):
        updates = {
            name: _resolve_paths(getattr(node, name), base)
            for name in type(node).model_fields
            if name != "path"
        }
        return node.model_copy(update=updates)
    if isinstance(node, list):
        return [_resolve_paths(item, base) for item in node]
    return node


def _error_line(path: Path, err: ValidationError) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        msg = "required key is missing"
    elif first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif "input" in first and first["type"] not in ("missing",):
        msg = f"{msg} (got {first['input']!r})"[:300]
    more = f" (+{len(err.errors()) - 1} more)" if len(err.errors()) > 1 else ""
    return f"{path}: {key}: {msg}{more}"


def _check_files(study: Study) -> None:
    """Every export/users/mapping file named in the config must exist (the toxicity model may
    be a hub id, checked when it loads)."""
    for key, file in _inputs(study):
        if key != "publish.toxicity.model" and not file.exists():
            raise ConfigError(f"{study.path}: {key}: file not found: {file}")


def _inputs(study: Study) -> list[tuple[str, Path]]:
    """Every input file or folder the config names, by key (rlhfw only ever reads these)."""
    named: list[tuple[str, Path | None]] = [
        ("argilla.users", study.argilla.users),
        ("participants.mapping", study.participants.mapping),
        ("publish.toxicity.model", study.publish.toxicity.model),
        ("publish.card.guidelines", study.publish.card.guidelines),
        ("argilla.writing.guidelines", study.argilla.writing.guidelines),
        ("argilla.rating.guidelines", study.argilla.rating.guidelines),
    ]
    for role in ("writing", "rating"):
        p = getattr(study.prolific, role)
        if p is not None:
            named.append((f"prolific.{role}.export", p.export))
        for i, src in enumerate(getattr(study.argilla, role).sources):
            named.append((f"argilla.{role}.sources.{i}.export", src.export))
    return [(key, file) for key, file in named if file is not None]


def _overlap(a: Path, b: Path) -> str | None:
    """How `a` lies relative to `b` on disk ("is", "is inside", "contains"), or None if apart.

    Both are compared with symlinks and `..` resolved, so a link cannot hide an overlap."""
    a, b = a.resolve(), b.resolve()
    if a == b:
        return "is"
    if b in a.parents:
        return "is inside"
    if a in b.parents:
        return "contains"
    return None


def _check_layout(study: Study) -> None:
    """Refuse outputs that would overwrite or replace each other or an input.

    publish.out is replaced wholesale on every publish (publish/dataset.py), so it must share
    nothing with anything else. It may sit inside the config's folder (the default
    `data/dataset` does), but not be that folder or hold it. The warehouse and the landing zone
    are written into, so they must be apart from each other and from every input."""
    out = ("publish.out", study.publish.out)
    landing = ("landing", study.landing)
    warehouse = ("warehouse", study.warehouse)
    inputs = _inputs(study)
    config = ("the config", study.path)
    replaced = "publish replaces publish.out wholesale, so it must be a folder of its own"
    written = "rlhfw writes there, so it must be apart from"
    any_way = ("is", "is inside", "contains")
    # (checked path, the paths it must not overlap, the overlaps refused, why)
    rules = [
        (out, [("the config's folder", study.root)], ("is", "contains"), replaced),
        (out, [landing, warehouse, *inputs], any_way, replaced),
        (warehouse, [landing], any_way, f"{written} the landing zone"),
        (warehouse, [*inputs, config], any_way, f"{written} the inputs"),
        (landing, [*inputs, config], any_way, f"{written} the inputs"),
    ]
    for (key, path), others, counted, why in rules:
        for other_key, other in others:
            how = _overlap(path, other)
            if how in counted:
                raise ConfigError(
                    f"{study.path}: {key}: {path.resolve()} {how} {other_key} "
                    f"({other.resolve()}); {why}"
                )


def _check_warehouse_name(study: Study) -> None:
    """Refuse a warehouse path that dbt-duckdb would misread (its folders may be named anyhow).

    DuckDB names the database after the file name up to its first dot, and dbt-duckdb writes
    that name into its SQL unquoted, so a quote in it breaks every build. dbt-duckdb also
    derives that name from the path read as a URL: a # or ? anywhere, or a ; in the file name,
    makes it a name other than DuckDB's, and dbt cannot find its own database."""
    path = study.warehouse
    database = path.name.lstrip(".").split(".")[0]
    if not database or "'" in database or '"' in database:
        why = (
            "the file name up to its first dot names the DuckDB database: it must not be empty "
            "or hold a quote (' or \")"
        )
    elif "#" in str(path) or "?" in str(path) or ";" in path.name:
        why = "dbt-duckdb reads the path as a URL: it must not hold # or ? (nor ; in the file name)"
    else:
        return
    raise ConfigError(f"{study.path}: warehouse: {why} (got {str(path)!r})")


def _unwritable(path: Path, kind: Literal["file", "folder"]) -> str | None:
    """Why rlhfw could not create or write `path` (a file or a folder), or None if it can.

    Permission is asked with os.access: that also answers no on a read-only file system, for
    root too (root ignores permission bits, so as root only a read-only mount says no)."""
    if path.exists():
        if kind == "folder" and not path.is_dir():
            return f"{path} is a file, not a folder"
        if kind == "file" and path.is_dir():
            return f"{path} is a folder, not a file"
        # A file needs its folder writable too: DuckDB keeps its write-ahead log beside it.
        for target in (path, path.parent) if kind == "file" else (path,):
            mode = (os.W_OK | os.X_OK) if target.is_dir() else os.W_OK
            if not os.access(target, mode):
                return f"{target} is not writable"
        return None
    # Not there yet: it is created under its nearest existing ancestor, which must be a
    # writable folder (exists() is false for a path under a file, so the walk stops at it).
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is a file, not a folder"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"{ancestor} is not writable"
    return None


def check_writable(study: Study) -> None:
    """Refuse, in one line, a warehouse, landing zone or publish.out that cannot be written.

    Checked when the config loads, for every command: extract writes the landing zone, build
    and publish the warehouse (and the refresh lock beside it), publish its folder. A landing
    zone that is only read (a `build` from a read-only copy) is refused too: one check, before
    anything runs, instead of an OSError halfway through a refresh."""
    for key, path, kind in (
        ("warehouse", study.warehouse, "file"),
        ("landing", study.landing, "folder"),
        ("publish.out", study.publish.out, "folder"),
    ):
        why = _unwritable(path, kind)
        if why:
            raise ConfigError(f"{study.path}: {key}: cannot write {path}: {why}")


def load_study(path: str | Path, check_files: bool = True) -> Study:
    """Read and validate a study.yml. Raises ConfigError with a one-line message."""
    path = Path(path).resolve()
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: (top level): expected a mapping of keys, got {type(raw).__name__}"
        )
    try:
        study = Study.model_validate({**raw, "path": path})
    except ValidationError as err:
        raise ConfigError(_error_line(path, err)) from None
    study = _resolve_paths(study, path.parent)
    assert isinstance(study, Study)
    if check_files:
        _check_files(study)
    _check_warehouse_name(study)
    _check_layout(study)
    check_writable(study)
    return study
