"""The Data page's charts: counts in, altair (Vega-Lite) charts out; never a model, never streamlit."""

from __future__ import annotations

from typing import Sequence

import altair as alt
import numpy as np
import pandas as pd

from recattn.i18n import N_, _
from recattn.viz.attention import HIGHLIGHT

# Counts in (recattn.data.info does the counting), a few hundred rows at most out
# (binning, ranking and thinning for the picture happen here), every mark with a tooltip.
# Words are shown in the current language (recattn.i18n): a `noun` or `title` argument is an English message
# (marked N_ where it is written) that the chart translates.
BAR_COLOR = "#4292c6"  # the middle of ATTENTION_COLORSCALE: one blue across the app
CAUSE_COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2")
LOG_SPAN = 20  # a longest history this many times the median gets log-spaced bins
CHART_HEIGHT = 300  # pixels, axes and their titles included


def history_length_chart(lengths: Sequence[int], *, max_bins: int = 30, noun: str = N_("items"),
                         title: str = N_("History lengths")) -> alt.LayerChart:
    """Histogram of history lengths (interactions per user) with the median marked.

    Bins are whole numbers of `noun`. When the longest history is more than LOG_SPAN times the median (real
    data: a few users with thousands of ratings), bins are spaced evenly on a log axis; on a linear axis every
    other user would be squeezed into the first bar.
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
    bins = pd.DataFrame({"start": edges[:-1], "end": edges[1:], "users": users})
    bins = bins[bins["users"] > 0]
    bins["range"] = [f"{a}" if b - a == 1 else f"{a}–{b - 1}" for a, b in zip(bins["start"], bins["end"])]
    bins["share"] = bins["users"] / lengths.size
    x_title = (_("{noun} per user (log scale)") if log else _("{noun} per user")).format(noun=noun)
    x_scale = (alt.Scale(type="log", domain=[int(edges[0]), int(edges[-1])], nice=False) if log
               else alt.Scale(zero=False))
    bars = alt.Chart(bins).mark_bar(color=BAR_COLOR, binSpacing=1).encode(
        x=alt.X("start:Q", bin="binned", title=x_title, scale=x_scale), x2="end:Q",
        y=alt.Y("users:Q", title=_("users")),
        tooltip=[alt.Tooltip("range:N", title=_("{noun} per user").format(noun=noun)),
                 alt.Tooltip("users:Q", title=_("users"), format=","),
                 alt.Tooltip("share:Q", title=_("share of users"), format=".1%")],
    )
    mark = pd.DataFrame({"median": [median], "label": [_("median {median:g}").format(median=median)]})
    rule = alt.Chart(mark).mark_rule(color=HIGHLIGHT, strokeDash=[4, 3], strokeWidth=2).encode(
        x="median:Q", tooltip=[alt.Tooltip("median:Q", title=_("median {noun} per user").format(noun=noun),
                                           format=",.1f")])
    text = alt.Chart(mark).mark_text(color=HIGHLIGHT, align="left", dx=4, baseline="bottom").encode(
        x="median:Q", y=alt.value(-4), text="label:N")  # just above the plot, clear of the bars
    return alt.layer(bars, rule, text).properties(height=CHART_HEIGHT, title=_(title))


def popularity_chart(titles: Sequence[str], counts: Sequence[int], *, max_points: int = 1500,
                     title: str = N_("The long tail of popularity")) -> alt.Chart:
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
        x=alt.X("rank:Q", title=_("items, most popular first")),
        y=alt.Y("interactions:Q", title=_("interactions (log scale)"), scale=alt.Scale(type="log"),
                axis=alt.Axis(values=decades, format=",")),
        y2=alt.datum(1),
        tooltip=[alt.Tooltip("rank:Q", title=_("rank"), format=","), alt.Tooltip("title:N", title=_("item")),
                 alt.Tooltip("interactions:Q", title=_("interactions"), format=","),
                 alt.Tooltip("cumulative:Q", title=_("share of all interactions up to here"), format=".1%")],
    ).properties(height=CHART_HEIGHT, title=_(title))


def genre_chart(table: pd.DataFrame, total_interactions: int, *, top: int = 12, noun: str = N_("genre"),
                title: str = N_("Top genres")) -> alt.Chart:
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
        x=alt.X("interactions:Q", title=_("interactions")),
        y=alt.Y("genre:N", title=None, sort="-x"),
        tooltip=[alt.Tooltip("genre:N", title=_(noun)),
                 alt.Tooltip("interactions:Q", title=_("interactions"), format=","),
                 alt.Tooltip("share:Q", title=_("share of interactions"), format=".1%"),
                 alt.Tooltip("items:Q", title=_("items in the catalogue"), format=",")],
    ).properties(height=max(CHART_HEIGHT, 24 * len(rows) + 60), title=_(title))


def cause_chart(counts: dict[str, int], meanings: dict[str, str] | None = None,
                title: str = N_("Why the simulated users picked what they picked")) -> alt.Chart:
    """Small horizontal bars: the share of interactions each planted cause produced (built-in worlds).

    meanings: a one-line explanation per cause, shown in the tooltip. The causes show by their translated names
    (recattn.data.info.CAUSE_NAMES), each in the colour its own name gets in English.
    """
    if not counts:
        raise ValueError("no causes to draw")
    meanings = meanings or {}
    total = sum(counts.values())
    rows = pd.DataFrame({"cause": [_(c) for c in counts], "interactions": list(counts.values())})
    rows["share"] = rows["interactions"] / total
    rows["meaning"] = [meanings.get(c, "") for c in counts]
    return alt.Chart(rows).mark_bar(cornerRadiusEnd=2).encode(
        x=alt.X("share:Q", title=_("share of interactions"), axis=alt.Axis(format="%", tickCount=5)),
        y=alt.Y("cause:N", title=None, sort="-x"),
        color=alt.Color("cause:N", scale=alt.Scale(domain=[_(c) for c in sorted(counts)], range=list(CAUSE_COLORS)),
                        legend=None),
        tooltip=[alt.Tooltip("cause:N", title=_("cause")), alt.Tooltip("meaning:N", title=_("what it is")),
                 alt.Tooltip("interactions:Q", title=_("interactions"), format=","),
                 alt.Tooltip("share:Q", title=_("share"), format=".1%")],
    ).properties(height=36 * len(rows) + 60, title=_(title))
