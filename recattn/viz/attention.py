"""Attention heatmaps: arrays and labels in, plotly figures out (bertviz style: never a model, never streamlit).

Pages hand a `Recommendation`'s `AttentionTrace` to `trace_figure`; `attention_grid` draws any weights. Grids of
panels are laid out by `subplot_grid` as plain dicts and built in one go (make_subplots is ten times slower)."""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from recattn.i18n import _
from recattn.trace import AttentionTrace
from recattn.viz.text import plot_text

# One sequential scale everywhere. It starts at a visible light blue, not white, so that a weight of 0.0 that the
# model chose still looks different from a masked cell, which is drawn blank (the white page background).
ATTENTION_COLORSCALE = [
    [0.0, "#dbe9f6"],
    [0.25, "#9ecae1"],
    [0.5, "#4292c6"],
    [0.75, "#2171b5"],
    [1.0, "#08306b"],
]
HIGHLIGHT = "#f28e2b"  # the row that produced the recommendations
PICKED = "#c2185b"  # the item picked on any page (ui.state.PICK): its rows, columns, bars and point, everywhere
LABEL_WIDTH = 26  # axis labels: long enough for most film titles with their year, short enough to leave room
_PART = re.compile(r"^(?:[IVXLC]+|\d+|Part)$")
TITLED_COLUMNS = 12  # up to this many columns, titles under them; beyond, position numbers


def head_name(layer: int, head: int) -> str:
    """One head as people read it, "Layer 2 · head 1", from 0-based indices (in the session's language)."""
    return _("Layer {layer} · head {head}").format(layer=layer + 1, head=head + 1)


def weight_hover(value: str) -> str:
    """The hover line "weight: <b>%{z:.4f}</b>" around a plotly placeholder `value` (e.g. "%{z:.4f}")."""
    return _("weight: {weight}").format(weight=f"<b>{value}</b>")


def short_label(text: str, width: int = LABEL_WIDTH) -> str:
    """`text` cut to at most `width` characters with "…" in the middle when it is too long.

    The end is kept because it tells similar titles apart: "Calder: Distant Garden II (1969)" becomes
    "Calder: Distant… II (1969)", not "Calder: Distant Garden…" like all its sequels.
    """
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    words = text.split(" ")
    # Keep the last word (often the year) and a part number before it ("II", "3"), if that leaves room.
    n = 2 if len(words) > 2 and _PART.match(words[-2]) else 1
    tail = " ".join(words[-n:]) if len(words) > n else ""
    if len(tail) > width // 2:
        tail = ""
    budget = width - 1 - (len(tail) + 1 if tail else 0)
    head = text[:budget]
    cut = head.rfind(" ")
    if not text[budget:budget + 1].isspace() and cut >= budget - 4:
        head = head[:cut]  # end on a whole word when that costs only a few characters
    head = head.rstrip(" :-,;")
    return f"{head}… {tail}" if tail else f"{head}…"


def axis_ids(row: int, col: int, cols: int) -> tuple[str, str]:
    """The x and y axis ids ("x", "x2", …) of the subplot at (row, col), 0-based, in a grid `cols` wide, numbered
    row by row from the top as plotly's make_subplots numbers them."""
    k = row * cols + col + 1
    return ("x", "y") if k == 1 else (f"x{k}", f"y{k}")


def subplot_grid(rows: int, cols: int, titles: Sequence[str], *, horizontal_spacing: float,
                 vertical_spacing: float, title_size: int) -> dict:
    """The layout of `make_subplots(rows, cols, shared_xaxes=True, shared_yaxes=True, subplot_titles=titles, ...)`
    as a plain dict (axes, their domains and matches, the titles as annotations of `title_size`), to which the
    caller adds its traces and settings and builds the figure once: make_subplots and the updates after it go
    through plotly's validated objects and took most of a grid figure's time (≈100 ms for 2 × 2 panels).

    As in make_subplots, an x axis matches its column's bottom one and a y axis its row's first one; the others
    show no tick labels."""
    width = (1.0 - horizontal_spacing * (cols - 1)) / cols
    height = (1.0 - vertical_spacing * (rows - 1)) / rows
    layout: dict = {}
    annotations = []
    for r in range(rows):
        up = rows - 1 - r  # rows count from the top, domains from the bottom
        y0 = sum([height] * up) + up * vertical_spacing  # summed like make_subplots, to the same float
        y_domain = [min(max(y0, 0.0), 1.0), min(max(y0 + height, 0.0), 1.0)]
        for c in range(cols):
            x0 = sum([width] * c) + c * horizontal_spacing
            x_domain = [x0, x0 + width]
            x, y = axis_ids(r, c, cols)
            x_axis, y_axis = dict(anchor=y, domain=x_domain), dict(anchor=x, domain=y_domain)
            if r < rows - 1:
                x_axis.update(matches=axis_ids(rows - 1, c, cols)[0], showticklabels=False)
            if c > 0:
                y_axis.update(matches=axis_ids(r, 0, cols)[1], showticklabels=False)
            layout[x.replace("x", "xaxis")], layout[y.replace("y", "yaxis")] = x_axis, y_axis
            text = titles[r * cols + c] if r * cols + c < len(titles) else ""
            if text:
                annotations.append(dict(y=y_domain[1], xref="paper", x=sum(x_domain) / 2.0, yref="paper", text=text,
                                        showarrow=False, font=dict(size=title_size), xanchor="center",
                                        yanchor="bottom"))
    layout["annotations"] = annotations
    return layout


def update_axes(layout: dict, kind: str, settings: dict) -> None:
    """Add `settings` to every axis of a kind ("xaxis" or "yaxis") of a `subplot_grid` layout, as
    fig.update_xaxes / update_yaxes would."""
    for name, axis in layout.items():
        if name.startswith(kind):
            axis.update(settings)


def _checked_weights(weights, query_labels, key_labels, masked) -> np.ndarray:
    """The maps as floats (layers, heads, queries, keys) with masked cells NaN; ValueError for shapes that disagree."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 4:
        raise ValueError(f"weights must be (layers, heads, queries, keys), got shape {w.shape}")
    n_q, n_k = w.shape[2:]
    if len(query_labels) != n_q or len(key_labels) != n_k:
        raise ValueError(f"{len(query_labels)} query / {len(key_labels)} key labels for a {n_q}×{n_k} map")
    if masked is None:
        return w
    masked = np.asarray(masked, dtype=bool)
    if masked.shape != (n_q, n_k):
        raise ValueError(f"mask shape {masked.shape} does not match the maps ({n_q}, {n_k})")
    return np.where(masked[None, None], np.nan, w)


def _hover_labels(query_labels: Sequence[str], key_labels: Sequence[str]) -> np.ndarray:
    """(queries, keys, 2): each cell's numbered full row and column titles, kept literal (titles come from user
    files, and plotly reads HTML in hover text)."""
    custom = np.empty((len(query_labels), len(key_labels), 2), dtype=object)
    custom[..., 0] = np.asarray([f"{i + 1}. {plot_text(t)}" for i, t in enumerate(query_labels)], dtype=object)[:, None]
    custom[..., 1] = np.asarray([f"{j + 1}. {plot_text(t)}" for j, t in enumerate(key_labels)], dtype=object)[None, :]
    return custom


def positions(ids: Sequence[str], picked: str | None) -> list[int]:
    """Where the picked item stands in `ids` (every place: a film can be seen twice); [] when nothing is picked."""
    return [] if picked is None else [i for i, item in enumerate(ids) if item == picked]


def _outline(x0: float, x1: float, y0: float, y1: float, x: str, y: str, color: str) -> dict:
    return dict(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, xref=x, yref=y, line=dict(color=color, width=2),
                fillcolor="rgba(0,0,0,0)")


def _panels(w: np.ndarray, layers: list[int], custom: np.ndarray, highlight_last_row: bool,
            picked_rows: Sequence[int] = (), picked_columns: Sequence[int] = ()) -> tuple[list, list]:
    """One heatmap trace per layer × head on its own axes, the outline of each panel's last row when asked, and of
    the picked item's rows and columns."""
    n_heads, n_q, n_k = w.shape[1:]
    data, shapes = [], []
    cells = "<br>".join((_("query (row): {row}").format(row="%{customdata[0]}"),
                         _("key (column): {column}").format(column="%{customdata[1]}"), weight_hover("%{z:.4f}")))
    for r, layer in enumerate(layers):
        for h in range(n_heads):
            x, y = axis_ids(r, h, n_heads)
            name = head_name(layer, h)
            data.append(dict(
                type="heatmap", z=w[layer, h], x=list(range(n_k)), y=list(range(n_q)), customdata=custom,
                coloraxis="coloraxis", xgap=1, ygap=1, hoverongaps=False, xaxis=x, yaxis=y,
                name=name, hovertemplate=f"<b>{name}</b><br>{cells}<extra></extra>",
            ))
            if highlight_last_row:
                shapes.append(_outline(-0.5, n_k - 0.5, n_q - 1.5, n_q - 0.5, x, y, HIGHLIGHT))
            shapes += [_outline(-0.5, n_k - 0.5, i - 0.5, i + 0.5, x, y, PICKED) for i in picked_rows]
            shapes += [_outline(j - 0.5, j + 0.5, -0.5, n_q - 0.5, x, y, PICKED) for j in picked_columns]
    return data, shapes


def _label_axes(layout: dict, query_labels: Sequence[str], key_labels: Sequence[str], label_width: int) -> int:
    """Tick the grid's axes with the numbered, cut titles; return the height in pixels the column labels take.

    Numeric axes with tick text, not categorical ones: plotly merges equal category names, which would fold a film
    seen twice (or two titles that cut to the same text) into one row. Titles fit under the columns only for short
    histories; beyond that the columns show their position numbers (the same numbers as the rows: in self-attention
    the keys are the history too) and the hover gives the full title."""
    n_q, n_k = len(query_labels), len(key_labels)
    q_ticks = [f"{i + 1}. {short_label(t, label_width)}" for i, t in enumerate(query_labels)]
    k_ticks = [f"{i + 1}. {short_label(t, label_width)}" for i, t in enumerate(key_labels)]
    titled_columns = n_k <= TITLED_COLUMNS
    step = 1 if titled_columns else int(np.ceil(n_k / 12))
    update_axes(layout, "xaxis", dict(
        tickvals=list(range(0, n_k, step)), ticktext=[plot_text(t) for t in k_ticks[::step]] if titled_columns else
        [str(j + 1) for j in range(0, n_k, step)], tickangle=-45 if titled_columns else 0,
        tickfont=dict(size=11 if titled_columns else 10), showgrid=False, zeroline=False, range=[-0.5, n_k - 0.5],
    ))
    # Oldest history item at the top, like a matrix: the last row (the recommendation) is at the bottom.
    update_axes(layout, "yaxis", dict(tickvals=list(range(n_q)), ticktext=[plot_text(t) for t in q_ticks],
                                      tickfont=dict(size=11 if n_q <= 25 else 9), showgrid=False, zeroline=False,
                                      range=[n_q - 0.5, -0.5]))
    return 7 * max(len(t) for t in k_ticks) if titled_columns else 20


def attention_grid(
    weights: np.ndarray,
    query_labels: Sequence[str],
    key_labels: Sequence[str],
    masked: np.ndarray | None = None,
    *,
    layers: Sequence[int] | None = None,
    label_width: int = LABEL_WIDTH,
    highlight_last_row: bool = True,
    title: str | None = None,
    picked_rows: Sequence[int] = (),
    picked_columns: Sequence[int] = (),
) -> go.Figure:
    """One heatmap per layer × head: rows of the grid are layers, columns are heads.

    weights: (layers, heads, queries, keys) attention weights, rows summing to 1.
    query_labels / key_labels: full titles of the rows / columns; axes show them cut to `label_width`
        (numbered, so a film that appears twice stays two rows), the hover shows them in full. Beyond
        TITLED_COLUMNS columns the x axis shows only the position numbers (titles would overlap).
    masked: bool (queries, keys), True where the model was not allowed to look; those cells become NaN and
        render blank, and have no hover. Applied to every layer and head.
    layers: indices of the layers to draw (default: all).
    title: the figure's own title (kept in a downloaded PNG), or None.
    picked_rows / picked_columns: positions of the picked item among the rows / columns, outlined in every panel.
    All heatmaps share one colour scale from 0 to the largest unmasked weight, so colours compare across
    heads and layers.
    """
    w = _checked_weights(weights, query_labels, key_labels, masked)
    n_layers, n_heads, n_q = w.shape[:3]
    layers = list(range(n_layers)) if layers is None else list(layers)
    shown = w[layers]
    top = float(np.nanmax(shown)) if np.isfinite(shown).any() else 1.0

    # Sizes in pixels: a panel grows with the history (compact when it is short), and the gap between layer
    # rows only has to hold the next row's panel titles (rows share their x axis, labelled once at the bottom).
    cell = 22 if n_q <= 12 else 13 if n_q <= 25 else 9
    panel = int(np.clip(cell * n_q, 200, 520))
    gap = 45
    grid_height = panel * len(layers) + gap * (len(layers) - 1)
    layout = subplot_grid(len(layers), n_heads, [head_name(layer, h) for layer in layers for h in range(n_heads)],
                          horizontal_spacing=0.03, vertical_spacing=gap / grid_height if len(layers) > 1 else 0.0,
                          title_size=13)
    data, shapes = _panels(w, layers, _hover_labels(query_labels, key_labels), highlight_last_row, picked_rows,
                           picked_columns)
    labels = _label_axes(layout, query_labels, key_labels, label_width)
    margin_top = 70 if title else 30  # room for the figure's title above the panel titles
    layout.update(
        coloraxis=dict(
            colorscale=ATTENTION_COLORSCALE, cmin=0.0, cmax=top,
            # Horizontal, under the grid: a vertical bar would take width from the panels.
            colorbar=dict(orientation="h", x=0.5, xanchor="center", y=0, yref="container", yanchor="bottom",
                          lenmode="pixels", len=240, thickness=10, title=dict(text=_("attention weight"), side="right"),
                          tickformat=".2f"),
        ),
        title=dict(text=plot_text(title), x=0, xanchor="left") if title else {},
        height=grid_height + labels + margin_top + 70,  # + x tick labels, top margin, colour bar
        margin=dict(l=10, r=10, t=margin_top, b=70),
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)",
        hoverlabel=dict(bgcolor="white", font_size=13),
    )
    if shapes:
        layout["shapes"] = shapes
    return go.Figure(data=data, layout=layout)


def trace_figure(trace: AttentionTrace, layers: Sequence[int] | None = None, picked: str | None = None,
                 **options) -> go.Figure:
    """The layer × head grid of one recommendation's trace: masked cells blank, for self-attention the last row
    (the one that scored the recommendations) outlined, and the picked item's rows and columns (an item id, or
    None). `options` go to `attention_grid`."""
    return attention_grid(trace.weights, trace.query_labels, trace.key_labels, trace.mask, layers=layers,
                          highlight_last_row=trace.produced_by_last_row, picked_rows=positions(trace.query_ids, picked),
                          picked_columns=positions(trace.key_ids, picked), **options)
