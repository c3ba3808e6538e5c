"""study.yml's names are checked against a real argilla-server's dataset settings (its
/fields and /questions) and records' metadata: a name the dataset lacks stops the extract with
one line naming the key, and nothing lands."""

from __future__ import annotations

import pytest

from extract.argilla import extract_argilla, read_argilla
from extract.errors import ExtractError
from extract.landing import Landing
from study_config import Study

pytestmark = pytest.mark.integration


def live_study(tmp_path, seed: dict, writing: dict | None = None, rating: dict | None = None):
    ws = seed["workspace"]["name"]
    return Study.model_validate(
        {
            "name": "live",
            "path": tmp_path / "study.yml",
            "landing": tmp_path / "landing",
            "argilla": {
                "writing": {
                    "sources": [{"dataset": "demo-writing", "workspace": ws}],
                    **(writing or {}),
                },
                "rating": {
                    "sources": [{"dataset": "demo-rating", "workspace": ws}],
                    **(rating or {}),
                },
            },
        }
    )


def test_live_names_are_checked(tmp_path, argilla_server, seeded):
    kw = {"api_url": argilla_server.url, "api_key": argilla_server.api_key, "log": print}
    ws = seeded["workspace"]["name"]
    on = f"in workspace {ws!r} on {argilla_server.url}"
    cases = [
        (
            {"writing": {"response_question": "answer"}},
            f"argilla.writing.response_question: 'answer' is not a question of dataset "
            f"'demo-writing' {on} (its questions: question_quality, response)",
        ),
        (
            {"rating": {"response_a_field": "first"}},
            f"argilla.rating.response_a_field: 'first' is not a field of dataset 'demo-rating' "
            f"{on} (its fields: question, response_a, response_b)",
        ),
        (
            {"rating": {"response_b_metadata": "writer_b"}},
            f"argilla.rating.response_b_metadata: no record of dataset 'demo-rating' {on} "
            "carries metadata 'writer_b' (its records' metadata keys: model_a, model_b, "
            "prompt_id)",
        ),
    ]
    for i, (names, expected) in enumerate(cases):
        study = live_study(tmp_path / str(i), seeded, **names)
        with pytest.raises(ExtractError) as info:
            extract_argilla(study.argilla, Landing(study.landing), root=study.root, **kw)
        assert str(info.value) == expected
        assert not list(study.landing.rglob("*.parquet"))

    # The seed's own names, and metadata keys its records carry, pass.
    study = live_study(
        tmp_path / "ok",
        seeded,
        writing={"question_id_metadata": "prompt_id"},
        rating={"response_a_metadata": "model_a", "response_b_metadata": "model_b"},
    )
    read = read_argilla(study.argilla, Landing(study.landing), root=study.root, **kw)
    assert [src.dataset for _t, src, *_ in read.pending] == ["demo-writing", "demo-rating"]
