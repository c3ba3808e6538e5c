"""The Prolific CSV export reader: header tolerance, kept sentinel values, errors, idempotence."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import duckdb
import pytest

from extract.errors import ExtractError
from extract.landing import Landing, sha256_file
from extract.prolific import extract_prolific, read_export
from study_config import Study

FIXTURES = Path(__file__).parent.parent / "fixtures" / "prolific"
EXPORT = FIXTURES / "writing_export.csv"
DATA = EXPORT.read_bytes()


def make_study(tmp_path: Path, **prolific: dict) -> Study:
    """A minimal valid study; Argilla sources are unused export paths."""
    return Study.model_validate(
        {
            "name": "t",
            "path": tmp_path / "study.yml",
            "prolific": prolific,
            "argilla": {
                "writing": {"sources": [{"export": str(tmp_path / "w.json")}]},
                "rating": {"sources": [{"export": str(tmp_path / "r.json")}]},
            },
        }
    )


def rows_of(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def write_csv(path: Path, rows: list[list[str]], *, bom: bool = False, crlf: bool = False) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))
    return path


def landed(root: Path, table: str) -> list[dict]:
    con = duckdb.connect()
    rel = con.sql(
        f"select * exclude (_batch_id, _extracted_at, _row_sha256) "
        f"from read_parquet('{root}/prolific/{table}/*.parquet', union_by_name = true) "
        "order by submission_id"
    )
    cols = rel.columns
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


def test_real_header_lands_submissions_and_demographics(tmp_path):
    study = make_study(tmp_path, writing={"export": str(EXPORT), "study_id": "STUDY-W"})
    landing = Landing(tmp_path / "landing")
    results = extract_prolific(study.prolific, landing)
    assert [(r.table, r.new_rows) for r in results] == [("submissions", 4), ("demographics", 4)]

    subs = landed(tmp_path / "landing", "submissions")
    first = subs[0]
    assert first == {
        "submission_id": "65a1f0c2e4b0a1b2c3d4e501",
        "participant_id": "5f0c1a2b3c4d5e6f7a8b9c01",
        "study_id": "STUDY-W",
        "study_role": "writing",
        "status": "APPROVED",
        "started_at": "2024-03-01T10:00:01.123000Z",
        "completed_at": "2024-03-01T10:21:45.500000Z",
        "reviewed_at": "2024-03-02T09:00:00.000000Z",
        "archived_at": "2024-03-01T10:21:46.000000Z",
        "time_taken": "1304",
        "completion_code": "C1A2B3C4",
        "total_approvals": "112",
        "extra": None,  # only API pulls have fields without a column
        "_source_uri": str(EXPORT.resolve()),
        "_source_sha256": sha256_file(EXPORT),
        "_source_position": None,  # only Argilla sources have a position in study.yml
    }
    # Empty cells are missing values; everything else is the text as exported.
    assert subs[1]["reviewed_at"] is None and subs[1]["status"] == "AWAITING REVIEW"

    demo = landed(tmp_path / "landing", "demographics")
    assert demo[3]["country_of_residence"] == "Netherlands, The"  # a quoted comma
    assert demo[0]["age"] == "34" and demo[0]["employment_status"] == "Full-Time"
    # The consent column is in neither contract table: it travels in `extra`.
    assert json.loads(demo[0]["extra"]) == {"Custom study tncs accepted at": "Not Applicable"}


def test_sentinel_cells_are_kept_as_they_are(tmp_path):
    pull = read_export(EXPORT, role="writing")
    subs = pull.submissions.to_pylist()
    demo = pull.demographics.to_pylist()
    assert subs[2]["completion_code"] == "NOCODE"
    assert {demo[1][c] for c in ("age", "sex", "nationality", "employment_status")} == {
        "DATA_EXPIRED"
    }
    assert {demo[2][c] for c in ("age", "language", "student_status")} == {"CONSENT_REVOKED"}


def test_shuffled_columns_read_the_same(tmp_path):
    rows = rows_of(EXPORT)
    order = list(range(len(rows[0])))
    random.Random(7).shuffle(order)
    shuffled = write_csv(tmp_path / "shuffled.csv", [[r[i] for i in order] for r in rows])
    assert order != sorted(order)
    a, b = read_export(EXPORT, role="writing"), read_export(shuffled, role="writing")
    assert a.submissions.equals(b.submissions)
    assert a.demographics.equals(b.demographics)


def test_bom_crlf_and_untidy_header_are_tolerated(tmp_path):
    rows = rows_of(EXPORT)
    rows[0] = [
        f"  {h.upper()} " if i % 2 else h.lower().replace(" ", "_") for i, h in enumerate(rows[0])
    ]
    untidy = write_csv(tmp_path / "untidy.csv", rows, bom=True, crlf=True)
    assert untidy.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in untidy.read_bytes()
    a, b = read_export(EXPORT, role="writing"), read_export(untidy, role="writing")
    assert a.submissions.equals(b.submissions)
    assert [r["age"] for r in b.demographics.to_pylist()] == [
        "34",
        "DATA_EXPIRED",
        "CONSENT_REVOKED",
        "27",
    ]
    # No value keeps a stray carriage return.
    assert all("\r" not in (v or "") for r in b.submissions.to_pylist() for v in r.values())


def test_missing_optional_columns_land_as_nulls(tmp_path):
    keep = ["Submission id", "Participant id", "Status", "Completed at"]
    rows = rows_of(EXPORT)
    idx = [rows[0].index(k) for k in keep]
    small = write_csv(tmp_path / "small.csv", [[r[i] for i in idx] for r in rows])
    pull = read_export(small, role="rating", study_id="S-R")
    first = pull.submissions.to_pylist()[0]
    assert first["status"] == "APPROVED" and first["completed_at"].startswith("2024-03-01")
    assert first["time_taken"] is None and first["total_approvals"] is None
    assert first["study_role"] == "rating" and first["study_id"] == "S-R"
    assert pull.demographics is None  # no demographic columns: nothing to land


def test_extra_columns_go_to_demographics_extra(tmp_path):
    rows = rows_of(EXPORT)
    rows[0] += ["Fluent languages", "Study id"]
    for i, r in enumerate(rows[1:]):
        r += ['English, "French"' if i == 0 else "", "STUDY-FROM-CSV"]
    wide = write_csv(tmp_path / "wide.csv", rows)
    pull = read_export(wide, role="writing")
    demo = pull.demographics.to_pylist()
    assert json.loads(demo[0]["extra"]) == {
        "Custom study tncs accepted at": "Not Applicable",
        "Fluent languages": 'English, "French"',
    }
    assert json.loads(demo[1]["extra"])["Fluent languages"] is None
    # With no study id configured, the file's study id column lands.
    assert {r["study_id"] for r in pull.submissions.to_pylist()} == {"STUDY-FROM-CSV"}


@pytest.mark.parametrize("column", ["Submission id", "Participant id", "Status"])
def test_missing_required_column_names_file_and_column(tmp_path, column):
    rows = rows_of(EXPORT)
    i = rows[0].index(column)
    bad = write_csv(tmp_path / "bad.csv", [r[:i] + r[i + 1 :] for r in rows])
    with pytest.raises(ExtractError) as err:
        read_export(bad, role="writing")
    msg = str(err.value)
    assert str(bad) in msg and repr(column) in msg and "\n" not in msg


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        ("Submission id,Participant id,Status\nx,y,\xe9\n".encode("latin-1"), "UTF-8"),
        (DATA[: DATA.index(b"NOCODE")], "fields where the header has 20"),  # cut mid-row
        (DATA[: DATA.index(b"Netherlands") + 5], "unterminated quoted field"),
    ],
    ids=["empty", "blank-lines", "binary", "latin1", "truncated", "truncated-in-quote"],
)
def test_unreadable_file_raises_one_clear_line(tmp_path, content, problem):
    bad = tmp_path / "export.csv"
    bad.write_bytes(content)
    with pytest.raises(ExtractError) as err:
        read_export(bad, role="writing")
    msg = str(err.value)
    assert msg.startswith(str(bad)) and problem in msg and "\n" not in msg
    assert "5f0c1a2b3c4d" not in msg  # no participant data in the message


def test_missing_file_and_folder_are_clear(tmp_path):
    with pytest.raises(ExtractError, match="not found"):
        read_export(tmp_path / "nope.csv", role="writing")
    with pytest.raises(ExtractError, match="found a folder"):
        read_export(tmp_path, role="writing")


def test_a_bad_rating_export_lands_nothing_for_writing_either(tmp_path):
    bad = tmp_path / "rating.csv"
    bad.write_bytes(b"Submission id,Status\n1,APPROVED\n")
    study = make_study(tmp_path, writing={"export": str(EXPORT)}, rating={"export": str(bad)})
    root = tmp_path / "landing"
    with pytest.raises(ExtractError, match="Participant id"):
        extract_prolific(study.prolific, Landing(root))
    assert not list(root.glob("prolific/**/*.parquet"))


def test_relanding_the_same_export_lands_nothing(tmp_path, monkeypatch):
    study = make_study(tmp_path, writing={"export": str(EXPORT), "study_id": "S"})
    root = tmp_path / "landing"
    extract_prolific(study.prolific, Landing(root))

    # The same bytes for the same role and study id are not even read again.
    def no_read(*_args, **_kwargs):
        raise AssertionError("an export that landed completely was read again")

    monkeypatch.setattr("extract.prolific.read_export", no_read)
    said: list[str] = []
    again = extract_prolific(study.prolific, Landing(root), progress=said.append)
    assert [(r.table, r.new_rows, r.unchanged_rows, r.batch_id) for r in again] == [
        ("submissions", 0, 4, None),
        ("demographics", 0, 4, None),
    ]
    assert any("unchanged since it landed; skipped" in line for line in said)
    assert len(landed(root, "submissions")) == 4


def test_an_export_is_read_again_for_another_study_id_or_role(tmp_path):
    export = tmp_path / "export.csv"
    export.write_bytes(DATA)  # no study id column: the configured one is every row's
    root = tmp_path / "landing"
    extract_prolific(
        make_study(tmp_path, writing={"export": str(export), "study_id": "S"}).prolific,
        Landing(root),
    )
    said: list[str] = []
    subs, _demo = extract_prolific(
        make_study(tmp_path, writing={"export": str(export), "study_id": "T"}).prolific,
        Landing(root),
        progress=said.append,
    )
    assert not any("skipped" in line for line in said)
    assert (subs.new_rows, subs.unchanged_rows) == (4, 0)
    said.clear()
    results = extract_prolific(
        make_study(tmp_path, rating={"export": str(export), "study_id": "T"}).prolific,
        Landing(root),
        progress=said.append,
    )
    assert not any("skipped" in line for line in said)
    assert results[0].new_rows == 4  # the rows hash their role: new rows for the rating study


def test_a_changed_export_lands_only_the_changed_rows(tmp_path):
    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT.read_bytes())
    study = make_study(tmp_path, writing={"export": str(export), "study_id": "S"})
    root = tmp_path / "landing"
    extract_prolific(study.prolific, Landing(root))

    rows = rows_of(export)
    rows[2][rows[0].index("Status")] = "APPROVED"  # was AWAITING REVIEW: a review happened
    rows[2][rows[0].index("Reviewed at")] = "2024-03-03T08:00:00.000000Z"
    write_csv(export, rows)
    subs, demo = extract_prolific(study.prolific, Landing(root))
    assert (subs.new_rows, subs.unchanged_rows) == (1, 3)
    assert (demo.new_rows, demo.unchanged_rows) == (0, 4)  # demographics did not change

    versions = [r for r in landed(root, "submissions") if r["submission_id"].endswith("502")]
    assert sorted(r["status"] for r in versions) == ["APPROVED", "AWAITING REVIEW"]
    assert len({r["_source_sha256"] for r in versions}) == 2


def test_a_header_only_export_lands_no_rows(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(DATA.splitlines(keepends=True)[0])
    study = make_study(tmp_path, writing={"export": str(empty)})
    results = extract_prolific(study.prolific, Landing(tmp_path / "landing"))
    assert [(r.table, r.new_rows, r.batch_id) for r in results] == [
        ("submissions", 0, None),
        ("demographics", 0, None),
    ]
    again = extract_prolific(study.prolific, Landing(tmp_path / "landing"))  # skipped: same report
    assert [(r.table, r.new_rows, r.unchanged_rows) for r in again] == [
        ("submissions", 0, 0),
        ("demographics", 0, 0),
    ]
    for table in ("submissions", "demographics"):
        assert (tmp_path / "landing" / "prolific" / table / "schema.parquet").exists()


def test_a_repeated_column_is_an_error(tmp_path):
    rows = rows_of(EXPORT)
    rows[0][3] = "status "  # normalizes to the same name as "Status"
    bad = write_csv(tmp_path / "dup.csv", rows)
    with pytest.raises(ExtractError, match=r"column 'status' appears twice"):
        read_export(bad, role="writing")


def with_study_ids(path: Path, ids: list[str]) -> Path:
    """The fixture export with a `Study id` column holding `ids` row by row."""
    rows = rows_of(EXPORT)
    rows[0].append("Study id")
    for row, study_id in zip(rows[1:], ids, strict=True):
        row.append(study_id)
    return write_csv(path, rows)


def test_an_export_of_another_study_is_an_error(tmp_path):
    export = with_study_ids(tmp_path / "export.csv", ["OTHER-STUDY"] * 4)
    study = make_study(tmp_path, writing={"export": str(export), "study_id": "STUDY-W"})
    root = tmp_path / "landing"
    with pytest.raises(ExtractError) as err:
        extract_prolific(study.prolific, Landing(root))
    msg = str(err.value)
    assert msg == (
        f"{export}: the export is of study OTHER-STUDY but prolific.writing.study_id is "
        "STUDY-W (another study's export?)"
    )
    assert not list(root.glob("prolific/**/*.parquet"))


def test_an_export_mixing_studies_is_an_error(tmp_path):
    export = with_study_ids(tmp_path / "export.csv", ["S-B", "S-A", "", "S-B"])
    study = make_study(tmp_path, rating={"export": str(export)})  # no study id configured
    root = tmp_path / "landing"
    with pytest.raises(ExtractError) as err:
        extract_prolific(study.prolific, Landing(root))
    assert str(err.value) == (
        f"{export}: the Study id column holds 2 studies' ids (S-A, S-B); "
        "prolific.rating.export must be one study's export"
    )
    assert not list(root.glob("prolific/**/*.parquet"))


def test_an_export_of_the_configured_study_lands(tmp_path):
    # An empty cell is no other study: the configured id fills it.
    export = with_study_ids(tmp_path / "export.csv", ["STUDY-W", "STUDY-W", "", " STUDY-W"])
    study = make_study(tmp_path, writing={"export": str(export), "study_id": "STUDY-W"})
    subs, _demo = extract_prolific(study.prolific, Landing(tmp_path / "landing"))
    assert subs.new_rows == 4
    landed_ids = {r["study_id"].strip() for r in landed(tmp_path / "landing", "submissions")}
    assert landed_ids == {"STUDY-W"}
