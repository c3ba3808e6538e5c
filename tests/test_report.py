"""`rlhfw report` on a small demo study run through the real pipeline, opened in a real headless
Chromium: it renders offline (no console error, no request beyond the file), every chart has
data, raters appear only by pseudonym, and no personal value of the warehouse is in the file.
The output path rules and the schema choice are checked without a browser."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from rlhfw.cli import app
from rlhfw.report import GENERATOR, default_out
from rlhfw.report.warehouse import Warehouse
from study_config import load_study
from tests.warehouse import connect_warehouse

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
QUIET = lambda _line: None  # noqa: E731
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The marts each section draws (any one of them present with rows: the section has a chart).
SECTION_RELATIONS = {
    "funnel": ("collection_completeness",),
    "ratings": ("pair_ratings",),
    "position-bias": ("position_bias",),
    "margins": ("pair_scores",),
    "agreement": ("study_agreement",),
    "annotators": ("annotator_quality",),
    "quality": ("quality_ratings", "question_quality"),
    "completeness": ("collection_completeness",),
    "toxicity": ("response_toxicity",),
    "runs": ("refresh_runs",),  # a table, no chart
}
# Identifier columns anywhere in the warehouse (rater_user_id, writer_username, ...).
ID_SUFFIXES = ("user_id", "username", "participant_id", "prolific_pid")
# Columns of the demographics tables that are not demographics.
NOT_DEMOGRAPHIC = {
    "submission_id", "participant_id", "study_id", "study_role", "extra_json", "batch_id",
    "extracted_at", "row_sha256", "has_conflicting_versions", "quarantine_reason",
}  # fmt: skip


def run_cli(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def built(tmp_path_factory, demo_template):
    """The demo study refreshed by the CLI, as a user or the scheduler runs it: extracted,
    built and published (publish writes response_toxicity), and the run recorded in
    refresh_runs."""
    root = tmp_path_factory.mktemp("report") / "study"
    shutil.copytree(demo_template, root)
    result = run_cli("refresh", "--config", str(root / "study.yml"))
    assert result.exit_code == 0, result.output
    return load_study(root / "study.yml")


@pytest.fixture(scope="module")
def report(built) -> Path:
    mtime = built.warehouse.stat().st_mtime_ns
    result = run_cli("report", "--config", str(built.path))
    assert result.exit_code == 0, result.output
    path = default_out(built)
    assert f"report written to {path}" in result.output
    assert built.warehouse.stat().st_mtime_ns == mtime  # opened read-only
    return path


def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def without_library(text: str) -> str:
    """The page minus the inlined plotly.js, which must be there exactly once: the library's
    own text holds no data, and its minified code would match short values by chance."""
    library = plotly_js()
    assert text.count(library) == 1
    assert text.count(library[:300]) == 1  # not a second, partial copy either
    return text.replace(library, "")


def present_relations(study) -> set[str]:
    """The marts of the analysts' schema that exist and have rows."""
    con = duckdb.connect(str(study.warehouse), read_only=True)
    try:
        wh = Warehouse.find(con)
        return {
            t for t in wh.columns if wh.rows(f"select 1 from {wh.ref(t)} limit 1")
        }  # fmt: skip
    finally:
        con.close()


def section_html(text: str, key: str) -> str:
    found = re.search(rf'<section id="{key}">(.*?)</section>', text, re.S)
    assert found, key
    return found[1]


@pytest.mark.slow
def test_the_report_renders_offline_and_every_chart_has_data(built, report):
    sync_api = pytest.importorskip("playwright.sync_api")
    from publish.privacy import load_salt, pseudonym

    present = present_relations(built)
    # Every section has its data in a study refreshed by this version: none may be a note.
    assert set().union(*SECTION_RELATIONS.values()) - present <= {"question_quality"}, present
    with sync_api.sync_playwright() as p:
        # Debian's Chromium (`make test` installs it): a missing browser fails, never skips.
        assert CHROMIUM.exists(), f"{CHROMIUM} missing: apt-get install chromium"
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            requests: list[str] = []
            failed: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            page.wait_for_function(
                "[...document.querySelectorAll('.plotly-graph-div')]"
                ".every(d => d._fullLayout !== undefined)"
            )
            charts = page.evaluate(
                """() => [...document.querySelectorAll('.plotly-graph-div')].map(d => ({
                    section: d.closest('section').id,
                    traces: d.data.map(t => ({
                        n: Math.max((t.x || []).length, (t.y || []).length,
                                    (t.values || []).length),
                        hovertext: t.hovertext || [],
                        text: t.text || [],
                    })),
                }))"""
            )
            notes = page.evaluate(
                """() => Object.fromEntries([...document.querySelectorAll('section')].map(
                    s => [s.id, s.querySelector('p.note')?.textContent || null]))"""
            )
            external = page.evaluate(
                """() => [...document.querySelectorAll('[src], link[href]')]
                    .map(e => e.getAttribute('src') || e.getAttribute('href'))"""
            )
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()

    assert not errors, errors
    assert not failed, failed
    assert requests and all(u.startswith(("file://", "about:")) for u in requests), requests
    assert not external, external
    assert set(notes) == set(SECTION_RELATIONS)
    assert charts and all(any(t["n"] > 0 for t in c["traces"]) for c in charts), charts
    drawn = {c["section"] for c in charts}
    for key, relations in SECTION_RELATIONS.items():
        if not set(relations) & present:
            assert notes[key] and notes[key].startswith("no data yet: "), (key, notes[key])
        elif key == "runs":
            assert notes[key] is None and "<table>" in section_html(report.read_text(), key)
        else:
            assert key in drawn, (key, notes[key])
    # Raters are named by the published pseudonym: hover labels and chart labels alike.
    con = connect_warehouse(built.warehouse)
    ids = [u for (u,) in con.execute("select rater_user_id from annotator_quality").fetchall()]
    con.close()
    salt = load_salt(built.warehouse)
    names = {pseudonym(salt, str(u)) for u in ids}
    shown = [
        label
        for c in charts
        if c["section"] == "annotators"
        for t in c["traces"]
        for label in [h.split(":")[0] for h in t["hovertext"]] + [x for x in t["text"] if x]
    ]
    assert shown and set(shown) <= names


@pytest.mark.slow
def test_the_report_holds_no_personal_data_and_no_external_asset(built, report):
    text = report.read_text(encoding="utf-8")
    page = without_library(text)
    con = duckdb.connect(str(built.warehouse), read_only=True)
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() and data_type in ('VARCHAR', 'UUID')"
    ).fetchall()
    ids: set[str] = set()
    demographics: set[str] = set()
    for schema, table, column in columns:
        is_id = column.endswith(ID_SUFFIXES)
        is_demographic = "demographics" in table and column not in NOT_DEMOGRAPHIC
        if not (is_id or is_demographic):
            continue
        rows = con.execute(
            f'select distinct cast("{column}" as varchar) from "{schema}"."{table}"'
        ).fetchall()
        (ids if is_id else demographics).update(v for (v,) in rows if v)
    con.close()
    assert len(ids) > 50 and len(demographics) > 10  # the scan has something to find
    lowered = page.lower()
    for value in ids:
        if len(value) >= 8:
            assert value.lower() not in lowered, value
        else:
            assert not re.search(rf"(?<!\w){re.escape(value)}(?!\w)", page), value
    for value in demographics:
        # Numbers (ages) and words of a few letters ("No", "Yes") are in any report; every
        # other value must be absent.
        if len(value) >= 4 and not value.replace(".", "").isdigit():
            assert not re.search(rf"(?<!\w){re.escape(value)}(?!\w)", page), value
    # Nothing is loaded from the network: no script, stylesheet, image or frame from http(s).
    tag = r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*"
    assert not re.search(rf"{tag}\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", page, re.I)
    assert GENERATOR in text[:4096]


@pytest.mark.slow
def test_a_missing_or_empty_mart_gives_a_note_and_no_salt_numbers_the_raters(built, tmp_path):
    root = tmp_path / "study"
    shutil.copytree(built.path.parent, root)
    study = load_study(root / "study.yml")
    from publish.privacy import salt_path

    salt_path(study.warehouse).unlink()
    con = connect_warehouse(study.warehouse, read_only=False)
    con.execute("drop table response_toxicity")
    con.execute("delete from study_agreement")
    con.close()
    out = tmp_path / "r.html"
    result = run_cli("report", "--config", str(study.path), "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "no data yet: the warehouse has no `response_toxicity`" in section_html(text, "toxicity")
    assert "no data yet: `study_agreement` has no rows" in section_html(text, "agreement")
    raters = section_html(text, "annotators")
    assert "rater-1" in raters and "no pseudonym salt" in raters
    assert not salt_path(study.warehouse).exists()  # the report never creates the salt
    # Written by the report: a second run replaces it.
    assert run_cli("report", "--config", str(study.path), "--out", str(out)).exit_code == 0


def test_the_report_never_overwrites_a_file_it_did_not_write(demo_copy):
    study = load_study(demo_copy / "study.yml")
    target = default_out(study)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("my notes")
    result = run_cli("report", "--config", str(study.path))
    assert result.exit_code == 2
    assert "was not written by rlhfw report" in result.output
    assert target.read_text() == "my notes"
    inside = study.publish.out / "report.html"
    result = run_cli("report", "--config", str(study.path), "--out", str(inside))
    assert result.exit_code == 2 and "inside publish.out" in result.output
    result = run_cli("report", "--config", str(study.path), "--out", str(demo_copy / "r.html"))
    assert result.exit_code == 2 and "warehouse not found" in result.output


def test_the_marts_are_read_from_analytics_when_it_exists_and_never_from_personal():
    con = duckdb.connect()
    con.execute("create schema personal")
    con.execute("create table personal.annotator_quality (rater_username varchar)")
    con.execute("create table personal.pair_ratings (rater_username varchar)")
    assert Warehouse.find(con).schema is None
    con.execute("create table main.pair_scores (margin double)")
    con.execute("create table main.pair_ratings (rating int)")
    assert Warehouse.find(con).schema == "main"
    con.execute("create schema analytics")
    con.execute("create table analytics.pair_ratings (rating int, workspace varchar)")
    found = Warehouse.find(con)
    assert found.schema == "analytics"
    assert found.columns == {"pair_ratings": ["rating", "workspace"]}


def test_a_distribution_has_a_bar_per_value_or_equal_bins_within_the_range():
    from rlhfw.report.sections import _distribution

    con = duckdb.connect()
    con.execute("create table few as select (i % 7) / 6 * 4 + 1 as m from range(70) t(i)")
    con.execute("create table many as select 1 + 4 * i / 999 as m from range(1000) t(i)")
    wh = Warehouse.find(con)
    bars, width = _distribution(wh, "few", "m", 1.0, 5.0)
    assert [v for v, _ in bars] == pytest.approx([1 + 4 * k / 6 for k in range(7)], abs=1e-3)
    assert sum(n for _, n in bars) == 70 and 0 < width < 4 / 6
    bars, width = _distribution(wh, "many", "m", 1.0, 5.0)
    assert len(bars) == 28 and sum(n for _, n in bars) == 1000
    assert all(1.0 < v < 5.0 for v, _ in bars) and width == pytest.approx(4 / 28 * 0.95)
