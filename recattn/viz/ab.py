"""A and B: each head's attention change on the items both histories share, B − A on a diverging scale (an
`AttentionChange` in, a plotly grid out; the conventions of `viz.attention`: numbered short labels, full titles and
both weights on hover)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from recattn.analysis.ab import AttentionChange
from recattn.viz.attention import axis_ids, head_name, short_label, subplot_grid, update_axes
from recattn.viz.text import plot_text

DIVERGING = "RdBu_r"  # blue: B looks less, red: B looks more, white: unchanged
LABEL_WIDTH = 18


def change_grid(change: AttentionChange, title: str) -> go.Figure:
    """One heatmap of B − A per layer × head on the shared rows and columns, one colour scale centred on 0 and as
    wide as the largest change; blank where either map masks the cell."""
    L, H, n_rows, n_cols = change.a.shape
    diff = change.diff
    top = float(np.nanmax(np.abs(diff))) if np.isfinite(diff).any() else 1.0
    rows = [plot_text(f"{i + 1}. {short_label(t, LABEL_WIDTH)}") for i, t in enumerate(change.row_labels)]
    cols = [plot_text(f"{i + 1}. {short_label(t, LABEL_WIDTH)}") for i, t in enumerate(change.column_labels)]
    full_rows = np.asarray([plot_text(t) for t in change.row_labels], dtype=object)
    full_cols = np.asarray([plot_text(t) for t in change.column_labels], dtype=object)
    titles = [head_name(layer, head) for layer in range(L) for head in range(H)]
    layout = subplot_grid(L, H, titles, horizontal_spacing=0.06, vertical_spacing=0.12 if L > 1 else 0.0,
                          title_size=13)
    traces = []
    for layer in range(L):
        for head in range(H):
            x, y = axis_ids(layer, head, H)
            custom = np.stack(np.broadcast_arrays(full_rows[:, None], full_cols[None, :],
                                                  change.a[layer, head], change.b[layer, head]), axis=-1)
            traces.append(dict(
                type="heatmap", z=diff[layer, head], x=list(range(n_cols)), y=list(range(n_rows)), xaxis=x, yaxis=y,
                coloraxis="coloraxis", customdata=custom, xgap=1, ygap=1, name=titles[layer * H + head],
                hovertemplate=(f"<b>{titles[layer * H + head]}</b><br>%{{customdata[0]}} → %{{customdata[1]}}<br>"
                               "A %{customdata[2]:.3f} → B %{customdata[3]:.3f}: <b>%{z:+.3f}</b><extra></extra>")))
    update_axes(layout, "xaxis", dict(tickvals=list(range(n_cols)), ticktext=cols, tickangle=-45, showgrid=False,
                                      zeroline=False, range=[-0.5, n_cols - 0.5]))
    update_axes(layout, "yaxis", dict(tickvals=list(range(n_rows)), ticktext=rows, showgrid=False, zeroline=False,
                                      range=[n_rows - 0.5, -0.5]))
    cell = 22 if n_rows <= 12 else 12
    return go.Figure(traces, dict(
        **layout, title=dict(text=plot_text(title), x=0, font_size=15),
        # the colour bar horizontal, under the grid (as viz.attention's): a vertical one takes width from the panels,
        # and at a phone's width their titles would run into each other
        coloraxis=dict(colorscale=DIVERGING, cmin=-top, cmax=top, cmid=0.0,
                       colorbar=dict(orientation="h", x=0.5, xanchor="center", y=0, yref="container",
                                     yanchor="bottom", lenmode="pixels", len=240, thickness=10,
                                     title=dict(text="B − A", side="right"))),
        height=min(320 + L * (cell * n_rows + 60), 1460), margin=dict(l=10, r=10, t=60, b=70),
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)", hoverlabel=dict(bgcolor="white")))
