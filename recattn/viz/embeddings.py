"""The Embeddings page's figure: items on a 2-D map, coloured by genre, the history and the recommendations
marked (arrays in, a plotly scatter out)."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from recattn.i18n import _
from recattn.viz.attention import HIGHLIGHT, PICKED
from recattn.viz.text import plot_text

# Mid-tone colours, readable on light and dark backgrounds, without the highlights' orange and red.
# Plotly's T10 and Bold palettes less their oranges and reds: 18 colours.
GENRE_COLORS = ("#4C78A8", "#72B7B2", "#54A24B", "#EECA3B", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC",
                "#7F3C8D", "#11A579", "#3969AC", "#F2B701", "#E73F74", "#80BA5A", "#008695", "#CF1C90",
                "#4B4B8F", "#A5AA99")
HISTORY_COLOR = HIGHLIGHT
RECOMMENDED_COLOR = "#d62728"
OUTLINE = "#7f7f7f"  # grey: a marker's edge that shows on white and on a dark theme alike


def embedding_map(coords: np.ndarray, titles: Sequence[str], genres: Sequence[str], explained: Sequence[float],
                  history: Mapping[int, int], recommended: Mapping[int, int], noun: str = "genre",
                  picked: int | None = None) -> go.Figure:
    """A scatter of items on two components.

    coords: (n, 2); titles / genres: per item (full genres, "A|B"; colour by the first one);
    explained: the share of variance of each component (axis titles);
    history / recommended: row index → position in the history (1 = oldest) / rank in the top list. Those points
    are drawn again on top, bigger, with their own symbol and outline, in a trace each;
    picked: the row of the picked item, ringed on top of everything (None: no pick).
    Every point's customdata ends with its row, so a click on any trace names the item.
    """
    coords = np.asarray(coords, dtype=float)
    none = _("(none)")  # an item without a genre
    first = np.asarray([str(g).split("|")[0] or none for g in genres], dtype=object)
    neither = _("not in the history, not recommended")  # translated once, not once per item
    status = np.asarray([_status(i, history, recommended) or neither for i in range(len(titles))], dtype=object)
    custom = np.stack([np.asarray([plot_text(t) for t in titles], dtype=object),
                       np.asarray([plot_text(str(g).replace("|", " · ")) for g in genres], dtype=object),
                       status, np.arange(len(titles), dtype=object)], axis=1)
    template = ("<b>%{customdata[0]}</b><br>%{customdata[1]}<br>%{customdata[2]}"
                "<br>PC1 %{x:.2f} · PC2 %{y:.2f}<extra></extra>")
    traces = []
    order = sorted(set(first), key=lambda g: (-int((first == g).sum()), g))  # biggest genres first in the legend
    for n, genre in enumerate(order):
        rows = np.flatnonzero(first == genre)
        traces.append(dict(
            type="scattergl", x=coords[rows, 0], y=coords[rows, 1], mode="markers", name=plot_text(genre),
            marker=dict(size=6, color=GENRE_COLORS[n % len(GENRE_COLORS)], opacity=0.7),
            customdata=custom[rows], hovertemplate=template,
        ))
    for name, marks, symbol, color in ((_("history"), history, "diamond", HISTORY_COLOR),
                                       (_("recommended"), recommended, "star", RECOMMENDED_COLOR)):
        if not marks:
            continue
        rows = np.asarray(sorted(marks, key=marks.get), dtype=int)
        traces.append(dict(
            type="scatter", x=coords[rows, 0], y=coords[rows, 1], mode="markers", name=name,
            marker=dict(size=14, symbol=symbol, color=color, line=dict(width=1.5, color=OUTLINE)),
            customdata=custom[rows], hovertemplate=template,
        ))
    if picked is not None:
        traces.append(dict(
            type="scatter", x=coords[[picked], 0], y=coords[[picked], 1], mode="markers", name=_("picked"),
            marker=dict(size=24, symbol="circle-open", color=PICKED, line=dict(width=3, color=PICKED)),
            customdata=custom[[picked]], hovertemplate=template,
        ))
    share = list(explained) + [0.0] * (2 - len(explained))
    # One constructor: plotly validates each setting once (add_trace and update_* after it cost several times more).
    fig = go.Figure(data=traces, layout=dict(
        xaxis=dict(title=dict(text=_("component {n} ({share:.0%} of the variance)").format(n=1, share=share[0])),
                   zeroline=False),
        yaxis=dict(title=dict(text=_("component {n} ({share:.0%} of the variance)").format(n=2, share=share[1])),
                   zeroline=False),
        title=dict(text=_("Item embeddings on two principal components"), x=0, xanchor="left"),
        height=720, margin=dict(l=10, r=10, t=40, b=10),
        # Under the plot, in rows: a legend on the right would take the width a narrow screen needs.
        legend=dict(orientation="h", yanchor="top", y=-0.16, x=0, itemsizing="constant", title=dict(text=noun),
                    traceorder="normal"),
        plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)", hoverlabel=dict(bgcolor="white"),
    ))
    return fig


def _status(row: int, history: Mapping[int, int], recommended: Mapping[int, int]) -> str:
    parts = []
    if row in history:
        parts.append(_("in the history (position {position})").format(position=history[row]))
    if row in recommended:
        parts.append(_("recommended (rank {rank})").format(rank=recommended[row]))
    return " · ".join(parts)  # "" for an item neither in the history nor recommended
