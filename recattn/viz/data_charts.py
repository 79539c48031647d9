"""The Data page's charts: counts in, plotly figures out; never a model, never streamlit."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from recattn.i18n import N_, _
from recattn.viz.attention import HIGHLIGHT, short_label
from recattn.viz.text import plot_text

# Counts in (recattn.data.info does the counting), a few hundred rows at most out
# (binning, ranking and thinning for the picture happen here), every mark with a hover.
# Words are shown in the current language (recattn.i18n): a `noun` or `title` argument is an English message
# (marked N_ where it is written) that the chart translates. User text (titles, genres) goes through `plot_text` once.
BAR_COLOR = "#4292c6"  # the middle of ATTENTION_COLORSCALE: one blue across the app
CAUSE_COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2")
LOG_SPAN = 20  # a longest history this many times the median gets log-spaced bins
CHART_HEIGHT = 330  # pixels of a figure, its title, axes and their titles included
GENRE_WIDTH = 24  # characters of a genre on the axis (the hover has it whole)
RULE_POINTS = 40  # points along the median's line: its hover answers anywhere along it
_LAYOUT = dict(plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)",
               hoverlabel=dict(bgcolor="white", font_size=13), showlegend=False)
_GRID = "rgba(128,128,128,0.2)"


def _line(label: str, value: str) -> str:
    """One hover line, "label: value", in the current language's punctuation."""
    return _("{measure}: {value}").format(measure=label, value=value)


def _hover(*lines: str) -> str:
    return "<br>".join(lines) + "<extra></extra>"


def _figure(data: list[dict], *, title: str, height: int, top: int = 50, **layout) -> go.Figure:
    """One constructor (plotly validates each setting once): the title on the left, kept in a download, margins
    that grow with the tick labels (automargin on every axis), transparent backgrounds."""
    for name in ("xaxis", "yaxis"):
        layout[name] = dict(automargin=True, gridcolor=_GRID, zeroline=False, **layout.get(name, {}))
    return go.Figure(data=data, layout=dict(
        title=dict(text=title, x=0, xanchor="left", font_size=15), height=height,
        margin=dict(l=10, r=10, t=top, b=10), **_LAYOUT, **layout))


def history_length_chart(lengths: Sequence[int], *, max_bins: int = 30, noun: str = N_("items"),
                         title: str = N_("History lengths")) -> go.Figure:
    """Histogram of history lengths (interactions per user) with the median marked.

    Bins are whole numbers of `noun`. When the longest history is more than LOG_SPAN times the median (real
    data: a few users with thousands of ratings), bins are spaced evenly on a log axis; on a linear axis every
    other user would be squeezed into the first bar. Each bar is drawn from its first length to the next bin's
    (its x and width); the median is a dashed orange line with its value written just above the plot.
    """
    lengths = np.asarray(lengths, dtype=int)
    if lengths.size == 0:
        raise ValueError("no histories to draw")
    noun = _(noun)
    lo, hi, median = int(lengths.min()), int(lengths.max()), float(np.median(lengths))
    log = hi > LOG_SPAN * max(median, 1.0)
    if log:
        edges = np.unique(np.round(np.geomspace(max(lo, 1), hi + 1, max_bins + 1)).astype(int))
    else:
        width = max(1, int(np.ceil((hi - lo + 1) / max_bins)))
        edges = np.arange(lo, hi + width + 1, width)
    users = np.histogram(lengths, edges)[0]
    kept = users > 0
    start, end, users = edges[:-1][kept], edges[1:][kept], users[kept]
    ranges = [f"{a}" if b - a == 1 else f"{a}–{b - 1}" for a, b in zip(start, end)]
    per_user = _("{noun} per user").format(noun=noun)
    x_title = (_("{noun} per user (log scale)") if log else per_user).format(noun=noun)
    top = float(users.max()) * 1.08  # the median's line spans the plot: the y axis ends here
    bars = dict(
        type="bar", x=start.tolist(), width=(end - start).tolist(), offset=0, y=users.tolist(),
        customdata=[[r, float(n / lengths.size)] for r, n in zip(ranges, users)],
        marker=dict(color=BAR_COLOR, line=dict(color="white", width=1)),  # 1 px between neighbouring bars
        name=_("users"), hovertemplate=_hover(_line(per_user, "<b>%{customdata[0]}</b>"),
                                              _line(_("users"), "<b>%{y:,}</b>"),
                                              _line(_("share of users"), "%{customdata[1]:.1%}")))
    rule = dict(
        type="scatter", mode="lines", x=[median] * RULE_POINTS, y=np.linspace(0, top, RULE_POINTS).tolist(),
        line=dict(color=HIGHLIGHT, dash="4px,3px", width=2), name=_("median {median:g}").format(median=median),
        hovertemplate=_hover(_line(_("median {noun} per user").format(noun=noun), "<b>%{x:,.1f}</b>")))
    label = dict(text=_("median {median:g}").format(median=median), x=np.log10(median) if log else median,
                 xref="x", xanchor="left", xshift=4, y=1, yref="paper", yanchor="bottom", showarrow=False,
                 font=dict(color=HIGHLIGHT, size=12))  # just above the plot, clear of the bars
    if log:  # a log axis' range is in powers of ten
        x_axis = dict(type="log", range=[np.log10(edges[0]), np.log10(edges[-1])])
    else:  # whole numbers: a tick at each when there are only a few (not at 8.5)
        x_axis = dict(range=[float(edges[0]), float(edges[-1])], **({"dtick": 1} if edges[-1] - edges[0] <= 10 else {}))
    return _figure([bars, rule], title=plot_text(_(title)), height=CHART_HEIGHT, top=60, annotations=[label],
                   xaxis=dict(title=dict(text=x_title), showgrid=False, **x_axis),
                   yaxis=dict(title=dict(text=_("users")), range=[0, top], tickformat=","))


def popularity_chart(titles: Sequence[str], counts: Sequence[int], *, max_points: int = 1500,
                     title: str = N_("The long tail of popularity")) -> go.Figure:
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
    shown_titles = np.asarray(titles, dtype=object)[order][keep]
    cumulative = np.cumsum(ranked)[keep] / ranked.sum()
    ranks = (keep + 1).tolist()
    decades = [10 ** k for k in range(int(np.log10(ranked[0])) + 1)]  # ticks and grid at 1, 10, 100, ...
    # The area starts at 1, not 0 (a log axis has no 0): a baseline at 1 that the curve fills down to.
    baseline = dict(type="scatter", mode="lines", x=[ranks[0], ranks[-1]], y=[1, 1], line=dict(width=0),
                    hoverinfo="skip")
    area = dict(
        type="scatter", mode="lines", x=ranks, y=ranked[keep].tolist(), fill="tonexty",
        fillcolor="rgba(66,146,198,0.25)", line=dict(color=BAR_COLOR, width=1.5), name=_("interactions"),
        customdata=[[plot_text(t), float(c)] for t, c in zip(shown_titles, cumulative)],
        hovertemplate=_hover(_line(_("rank"), "%{x:,}"), _line(_("item"), "<b>%{customdata[0]}</b>"),
                             _line(_("interactions"), "<b>%{y:,}</b>"),
                             _line(_("share of all interactions up to here"), "%{customdata[1]:.1%}")))
    # Hover by rank: the point of the curve above or below the pointer, as a reader follows it.
    return _figure([baseline, area], title=plot_text(_(title)), height=CHART_HEIGHT, top=60, hovermode="x",
                   xaxis=dict(title=dict(text=_("items, most popular first")), tickformat=",", showgrid=False),
                   yaxis=dict(title=dict(text=_("interactions (log scale)")), type="log", tickvals=decades,
                              tickformat=","))


def genre_chart(table: pd.DataFrame, total_interactions: int, *, top: int = 12, noun: str = N_("genre"),
                title: str = N_("Top genres")) -> go.Figure:
    """Horizontal bars: the `top` genres (or categories) by interactions, the largest on top.

    table: one row per genre with columns genre, interactions (interactions with items of that genre) and items
    (catalogue items of that genre). An item with several genres counts for each, so shares can add up to more
    than 100 %. Genres are cut to GENRE_WIDTH characters on the axis, whole on hover.
    """
    missing = {"genre", "interactions", "items"} - set(table.columns)
    if missing:
        raise ValueError(f"the genre table lacks {', '.join(sorted(missing))}")
    rows = table.nlargest(top, "interactions")
    genres = [str(g) for g in rows["genre"]]
    n = len(rows)
    bars = dict(
        type="bar", orientation="h", x=[int(v) for v in rows["interactions"]], y=list(range(n)),
        marker=dict(color=BAR_COLOR, cornerradius=2), name=_("interactions"),
        customdata=[[plot_text(g), int(v) / max(total_interactions, 1), int(i)]
                    for g, v, i in zip(genres, rows["interactions"], rows["items"])],
        hovertemplate=_hover(_line(_(noun), "<b>%{customdata[0]}</b>"), _line(_("interactions"), "<b>%{x:,}</b>"),
                             _line(_("share of interactions"), "%{customdata[1]:.1%}"),
                             _line(_("items in the catalogue"), "%{customdata[2]:,}")))
    # Numeric rows with tick text, the largest on top (rows come sorted): plotly would merge equal category names.
    ticks = [plot_text(short_label(g, GENRE_WIDTH)) for g in genres]
    return _figure([bars], title=plot_text(_(title)), height=max(CHART_HEIGHT, 26 * n + 110), bargap=0.15,
                   xaxis=dict(title=dict(text=_("interactions")), tickformat=","),
                   yaxis=dict(tickvals=list(range(n)), ticktext=ticks, range=[n - 0.5, -0.5], showgrid=False))


def cause_chart(counts: dict[str, int], meanings: dict[str, str] | None = None,
                title: str = N_("Why the simulated users picked what they picked")) -> go.Figure:
    """Small horizontal bars: the share of interactions each planted cause produced (built-in worlds), the largest on
    top.

    meanings: a one-line explanation per cause, shown in the hover. The causes show by their translated names
    (recattn.data.info.CAUSE_NAMES), each in the colour its own name gets in English (CAUSE_COLORS in the order
    of the sorted names).
    """
    if not counts:
        raise ValueError("no causes to draw")
    meanings = meanings or {}
    total = sum(counts.values())
    colours = {c: CAUSE_COLORS[i % len(CAUSE_COLORS)] for i, c in enumerate(sorted(counts))}
    causes = sorted(counts, key=lambda c: -counts[c])  # stable: ties keep their order
    n = len(causes)
    names = [plot_text(_(c)) for c in causes]
    templates = []
    for c in causes:
        lines = [_line(_("cause"), "<b>%{customdata[0]}</b>")]
        if meanings.get(c):
            lines.append(_line(_("what it is"), "%{customdata[1]}"))
        templates.append(_hover(*lines, _line(_("interactions"), "%{customdata[2]:,}"),
                                _line(_("share"), "<b>%{x:.1%}</b>")))
    bars = dict(
        type="bar", orientation="h", x=[counts[c] / total for c in causes], y=list(range(n)),
        marker=dict(color=[colours[c] for c in causes], cornerradius=2), name=_("share of interactions"),
        customdata=[[name, plot_text(meanings.get(c, "")), int(counts[c])] for name, c in zip(names, causes)],
        hovertemplate=templates)
    return _figure([bars], title=plot_text(_(title)), height=36 * n + 130, bargap=0.15,
                   xaxis=dict(title=dict(text=_("share of interactions")), tickformat=".0%", nticks=6,
                              rangemode="tozero"),
                   yaxis=dict(tickvals=list(range(n)), ticktext=names, range=[n - 0.5, -0.5], showgrid=False))
