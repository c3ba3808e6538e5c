"""What `rlhfw publish` writes and deletes: glued ids and names after participants are
redacted, published response and pair ids are salted, a folder holding anything publish did
not write is never replaced, and only publish's own leftovers are removed."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml
from publish_warehouse import RATERS, WRITERS, Fixture
from typer.testing import CliRunner

from publish import PublishError, run_publish
from publish.dataset import (
    IN_PROGRESS,
    MARKER,
    check_replaceable,
    remove_leftover_temp,
    write_atomically,
)
from publish.privacy import REDACTED, load_salt, published_id
from rlhfw.cli import app
from study_config import ArgillaSource, Study
from tests.warehouse import connect_warehouse

REPO = Path(__file__).resolve().parents[2]


def published_bytes(out: Path) -> tuple[list[bytes], str]:
    """Every file's raw bytes, and all of it as text (Parquet cells decoded: the raw bytes of a
    compressed file would hide a leak)."""
    raw, decoded = [], []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        data = path.read_bytes()
        raw.append(data)
        if path.suffix == ".parquet":
            rows = pq.read_table(path).to_pylist()
            decoded.append(json.dumps(rows, ensure_ascii=False, default=str))
        else:
            decoded.append(data.decode("utf-8"))
    return raw, "\n".join(decoded)


def assert_absent(out: Path, values: list[str]) -> str:
    """None of `values`, in any case, is in any published byte. Returns the decoded text."""
    raw, text = published_bytes(out)
    assert raw, "nothing was published"
    lowered = text.lower()
    for value in values:
        for variant in {value, value.lower(), value.upper()}:
            assert not any(variant.encode() in data for data in raw), value
        assert value.lower() not in lowered, value
    return text


def config_files(out: Path, config: str) -> list[Path]:
    text = (out / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---\n")[1])
    entry = next(c for c in front["configs"] if c["config_name"] == config)
    return [out / f["path"] for f in entry["data_files"]]


def config_rows(out: Path, config: str) -> list[dict]:
    return [row for path in config_files(out, config) for row in pq.read_table(path).to_pylist()]


def set_response_text(con: duckdb.DuckDBPyConnection, response_id: str, text: str) -> None:
    """Change one answer everywhere the marts hold it (its row and the pairs it is in)."""
    con.execute(
        "update written_responses set response_text = $t where response_id = $id",
        {"t": text, "id": response_id},
    )
    for side in ("1", "2"):
        con.execute(
            f"update pair_scores set response_{side}_text = $t where response_{side}_id = $id",
            {"t": text, "id": response_id},
        )


def test_ids_glued_to_other_characters_are_redacted(study_env: tuple[Study, Fixture]) -> None:
    study, fx = study_env
    glued = [
        f"ID_{WRITERS[0].username}",
        f"{WRITERS[1].username}_thanks",
        f"abc{RATERS[0].user_id}123",
        RATERS[1].username.upper(),
        f"x-{RATERS[2].username}-y",
        f"note{WRITERS[2].user_id.upper()}",
    ]
    answer = "I am " + " and ".join(glued) + "."
    con = connect_warehouse(study.warehouse, read_only=False)
    set_response_text(con, str(fx.responses.response_id.iloc[4]), answer)
    # The prompt, too (in both marts that carry it).
    question = fx.question_ids[4]
    for table in ("pair_scores", "written_responses"):
        con.execute(
            f"update {table} set question_text = question_text || $glued where question_id = $q",
            {"glued": f" (asked by user{RATERS[0].username})", "q": question},
        )
    con.close()

    report = run_publish(study, progress=False)

    text = assert_absent(study.publish.out, [v for v in fx.secrets if len(v) >= 5])
    # Redacted, not dropped: the answer and the prompt are published with the ids blanked.
    redacted = answer
    for person in WRITERS + RATERS:
        for value in (person.username, person.user_id):
            redacted = redacted.replace(value, REDACTED).replace(value.upper(), REDACTED)
    assert f"ID_{REDACTED} and {REDACTED}_thanks and abc{REDACTED}123" in redacted
    assert redacted in text
    assert f"(asked by user{REDACTED})" in text
    assert report.redacted_texts >= 3


def test_names_after_participants_are_redacted_in_the_card_and_the_files(
    study_env: tuple[Study, Fixture],
) -> None:
    """Workspaces and datasets named after a participant: in the marts (ratings, responses,
    the agreement scopes in the card) and in study.yml (the card's list of sources)."""
    study, fx = study_env
    ws_rater, ds_writer, source_writer = RATERS[1].username, WRITERS[1].username, WRITERS[0]
    con = connect_warehouse(study.warehouse, read_only=False)
    con.execute(
        "update pair_ratings set workspace = $ws where rater_user_id = $u",
        {"ws": ws_rater, "u": RATERS[1].user_id},
    )
    con.execute(
        "update written_responses set dataset = $ds where writer_user_id = $u",
        {"ds": ds_writer, "u": WRITERS[1].user_id},
    )
    con.execute(
        "update study_agreement set scope = $scope where level = 'ordinal' and study = 'rating'",
        {"scope": f"{ws_rater}/rating-study"},
    )
    con.execute(
        "update study_agreement set scope = $scope where level = 'ordinal' and study = 'writing'",
        {"scope": f"workspace:{ws_rater}"},
    )
    con.close()
    writing = study.argilla.writing.model_copy(
        update={
            "sources": [
                ArgillaSource(dataset=source_writer.username, workspace=source_writer.username)
            ]
        }
    )
    study = study.model_copy(
        update={
            "name": f"feedback-of-{RATERS[2].username}",
            "argilla": study.argilla.model_copy(update={"writing": writing}),
        }
    )

    run_publish(study, progress=False)

    secrets = [ws_rater, ds_writer, source_writer.username, RATERS[2].username]
    assert_absent(study.publish.out, secrets)
    card = (study.publish.out / "README.md").read_text(encoding="utf-8")
    assert f"# feedback-of-{REDACTED}\n" in card
    assert f"(datasets: `{REDACTED}`)" in card
    assert f"| rating | dataset `{REDACTED}/rating-study` | ordinal |" in card
    assert f"| writing | workspace `{REDACTED}` | ordinal |" in card
    workspaces = {r["workspace"] for r in config_rows(study.publish.out, "ratings")}
    assert workspaces == {REDACTED, f"ws-{REDACTED}", "social"}


def test_published_response_and_pair_ids_are_salted_and_join(
    study_env: tuple[Study, Fixture],
) -> None:
    study, fx = study_env
    run_publish(study, progress=False)
    out = study.publish.out

    # Every unsalted id: the warehouse's, and any an attacker with the user list recomputes.
    def md5_16(s: str) -> str:
        return hashlib.md5(s.encode()).hexdigest()[:16]

    unsalted = set(fx.responses.response_id) | set(fx.pairs.pair_id)
    people = [p.user_id for p in WRITERS + RATERS]
    for question in fx.question_ids:
        recomputed = sorted(md5_16(f"{question}|{user}") for user in people)
        unsalted |= set(recomputed)
        unsalted |= {md5_16(f"{a}|{b}") for a, b in combinations(recomputed, 2)}
    assert set(fx.responses.response_id) <= unsalted  # the recomputation is the warehouse's
    assert_absent(out, sorted(unsalted))

    # The same id for the same response or pair in every config: the configs still join.
    salt = load_salt(study.warehouse)
    pairs = config_rows(out, "pairs")
    conversational = config_rows(out, "conversational")
    ratings = config_rows(out, "ratings")
    responses = {r["response_id"]: r for r in config_rows(out, "responses")}
    assert len(responses) == fx.n_responses
    assert set(responses) == {published_id(salt, "response", r) for r in fx.responses.response_id}
    kept = fx.pairs[~fx.pairs.is_tie]
    assert {p["pair_id"] for p in pairs} == {published_id(salt, "pair", p) for p in kept.pair_id}
    assert [p["pair_id"] for p in conversational] == [p["pair_id"] for p in pairs]
    for pair in pairs:
        chosen, rejected = (
            responses[pair["chosen_response_id"]],
            responses[pair["rejected_response_id"]],
        )
        assert (chosen["response_text"], rejected["response_text"]) == (
            pair["chosen"],
            pair["rejected"],
        )
        assert chosen["question_id"] == rejected["question_id"] == pair["question_id"]
        rated = [r for r in ratings if r["pair_id"] == pair["pair_id"]]
        assert len(rated) == pair["n_ratings"] and all(r["pair_published"] for r in rated)
    assert {r["pair_id"] for r in ratings} == {
        published_id(salt, "pair", p) for p in fx.pairs.pair_id
    }
    # The published order is that of the published ids (the warehouse ids' order would tell
    # something about them).
    for config, key in [("pairs", "pair_id"), ("ratings", "pair_id"), ("responses", "response_id")]:
        for path in config_files(out, config):
            keys = pq.read_table(path).select(["question_id", key]).to_pylist()
            assert keys == sorted(keys, key=lambda k: (k["question_id"], k[key])), path.name


def test_a_folder_holding_what_publish_did_not_write_is_refused(
    study_env: tuple[Study, Fixture], tmp_path: Path
) -> None:
    """A landing zone moved into publish.out, a note, a file in a config folder: refused with
    one line naming them, exit code 2, and nothing deleted or changed."""
    study, _ = study_env
    run_publish(study, progress=False)
    out = study.publish.out
    landed = out / "landing" / "prolific" / "submissions" / "batch-1.parquet"
    landed.parent.mkdir(parents=True)
    landed.write_bytes(b"raw data")
    (out / "notes.txt").write_text("precious")
    (next((out / "pairs").iterdir()).parent / "mine.csv").write_text("a,b")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    with pytest.raises(PublishError) as err:
        run_publish(study, progress=False)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"refusing to replace {out}: ")
    assert "landing/" in message and "notes.txt" in message and "pairs/mine.csv" in message
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before

    config = tmp_path / "study.yml"
    config.write_text(
        "name: fixture-study\nwarehouse: data/warehouse.duckdb\n"
        "argilla:\n"
        "  writing: {sources: [{dataset: writing-study, workspace: social}]}\n"
        "  rating: {sources: [{dataset: rating-study, workspace: social}]}\n"
        "publish: {out: data/dataset, test_fraction: 0.34}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["publish", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "refusing to replace" in result.output and "Traceback" not in result.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_only_the_published_layout_is_replaceable(tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    data = out / "pairs" / "train-00000-of-00001-0123456789ab.parquet"
    data.parent.mkdir(parents=True)
    data.write_bytes(b"PAR1")
    for name in (MARKER, "README.md", IN_PROGRESS):  # in progress: killed just after the swap
        (out / name).write_text("{}")
    check_replaceable(out)
    (out / "README.md").unlink()
    (out / "README.md").mkdir()
    (out / "ratings").symlink_to(tmp_path)
    with pytest.raises(PublishError, match=r"did not write \(README.md/, ratings\)"):
        check_replaceable(out)


def test_a_killed_publish_leaves_a_temp_folder_the_next_one_removes(
    study_env: tuple[Study, Fixture],
) -> None:
    study, _ = study_env
    out = study.publish.out
    out.parent.mkdir(parents=True, exist_ok=True)
    killed = f"""
import os, signal
from pathlib import Path
from publish.dataset import write_atomically

def build(folder):
    (folder / "pairs").mkdir()
    (folder / "pairs" / "train.parquet.tmp").write_bytes(b"half written")
    os.kill(os.getpid(), signal.SIGKILL)

write_atomically(Path({str(out)!r}), build)
"""
    proc = subprocess.run([sys.executable, "-c", killed], cwd=REPO, check=False)
    assert proc.returncode == -signal.SIGKILL
    [leftover] = out.parent.glob(f".{out.name}.tmp-*")
    assert (leftover / IN_PROGRESS).is_file()
    # Beside it: another output's temp folder, and a user's folder that only looks like one.
    other = out.parent / ".other.tmp-0badc0de"
    lookalike = out.parent / f".{out.name}.tmp-0badc0de"
    for folder in (other, lookalike):
        folder.mkdir()
        (folder / "keep.txt").write_text("user data")

    run_publish(study, progress=False)

    assert not leftover.exists()
    assert (other / "keep.txt").read_text() == "user data"
    assert (lookalike / "keep.txt").read_text() == "user data"
    assert (out / MARKER).is_file() and not (out / IN_PROGRESS).exists()


def test_remove_leftover_temp_keeps_what_is_not_provably_a_dead_publish(tmp_path: Path) -> None:
    out = tmp_path / "dataset"
    empty = tmp_path / ".dataset.tmp-12345678"
    empty.mkdir()
    for_another = tmp_path / ".dataset.tmp-87654321"  # in-progress file of another output
    for_another.mkdir()
    (for_another / IN_PROGRESS).write_text(json.dumps({"out_name": "other"}))
    linked = tmp_path / ".dataset.tmp-abcdef01"  # a symlink to a user's folder
    target = tmp_path / "user-folder"
    target.mkdir()
    (target / IN_PROGRESS).write_text(json.dumps({"out_name": "dataset"}))
    linked.symlink_to(target)
    assert remove_leftover_temp(out) == [empty]
    assert for_another.is_dir() and target.is_dir() and linked.is_symlink()

    # A publish still running: its folder is locked, so a cleanup meanwhile leaves it.
    seen: list[list[Path]] = []

    def build(folder: Path) -> None:
        seen.append(remove_leftover_temp(out))
        assert folder.is_dir() and (folder / IN_PROGRESS).is_file()
        (folder / MARKER).write_text("{}")

    write_atomically(out, build)
    assert seen == [[]]
    assert sorted(os.listdir(out)) == [MARKER]
    assert remove_leftover_temp(tmp_path / "not-there" / "dataset") == []
