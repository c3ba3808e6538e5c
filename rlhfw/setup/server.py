"""What `setup writing` and `setup rating` share: the connection to the live Argilla server,
datasets made or checked against the settings the study asks for, the record ids already there,
the least-loaded spreading of new records, and logging them.

Every SDK failure becomes a one-line SetupError; the API key never appears in a message."""

from __future__ import annotations

import contextlib
import io
import json
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from extract.argilla.api import _without_credentials
from rlhfw.setup import SetupError
from study_config import ArgillaSource

Log = Callable[[str], None]
# The server refuses more per bulk request (argilla's MAX_RECORDS_PER_UPSERT_BULK).
BATCH = 500
PAGE = 1000


@dataclass
class Target:
    """One live source: its dataset on the server, the records it holds (id -> metadata)."""

    source: ArgillaSource
    dataset: object = None  # rg.Dataset
    created: bool = False
    records: dict[str, dict] = field(default_factory=dict)
    new: list = field(default_factory=list)  # rg.Record to log

    @property
    def label(self) -> str:
        return f"{self.source.workspace}/{self.source.dataset}"

    @property
    def load(self) -> int:
        return len(self.records) + len(self.new)


def live_targets(sources: list[ArgillaSource], key: str) -> list[Target]:
    """The study's live sources (export files are not set up), each (workspace, dataset) once."""
    targets: dict[tuple, Target] = {}
    for i, src in enumerate(sources):
        if not src.is_live:
            continue
        if not src.workspace:
            raise SetupError(f"{key}.sources.{i}: setup needs the dataset's `workspace`")
        targets.setdefault((src.workspace, src.dataset), Target(src))
    if not targets:
        raise SetupError(
            f"{key}.sources: no live source (`dataset` + `workspace`) to set up; "
            "export files are only read"
        )
    return list(targets.values())


@contextlib.contextmanager
def sdk_errors(url: str, key: str) -> Iterator[None]:
    """Map the SDK's and httpx's exceptions to one SetupError line, the key blanked out."""
    import httpx
    from argilla._exceptions import (
        ArgillaCredentialsError,
        ArgillaError,
        ForbiddenError,
        UnauthorizedError,
    )

    try:
        with warnings.catch_warnings():
            # The SDK warns on a lookup that finds nothing: an expected case here.
            warnings.simplefilter("ignore")
            yield
    except httpx.TransportError as exc:
        raise SetupError(
            _clean(f"cannot reach Argilla at {url} ({exc or type(exc).__name__})", key)
        ) from None
    except ArgillaError as exc:
        if isinstance(exc, (ArgillaCredentialsError, UnauthorizedError, ForbiddenError)):
            raise SetupError(
                f"Argilla at {url} refused ARGILLA_API_KEY (an owner or admin key is needed to "
                "create workspaces and datasets)"
            ) from None
        # The SDK wraps some failures (a dataset it could not publish) in a bare error.
        text = str(exc).strip() or str(exc.__cause__ or "").strip() or type(exc).__name__
        first = text.splitlines()[0][:300]
        raise SetupError(_clean(f"Argilla at {url}: {first}", key)) from None
    except json.JSONDecodeError as exc:  # not the API's JSON: a web page, a proxy
        raise SetupError(
            _clean(f"{url} did not answer as the Argilla API ({exc}); check ARGILLA_API_URL", key)
        ) from None


def _clean(message: str, key: str) -> str:
    return message.replace(key, "***") if key else message


def connect() -> tuple[object, str, str]:
    """An SDK client from ARGILLA_API_URL and ARGILLA_API_KEY, checked by asking who we are."""
    import argilla as rg

    url = os.environ.get("ARGILLA_API_URL")
    key = os.environ.get("ARGILLA_API_KEY")
    for name, value in (("ARGILLA_API_URL", url), ("ARGILLA_API_KEY", key)):
        if not value:
            raise SetupError(f"setup needs the env var {name} (the live Argilla server)")
    shown = _without_credentials(url.rstrip("/"))
    with sdk_errors(shown, key):
        # Few retries and a short timeout: an address that does not answer should say so soon.
        client = rg.Argilla(api_url=url.rstrip("/"), api_key=key, timeout=30, retries=2)
    return client, shown, key


def ensure_dataset(client, target: Target, settings, log: Log) -> None:
    """Create the workspace and dataset if missing; an existing dataset must match `settings`
    (it is never altered: a running study's dataset changes only by hand)."""
    import argilla as rg

    src = target.source
    workspace = next((w for w in client.workspaces.list() if w.name == src.workspace), None)
    if workspace is None:
        workspace = rg.Workspace(name=src.workspace, client=client).create()
        log(f"workspace {src.workspace}: created")
    dataset = next((d for d in workspace.datasets if d.name == src.dataset), None)
    if dataset is None:
        dataset = rg.Dataset(
            name=src.dataset, workspace=workspace, settings=settings, client=client
        ).create()
        target.created = True
        log(f"dataset {target.label}: created")
    else:
        dataset = dataset.get()
        difference = settings_difference(dataset.settings, settings)
        if difference:
            raise SetupError(
                f"dataset {target.label} exists with other settings than the study asks for: "
                f"{difference}; it is left as it is (change the study or the dataset by hand)"
            )
        if (dataset.settings.guidelines or "") != (settings.guidelines or ""):
            log(f"dataset {target.label}: its guidelines differ from the study's; left as they are")
    target.dataset = dataset


def settings_difference(have, want) -> str | None:
    """The first way the dataset's settings `have` fail what `want` asks for, or None.

    Extra questions, metadata and optional fields are allowed (an admin may add some by hand); an
    extra required field is not, as the records setup logs could not fill it."""
    for kind in ("fields", "questions", "metadata"):
        theirs = {p.name: p for p in getattr(have, kind)}
        for wanted in getattr(want, kind):
            got = theirs.get(wanted.name)
            what = kind.rstrip("s") if kind != "metadata" else "metadata property"
            if got is None:
                return f"no {what} {wanted.name!r}"
            if type(got) is not type(wanted):
                return (
                    f"{what} {wanted.name!r} is a {type(got).__name__}, "
                    f"not a {type(wanted).__name__}"
                )
            if hasattr(wanted, "values") and list(got.values) != list(wanted.values):
                got_values, wanted_values = list(got.values), list(wanted.values)
                return f"{what} {wanted.name!r} has values {got_values}, not {wanted_values}"
    named = {f.name for f in want.fields}
    extra = sorted(f.name for f in have.fields if f.name not in named and f.required)
    if extra:
        return f"required field {extra[0]!r} is not one the study names"
    if have.distribution.min_submitted != want.distribution.min_submitted:
        return (
            f"min_submitted is {have.distribution.min_submitted}, "
            f"not {want.distribution.min_submitted}"
        )
    return None


def read_records(client, target: Target) -> None:
    """Every record's id and metadata (no responses: only what is there matters)."""
    dataset_id = target.dataset.id
    offset = 0
    while True:
        page = client.api.records.list(
            dataset_id=dataset_id,
            offset=offset,
            limit=PAGE,
            with_suggestions=False,
            with_responses=False,
        )
        for model in page:
            metadata = model.metadata or {}
            if not isinstance(metadata, dict):
                metadata = {m.name: m.value for m in metadata}
            target.records[str(model.external_id or model.id)] = metadata
        if len(page) < PAGE:
            return
        offset += len(page)


def least_loaded(targets: list[Target]) -> Target:
    """The target holding the fewest records (ties: the first in the study's order)."""
    return min(targets, key=lambda t: t.load)


def log_new(target: Target, log: Log) -> None:
    """Log the target's new records in batches. Their ids are new there, so nothing existing
    is updated; a re-run after a failure sends only what did not arrive."""
    for start in range(0, len(target.new), BATCH):
        batch = target.new[start : start + BATCH]
        # The SDK draws a tqdm bar on stderr; the progress line below says the same.
        with contextlib.redirect_stderr(io.StringIO()):
            target.dataset.records.log(batch, batch_size=len(batch))
        log(f"dataset {target.label}: {start + len(batch)}/{len(target.new)} records added")


def distinct_names(key: str, names: dict[str, str | None]) -> None:
    """Argilla needs each field, question and metadata name once per dataset."""
    seen: dict[str, str] = {}
    for setting, name in names.items():
        if name is None:
            continue
        if name in seen:
            raise SetupError(
                f"{key}: {seen[name]} and {setting} are both {name!r}; give each its own name"
            )
        seen[name] = setting


def rating_values(scale, key: str) -> list[int]:
    """The scale's values; Argilla's rating questions take 2 to 11 values within 0..10."""
    if scale.min < 0 or scale.max > 10:
        raise SetupError(
            f"{key}: Argilla's rating questions take values 0 to 10 (got {scale.min}-{scale.max})"
        )
    return list(range(scale.min, scale.max + 1))


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def labels_text(values: Iterable[int], labels: dict[int, str]) -> str | None:
    """A rating question's description: one `value: label` line per labelled value."""
    lines = [f"{v}: {labels[v]}" for v in values if v in labels]
    return "\n".join(lines) or None
