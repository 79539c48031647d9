"""The downloadable report: one HTML file whose texts are escaped, whose figures are the app's own, and which
needs no network (plotly.js inlined once, no outside address loaded)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from recattn.analysis import explain
from recattn.data import load
from recattn.recommend import Recommender
from recattn.viz.report import Section, report_html
from tests.app.conftest import MODELS
from ui.report import sections

HIST = ["915", "341", "5", "336", "880"]


def test_texts_are_escaped_and_plotly_is_inlined_once():
    fig = go.Figure(go.Bar(x=[1, 2], y=[3, 4]))
    text = report_html("<b>title</b>", "made", [Section("A & B", ["<script>alert(1)</script>"],
                                                        table=pd.DataFrame({"t": ["<i>x</i>"]}), figure=fig),
                                                Section("Second", figure=fig)])
    assert "<b>title</b>" not in text and "&lt;b&gt;title&lt;/b&gt;" in text
    assert "<script>alert(1)</script>" not in text and "&lt;i&gt;x&lt;/i&gt;" in text
    assert text.count("plotly.js v") == 1  # the library's banner: inlined once for every figure
    assert len(re.findall(r"Plotly\.newPlot\(", text)) == 2
    assert not re.search(r"<script[^>]+src=", text)  # no script from elsewhere (the browser test blocks the network)


def test_the_report_holds_what_the_pages_show():
    films = load("builtin:films")
    r = Recommender.from_checkpoint(MODELS / "films-sasrec", films)
    parts = {s.heading: s for s in sections(r, "Films", HIST)}
    rec = r.recommend(HIST)
    top = parts["Top 10"].table
    assert top["title"].tolist() == [i.title for i in rec.items]
    np.testing.assert_allclose(top["score"], [i.score for i in rec.items])
    assert parts[f"History: {len(HIST)} items, oldest first"].table["title"].tolist() == [r.title(i) for i in HIST]
    heat = [t for t in parts["Attention, every layer and head"].figure.data if t.type == "heatmap"]
    assert len(heat) == 4  # 2 layers × 2 heads, the trace the model used
    np.testing.assert_allclose(np.nan_to_num(np.asarray(heat[0].z, dtype=float)),
                               np.where(rec.trace.mask, 0, rec.trace.weights[0, 0]), rtol=1e-6)
    why = parts[f"Why {rec.items[0].title}?"]
    expected = explain.explain_all(r.model, r.vocab.index(HIST), int(r.vocab.index([rec.items[0].id])[0]))
    bars = {t.name: np.asarray(t.y, dtype=float) for t in why.figure.data}
    np.testing.assert_allclose(bars["Occlusion"], expected["occlusion"], rtol=1e-5, atol=1e-6)
    assert why.paragraphs[0].startswith("Without ") or why.paragraphs[0].startswith("No removal")
