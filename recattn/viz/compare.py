"""The Compare page's figures: how much the models' top lists overlap (a table in, a plotly heatmap out), and the
searched models' validation curves against seconds (the curves in, plotly lines out; the Learn page shows them too)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from recattn.i18n import _
from recattn.viz.attention import ATTENTION_COLORSCALE, HIGHLIGHT, short_label
from recattn.viz.text import plot_text

# one colour per model, in the order given (SASRec's blue and GRU4Rec's orange as on the Learn page when first)
CURVE_COLORS = ("#4292c6", HIGHLIGHT, "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#9c755f")
NAME_WIDTH = 18  # model labels on the axes ("Additive attention · shipped" is cut, the hover has it whole)


def overlap_heatmap(matrix: pd.DataFrame, k: int) -> go.Figure:
    """Models × models heatmap of overlap@k (0 to 1), the value written in each cell, both names on hover.

    Numeric axes with tick text, as in `attention_grid`: two models whose labels cut to the same text stay apart."""
    names = [str(n) for n in matrix.index]
    n = len(names)
    full = [plot_text(name) for name in names]  # ticks and hover read a subset of HTML
    custom = np.empty((n, n, 2), dtype=object)
    custom[..., 0] = np.asarray(full, dtype=object)[:, None]
    custom[..., 1] = np.asarray(full, dtype=object)[None, :]
    shared = np.rint(matrix.to_numpy(dtype=float) * k).astype(int)
    custom = np.concatenate([custom, shared[..., None].astype(object)], axis=2)
    ticks = [short_label(name, NAME_WIDTH) for name in names]
    axis = dict(tickvals=list(range(n)), ticktext=[plot_text(t) for t in ticks], showgrid=False, zeroline=False)
    # One constructor: plotly validates each setting once (update_* after it cost several times more).
    fig = go.Figure(data=[dict(
        type="heatmap", z=matrix.to_numpy(dtype=float), x=list(range(n)), y=list(range(n)), customdata=custom,
        colorscale=ATTENTION_COLORSCALE, zmin=0.0, zmax=1.0, xgap=2, ygap=2,
        texttemplate="%{z:.1f}", textfont=dict(size=12),
        colorbar=dict(orientation="h", x=0.5, xanchor="center", y=0, yref="container", yanchor="bottom",
                      len=1.0, thickness=10, title=dict(text=f"overlap@{k}", side="right"), tickformat=".1f"),
        hovertemplate=("%{customdata[0]}<br>%{customdata[1]}<br>"
                       + _("share {shared} of their top {k}: {overlap}").format(
                           shared="%{customdata[2]}", k=k, overlap="<b>%{z:.2f}</b>") + "<extra></extra>"),
    )], layout=dict(
        xaxis=dict(title=dict(text=_("model")), tickangle=-45, range=[-0.5, n - 0.5], **axis),
        yaxis=dict(title=dict(text=_("model")), range=[n - 0.5, -0.5], **axis),
        title=dict(text=_("Overlap of the top {k} lists").format(k=k), x=0, xanchor="left"),
        height=150 + 44 * n + 7 * max(len(t) for t in ticks), margin=dict(l=10, r=10, t=40, b=70),
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)", hoverlabel=dict(bgcolor="white"),
    ))
    return fig


def budget_figure(panels: Mapping[str, Mapping[str, Sequence[Sequence[tuple[float, float]]]]],
                  names: Mapping[str, str]) -> go.Figure:
    """Validation NDCG@10 against seconds, one line per seed, one colour per model, one panel per entry of `panels`
    (its title → model → the seeds' curves, each [(seconds, NDCG@10), …]); `names`: model → what people read.

    Panels share the y axis, so "at the search's budget" and "to early stop" read on one scale."""
    kinds = list(dict.fromkeys(k for curves in panels.values() for k in curves))
    colors = {k: CURVE_COLORS[i % len(CURVE_COLORS)] for i, k in enumerate(kinds)}
    n = max(len(panels), 1)
    gap = 0.08
    width = (1 - gap * (n - 1)) / n
    data, layout = [], {}
    for p, (title, curves) in enumerate(panels.items()):
        axis = "" if p == 0 else str(p + 1)
        for kind, runs in curves.items():
            for seed, run in enumerate(runs):
                seconds, ndcg = zip(*run) if run else ((), ())
                name = plot_text(names.get(kind, kind))
                data.append(dict(
                    type="scatter", x=list(seconds), y=list(ndcg), mode="lines+markers", name=name,
                    legendgroup=kind, showlegend=p == 0 and seed == 0, xaxis=f"x{axis}", yaxis=f"y{axis}",
                    line=dict(color=colors[kind], width=1.5), marker=dict(size=4), opacity=0.85,
                    hovertemplate=("<b>" + name + "</b> · "
                                   + _("run {run}").format(run=seed + 1) + "<br>"
                                   + _("{seconds} s: validation NDCG@10 {score}").format(
                                       seconds="%{x:.0f}", score="<b>%{y:.4f}</b>") + "<extra></extra>")))
        left = p * (width + gap)
        layout[f"xaxis{axis}"] = dict(domain=[left, left + width],
                                      title=dict(text=_("seconds (training and validation)")),
                                      rangemode="tozero", anchor=f"y{axis}")
        layout[f"yaxis{axis}"] = dict(anchor=f"x{axis}", rangemode="tozero",
                                      **({"title": dict(text=_("validation NDCG@10"))} if p == 0 else
                                         {"matches": "y", "showticklabels": False}))
        layout.setdefault("annotations", []).append(dict(
            text=f"<b>{plot_text(title)}</b>", x=left, xref="paper", xanchor="left", y=1.0, yref="paper",
            yanchor="bottom", showarrow=False, font=dict(size=13)))
    return go.Figure(data=data, layout=dict(
        height=380, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.22),
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)", hoverlabel=dict(bgcolor="white"), **layout))
