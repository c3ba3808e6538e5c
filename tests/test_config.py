"""study.yml parsing: paths relative to the file, and one-line errors naming file and key."""

from __future__ import annotations

import os

import pytest

from study_config import ConfigError, load_study

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
        (
            MINIMAL + "publish: {test_fraction: 0.5, validation_fraction: 0.5}\n",
            "publish",
            "test_fraction + validation_fraction must be less than 1",
        ),
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


# --- where the study writes: publish.out, landing and warehouse apart from everything else ---

# Inputs that MINIMAL + INPUTS names, and the files `write` creates for them.
INPUTS = """
  users: in/users.csv
prolific:
  writing: {export: in/prolific.csv}
participants:
  argilla_username_is_prolific_pid: false
  mapping: in/mapping.csv
"""
INPUT_FILES = (
    "exports/w.parquet",
    "exports/r.parquet",
    "in/users.csv",
    "in/prolific.csv",
    "in/mapping.csv",
)


def layout(tmp_path, **paths: str):
    """A study.yml (inputs as MINIMAL + INPUTS) with these top-level paths; `out` is
    publish.out. Returns the config's path."""
    text = MINIMAL.replace("argilla:\n", "argilla:" + INPUTS.split("prolific:")[0], 1)
    text += "prolific:" + INPUTS.split("prolific:")[1]
    for key in ("warehouse", "landing"):
        if key in paths:
            text += f"{key}: {paths[key]!r}\n"
    if "out" in paths:
        text += f"publish: {{out: {paths['out']!r}}}\n"
    return write(tmp_path, text, files=INPUT_FILES)


def refused(path, *words: str) -> str:
    """load_study's one-line error for `path`, checked to contain `words`."""
    with pytest.raises(ConfigError) as info:
        load_study(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    for word in words:
        assert word in message, message
    return message


def test_layout_helper_names_every_input(tmp_path):
    study = load_study(layout(tmp_path))
    assert study.argilla.users == tmp_path / "in" / "users.csv"
    assert study.participants.mapping == tmp_path / "in" / "mapping.csv"
    assert study.prolific.writing.export == tmp_path / "in" / "prolific.csv"


@pytest.mark.parametrize(
    ("paths", "other_key"),
    [
        # publish.out replaced wholesale: landing inside it, equal to it, or around it.
        ({"landing": "ds/landing", "out": "ds"}, "landing"),
        ({"landing": "ds", "out": "ds"}, "landing"),
        ({"landing": "data", "out": "data/ds"}, "landing"),
        # the warehouse, likewise
        ({"warehouse": "ds/w.duckdb", "out": "ds"}, "warehouse"),
        ({"warehouse": "w.duckdb", "out": "w.duckdb"}, "warehouse"),
        # every input file the config names
        ({"out": "exports"}, "argilla.writing.sources.0.export"),
        ({"out": "exports/r.parquet"}, "argilla.rating.sources.0.export"),
        ({"out": "exports/w.parquet/ds"}, "argilla.writing.sources.0.export"),
        ({"out": "in/users.csv"}, "argilla.users"),
        ({"out": "in/mapping.csv"}, "participants.mapping"),
        ({"out": "in/prolific.csv"}, "prolific.writing.export"),
        # the config's own folder (and so the config): equal to it or around it
        ({"out": "."}, "the config's folder"),
        ({"out": ".."}, "the config's folder"),
    ],
)
def test_publish_out_must_not_overlap_what_it_would_replace(tmp_path, paths, other_key):
    path = layout(tmp_path, **paths)
    message = refused(path, "publish.out", other_key)
    # The line names both paths: publish.out's resolved path at least.
    assert str((tmp_path / paths["out"]).resolve()) in message


def test_overlap_is_found_through_dotdot_and_absolute_paths(tmp_path):
    out = f"{tmp_path}/elsewhere/../data/landing/ds"
    refused(layout(tmp_path, out=out), "publish.out", "landing")


def test_overlap_is_found_through_symlinks(tmp_path):
    (tmp_path / "data" / "landing").mkdir(parents=True)
    (tmp_path / "to-landing").symlink_to(tmp_path / "data" / "landing")
    (tmp_path / "to-data").symlink_to(tmp_path / "data")
    # out is a link to the landing zone; then a path through a linked parent folder
    refused(layout(tmp_path, out="to-landing"), "publish.out", "landing")
    refused(layout(tmp_path, out="to-data/landing/ds"), "publish.out", "landing")
    # a link to the exports folder as publish.out
    (tmp_path / "to-exports").symlink_to(tmp_path / "exports")
    refused(layout(tmp_path, out="to-exports"), "publish.out", "argilla.writing.sources.0.export")


@pytest.mark.parametrize(
    "paths",
    [
        {"warehouse": "data/landing/w.duckdb", "landing": "data/landing"},
        {"warehouse": "data/w", "landing": "data/w"},
        {"warehouse": "data/w.duckdb", "landing": "data/w.duckdb/landing"},
    ],
)
def test_warehouse_and_landing_are_apart(tmp_path, paths):
    refused(layout(tmp_path, **paths), "warehouse", "landing")


@pytest.mark.parametrize(
    ("paths", "key", "other_key"),
    [
        ({"warehouse": "exports/w.parquet"}, "warehouse", "argilla.writing.sources.0.export"),
        ({"warehouse": "study.yml"}, "warehouse", "the config"),
        ({"landing": "exports"}, "landing", "argilla.writing.sources.0.export"),
        ({"landing": "in/users.csv/landing"}, "landing", "argilla.users"),
    ],
)
def test_nothing_is_written_into_an_input(tmp_path, paths, key, other_key):
    refused(layout(tmp_path, **paths), key, other_key)


@pytest.mark.parametrize(
    "paths",
    [
        {},  # the defaults: everything under data/ beside the config
        # the demo's: study in data/demo, the rest beside it
        {"warehouse": "../warehouse.duckdb", "landing": "../landing", "out": "../dataset"},
        # names that share a prefix are not inside one another
        {"warehouse": "data/landing.duckdb", "landing": "data/landing", "out": "data/landing2"},
        # publish.out inside the config's folder, as with the defaults
        {"out": "dataset"},
    ],
)
def test_reasonable_layouts_are_accepted(tmp_path, paths):
    study_dir = tmp_path / "data" / "demo" if "warehouse" in paths else tmp_path
    study_dir.mkdir(parents=True, exist_ok=True)
    study = load_study(layout(study_dir, **paths))
    assert study.publish.out.name == paths.get("out", "data/dataset").split("/")[-1]


# --- paths that cannot be written: refused when the config loads, in one line ---


def test_warehouse_whose_folder_is_a_file_is_refused(tmp_path):
    (tmp_path / "afile").write_text("x")
    refused(layout(tmp_path, warehouse="afile/w.duckdb"), "warehouse", "afile", "is a file")
    refused(layout(tmp_path, warehouse="afile/deeper/w.duckdb"), "warehouse", "is a file")


def test_warehouse_that_is_a_folder_is_refused(tmp_path):
    (tmp_path / "wh").mkdir()
    refused(layout(tmp_path, warehouse="wh"), "warehouse", "is a folder")


def test_landing_that_is_a_file_or_under_one_is_refused(tmp_path):
    (tmp_path / "afile").write_text("x")
    refused(layout(tmp_path, landing="afile"), "landing", "is a file")
    refused(layout(tmp_path, landing="afile/landing"), "landing", "is a file")


def test_publish_out_that_is_a_file_or_under_one_is_refused(tmp_path):
    (tmp_path / "afile").write_text("x")
    refused(layout(tmp_path, out="afile"), "publish.out", "is a file")
    refused(layout(tmp_path, out="afile/ds"), "publish.out", "is a file")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
@pytest.mark.parametrize(
    ("paths", "key"),
    [
        ({"landing": "ro/landing"}, "landing"),
        ({"landing": "ro"}, "landing"),
        ({"warehouse": "ro/w.duckdb"}, "warehouse"),
    ],
)
def test_read_only_folders_are_refused(tmp_path, paths, key):
    # As root this is skipped; tests/test_paths.py checks a read-only file system instead.
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    try:
        refused(layout(tmp_path, **paths), key, "not writable")
    finally:
        (tmp_path / "ro").chmod(0o755)


@pytest.mark.parametrize(
    ("warehouse", "words"),
    [
        ("data/it's.duckdb", ("quote", "it's.duckdb")),
        ('data/a"b.duckdb', ("quote",)),
        ("data/...", ("empty",)),
        ("data/w#1/w.duckdb", ("URL", "#")),
        ("data/w?/w.duckdb", ("URL", "?")),
        ("data/w;1.duckdb", ("URL", ";")),
    ],
)
def test_warehouse_path_must_name_its_database_plainly(tmp_path, warehouse, words):
    # dbt-duckdb writes the database name (the file name up to its first dot) into SQL
    # unquoted, and derives it from the path read as a URL.
    refused(layout(tmp_path, warehouse=warehouse), "warehouse", *words)


def test_warehouse_folders_may_be_named_anyhow(tmp_path):
    study = load_study(layout(tmp_path, warehouse="it's {1} [a];b/w x {1}.it's.duckdb"))
    assert study.warehouse.name == "w x {1}.it's.duckdb"


def test_a_hash_in_the_config_folder_reaches_the_warehouse_path(tmp_path):
    # The default warehouse lies under the config's folder, so its # counts too.
    study_dir = tmp_path / "study #1"
    study_dir.mkdir()
    refused(layout(study_dir), "warehouse", "#")
