"""Hostile text from user files stays text in every figure: each plotly builder escapes titles, genres and model
names once (plotly reads a subset of HTML and `$…$` in ticks, titles, legends and hover)."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recattn.analysis import walkthrough as learn
from recattn.analysis.contrast import Influence, ListChange
from recattn.analysis.walkthrough import CrossAttention
from recattn.data import load
from recattn.ranking import RecItem
from recattn.recommend import Recommender
from recattn.trace import AttentionTrace, causal_mask
from recattn.viz import attention_grid, cause_chart, genre_chart, popularity_chart, short_label, trace_figure
from recattn.viz import learn as figs
from recattn.viz.compare import overlap_heatmap
from recattn.viz.embeddings import embedding_map
from recattn.viz.explain import method_bars
from recattn.viz.heads import head_figure, row_bars
from recattn.viz.text import plot_text
from recattn.viz.training import training_curves

HOSTILE = ("<img src=x onerror=alert(1)>", "**[x](javascript:alert(1))**", "<b>bold</b>", "$x$", ":red[x]",
           "<script>alert(1)</script>")
RAW = ("<img", "<script", "<b>bold", "$x$")  # what must never reach plotly as written
SHOWN = "&lt;img src=x onerror=alert(1)&gt;"  # the first title, escaped once: plotly shows it literally

# Plotly's entity decoding as bundled in Streamlit 1.67's PlotlyChart.*.js (svg_text_utils.convertEntities): the
# step between a label's text and what is drawn. It knows these names only ("&quot;" would stay as typed).
_ENTITY = re.compile(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);")
_NAMED = {"mu": "μ", "amp": "&", "lt": "<", "gt": ">", "nbsp": "\xa0", "times": "×", "plusmn": "±", "deg": "°"}


def plotly_shows(text: str) -> str:
    """What plotly draws for a label without tags: its entities decoded."""
    def one(m: re.Match) -> str:
        code = m[1]
        if code.startswith("#"):
            return chr(int(code[2:], 16) if code[1] == "x" else int(code[1:]))
        return _NAMED.get(code, m[0])
    return _ENTITY.sub(one, text)


def strings(fig) -> list[str]:
    """Every string in a figure's JSON: labels, hover data, titles, legends."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(fig.to_json()))
    return found


def assert_literal(fig) -> None:
    """No hostile string reaches plotly raw, the first one is there escaped once (so it is shown), none twice."""
    text = strings(fig)
    for raw in RAW:
        assert not [s for s in text if raw in s], raw
    assert any(SHOWN in s for s in text)
    assert not [s for s in text if "&amp;lt;" in s]  # escaped twice would show "&lt;" on screen


def trace(kind: str = "causal") -> AttentionTrace:
    n = len(HOSTILE)
    weights = np.full((2, 2, n, n), 1.0 / n)
    return AttentionTrace(weights, HOSTILE, HOSTILE, tuple(map(str, range(n))), tuple(map(str, range(n))), kind,
                          causal_mask(n, n) if kind == "causal" else None)


def items() -> tuple[RecItem, ...]:
    return tuple(RecItem(str(i), t, t, 1.0 - i / 10) for i, t in enumerate(HOSTILE))


# ------------------------------------------------------------------------------------------------ the helper itself
@pytest.mark.parametrize("text", HOSTILE + ('"Quoted" & <b>', "Tom &amp; Jerry", "&#36;5", "Ocean's Eleven"))
def test_plot_text_is_drawn_exactly_as_typed(text):
    escaped = plot_text(text)
    assert "<" not in escaped and "$" not in escaped  # no tag, no LaTeX
    assert plotly_shows(escaped) == text


def test_plot_text_known_answers():
    assert plot_text("<b>bold</b>") == "&lt;b&gt;bold&lt;/b&gt;"
    assert plot_text("$x$") == "&#36;x&#36;"
    assert plot_text('"a" & b') == '"a" &amp; b'  # plotly has no "&quot;": quotes stay


@given(st.text())
def test_plot_text_round_trips_any_text(text):
    escaped = plot_text(text)
    assert "<" not in escaped and ">" not in escaped and "$" not in escaped
    assert plotly_shows(escaped) == text


# ---------------------------------------------------------------------------------------------- every plotly builder
@pytest.mark.parametrize("kind", ["causal", "target"])
def test_attention_figures(kind):
    t = trace(kind)
    for fig in (trace_figure(t, title="Attention of <b>x</b>"), head_figure(t, 1, 1), row_bars(t)):
        assert_literal(fig)
    grid = attention_grid(t.weights, HOSTILE, HOSTILE, title="<b>title</b>")
    assert grid.layout.title.text == "&lt;b&gt;title&lt;/b&gt;"
    assert grid.layout.yaxis.ticktext[2] == "3. &lt;b&gt;bold&lt;/b&gt;"
    assert grid.data[0].customdata[3, 0, 0] == "4. &#36;x&#36;"


def test_row_bars_title_names_the_query_literally():
    fig = row_bars(trace())
    assert fig.layout.title.text == "What &lt;script&gt;alert(1)&lt;/script&gt; reads"


def test_overlap_heatmap():
    names = list(HOSTILE[:3])
    fig = overlap_heatmap(pd.DataFrame(np.eye(3), index=names, columns=names), 10)
    assert_literal(fig)
    assert fig.layout.xaxis.ticktext[2] == plot_text(short_label(names[2], 18)) == "&lt;b&gt;bold&lt;/b&gt;"
    assert fig.data[0].customdata[0, 1, 1] == "**[x](javascript:alert(1))**"  # no markup for plotly: as it is


def test_embedding_map():
    n = len(HOSTILE)
    fig = embedding_map(np.arange(2 * n, dtype=float).reshape(n, 2), HOSTILE, HOSTILE, [0.5, 0.2], {0: 1}, {1: 1})
    assert_literal(fig)
    legend = {trace.name for trace in fig.data}
    assert "&lt;b&gt;bold&lt;/b&gt;" in legend and "&#36;x&#36;" in legend  # genres name the legend entries


def test_training_curves_title():
    fig = training_curves([1, 2], [1.0, 0.5], [0.1, 0.2], 2, title="<img src=x onerror=alert(1)> on $x$")
    assert fig.layout.title.text == SHOWN + " on &#36;x&#36;"


def test_learn_figures():
    z = np.arange(len(HOSTILE) ** 2, dtype=float).reshape(len(HOSTILE), -1)
    assert_literal(figs.matrix_figure(z, HOSTILE, HOSTILE, title="t", x_title="x", y_title="y", value="v",
                                      titled_columns=True))
    assert_literal(figs.scores_figure(items(), title="t"))
    n = len(HOSTILE)
    changes = [ListChange(name, items(), tuple(range(1, n + 1)), n) for name in ("original", "reversed")]
    assert_literal(figs.rank_figure(changes, title="t"))
    target = items()[0]
    influence = Influence(target, np.linspace(1, 0, n), np.arange(n)[::-1].copy())
    assert_literal(figs.influence_figure({"SASRec": (influence, HOSTILE)}))
    cross = CrossAttention(z, np.full_like(z, 1.0 / n))
    for panel in figs.cross_panels(cross, HOSTILE, HOSTILE):
        assert_literal(panel.figure)


def test_walkthrough_panels():
    films = load("builtin:films")
    sasrec = Recommender.from_checkpoint(Path(__file__).resolve().parents[1] / "assets/models/films-sasrec", films)
    walk = learn.walkthrough(sasrec.model, sasrec.vocab.index(["2", "10", "11", "40", "5", "7"]))
    panels = figs.embedding_panels(walk, HOSTILE) + figs.block_panels(walk.layers[0], 0, HOSTILE)
    panels += [p for row in figs.head_panels(walk.layers[0], 0, HOSTILE) for p in row]
    for panel in panels:
        assert_literal(panel.figure)


def test_explain_method_bars():
    n = len(HOSTILE)
    weights = {"attention": np.full(n, 1 / n), "occlusion": np.linspace(-1, 1, n)}
    fig = method_bars(weights, HOSTILE, HOSTILE[2], rank_change=np.arange(n) - 2)
    assert_literal(fig)
    assert fig.layout.title.text.startswith("Why &lt;b&gt;bold&lt;/b&gt;?")
    assert fig.layout.xaxis.ticktext[3] == "4. &#36;x&#36;"  # the one x axis, under the bottom panel
    assert fig.data[1].customdata[0, 0] == "1. " + SHOWN


# ------------------------------------------------------------------------------------------------- the Data page
def test_data_charts():
    """Titles (hover of the long tail), genres (ticks and hover) and the causes with their meanings, each escaped
    once."""
    pop = popularity_chart(list(HOSTILE), list(range(len(HOSTILE), 0, -1)))
    assert_literal(pop)
    assert [c[0] for c in pop.data[1].customdata] == [plot_text(t) for t in HOSTILE]
    genres = genre_chart(pd.DataFrame({"genre": HOSTILE, "interactions": range(6, 0, -1), "items": [1] * 6}), 21)
    assert_literal(genres)
    assert list(genres.layout.yaxis.ticktext) == [plot_text(short_label(g, 24)) for g in HOSTILE]
    assert [c[0] for c in genres.data[0].customdata] == [plot_text(g) for g in HOSTILE]
    causes = cause_chart(dict(zip(HOSTILE, range(6, 0, -1))), dict(zip(HOSTILE, HOSTILE)))
    assert_literal(causes)
    assert list(causes.layout.yaxis.ticktext) == [plot_text(c) for c in HOSTILE]
    assert [c[1] for c in causes.data[0].customdata] == [plot_text(c) for c in HOSTILE]
