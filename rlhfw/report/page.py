"""The page: one HTML file, plotly.js inlined once in its head, no external request."""

from __future__ import annotations

from datetime import UTC, datetime

from rlhfw.report.sections import esc, sections
from rlhfw.report.warehouse import Warehouse

# Written into every report's <head>: a file at the output path that lacks it was not written
# by `rlhfw report`, so it is never overwritten.
GENERATOR = '<meta name="generator" content="rlhfw report">'


CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       margin: 0; background: #f6f7f9; line-height: 1.45; }
header { background: #1f2937; color: #fff; padding: 1.2rem 2rem; }
header h1 { margin: 0 0 .3rem; font-size: 1.6rem; }
header p { margin: 0; color: #cbd5e1; }
nav { padding: .6rem 2rem; background: #e5e7eb; font-size: .95rem; display: flex;
      flex-wrap: wrap; gap: .3rem 1.2rem; }
nav a { color: #1d4ed8; text-decoration: none; white-space: nowrap; }
main { max-width: 1150px; margin: 0 auto; padding: 1rem 2rem 3rem; }
section { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px;
          padding: 1rem 1.4rem; margin: 1.2rem 0; }
section h2 { margin: .2rem 0 .3rem; font-size: 1.3rem; }
section h3 { font-size: 1.02rem; margin: 1.2rem 0 .4rem; }
p.what { margin: 0 0 .6rem; color: #374151; }
p.note, p.aside { color: #6b7280; font-style: italic; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: .9rem; margin: .3rem 0 .6rem; }
th, td { border-bottom: 1px solid #e5e7eb; padding: .3rem .7rem; text-align: left;
         vertical-align: top; white-space: nowrap; }
td.wrap { white-space: normal; min-width: 12rem; }
th { background: #f3f4f6; white-space: normal; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #f3f4f6; padding: 0 .2rem; border-radius: 3px; }
header code { background: #374151; color: #f9fafb; }
"""


def render(wh: Warehouse, study_name: str, salt: bytes | None) -> str:
    """The whole page, as text."""
    from plotly.offline import get_plotlyjs

    parts = sections(wh, salt)
    nav = "".join(f'<a href="#{s.key}">{esc(s.title)}</a>' for s in parts)
    body = []
    for s in parts:
        inner = (
            f'<p class="note">{esc(s.note)}</p>'
            if s.note
            else f'<p class="what">{esc(s.sentence)}</p>' + "\n".join(s.parts)
        )
        body.append(f'<section id="{s.key}"><h2>{esc(s.title)}</h2>{inner}</section>')
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    schema = f"schema <code>{esc(wh.schema)}</code>" if wh.schema else "no marts found"
    # plotly.js goes in once, before the figures (each figure's script calls Plotly.newPlot).
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
{GENERATOR}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Study report: {esc(study_name)}</title>
<style>{CSS}</style>
<script>window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script>
<script>{get_plotlyjs()}</script>
</head>
<body>
<header><h1>Study report: {esc(study_name)}</h1>
<p>Generated {generated} by <code>rlhfw report</code> from the warehouse's analysts' data
({schema}). Raters appear only by pseudonym.</p></header>
<nav>{nav}</nav>
<main>
{"".join(body)}
</main>
</body>
</html>
"""
