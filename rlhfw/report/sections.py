"""The report's sections: each reads one or a few marts and gives a sentence, figures and
plain tables, or raises NoData to become a "no data yet" note."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rlhfw.report.warehouse import NoData, Warehouse

# Rows of refresh_runs shown.
LATEST_RUNS = 20


@dataclass
class Section:
    key: str
    title: str
    sentence: str
    parts: list[str] = field(default_factory=list)  # figures and tables, as HTML
    note: str | None = None  # "no data yet: ..." (then `parts` is empty)


# ---------------------------------------------------------------- formatting


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def table(
    headers: list[str],
    rows: Iterable[Iterable[Any]],
    numeric: set[int] | None = None,
    wrap: set[int] | None = None,
) -> str:
    """A plain HTML table; cells are escaped (they hold names from the warehouse). Cells stay
    on one line (a date or an id broken over lines is hard to read), except the `wrap` ones."""
    numeric = numeric if numeric is not None else set()
    wrap = wrap if wrap is not None else set()
    head = "".join(
        f'<th class="{"num" if i in numeric else ""}">{esc(h)}</th>' for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if i in numeric else "wrap" if i in wrap else ""}">{esc(c)}</td>'
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


class Figures:
    """Turns plotly figures into divs; plotly.js itself is inlined once, in the page's head."""

    def __init__(self) -> None:
        self.count = 0

    def div(self, fig, height: int = 380) -> str:
        import plotly.io as pio

        self.count += 1
        fig.update_layout(
            template="plotly_white",
            height=height,
            margin={"l": 70, "r": 30, "t": 40, "b": 60},
            font={"size": 13},
        )
        return pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            div_id=f"figure-{self.count}",
            config={"displaylogo": False, "responsive": True},
        )


# ---------------------------------------------------------------- sections


def _funnel(wh: Warehouse, figs: Figures) -> Section:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    s = Section(
        "funnel",
        "From landed to published",
        "How many landed responses and ratings count, how many rated pairs are published, and "
        "why the rest were left out.",
    )
    cc = wh.need("collection_completeness", "study", "scope", "n_counted_items")
    ex = wh.need("exclusions", "item_type", "exclusion_reason")
    counted = dict(wh.rows(f"select study, n_counted_items from {cc} where scope = 'overall'"))
    excluded = dict(wh.rows(f"select item_type, count(*) from {ex} group by all"))
    rating_stages = [
        ("ratings landed", int(counted.get("rating", 0)) + excluded.get("rating", 0)),
        ("ratings counted", int(counted.get("rating", 0))),
    ]
    drops: list[tuple] = []
    if wh.has("preference_pairs", "is_published", "drop_reason"):
        pp = wh.ref("preference_pairs")
        n_pairs, n_published = wh.rows(
            f"select count(*), count(*) filter (where is_published) from {pp}"
        )[0]
        rating_stages += [("pairs rated", n_pairs), ("pairs published", n_published)]
        drops = wh.rows(
            f"select coalesce(drop_reason, '(published)'), count(*) from {pp} "
            "group by all order by 2 desc, 1"
        )
    writing_stages = [
        ("responses landed", int(counted.get("writing", 0)) + excluded.get("written_response", 0)),
        ("responses counted", int(counted.get("writing", 0))),
    ]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Rating study", "Writing study"))
    for col, stages in ((1, rating_stages), (2, writing_stages)):
        fig.add_trace(
            go.Funnel(
                y=[n for n, _ in stages],
                x=[v for _, v in stages],
                # A share only against the stage before in the same unit: ratings and pairs
                # are not one another's fractions.
                text=[_share(stages, i) for i in range(len(stages))],
                textinfo="text",
                showlegend=False,
            ),
            row=1,
            col=col,
        )
    fig.update_yaxes(automargin=True)
    s.parts.append(figs.div(fig, height=340))
    reasons = wh.rows(
        f"select item_type, exclusion_reason, count(*), "
        f"count(*) filter (where coalesce(is_quarantined, false)) from {ex} "
        "group by all order by 1, 3 desc, 2"
        if "is_quarantined" in wh.columns["exclusions"]
        else f"select item_type, exclusion_reason, count(*), null from {ex} "
        "group by all order by 1, 3 desc, 2"
    )
    s.parts.append("<h3>Why items do not count (<code>exclusions</code>)</h3>")
    s.parts.append(
        table(["item type", "reason", "items", "of which quarantined"], reasons, numeric={2, 3})
    )
    if drops:
        s.parts.append("<h3>Why rated pairs are not published (<code>preference_pairs</code>)</h3>")
        s.parts.append(table(["drop reason", "pairs"], drops, numeric={1}))
    if wh.has("quarantine", "landed_table", "quarantine_reason"):
        q = wh.rows(
            f"select landed_table, quarantine_reason, count(*) from {wh.ref('quarantine')} "
            "group by all order by 3 desc, 1, 2"
        )
        s.parts.append("<h3>Landed rows that failed typing (<code>quarantine</code>)</h3>")
        s.parts.append(
            table(["landed table", "reason", "rows"], q, numeric={2})
            if q
            else "<p>None: every landed row has the types its table expects.</p>"
        )
    return s


def _share(stages: list[tuple[str, int]], i: int) -> str:
    name, value = stages[i]
    previous = stages[i - 1] if i else None
    if previous is None or previous[0].split()[0] != name.split()[0] or not previous[1]:
        return f"{value:,}"
    return f"{value:,} ({value / previous[1]:.0%} of {previous[0]})"


def _ratings(wh: Warehouse, figs: Figures) -> Section:
    import plotly.graph_objects as go

    s = Section(
        "ratings",
        "Ratings given",
        "How often each value of the rating scale was given, as the raters gave it (on the "
        "order the two answers were shown), over the whole study and per workspace.",
    )
    pr = wh.need("pair_ratings", "rating", "workspace")
    rows = wh.rows(f"select workspace, rating, count(*) from {pr} group by all order by 1, 2")
    values = sorted({r for _, r, _ in rows})
    overall = {v: sum(n for _, r, n in rows if r == v) for v in values}
    fig = go.Figure(go.Bar(x=values, y=[overall[v] for v in values], name="all workspaces"))
    fig.update_layout(xaxis_title="rating", yaxis_title="ratings", xaxis_dtick=1)
    s.parts.append(figs.div(fig, height=320))
    fig = go.Figure()
    for ws in sorted({w for w, _, _ in rows}, key=str):
        counts = {r: n for w, r, n in rows if w == ws}
        total = sum(counts.values())
        fig.add_trace(
            go.Bar(
                x=values,
                y=[counts.get(v, 0) / total for v in values],
                name=f"{ws} ({total:,})",
            )
        )
    fig.update_layout(
        barmode="group",
        xaxis_title="rating",
        yaxis_title="share of the workspace's ratings",
        yaxis_tickformat=".0%",
        xaxis_dtick=1,
        legend_title_text="workspace (ratings)",
    )
    s.parts.append(figs.div(fig, height=360))
    return s


def _position_bias(wh: Warehouse, figs: Figures) -> Section:
    import plotly.graph_objects as go

    s = Section(
        "position-bias",
        "Position bias",
        "Whether raters favour the answer shown first: the share of ratings that prefer it, "
        "per scope, against one half (no bias), with the test's z and p-value.",
    )
    cols = ("study", "scope", "n_ratings", "n_neutral", "n_prefer_first", "share_prefer_first")
    pb = wh.need("position_bias", *cols, "z", "p_value")
    rows = wh.rows(
        # The study in the label only when the mart holds more than one.
        "select case when count(distinct study) over () > 1 then study || ' · ' || scope "
        "else scope end, n_ratings, n_neutral, n_prefer_first, share_prefer_first, z, p_value "
        f"from {pb} order by study, scope = 'overall' desc, scope like 'workspace:%' desc, scope"
    )
    fig = go.Figure(
        go.Bar(
            y=[r[0] for r in rows],
            x=[r[4] for r in rows],
            orientation="h",
            customdata=[[r[1], r[6]] for r in rows],
            hovertemplate="%{y}: %{x:.1%} prefer the first (n=%{customdata[0]}, "
            "p=%{customdata[1]:.3g})<extra></extra>",
        )
    )
    fig.add_vline(x=0.5, line_dash="dash", annotation_text="no bias")
    fig.update_layout(
        xaxis_title="share preferring the answer shown first",
        xaxis_tickformat=".0%",
        xaxis_range=[0, 1],
        yaxis_autorange="reversed",
    )
    fig.update_yaxes(automargin=True)
    s.parts.append(figs.div(fig, height=120 + 28 * len(rows)))
    s.parts.append(
        table(
            ["scope", "ratings", "neutral", "prefer first", "share prefer first", "z", "p-value"],
            [
                (r[0], num(r[1]), num(r[2]), num(r[3]), pct(r[4]), num(r[5]), num(r[6], 4))
                for r in rows
            ],
            numeric={1, 2, 3, 4, 5, 6},
        )
    )
    return s


def _margins(wh: Warehouse, figs: Figures) -> Section:
    import plotly.graph_objects as go

    s = Section(
        "margins",
        "Margins of the rated pairs",
        "How strongly the raters of each pair prefer one answer on average: the distance of "
        "the pair's mean rating from the scale's midpoint (0 is a tie).",
    )
    ps = wh.need("pair_scores", "margin", "scale_min", "scale_max")
    lo, hi = wh.rows(f"select min(scale_min), max(scale_max) from {ps}")[0]
    half = (hi - lo) / 2 if hi is not None and lo is not None and hi > lo else 1.0
    rows, width = _distribution(wh, ps, "margin", 0.0, half)
    fig = go.Figure(
        go.Bar(
            x=[m for m, _ in rows],
            y=[n for _, n in rows],
            width=width,
            hovertemplate="margin %{x:.2f}: %{y} pairs<extra></extra>",
        )
    )
    if wh.has("preference_pairs", "min_margin"):
        (min_margin,) = wh.rows(f"select max(min_margin) from {wh.ref('preference_pairs')}")[0]
        if min_margin:
            fig.add_vline(
                x=min_margin, line_dash="dash", annotation_text=f"min_margin {min_margin:g}"
            )
    fig.update_layout(xaxis_title="margin (rating units)", yaxis_title="pairs")
    s.parts.append(figs.div(fig, height=320))
    return s


def _distribution(
    wh: Warehouse, ref: str, column: str, lo: float, hi: float
) -> tuple[list[tuple[float, int]], float]:
    """(value, count) bars of a column of means, and the bars' width. Means of a few integers
    take few distinct values: one bar per value says exactly where they fall (fixed bins would
    put 0.5 in a 0.5-0.75 bin, or a mean of 5 past the end of a 1-5 scale). Many distinct values
    (many ratings per unit) get 28 equal bins over [lo, hi] instead."""
    col = f'"{column}"'
    rows = wh.rows(
        f"select round({col}, 3), count(*) from {ref} where {col} is not null "
        "group by all order by 1"
    )
    span = hi - lo if hi > lo else 1.0
    if len(rows) <= 60:
        gaps = [b[0] - a[0] for a, b in zip(rows, rows[1:], strict=False)]
        width = max(min(gaps, default=span / 10), span / 60) * 0.8
        return [(float(v), n) for v, n in rows], width
    step = span / 28
    rows = wh.rows(
        f"select (least(floor(({col} - ?) / ?), 27) + 0.5) * ? + ?, count(*) from {ref} "
        f"where {col} is not null group by all order by 1",
        [lo, step, step, lo],
    )
    return [(float(v), n) for v, n in rows], step * 0.95


def _agreement(wh: Warehouse, figs: Figures) -> Section:
    import plotly.graph_objects as go

    s = Section(
        "agreement",
        "Agreement between raters",
        "Krippendorff's alpha per study and scope (1 is perfect agreement, 0 is chance), with "
        "its confidence interval where the warehouse has one.",
    )
    sa = wh.need("study_agreement", "study", "scope", "level", "alpha")
    has_ci = wh.has("study_agreement", "alpha_ci_low", "alpha_ci_high")
    ci = "alpha_ci_low, alpha_ci_high" if has_ci else "null, null"
    counts = ", ".join(
        c if wh.has("study_agreement", c) else "null" for c in ("n_units", "n_coders", "n_values")
    )
    rows = wh.rows(
        f"select study, scope, level, alpha, {ci}, {counts} from {sa} "
        "order by study, scope = 'overall' desc, scope like 'workspace:%' desc, scope, level"
    )
    fig = go.Figure()
    for level, symbol in (("interval", "circle"), ("ordinal", "diamond")):
        pts = [r for r in rows if r[2] == level and r[3] is not None]
        if not pts:
            continue
        error = None
        if has_ci:
            error = {
                "type": "data",
                "array": [(r[5] - r[3]) if r[5] is not None else 0 for r in pts],
                "arrayminus": [(r[3] - r[4]) if r[4] is not None else 0 for r in pts],
            }
        fig.add_trace(
            go.Scatter(
                x=[r[3] for r in pts],
                y=[f"{r[0]} · {r[1]}" for r in pts],
                mode="markers",
                marker_symbol=symbol,
                marker_size=9,
                name=level,
                error_x=error,
            )
        )
    n_scopes = len({(r[0], r[1]) for r in rows})
    fig.add_vline(x=0, line_color="#999")
    fig.add_vline(x=0.667, line_dash="dot", line_color="#999", annotation_text="0.667")
    fig.add_vline(x=0.8, line_dash="dot", line_color="#999", annotation_text="0.8")
    fig.update_layout(xaxis_title="alpha", yaxis_autorange="reversed", legend_title_text="level")
    fig.update_yaxes(automargin=True)
    s.parts.append(figs.div(fig, height=140 + 26 * n_scopes))
    if not has_ci:
        s.parts.append(
            "<p class='aside'>No confidence intervals yet: this warehouse's "
            "<code>study_agreement</code> has no <code>alpha_ci_low</code> / "
            "<code>alpha_ci_high</code>.</p>"
        )
    # One row per study and scope, the two levels side by side (their counts are the same
    # pairable values, so they are shown once).
    ci_head = ["CI"] if has_ci else []
    by_scope: dict[tuple, dict[str, tuple]] = {}
    for r in rows:
        by_scope.setdefault((r[0], r[1]), {})[r[2]] = r
    s.parts.append(
        table(
            [
                "study",
                "scope",
                "alpha interval",
                *ci_head,
                "alpha ordinal",
                *ci_head,
                "units",
                "coders",
                "values",
            ],
            [
                (
                    study,
                    scope,
                    *_alpha_cells(levels.get("interval"), has_ci),
                    *_alpha_cells(levels.get("ordinal"), has_ci),
                    *_counts(levels),
                )
                for (study, scope), levels in by_scope.items()
            ],
            numeric=set(range(2, 9 if has_ci else 7)),
        )  # fmt: skip
    )
    return s


def _alpha_cells(row: tuple | None, has_ci: bool) -> tuple[str, ...]:
    alpha = num(row[3], 3) if row is not None else "–"
    if not has_ci:
        return (alpha,)
    ci = f"{num(row[4], 3)} to {num(row[5], 3)}" if row is not None and row[4] is not None else "–"
    return alpha, ci


def _counts(levels: dict[str, tuple]) -> tuple[str, str, str]:
    row = levels.get("interval") or next(iter(levels.values()))
    return num(row[6]), num(row[7]), num(row[8])


def _tukey_high(values: list[float]) -> float:
    """Q3 + 1.5 IQR: above it a value is an outlier (Tukey's fence)."""
    import statistics

    if len(values) < 4:
        return float("inf")
    q1, _, q3 = statistics.quantiles(values, n=4)
    return q3 + 1.5 * (q3 - q1)


def _annotators(wh: Warehouse, figs: Figures, salt: bytes | None) -> Section:
    import plotly.graph_objects as go

    from publish.privacy import pseudonym

    s = Section(
        "annotators",
        "Raters",
        "Each rater's counted ratings against how far their ratings sit from the other raters "
        "of the same pairs, coloured by how often they side with the others' majority. The "
        "raters furthest from the rest are named: the tenth with the largest deviation (at "
        "least one), and any beyond Tukey's fences (deviation above Q3 + 1.5 IQR, majority "
        "agreement below Q1 - 1.5 IQR). Names are the pseudonyms of the published dataset"
        + ("." if salt else "; this warehouse has no pseudonym salt yet, so they are numbered."),
    )
    aq = wh.need(
        "annotator_quality",
        "rater_user_id",
        "n_counted_ratings",
        "mean_abs_deviation_from_others",
        "majority_agreement",
    )
    # The user id only goes into the pseudonym; it never leaves this function.
    rows = wh.rows(
        f"select cast(rater_user_id as varchar), n_counted_ratings, "
        f"mean_abs_deviation_from_others, majority_agreement from {aq} "
        "where mean_abs_deviation_from_others is not null order by 1"
    )
    if not rows:
        raise NoData("no rater has a counted rating on a pair that others rated too")
    labels = [pseudonym(salt, uid) if salt else f"rater-{i}" for i, (uid, *_) in enumerate(rows, 1)]
    points = [(label, *r[1:]) for label, r in zip(labels, rows, strict=True)]
    high = _tukey_high([p[2] for p in points])
    agreements = [p[3] for p in points if p[3] is not None]
    low = -_tukey_high([-a for a in agreements]) if agreements else float("-inf")
    # A handful of raters rarely passes Tukey's fences, yet a study lead still wants to know
    # whom to look at first: the top tenth by deviation is always named.
    top = sorted(points, key=lambda p: -p[2])[: max(1, min(10, round(len(points) / 10)))]
    names = {p[0] for p in top} | {
        p[0] for p in points if p[2] > high or (p[3] is not None and p[3] < low)
    }
    named = sorted((p for p in points if p[0] in names), key=lambda p: -p[2])
    fig = go.Figure()
    for with_majority in (True, False):
        pts = [p for p in points if (p[3] is not None) == with_majority]
        if not pts:
            continue
        marker: dict[str, Any] = {"size": 11, "line": {"width": 1, "color": "#444"}}
        if with_majority:
            marker |= {
                "color": [p[3] for p in pts],
                "cmin": 0,
                "cmax": 1,
                "colorscale": "RdYlGn",
                "showscale": True,
                "colorbar": {"title": {"text": "majority<br>agreement"}, "tickformat": ".0%"},
            }
        else:
            marker["color"] = "#bbb"
        fig.add_trace(
            go.Scatter(
                x=[p[1] for p in pts],
                y=[p[2] for p in pts],
                mode="markers+text",
                name="majority agreement" if with_majority else "no majority to side with",
                text=[p[0] if p[0] in names else "" for p in pts],
                textposition="top center",
                hovertext=[
                    f"{p[0]}: {p[1]} ratings, deviation {p[2]:.2f}, majority {pct(p[3])}"
                    for p in pts
                ],
                hoverinfo="text",
                marker=marker,
            )
        )
    fig.update_layout(
        xaxis_title="counted ratings",
        yaxis_title="mean |rating - others' mean|",
        showlegend=False,
    )
    s.parts.append(figs.div(fig, height=420))
    s.parts.append("<h3>Raters named in the chart</h3>")
    s.parts.append(
        table(
            ["rater", "counted ratings", "mean abs deviation", "majority agreement"],
            [(p[0], num(p[1]), num(p[2]), pct(p[3])) for p in named],
            numeric={1, 2, 3},
        )
    )
    return s


def _quality(wh: Warehouse, figs: Figures) -> Section:
    import plotly.graph_objects as go

    s = Section("quality", "Question quality", "")
    try:
        qr = wh.need("quality_ratings", "quality_rating")
    except NoData:
        qr = None  # an older warehouse, or none counted yet: the questions' means instead
    if qr is not None:
        s.sentence = "How often each quality rating was given to the questions (counted ratings)."
        rows = wh.rows(
            f"select quality_rating, count(*) from {qr} where quality_rating is not null "
            "group by all order by 1"
        )
        fig = go.Figure(go.Bar(x=[r for r, _ in rows], y=[n for _, n in rows]))
        fig.update_layout(xaxis_title="quality rating", yaxis_title="ratings", xaxis_dtick=1)
    else:
        qq = wh.need("question_quality", "mean_quality")
        s.sentence = (
            "How the questions' mean quality ratings (over their counted ratings) are spread; "
            "questions nobody rated are left out."
        )
        lo, hi = wh.rows(f"select min(mean_quality), max(mean_quality) from {qq}")[0]
        if lo is None:
            raise NoData("no question has a counted quality rating")
        rows, width = _distribution(wh, qq, "mean_quality", float(lo), float(hi))
        fig = go.Figure(
            go.Bar(
                x=[m for m, _ in rows],
                y=[n for _, n in rows],
                width=width,
                hovertemplate="mean %{x:.2f}: %{y} questions<extra></extra>",
            )
        )
        fig.update_layout(xaxis_title="mean quality rating", yaxis_title="questions")
    s.parts.append(figs.div(fig, height=320))
    return s


def _completeness(wh: Warehouse, figs: Figures) -> Section:
    import plotly.graph_objects as go

    s = Section(
        "completeness",
        "Completeness per workspace",
        "Per workspace, the responses or ratings the targets call for (units x the target per "
        "unit) against those that count, and how many units are still short of the target.",
    )
    cols = ("study", "workspace", "unit", "n_units", "n_expected_items", "n_counted_items")
    cc = wh.need("collection_completeness", *cols, "n_units_short_of_target")
    rows = wh.rows(
        f"select study, workspace, any_value(unit), sum(n_units), sum(n_expected_items), "
        f"sum(n_counted_items), sum(n_units_short_of_target) from {cc} "
        "where workspace is not null group by 1, 2 order by 1 desc, 2"
    )
    if not rows:
        raise NoData("`collection_completeness` has no workspace rows")
    names = [f"{r[0]} · {r[1]}" for r in rows]
    fig = go.Figure(
        [
            go.Bar(x=names, y=[int(r[4]) for r in rows], name="expected"),
            go.Bar(x=names, y=[int(r[5]) for r in rows], name="counted"),
        ]
    )
    fig.update_layout(barmode="group", yaxis_title="responses / ratings")
    s.parts.append(figs.div(fig, height=360))
    s.parts.append(
        table(
            [
                "study",
                "workspace",
                "unit",
                "units",
                "expected",
                "counted",
                "complete",
                "units short of target",
            ],
            [
                (
                    # The first 8 characters tell runs apart and keep the table on the page.
                    str(r[0])[:8],
                    r[1],
                    r[2],
                    num(int(r[3])),
                    num(int(r[4])),
                    num(int(r[5])),
                    pct(int(r[5]) / int(r[4]) if r[4] else None),
                    num(int(r[6])),
                )
                for r in rows
            ],
            numeric={3, 4, 5, 6, 7},
        )  # fmt: skip
    )
    return s


def _toxicity(wh: Warehouse, figs: Figures) -> Section:
    import plotly.graph_objects as go

    rt = wh.need("response_toxicity", "response_id", "toxicity", "is_toxic")
    n, flagged = wh.rows(f"select count(*), count(*) filter (where is_toxic) from {rt}")[0]
    s = Section(
        "toxicity",
        "Toxicity",
        f"{flagged:,} of {n:,} counted responses ({pct(flagged / n)}) are flagged toxic by the "
        "classifier publish runs; the chart shows how the toxicity scores are spread.",
    )
    rows = wh.rows(
        f"select least(floor(toxicity * 20), 19) as bin, is_toxic, count(*) from {rt} "
        "where toxicity is not null group by all order by 1"
    )
    fig = go.Figure()
    for flag, name, colour in ((False, "not flagged", "#4c78a8"), (True, "flagged", "#e45756")):
        pts = [(b, c) for b, t, c in rows if bool(t) == flag]
        if pts:
            fig.add_trace(
                go.Bar(
                    x=[(b + 0.5) / 20 for b, _ in pts],
                    y=[c for _, c in pts],
                    width=0.048,
                    name=name,
                    marker_color=colour,
                )
            )
    # A log axis: the few flagged responses would be invisible beside the many clean ones.
    fig.update_layout(
        barmode="stack",
        xaxis_title="toxicity score",
        yaxis_title="responses (log scale)",
        yaxis_type="log",
        xaxis_range=[0, 1],
    )
    s.parts.append(figs.div(fig, height=320))
    return s


RUN_COLUMNS = (
    "run_id", "command", "started_at", "finished_at", "status", "exit_code", "error_line",
    "code_version", "extract_seconds", "build_seconds", "publish_seconds", "rows_landed",
)  # fmt: skip


def _refresh_runs(wh: Warehouse, figs: Figures) -> Section:
    s = Section(
        "runs",
        "Latest refresh runs",
        f"The last {LATEST_RUNS} runs of rlhfw on this warehouse, newest first: what ran, how "
        "it ended and how long each stage took.",
    )
    rr = wh.need("refresh_runs", "run_id", "started_at")
    # A column the table lacks (another version of it) is a blank column, not a lost section.
    cols = [c if wh.has("refresh_runs", c) else f"null as {c}" for c in RUN_COLUMNS]
    rows = wh.rows(
        f"select {', '.join(cols)} from {rr} "
        f"order by started_at desc nulls last limit {LATEST_RUNS}"
    )
    s.parts.append(
        table(
            [
                "run",
                "command",
                "started",
                "took",
                "status",
                "exit",
                "error",
                "code",
                "extract / build / publish (s)",
                "rows landed",
            ],
            [
                (
                    # The first 8 characters tell runs apart and keep the table on the page.
                    str(r[0])[:8],
                    r[1],
                    _when(r[2]),
                    _took(r[2], r[3]),
                    r[4],
                    num(r[5]),
                    r[6] or "",
                    (r[7] or "")[:8],
                    " / ".join(num(v, 1) for v in r[8:11]),
                    num(r[11]),
                )
                for r in rows
            ],
            numeric={3, 5, 8, 9},
            wrap={6},
        )  # fmt: skip
    )
    return s


def _took(started: Any, finished: Any) -> str:
    """A run's wall time (finished_at - started_at), shorter to read than a second date."""
    if isinstance(started, datetime) and isinstance(finished, datetime):
        return f"{(finished - started).total_seconds():,.1f} s"
    return _when(finished)


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


def sections(wh: Warehouse, salt: bytes | None) -> list[Section]:
    """Every section, each drawn on its own: one that cannot be drawn becomes a note."""
    import duckdb

    figs = Figures()
    builders: list[tuple[str, str, Callable[[], Section]]] = [
        ("funnel", "From landed to published", lambda: _funnel(wh, figs)),
        ("ratings", "Ratings given", lambda: _ratings(wh, figs)),
        ("position-bias", "Position bias", lambda: _position_bias(wh, figs)),
        ("margins", "Margins of the rated pairs", lambda: _margins(wh, figs)),
        ("agreement", "Agreement between raters", lambda: _agreement(wh, figs)),
        ("annotators", "Raters", lambda: _annotators(wh, figs, salt)),
        ("quality", "Question quality", lambda: _quality(wh, figs)),
        ("completeness", "Completeness per workspace", lambda: _completeness(wh, figs)),
        ("toxicity", "Toxicity", lambda: _toxicity(wh, figs)),
        ("runs", "Latest refresh runs", lambda: _refresh_runs(wh, figs)),
    ]
    out = []
    for key, title, build in builders:
        try:
            if wh.schema is None:
                raise NoData("the warehouse holds none of the marts; run `rlhfw refresh`")
            out.append(build())
        except NoData as why:
            out.append(Section(key, title, "", note=f"no data yet: {why}"))
        except duckdb.Error as exc:
            # A view over landing files that moved, a mart of another shape: that section
            # says so, the others still render.
            first = str(exc).splitlines()[0]
            out.append(Section(key, title, "", note=f"no data yet: could not read it ({first})"))
    return out
