"""In-memory search engine for argilla-server 2.8.0, used only by integration tests.

argilla-server needs Elasticsearch/OpenSearch, which this machine cannot run. The server
picks its engine by name (ARGILLA_SEARCH_ENGINE) from ``SearchEngine.registered_classes``, so
importing this module before the app starts makes ``ARGILLA_SEARCH_ENGINE=inmemory`` valid.

This module runs INSIDE the argilla-server venv (it imports ``argilla_server``); it is not
importable from the project venv. Keep it dependency-free apart from argilla_server/pydantic.

Scope: the record listing (``GET /api/v1/datasets/{id}/records``) reads SQL directly and never
touches the engine. The engine only has to survive startup ping, publish, record indexing and
response create/update/delete. ``search`` supports what the web UI and the ``argilla`` SDK need
for smoke use: a substring text query, record-status and response-status terms filters
(including "pending"), insertion order, offset/limit. Other filters, sorts and vector search are
accepted and ignored rather than failing, so unexpected UI calls do not 500.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from argilla_server.enums import MetadataPropertyType, SimilarityOrder
from argilla_server.models import (
    Dataset,
    MetadataProperty,
    Record,
    Response,
    Suggestion,
    User,
    VectorSettings,
)
from argilla_server.search_engine import (
    AndFilter,
    Filter,
    FloatMetadataMetrics,
    IntegerMetadataMetrics,
    MetadataMetrics,
    Order,
    RecordFilterScope,
    ResponseFilterScope,
    SearchEngine,
    SearchResponseItem,
    SearchResponses,
    TermsFilter,
    TermsMetrics,
    TextQuery,
)

ENGINE_NAME = "inmemory"


@dataclasses.dataclass
class _Doc:
    """What we remember about one record: enough for status filters and progress."""

    status: str
    fields: dict
    # response id -> (user id, response status)
    responses: dict = dataclasses.field(default_factory=dict)


# Module-level state: argilla creates a new engine instance per request, and the server runs a
# single uvicorn worker process, so class/instance attributes would not persist.
_INDEX: dict[UUID, dict[UUID, _Doc]] = {}
_RECORD_DATASET: dict[UUID, UUID] = {}


def _status_value(status: Any) -> str:
    return getattr(status, "value", status)


def _loaded(obj: Any, relationship: str) -> bool:
    # Touching an unloaded relationship in async SQLAlchemy raises MissingGreenlet, so only
    # read relationships the caller already loaded.
    checker = getattr(obj, "is_relationship_loaded", None)
    return bool(checker and checker(relationship))


@SearchEngine.register(engine_name=ENGINE_NAME)
class InMemorySearchEngine(SearchEngine):
    @classmethod
    async def new_instance(cls) -> InMemorySearchEngine:
        return cls()

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def info(self) -> dict:
        return {"name": ENGINE_NAME, "version": {"number": "0", "distribution": ENGINE_NAME}}

    # -- index lifecycle -------------------------------------------------------------------
    async def create_index(self, dataset: Dataset) -> None:
        _INDEX.setdefault(dataset.id, {})

    async def delete_index(self, dataset: Dataset) -> None:
        for record_id in _INDEX.pop(dataset.id, {}):
            _RECORD_DATASET.pop(record_id, None)

    async def configure_metadata_property(
        self, dataset: Dataset, metadata_property: MetadataProperty
    ) -> None:
        return None

    async def configure_index_vectors(self, vector_settings: VectorSettings) -> None:
        return None

    # -- records ---------------------------------------------------------------------------
    async def index_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        docs = _INDEX.setdefault(dataset.id, {})
        for record in records:
            doc = _Doc(status=_status_value(record.status), fields=dict(record.fields or {}))
            if _loaded(record, "responses"):
                doc.responses = {
                    r.id: (r.user_id, _status_value(r.status)) for r in record.responses
                }
            elif record.id in docs:
                # Upserts re-index without responses loaded: keep what we already know.
                doc.responses = docs[record.id].responses
            docs[record.id] = doc
            _RECORD_DATASET[record.id] = dataset.id

    async def partial_record_update(self, record: Record, **update: Any) -> None:
        doc = self._doc(record.id)
        if doc is not None and "status" in update:
            doc.status = _status_value(update["status"])

    async def delete_records(self, dataset: Dataset, records: Iterable[Record]) -> None:
        docs = _INDEX.get(dataset.id, {})
        for record in records:
            docs.pop(record.id, None)
            _RECORD_DATASET.pop(record.id, None)

    # -- responses / suggestions -----------------------------------------------------------
    async def update_record_response(self, response: Response) -> None:
        doc = self._doc(response.record_id)
        if doc is not None:
            doc.responses[response.id] = (response.user_id, _status_value(response.status))

    async def delete_record_response(self, response: Response) -> None:
        doc = self._doc(response.record_id)
        if doc is not None:
            doc.responses.pop(response.id, None)

    async def update_record_suggestion(self, suggestion: Suggestion) -> None:
        return None

    async def delete_record_suggestion(self, suggestion: Suggestion) -> None:
        return None

    # -- progress / metrics ----------------------------------------------------------------
    async def get_dataset_progress(self, dataset: Dataset) -> dict:
        docs = _INDEX.get(dataset.id, {})
        result: dict = {"total": len(docs)}
        for doc in docs.values():
            result[doc.status] = result.get(doc.status, 0) + 1
        return result

    async def get_dataset_user_progress(self, dataset: Dataset, user: User) -> dict:
        result: dict = {"total": 0}
        for doc in _INDEX.get(dataset.id, {}).values():
            for user_id, status in doc.responses.values():
                if user_id == user.id:
                    result["total"] += 1
                    result[status] = result.get(status, 0) + 1
        return result

    async def compute_metrics_for(self, metadata_property: MetadataProperty) -> MetadataMetrics:
        # Metadata values are not indexed here; empty metrics keep the UI filters rendering.
        kind = getattr(metadata_property, "type", None)
        if kind == MetadataPropertyType.integer:
            return IntegerMetadataMetrics()
        if kind == MetadataPropertyType.float:
            return FloatMetadataMetrics()
        return TermsMetrics(total=0)

    # -- search ----------------------------------------------------------------------------
    async def search(
        self,
        dataset: Dataset,
        query: TextQuery | str | None = None,
        filter: Filter | None = None,
        sort: list[Order] | None = None,
        offset: int = 0,
        limit: int = 100,
        user_id: UUID | None = None,  # passed by the handlers, not in the abstract signature
    ) -> SearchResponses:
        matches = [
            record_id
            for record_id, doc in _INDEX.get(dataset.id, {}).items()
            if _text_matches(doc, query) and (filter is None or _filter_matches(doc, filter))
        ]
        page = matches[offset : offset + limit]
        return SearchResponses(
            items=[SearchResponseItem(record_id=rid, score=1.0) for rid in page],
            total=len(matches),
        )

    async def similarity_search(
        self,
        dataset: Dataset,
        vector_settings: VectorSettings,
        value: list[float] | None = None,
        record: Record | None = None,
        query: TextQuery | str | None = None,
        filter: Filter | None = None,
        max_results: int = 100,
        order: SimilarityOrder = SimilarityOrder.most_similar,
        threshold: float | None = None,
    ) -> SearchResponses:
        return SearchResponses(items=[], total=0)

    @staticmethod
    def _doc(record_id: UUID) -> _Doc | None:
        dataset_id = _RECORD_DATASET.get(record_id)
        if dataset_id is None:
            return None
        return _INDEX.get(dataset_id, {}).get(record_id)


def _text_matches(doc: _Doc, query: TextQuery | str | None) -> bool:
    if query is None:
        return True
    if isinstance(query, str):
        text, field = query, None
    else:
        text, field = query.q, query.field
    if not text or text == "*":
        return True
    values = [doc.fields.get(field)] if field else list(doc.fields.values())
    needle = text.lower()
    return any(needle in str(v).lower() for v in values if v is not None)


def _filter_matches(doc: _Doc, flt: Filter) -> bool:
    if isinstance(flt, AndFilter):
        return all(_filter_matches(doc, f) for f in flt.filters)
    if not isinstance(flt, TermsFilter):
        return True  # range/metadata filters are not indexed here: do not exclude anything
    values = {str(v) for v in flt.values}
    scope = flt.scope
    if isinstance(scope, RecordFilterScope) and scope.property == "status":
        return doc.status in values
    if isinstance(scope, ResponseFilterScope) and scope.property == "status":
        statuses = [
            status
            for user_id, status in doc.responses.values()
            if scope.user is None or user_id == scope.user.id
        ]
        if not statuses:
            statuses = ["pending"]
        return any(s in values for s in statuses)
    return True
