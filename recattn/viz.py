"""Figure builders: arrays and labels in, plotly figures out (bertviz style: never a model, never streamlit);
the Data page's charts are altair (Vega-Lite) charts.

Pages pass what a `Recommendation` carries (`trace.weights`, `trace.query_labels`, ...) and show the figure.
"""

from __future__ import annotations

import re
from typing import Sequence

import altair as alt
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

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
LABEL_WIDTH = 26  # axis labels: long enough for most film titles with their year, short enough to leave room
_PART = re.compile(r"^(?:[IVXLC]+|\d+|Part)$")
TITLED_COLUMNS = 12  # up to this many columns, titles under them; beyond, position numbers


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


def causal_mask(n_queries: int, n_keys: int) -> np.ndarray:
    """True where a causal model could not look: key position after the query position.

    Rows and columns are aligned at the end (the last query is the last key), which is how a left-padded
    history is traced; for the usual square case this is the strict upper triangle.
    """
    q = np.arange(n_queries)[:, None] + (n_keys - n_queries)
    k = np.arange(n_keys)[None, :]
    return k > q


def attention_grid(
    weights: np.ndarray,
    query_labels: Sequence[str],
    key_labels: Sequence[str],
    masked: np.ndarray | None = None,
    *,
    layers: Sequence[int] | None = None,
    label_width: int = LABEL_WIDTH,
    highlight_last_row: bool = True,
) -> go.Figure:
    """One heatmap per layer × head: rows of the grid are layers, columns are heads.

    weights: (layers, heads, queries, keys) attention weights, rows summing to 1.
    query_labels / key_labels: full titles of the rows / columns; axes show them cut to `label_width`
        (numbered, so a film that appears twice stays two rows), the hover shows them in full. Beyond
        TITLED_COLUMNS columns the x axis shows only the position numbers (titles would overlap).
    masked: bool (queries, keys), True where the model was not allowed to look; those cells become NaN and
        render blank, and have no hover. Applied to every layer and head.
    layers: indices of the layers to draw (default: all).
    All heatmaps share one colour scale from 0 to the largest unmasked weight, so colours compare across
    heads and layers.
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 4:
        raise ValueError(f"weights must be (layers, heads, queries, keys), got shape {w.shape}")
    n_layers, n_heads, n_q, n_k = w.shape
    if len(query_labels) != n_q or len(key_labels) != n_k:
        raise ValueError(f"{len(query_labels)} query / {len(key_labels)} key labels for a {n_q}×{n_k} map")
    layers = list(range(n_layers)) if layers is None else list(layers)
    if masked is not None:
        masked = np.asarray(masked, dtype=bool)
        if masked.shape != (n_q, n_k):
            raise ValueError(f"mask shape {masked.shape} does not match the maps ({n_q}, {n_k})")
        w = np.where(masked[None, None], np.nan, w)
    shown = w[layers]
    top = float(np.nanmax(shown)) if np.isfinite(shown).any() else 1.0

    # Numeric axes with tick text, not categorical ones: plotly merges equal category names, which would
    # fold a film seen twice (or two titles that cut to the same text) into one row.
    q_ticks = [f"{i + 1}. {short_label(t, label_width)}" for i, t in enumerate(query_labels)]
    k_ticks = [f"{i + 1}. {short_label(t, label_width)}" for i, t in enumerate(key_labels)]
    custom = np.empty((n_q, n_k, 2), dtype=object)
    custom[..., 0] = np.asarray([f"{i + 1}. {t}" for i, t in enumerate(query_labels)], dtype=object)[:, None]
    custom[..., 1] = np.asarray([f"{j + 1}. {t}" for j, t in enumerate(key_labels)], dtype=object)[None, :]

    # Sizes in pixels: a panel grows with the history (compact when it is short), and the gap between layer
    # rows only has to hold the next row's panel titles (rows share their x axis, labelled once at the bottom).
    cell = 22 if n_q <= 12 else 13 if n_q <= 25 else 9
    panel = int(np.clip(cell * n_q, 200, 520))
    gap = 45
    grid_height = panel * len(layers) + gap * (len(layers) - 1)
    fig = make_subplots(
        rows=len(layers), cols=n_heads, shared_xaxes=True, shared_yaxes=True,
        subplot_titles=[f"Layer {layer + 1} · head {h + 1}" for layer in layers for h in range(n_heads)],
        horizontal_spacing=0.03, vertical_spacing=gap / grid_height if len(layers) > 1 else 0.0,
    )
    for r, layer in enumerate(layers):
        for h in range(n_heads):
            fig.add_trace(
                go.Heatmap(
                    z=w[layer, h], x=list(range(n_k)), y=list(range(n_q)), customdata=custom,
                    coloraxis="coloraxis", xgap=1, ygap=1, hoverongaps=False,
                    name=f"Layer {layer + 1} · head {h + 1}",
                    hovertemplate=(
                        f"<b>Layer {layer + 1} · head {h + 1}</b><br>"
                        "query (row): %{customdata[0]}<br>key (column): %{customdata[1]}<br>"
                        "weight: <b>%{z:.4f}</b><extra></extra>"
                    ),
                ),
                row=r + 1, col=h + 1,
            )
            if highlight_last_row:
                fig.add_shape(
                    type="rect", x0=-0.5, x1=n_k - 0.5, y0=n_q - 1.5, y1=n_q - 0.5,
                    line=dict(color=HIGHLIGHT, width=2), fillcolor="rgba(0,0,0,0)", row=r + 1, col=h + 1,
                )

    # Titles fit under the columns only for short histories; beyond that the columns show their position
    # numbers (the same numbers as the rows: in self-attention the keys are the history too) and the hover
    # gives the full title.
    titled_columns = n_k <= TITLED_COLUMNS
    step = 1 if titled_columns else int(np.ceil(n_k / 12))
    tick_font = dict(size=11 if n_q <= 25 else 9)
    fig.update_xaxes(
        tickvals=list(range(0, n_k, step)), ticktext=k_ticks[::step] if titled_columns else
        [str(j + 1) for j in range(0, n_k, step)], tickangle=-45 if titled_columns else 0,
        tickfont=dict(size=11 if titled_columns else 10), showgrid=False, zeroline=False, range=[-0.5, n_k - 0.5],
    )
    # Oldest history item at the top, like a matrix: the last row (the recommendation) is at the bottom.
    fig.update_yaxes(tickvals=list(range(n_q)), ticktext=q_ticks, tickfont=tick_font, showgrid=False,
                     zeroline=False, range=[n_q - 0.5, -0.5])
    labels = 7 * max(len(t) for t in k_ticks) if titled_columns else 20
    fig.update_layout(
        coloraxis=dict(
            colorscale=ATTENTION_COLORSCALE, cmin=0.0, cmax=top,
            # Horizontal, under the grid: a vertical bar would take width from the panels.
            colorbar=dict(orientation="h", x=0.5, xanchor="center", y=0, yref="container", yanchor="bottom",
                          len=0.5, thickness=10, title=dict(text="attention weight", side="right"),
                          tickformat=".2f"),
        ),
        height=grid_height + labels + 30 + 70,  # + x tick labels, top margin, colour bar
        margin=dict(l=10, r=10, t=30, b=70),
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)",
        hoverlabel=dict(bgcolor="white", font_size=13),
    )
    fig.update_annotations(font_size=13)
    return fig


# ---------------------------------------------------------------- data charts (altair)
# The Data page's charts: counts in (the app's ui module does the counting), a few hundred rows at most out
# (binning, ranking and thinning for the picture happen here), every mark with a tooltip.
BAR_COLOR = "#4292c6"  # the middle of ATTENTION_COLORSCALE: one blue across the app
CAUSE_COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2")
LOG_SPAN = 20  # a longest history this many times the median gets log-spaced bins
CHART_HEIGHT = 300  # pixels, axes and their titles included


def history_length_chart(lengths: Sequence[int], *, max_bins: int = 30, noun: str = "items") -> alt.LayerChart:
    """Histogram of history lengths (interactions per user) with the median marked.

    Bins are whole numbers of `noun`. When the longest history is more than LOG_SPAN times the median (real
    data: a few users with thousands of ratings), bins are spaced evenly on a log axis; on a linear axis every
    other user would be squeezed into the first bar.
    """
    lengths = np.asarray(lengths, dtype=int)
    if lengths.size == 0:
        raise ValueError("no histories to draw")
    lo, hi, median = int(lengths.min()), int(lengths.max()), float(np.median(lengths))
    log = hi > LOG_SPAN * max(median, 1.0)
    if log:
        edges = np.unique(np.round(np.geomspace(max(lo, 1), hi + 1, max_bins + 1)).astype(int))
    else:
        width = max(1, int(np.ceil((hi - lo + 1) / max_bins)))
        edges = np.arange(lo, hi + width + 1, width)
    users, _ = np.histogram(lengths, edges)
    bins = pd.DataFrame({"start": edges[:-1], "end": edges[1:], "users": users})
    bins = bins[bins["users"] > 0]
    bins["range"] = [f"{a}" if b - a == 1 else f"{a}–{b - 1}" for a, b in zip(bins["start"], bins["end"])]
    bins["share"] = bins["users"] / lengths.size
    x_title = f"{noun} per user" + (" (log scale)" if log else "")
    x_scale = (alt.Scale(type="log", domain=[int(edges[0]), int(edges[-1])], nice=False) if log
               else alt.Scale(zero=False))
    bars = alt.Chart(bins).mark_bar(color=BAR_COLOR, binSpacing=1).encode(
        x=alt.X("start:Q", bin="binned", title=x_title, scale=x_scale), x2="end:Q",
        y=alt.Y("users:Q", title="users"),
        tooltip=[alt.Tooltip("range:N", title=f"{noun} per user"), alt.Tooltip("users:Q", title="users", format=","),
                 alt.Tooltip("share:Q", title="share of users", format=".1%")],
    )
    mark = pd.DataFrame({"median": [median], "label": [f"median {median:g}"]})
    rule = alt.Chart(mark).mark_rule(color=HIGHLIGHT, strokeDash=[4, 3], strokeWidth=2).encode(
        x="median:Q", tooltip=[alt.Tooltip("median:Q", title=f"median {noun} per user", format=",.1f")])
    text = alt.Chart(mark).mark_text(color=HIGHLIGHT, align="left", dx=4, baseline="bottom").encode(
        x="median:Q", y=alt.value(-4), text="label:N")  # just above the plot, clear of the bars
    return alt.layer(bars, rule, text).properties(height=CHART_HEIGHT)


def popularity_chart(titles: Sequence[str], counts: Sequence[int], *, max_points: int = 1500) -> alt.Chart:
    """The long tail: items ranked by their number of interactions, counts on a log axis.

    Beyond `max_points` items the line is drawn through ranks spaced evenly on a log scale (every rank at the
    head, fewer down the tail), which keeps the shape and the chart small. Hovering the curve gives an item, its
    count, and the share of all interactions that the items up to that rank take.
    """
    counts = np.asarray(counts, dtype=float)
    if len(titles) != counts.size or counts.size == 0:
        raise ValueError(f"{len(titles)} titles for {counts.size} counts")
    order = np.argsort(-counts, kind="stable")
    ranked = counts[order]
    keep = np.arange(ranked.size)
    if ranked.size > max_points:
        keep = np.unique(np.round(np.geomspace(1, ranked.size, max_points)).astype(int) - 1)
    table = pd.DataFrame({
        "rank": keep + 1,
        "title": np.asarray(titles, dtype=object)[order][keep],
        "interactions": ranked[keep],
        "cumulative": np.cumsum(ranked)[keep] / ranked.sum(),
    })
    decades = [10 ** k for k in range(int(np.log10(ranked[0])) + 1)]  # ticks and grid at 1, 10, 100, ...
    # An area's tooltip is the point nearest the pointer along it. Its baseline is 1, not 0: a log axis has no 0.
    return alt.Chart(table).mark_area(line={"color": BAR_COLOR}, color=BAR_COLOR, opacity=0.25).encode(
        x=alt.X("rank:Q", title="items, most popular first"),
        y=alt.Y("interactions:Q", title="interactions (log scale)", scale=alt.Scale(type="log"),
                axis=alt.Axis(values=decades, format=",")),
        y2=alt.datum(1),
        tooltip=[alt.Tooltip("rank:Q", title="rank", format=","), alt.Tooltip("title:N", title="item"),
                 alt.Tooltip("interactions:Q", title="interactions", format=","),
                 alt.Tooltip("cumulative:Q", title="share of all interactions up to here", format=".1%")],
    ).properties(height=CHART_HEIGHT)


def genre_chart(table: pd.DataFrame, total_interactions: int, *, top: int = 12, noun: str = "genre") -> alt.Chart:
    """Horizontal bars: the `top` genres (or categories) by interactions, the largest on top.

    table: one row per genre with columns genre, interactions (interactions with items of that genre) and items
    (catalogue items of that genre). An item with several genres counts for each, so shares can add up to more
    than 100 %.
    """
    missing = {"genre", "interactions", "items"} - set(table.columns)
    if missing:
        raise ValueError(f"the genre table lacks {', '.join(sorted(missing))}")
    rows = table.nlargest(top, "interactions").assign(share=lambda t: t["interactions"] / max(total_interactions, 1))
    return alt.Chart(rows).mark_bar(color=BAR_COLOR, cornerRadiusEnd=2).encode(
        x=alt.X("interactions:Q", title="interactions"),
        y=alt.Y("genre:N", title=None, sort="-x"),
        tooltip=[alt.Tooltip("genre:N", title=noun), alt.Tooltip("interactions:Q", title="interactions", format=","),
                 alt.Tooltip("share:Q", title="share of interactions", format=".1%"),
                 alt.Tooltip("items:Q", title="items in the catalogue", format=",")],
    ).properties(height=max(CHART_HEIGHT, 24 * len(rows) + 60))


def cause_chart(counts: dict[str, int], meanings: dict[str, str] | None = None) -> alt.Chart:
    """Small horizontal bars: the share of interactions each planted cause produced (built-in worlds).

    meanings: a one-line explanation per cause, shown in the tooltip.
    """
    if not counts:
        raise ValueError("no causes to draw")
    meanings = meanings or {}
    total = sum(counts.values())
    rows = pd.DataFrame({"cause": list(counts), "interactions": list(counts.values())})
    rows["share"] = rows["interactions"] / total
    rows["meaning"] = [meanings.get(c, "") for c in rows["cause"]]
    return alt.Chart(rows).mark_bar(cornerRadiusEnd=2).encode(
        x=alt.X("share:Q", title="share of interactions", axis=alt.Axis(format="%", tickCount=5)),
        y=alt.Y("cause:N", title=None, sort="-x"),
        color=alt.Color("cause:N", scale=alt.Scale(range=list(CAUSE_COLORS)), legend=None),
        tooltip=[alt.Tooltip("cause:N", title="cause"), alt.Tooltip("meaning:N", title="what it is"),
                 alt.Tooltip("interactions:Q", title="interactions", format=","),
                 alt.Tooltip("share:Q", title="share", format=".1%")],
    ).properties(height=36 * len(rows) + 60)
