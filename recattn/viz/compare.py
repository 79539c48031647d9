"""The Compare page's figure: how much the models' top lists overlap (a table in, a plotly heatmap out)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from recattn.viz.attention import ATTENTION_COLORSCALE, short_label
from recattn.viz.text import plot_text

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
                       f"share %{{customdata[2]}} of their top {k}: <b>%{{z:.2f}}</b><extra></extra>"),
    )], layout=dict(
        xaxis=dict(title=dict(text="model"), tickangle=-45, range=[-0.5, n - 0.5], **axis),
        yaxis=dict(title=dict(text="model"), range=[n - 0.5, -0.5], **axis),
        title=dict(text=f"Overlap of the top {k} lists", x=0, xanchor="left"),
        height=150 + 44 * n + 7 * max(len(t) for t in ticks), margin=dict(l=10, r=10, t=40, b=70),
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)", hoverlabel=dict(bgcolor="white"),
    ))
    return fig
