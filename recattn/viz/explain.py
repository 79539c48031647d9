"""The Explain page's figures: explanation weights, head diagnostics and benchmark results in, plotly figures and
small tables out (never a model, never streamlit).

Conventions of `viz.attention`: numbered short labels with full titles on hover, user text through `plot_text`
once, transparent backgrounds. Unsigned weights (attention, rollout) are drawn in the attention blue, signed ones
(occlusion, gradients) blue above 0 and red below; each method's top item is orange, so agreement shows at a glance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from recattn.analysis.explain import HeadAblation, HeadStats
from recattn.analysis.explain_benchmark import BEST_HEAD
from recattn.i18n import N_, _
from recattn.viz.attention import HIGHLIGHT, PICKED, TITLED_COLUMNS, head_name, short_label, weight_hover
from recattn.viz.text import plot_text

# Labels and readings are shown with _() (the keys, method names, stay English).
METHOD_LABELS = {"attention": N_("Raw attention"), "value_norm": N_("Attention × value norm"),
                 "rollout": N_("Attention rollout"), "occlusion": N_("Occlusion"),
                 "grad_x_input": N_("Gradient × input"), "integrated_gradients": N_("Integrated gradients"),
                 "contrast": N_("Contrastive occlusion")}
# One sentence each on how to read a panel (shown as its subtitle).
READINGS = {
    "attention": N_("what the last layer looked at when it scored the item, not necessarily what mattered"),
    "value_norm": N_("the last layer's weights times the size of what each item carries into the score "
                     "(Kobayashi 2020)"),
    "rollout": N_("attention followed through every layer, the residual path counted as half of each"),
    "occlusion": N_("how much the item's score drops without that history item (hover: its rank without it)"),
    "grad_x_input": N_("the score's first-order change per item embedding; below 0, the item held it back"),
    "integrated_gradients": N_("the score gained from an empty history to this one, shared out among the items"),
    "contrast": N_("how much its lead over the other item shrinks without that history item (below 0: it grows)"),
}
# The benchmark's baselines and planted rules (the names stored in its JSON) as the table shows them.
BASELINES = {"random": N_("Random (baseline)"), "most_recent": N_("Most recent item (baseline)")}
RULE_COLUMNS = {"franchise": N_("Franchise, ≥ 2 back"), "genre": N_("Genre, ≥ 2 back"),
                "story": N_("Story, ≥ 2 back"), "topic": N_("Topic, ≥ 2 back")}
POSITIVE, NEGATIVE = "#4292c6", "#d6604d"
PANEL, GAP = 140, 75  # pixels per method panel, and between panels (room for the next two-line subtitle)
LABEL_WIDTH = 18
HEAD_MEASURES = {  # column of the head table (two short lines) → (what the hover says, number format); shown with _()
    N_("Entropy<br>(nats)"): (N_("entropy of the scoring row, nats (0: one item; high: spread out)"), ".2f"),
    N_("Newest<br>item"): (N_("weight of the scoring row on the newest item"), ".2f"),
    N_("Look-back<br>(items)"): (N_("mean distance back of the scoring row, in items (0: the newest)"), ".1f"),
    N_("Top-10<br>kept"): (N_("share of the top-10 kept when this head is zeroed"), ".0%"),
    N_("Rank<br>if zeroed"): (N_("the item's rank with this head zeroed"), "d"),
}
_LAYOUT = dict(plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)", hoverlabel=dict(font_size=13))


def method_bars(weights: Mapping[str, np.ndarray], titles: Sequence[str], item_title: str,
                rank_change: np.ndarray | None = None, picked: Sequence[int] = (),
                other_title: str | None = None) -> go.Figure:
    """One bar panel per method, stacked and sharing the x axis (the history, oldest first).

    weights: method name (a key of METHOD_LABELS) → one weight per history item (n,). titles: the n history titles.
    rank_change: occlusion's rank change per item (n,), for its hover. Each method's largest weight is orange.
    picked: the history positions of the picked item, whose bars are outlined (a bar's x is its position).
    other_title: the item `item_title` is compared with (contrastive bars): the title asks why one rather than it.
    Built as one layout (a y axis per panel on one x axis) rather than with make_subplots: 10x faster, and the
    page draws it on every rerun."""
    n, names = len(titles), list(weights)
    for name in names:
        if np.shape(weights[name]) != (n,):
            raise ValueError(f"{name}: {np.shape(weights[name])} weights for a history of {n} items")
    full = np.array([f"{j + 1}. {plot_text(t)}" for j, t in enumerate(titles)], dtype=object)[:, None]
    plot = len(names) * PANEL + (len(names) - 1) * GAP  # pixels of the panels and the gaps between them
    edge = dict(color=[PICKED if j in picked else "rgba(0,0,0,0)" for j in range(n)],
                width=[2.5 if j in picked else 0 for j in range(n)])
    traces, layout, notes = [], {}, []
    for i, name in enumerate(names):
        w = np.asarray(weights[name], dtype=float)
        colours = np.where(w < 0, NEGATIVE, POSITIVE).astype(object)
        if n and np.abs(w).max() > 0:
            colours[int(np.argmax(w))] = HIGHLIGHT
        custom, extra = full, ""
        if name == "occlusion" and rank_change is not None:
            moved = [(_("rank falls by {n} without it") if c > 0 else _("rank rises by {n} without it")).format(
                n=abs(int(c))) if c else _("rank unchanged") for c in rank_change]
            custom, extra = np.c_[full, np.array(moved, dtype=object)], "<br>%{customdata[1]}"
        label = _(METHOD_LABELS[name]) if name in METHOD_LABELS else plot_text(name)
        axis = f"y{i + 1 if i else ''}"
        traces.append(go.Bar(x=list(range(n)), y=w, xaxis="x", yaxis=axis, marker_color=list(colours),
                             marker_line=edge,
                             customdata=custom, name=label,
                             hovertemplate=(f"<b>{label}</b><br>%{{customdata[0]}}<br>{weight_hover('%{y:.4f}')}"
                                            f"{extra}<extra></extra>")))
        top = 1 - i * (PANEL + GAP) / plot
        layout[f"yaxis{i + 1 if i else ''}"] = dict(
            domain=[top - PANEL / plot, top], anchor="x", zeroline=True, zerolinecolor="rgba(128,128,128,0.6)",
            gridcolor="rgba(128,128,128,0.2)", tickformat=".2g", nticks=4)
        reading = _(READINGS[name]) if name in READINGS else ""
        notes.append(dict(text=f"<b>{label}</b><br><span style='color:#777;font-size:12px'>{reading}</span>",
                          x=0, y=top, xref="paper", yref="paper", xanchor="left", yanchor="bottom", align="left",
                          showarrow=False, font_size=13))
    titled = n <= TITLED_COLUMNS
    step = 1 if titled else int(np.ceil(n / 16))
    width = LABEL_WIDTH if n <= 6 else 12  # characters a line: titles sit under their bars on two lines
    ticks = [two_lines(f"{j + 1}. {t}", width) if titled else str(j + 1) for j, t in enumerate(titles)]
    layout["xaxis"] = dict(anchor=f"y{len(names) if len(names) > 1 else ''}", tickvals=list(range(0, n, step)),
                           ticktext=ticks[::step], range=[-0.5, n - 0.5], tickangle=0, tickfont_size=11,
                           showgrid=False)
    bottom = 40 if titled else 30  # room for the tick labels (two lines, or numbers)
    return go.Figure(traces, dict(
        title=dict(text=(_("Why {item}? One weight per history item").format(
            item=plot_text(short_label(item_title, 40))) if other_title is None else
            _("Why {item} rather than {other}?").format(item=plot_text(short_label(item_title, 24)),
                                                       other=plot_text(short_label(other_title, 24)))),
            x=0, font_size=15),
        annotations=notes, height=plot + 90 + bottom, showlegend=False, bargap=0.25,
        margin=dict(l=10, r=10, t=90, b=bottom), **layout, **_LAYOUT))


def two_lines(text: str, width: int) -> str:
    """`text` shortened (`short_label`) to fit two lines of about `width` characters, broken at the space that
    gives the shorter longest line, made literal for plotly; the break is plotly's <br>."""
    text = short_label(text, 2 * width)
    spaces = [i for i, c in enumerate(text) if c == " "]
    if len(text) <= width or not spaces:
        return plot_text(text)
    cut = min(spaces, key=lambda i: max(i, len(text) - i - 1))
    return f"{plot_text(text[:cut])}<br>{plot_text(text[cut + 1:])}"


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two weight vectors (ties share their mean rank); NaN when either is constant
    or shorter than 2 (no order to compare)."""
    a, b = pd.Series(np.asarray(a, dtype=float)), pd.Series(np.asarray(b, dtype=float))
    if len(a) < 2 or a.nunique() < 2 or b.nunique() < 2:
        return float("nan")
    return float(np.corrcoef(a.rank(), b.rank())[0, 1])


def head_figure(stats: Sequence[HeadStats], ablations: Sequence[HeadAblation]) -> go.Figure:
    """A table-like heatmap: a row per (layer, head), a column per measure (HEAD_MEASURES), each cell showing its
    value; colours are scaled per column (darker = larger), so a head that stands out in a column is easy to spot.
    `ablations` may come in any order (matched by layer and head)."""
    by_head = {(a.layer, a.head): a for a in ablations}
    rows = [head_name(s.layer, s.head) for s in stats]
    values = np.array([[s.entropy_last, s.newest_weight, s.lookback, by_head[s.layer, s.head].overlap,
                        by_head[s.layer, s.head].rank] for s in stats], dtype=float).reshape(len(stats), 5)
    span = values.max(0) - values.min(0)
    shade = np.where(span > 0, (values - values.min(0)) / np.where(span > 0, span, 1), 0.5)  # (heads, 5) in [0, 1]
    columns = [_(c) for c in HEAD_MEASURES]
    text = [[format(v if f != "d" else int(v), f) for v, (_said, f) in zip(row, HEAD_MEASURES.values())]
            for row in values]
    custom = np.empty(values.shape + (2,), dtype=object)
    custom[..., 0] = np.asarray(rows, dtype=object)[:, None]
    custom[..., 1] = np.asarray([_(d) for d, _f in HEAD_MEASURES.values()], dtype=object)[None, :]
    return go.Figure(go.Heatmap(
        z=shade, x=columns, y=list(range(len(rows))), text=text, texttemplate="%{text}", textfont_size=13,
        customdata=custom, colorscale=[[0, "#f7fbff"], [1, "#6baed6"]], zmin=0, zmax=1, showscale=False,
        xgap=2, ygap=2, name="heads",
        hovertemplate="<b>%{customdata[0]}</b><br>" + _("{measure}: {value}").format(
            measure="%{customdata[1]}", value="<b>%{text}</b>") + "<extra></extra>",
    ), dict(
        title=dict(text=_("Each head on this history"), x=0, font_size=15),
        yaxis=dict(tickvals=list(range(len(rows))), ticktext=rows, range=[len(rows) - 0.5, -0.5], showgrid=False),
        xaxis=dict(side="top", tickangle=0, showgrid=False),
        height=130 + 34 * len(rows), margin=dict(l=10, r=10, t=100, b=10), **_LAYOUT))


def agreement_table(entry: Mapping) -> pd.DataFrame:
    """One model's object of the explanation benchmark (`recattn.analysis.explain_benchmark`) as a table: a row per method
    of METHOD_LABELS it scored and its best single head, then the baselines; the share of cases where the method's
    top item is a cause, over all cases, the far ones (nearest cause at least 2 items back) and the far ones the model
    gets right (top-1 and top-3), then per planted rule over the far cases; None: no cases."""
    methods = entry.get("methods", {})
    head = (entry.get("best_head") or {}).get("head", "")
    labels = {**{m: _(label) for m, label in METHOD_LABELS.items()},
              BEST_HEAD: _("Best head ({head})").format(head=head.removeprefix("attention_"))}
    rows = [(labels[m], methods[m]) for m in (*METHOD_LABELS, BEST_HEAD) if m in methods]
    rows += [(_(BASELINES[name]) if name in BASELINES else _("{name} (baseline)").format(name=name.capitalize()), r)
             for name, r in entry.get("baselines", {}).items()]
    # per planted rule too, where it has far cases: a continuation's set is its earlier parts, a genre's the recent
    # items sharing it
    rules = sorted({rule for _, r in rows for rule, c in r.get("by_cause", {}).items() if c["cases_far"]})
    columns = ([_("Method"), _("Top-1"), _("Top-1, ≥ 2 back"), _("Top-1, ≥ 2 back, right"),
                _("Top-3, ≥ 2 back, right")]
               + [_(RULE_COLUMNS[rule]) if rule in RULE_COLUMNS else
                  _("{rule}, ≥ 2 back").format(rule=rule.capitalize()) for rule in rules])
    return pd.DataFrame([[label, r.get("top1"), r.get("top1_far"), r.get("top1_far_right"), r.get("top3_far_right")]
                         + [r.get("by_cause", {}).get(rule, {}).get("top1_far") for rule in rules]
                         for label, r in rows], columns=columns)
