"""study.yml parsing: paths relative to the file, and one-line errors naming file and key."""

from __future__ import annotations

import pytest

from rlhfw.config import ConfigError, load_study

MINIMAL = """
name: s
argilla:
  writing:
    sources: [{export: exports/w.parquet}]
  rating:
    sources: [{export: exports/r.parquet}]
"""


def write(tmp_path, text: str, files: tuple[str, ...] = ("exports/w.parquet", "exports/r.parquet")):
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    path = tmp_path / "study.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_paths_are_relative_to_the_file_and_defaults_apply(tmp_path):
    study = load_study(write(tmp_path, MINIMAL))
    assert study.argilla.writing.sources[0].export == tmp_path / "exports" / "w.parquet"
    assert study.warehouse == tmp_path / "data" / "warehouse.duckdb"
    assert study.argilla.rating.scale.min == 1 and study.argilla.rating.scale.max == 8
    assert study.prolific.counted_statuses == ["APPROVED", "AWAITING REVIEW"]
    assert study.publish.toxicity.backend == "profanity"


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (MINIMAL.replace("name: s\n", ""), "name", "required key is missing"),
        (MINIMAL + "publish: {min_ratings: many}\n", "publish.min_ratings", "integer"),
        (MINIMAL + "publish: {test_fraction: 1.5}\n", "publish.test_fraction", "less than 1"),
        (MINIMAL + "colour: blue\n", "colour", "unknown key"),
        (
            MINIMAL.replace("r.parquet}]", "r.parquet}]\n    scale: {min: 5, max: 2}"),
            "argilla.rating.scale",
            "must be below",
        ),
        (MINIMAL + "prolific: {counted_statuses: [APPROVD]}\n", "prolific", "APPROVD"),
        (
            MINIMAL + "publish: {toxicity: {backend: transformers}}\n",
            "publish.toxicity",
            "local model directory",
        ),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, key, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_study(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {key}")
    assert words in message
    assert "\n" not in message


def test_missing_export_file_is_named(tmp_path):
    path = write(tmp_path, MINIMAL, files=("exports/w.parquet",))
    with pytest.raises(ConfigError, match=r"argilla\.rating\.sources\.0\.export: file not found"):
        load_study(path)


def test_not_yaml_and_not_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_study(write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_study(write(tmp_path, "- a list\n"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_study(tmp_path / "nope.yml")
