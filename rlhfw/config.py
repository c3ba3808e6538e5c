"""The study configuration (`study.yml`), parsed once into typed objects.

Every path in the file is relative to the file itself. Errors raise `ConfigError`, whose
message names the file, the key and what was expected, in one line.
"""

from __future__ import annotations

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


class Argilla(_Model):
    users: Path | None = None
    writing: WritingStudy
    rating: RatingStudy


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


class Publish(_Model):
    out: Path = Path("data/dataset")
    name: str | None = None
    license: str = "cc-by-4.0"
    min_ratings: int = Field(default=1, ge=1)
    min_margin: float = Field(default=0.0, ge=0)
    test_fraction: float = Field(default=0.1, ge=0, lt=1)
    seed: int = 42
    toxicity: Toxicity = Toxicity()


class Study(_Model):
    name: str
    warehouse: Path = Path("data/warehouse.duckdb")
    landing: Path = Path("data/landing")
    prolific: Prolific = Prolific()
    argilla: Argilla
    participants: Participants = Participants()
    publish: Publish = Publish()
    # Where this config was read from; set by `load_study`.
    path: Path = Path("study.yml")

    @property
    def root(self) -> Path:
        return self.path.parent


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
    """Every export/users/mapping file named in the config must exist."""
    checks: list[tuple[str, Path | None]] = [
        ("argilla.users", study.argilla.users),
        ("participants.mapping", study.participants.mapping),
    ]
    for role in ("writing", "rating"):
        p = getattr(study.prolific, role)
        if p is not None:
            checks.append((f"prolific.{role}.export", p.export))
        for i, src in enumerate(getattr(study.argilla, role).sources):
            checks.append((f"argilla.{role}.sources.{i}.export", src.export))
    for key, file in checks:
        if file is not None and not file.exists():
            raise ConfigError(f"{study.path}: {key}: file not found: {file}")


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
    return study
