"""One head at a time: a single attention map drawn large, the row that produced the recommendations as bars,
one small panel per layer × head, and every head's role and importance as one grid. Traces in, plotly figures out;
the conventions of `viz.attention` (one colour scale, numbered short labels with full titles on hover, transparent
backgrounds)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from recattn.analysis.head_roles import HeadRoles
from recattn.i18n import N_, _
from recattn.trace import AttentionTrace
from recattn.viz.attention import (ATTENTION_COLORSCALE, PICKED, attention_grid, axis_ids, head_name, positions,
                                   short_label, subplot_grid, update_axes, weight_hover)
from recattn.viz.text import plot_text

BIG_CELL = 34  # pixels a row of the enlarged map gets (the grid's panels use 9–22)


def head_figure(trace: AttentionTrace, layer: int, head: int, picked: str | None = None) -> go.Figure:
    """The map of one layer and head (0-based), large: `attention_grid` on that one head, titled with its real
    numbers, colours scaled to this map alone, the picked item (an id, or None) outlined."""
    grid = attention_grid(trace.weights[:, [head]], trace.query_labels, trace.key_labels, trace.mask,
                          layers=[layer], highlight_last_row=trace.produced_by_last_row,
                          picked_rows=positions(trace.query_ids, picked), picked_columns=positions(trace.key_ids, picked))
    name = head_name(layer, head)
    drawn = head_name(layer, 0)  # what attention_grid called it: the slice has one head
    grid.update_traces(name=name, hovertemplate=grid.data[0].hovertemplate.replace(drawn, name))
    grid.update_annotations(text="")  # the figure's title names the head
    # Taller than a grid panel (those stop at 520 px): rows of about BIG_CELL px, up to 900 px for the map.
    grow = max(0, min(BIG_CELL * len(trace.query_labels), 900) - 200)
    grid.update_layout(height=grid.layout.height + grow,
                       title=dict(text=_("{head}, enlarged").format(head=name), x=0, font_size=15),
                       margin_t=50, coloraxis_colorbar=dict(lenmode="pixels", len=240))
    return grid


def deciding_rows(trace: AttentionTrace, candidate: int = 0) -> np.ndarray:
    """(layers, heads, keys): the attention row that scored the recommendations, in every layer and head.

    Self-attention (causal, bidirectional) scores with its last row (the latest item, or BERT4Rec's mask slot);
    target attention has one row per recommended item: `candidate` picks it (0 = the top one)."""
    row = -1 if trace.produced_by_last_row else candidate
    return np.asarray(trace.weights[:, :, row, :], dtype=float)


def row_bars(trace: AttentionTrace, candidate: int = 0, picked: str | None = None) -> go.Figure:
    """The deciding row as horizontal bars over the history, one small panel per layer × head (rows of panels
    are layers), bars coloured by weight on the one attention scale, the picked item's bars (an id, or None)
    outlined; hover: full title and exact weight. A bar's point number is its history position."""
    rows = deciding_rows(trace, candidate)
    n_layers, n_heads, n_k = rows.shape
    query = trace.query_labels[-1 if trace.produced_by_last_row else candidate]
    ticks = [f"{j + 1}. {plot_text(short_label(t, 22))}" for j, t in enumerate(trace.key_labels)]
    full = [f"{j + 1}. {plot_text(t)}" for j, t in enumerate(trace.key_labels)]
    # A bar a few pixels high for a long history (labels on every `step`-th bar, the hover has them all).
    bar = 18 if n_k <= 12 else 12 if n_k <= 25 else 8
    step = 1 if n_k <= 25 else int(np.ceil(n_k / 25))
    panel, gap = max(120, bar * n_k), 40
    grid_height = n_layers * panel + (n_layers - 1) * gap
    layout = subplot_grid(n_layers, n_heads, [head_name(layer, h) for layer in range(n_layers)
                                              for h in range(n_heads)],
                          horizontal_spacing=0.08, vertical_spacing=gap / grid_height if n_layers > 1 else 0.0,
                          title_size=12)
    data = []
    outlined = set(positions(trace.key_ids, picked))
    edge = dict(color=[PICKED if j in outlined else "rgba(0,0,0,0)" for j in range(n_k)],
                width=[2.5 if j in outlined else 0 for j in range(n_k)])
    for layer in range(n_layers):
        for h in range(n_heads):
            x, y = axis_ids(layer, h, n_heads)
            data.append(dict(
                type="bar", x=rows[layer, h], y=list(range(n_k)), orientation="h", customdata=full, xaxis=x, yaxis=y,
                name=head_name(layer, h),
                marker=dict(color=rows[layer, h], coloraxis="coloraxis", line=edge),
                hovertemplate=(f"<b>{head_name(layer, h)}</b><br>%{{customdata}}<br>{weight_hover('%{x:.4f}')}"
                               "<extra></extra>"),
            ))
    top = float(rows.max())
    update_axes(layout, "yaxis", dict(tickvals=list(range(0, n_k, step)), ticktext=ticks[::step],
                                      range=[n_k - 0.5, -0.5], tickfont=dict(size=11 if n_k <= 25 else 9)))
    update_axes(layout, "xaxis", dict(range=[0, max(top, 1e-9) * 1.05], tickformat=".1f", showgrid=True,
                                      gridcolor="rgba(128,128,128,0.25)"))
    for h in range(n_heads):
        layout[axis_ids(n_layers - 1, h, n_heads)[0].replace("x", "xaxis")]["title"] = dict(text=_("attention weight"))
    layout.update(
        title=dict(text=_("What {item} reads").format(item=plot_text(short_label(query, 30))), x=0, font_size=15),
        coloraxis=dict(colorscale=ATTENTION_COLORSCALE, cmin=0.0, cmax=top, showscale=False),
        height=grid_height + 130, showlegend=False, bargap=0.15,
        margin=dict(l=10, r=10, t=70, b=50), plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)",
        hoverlabel=dict(bgcolor="white", font_size=13),
    )
    fig = go.Figure(data=data, layout=layout)
    return fig


ROLE_COLORS = {"newest item": "#f28e2b", "first position": "#b07aa1", "same franchise or story": "#e15759",
               "item-to-item neighbour": "#edc948",
               "same genre or topic": "#59a14f", "popular items": "#76b7b2", "diffuse": "#bab0ac"}
ROLE_WORDS = {"newest item": N_("newest"), "first position": N_("first"), "same franchise or story": N_("series"),
              "item-to-item neighbour": N_("neighbour"),
              "same genre or topic": N_("genre"), "popular items": N_("popular"),
              "diffuse": N_("diffuse")}  # under each cell, shown with _()


def role_grid(roles: HeadRoles) -> go.Figure:
    """One cell per layer × head (layer 1 on top): coloured by the head's dominant role, sized by its importance
    (the NDCG@10 lost without it; no loss: the smallest size), every role's mass and chance on hover. Each point's
    customdata is [layer, head] (0-based), for a click to open that head."""
    top = max((h.importance for h in roles.heads), default=0.0)
    layers = max((h.layer for h in roles.heads), default=0) + 1
    heads = max((h.head for h in roles.heads), default=0) + 1
    traces = []
    for role in [*roles.roles, "diffuse"]:
        members = [h for h in roles.heads if h.role == role]
        if not members:
            continue
        hover = []
        for h in members:
            lines = "<br>".join(_("{role}: {mass:.2f} (chance {chance:.2f})").format(
                role=_(r), mass=h.mass[r], chance=h.chance[r]) for r in roles.roles)
            hover.append("<br>".join((
                _("{head}: {role}").format(head=f"<b>{head_name(h.layer, h.head)}</b>", role=_(role)),
                _("NDCG@10 without it {ndcg} ({change})").format(ndcg=f"<b>{h.ndcg_without:.4f}</b>",
                                                                 change=f"{-h.importance:+.4f}"),
                _("entropy {entropy:.2f} of 1").format(entropy=h.entropy),
                _("weight of its scoring row:"), lines)))
        traces.append(go.Scatter(
            x=[h.head + 1 for h in members], y=[h.layer + 1 for h in members], mode="markers+text", name=_(role),
            text=[_(ROLE_WORDS.get(role, role))] * len(members), textposition="bottom center",
            marker=dict(symbol="square", color=ROLE_COLORS.get(role, "#999999"), line=dict(width=1, color="white"),
                        size=[16 + 40 * max(h.importance, 0.0) / top if top > 0 else 16 for h in members]),
            customdata=[[h.layer, h.head] for h in members], hovertext=hover, hoverinfo="text"))
    return go.Figure(traces, dict(
        title=dict(text=_("Each head's role over {histories} test histories").format(histories=roles.histories)
                   + "<br><sup>" + _("size: the NDCG@10 lost without it") + "</sup>", x=0, font_size=15),
        xaxis=dict(title=dict(text=_("head")), tickvals=list(range(1, heads + 1)), range=[0.4, heads + 0.6],
                   showgrid=False, zeroline=False),
        yaxis=dict(title=dict(text=_("layer")), tickvals=list(range(1, layers + 1)), range=[layers + 0.6, 0.4],
                   showgrid=False, zeroline=False),
        height=180 + 90 * layers, margin=dict(l=10, r=10, t=60, b=10), legend=dict(orientation="h", y=-0.2),
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)", hoverlabel=dict(bgcolor="white")))
