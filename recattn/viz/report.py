"""One self-contained HTML file of what the app shows: headings, sentences, tables and plotly figures in, a page out
that opens anywhere, offline (plotly's JavaScript inlined once, no link to a CDN or any other address)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline

from recattn import i18n

# what each chart's camera saves in the report: print resolution, as in the app
FIGURE_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 3}}
_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2rem auto;
       padding: 0 1rem; color: #262730; line-height: 1.5; }
h1 { font-size: 1.8rem; margin-bottom: 0.2rem; } h2 { font-size: 1.3rem; margin-top: 2rem; }
.made { color: #777; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.95rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.7rem; text-align: left; }
th { background: #f5f5f7; }
"""


@dataclass(frozen=True)
class Section:
    """One part of the report: a heading, plain-text paragraphs, and a table and a figure when it has them."""

    heading: str
    paragraphs: Sequence[str] = ()
    table: pd.DataFrame | None = None
    figure: go.Figure | None = None
    notes: Sequence[str] = field(default_factory=tuple)  # small print under the figure


def report_html(title: str, made: str, sections: Sequence[Section]) -> str:
    """The report as one HTML document. Every text is escaped (titles of items are user data); figures are drawn by
    the plotly.js inlined once in the head, so the file needs no network."""
    parts = [f"<h1>{html.escape(title)}</h1>", f"<p class='made'>{html.escape(made)}</p>"]
    for n, section in enumerate(sections):
        parts.append(f"<h2>{html.escape(section.heading)}</h2>")
        parts += [f"<p>{html.escape(p)}</p>" for p in section.paragraphs]
        if section.table is not None:
            parts.append(section.table.to_html(index=False, escape=True, border=0, float_format=lambda v: f"{v:.4f}"))
        if section.figure is not None:
            # the app's figures keep thin margins and let Streamlit's theme grow them to fit the tick labels; on a
            # plain page they need the room themselves
            fig = go.Figure(section.figure).update_xaxes(automargin=True).update_yaxes(automargin=True)
            fig.update_layout(template="plotly_white", margin=dict(l=40, r=30, b=40))
            parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=False, config=FIGURE_CONFIG,
                                     div_id=f"figure-{n}", default_height=f"{(fig.layout.height or 450) + 120}px"))
        parts += [f"<p class='made'>{html.escape(p)}</p>" for p in section.notes]
    lang = {"zh": "zh-Hans"}.get(i18n.current(), i18n.current())  # the language the texts were written in
    return (f"<!DOCTYPE html>\n<html lang='{lang}'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style>"
            f"<script type='text/javascript'>{plotly.offline.get_plotlyjs()}</script></head>"
            f"<body>{''.join(parts)}</body></html>\n")
