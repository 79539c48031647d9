"""The Learn page's figures: arrays and labels in, plotly figures out (never a model, never streamlit).

Attention weights use the one ATTENTION_COLORSCALE; signed matrices (embeddings, Q/K/V, scores, hidden states) a
diverging scale centred on 0, so that a reader can tell them apart from attention at a glance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from recattn.analysis.contrast import Influence, ListChange
from recattn.analysis.walkthrough import CrossAttention, LayerSteps, Walkthrough, cosine_similarity
from recattn.i18n import N_, _, sentences
from recattn.ranking import RecItem
from recattn.viz.attention import ATTENTION_COLORSCALE, HIGHLIGHT, TITLED_COLUMNS, short_label
from recattn.viz.text import plot_text

SIGNED_COLORSCALE = "RdBu_r"  # diverging: blue below 0, red above, white at 0
MASK_COLORSCALE = [[0.0, "#d9d9d9"], [0.5, "#d9d9d9"], [0.5, "#525252"], [1.0, "#525252"]]  # blocked / allowed: greys,
# never the attention blues
MODEL_COLORS = {"SASRec": "#4292c6", "GRU4Rec": HIGHLIGHT}
GAPS_UP_TO = 24  # cells get a 1-px gap up to this many per axis; beyond, the gaps would eat them
LABEL_WIDTH = 22  # narrower than the Attention page's: these maps sit two or three to a row
_LAYOUT = dict(plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)", hoverlabel=dict(font_size=13))


def numbered(labels: Sequence[str], width: int = LABEL_WIDTH) -> tuple[list[str], list[str]]:
    """Tick text ("1. Short title…") and hover text ("1. Full title") for a list of titles, made literal for plotly
    (`plot_text`); numbers keep an item seen twice on two rows."""
    return ([f"{i + 1}. {plot_text(short_label(t, width))}" for i, t in enumerate(labels)],
            [f"{i + 1}. {plot_text(t)}" for i, t in enumerate(labels)])


def matrix_figure(z: np.ndarray, rows: Sequence[str], columns: Sequence[str], *, title: str, x_title: str,
                  y_title: str, value: str, scale: str = "signed", masked: np.ndarray | None = None,
                  titled_rows: bool = True, titled_columns: bool = False) -> go.Figure:
    """One heatmap of a (rows, columns) matrix.

    rows / columns: titles (numbered and shortened, full on hover) when `titled_rows` / `titled_columns`, else
    short names such as positions or dimension numbers. scale: "attention" (ATTENTION_COLORSCALE from 0),
    "signed" (diverging, symmetric around 0) or "mask" (two greys: blocked, allowed). masked cells (True) are
    blank, without hover.
    """
    z = np.asarray(z, dtype=float)
    if z.shape != (len(rows), len(columns)):
        raise ValueError(f"{len(rows)} row / {len(columns)} column labels for a matrix of shape {z.shape}")
    if masked is not None:
        z = np.where(masked, np.nan, z)
    plain = [plot_text(r) for r in rows], [plot_text(c) for c in columns]  # positions, dimensions: literal too
    row_ticks, row_hover = numbered(rows) if titled_rows else (plain[0], plain[0])
    col_ticks, col_hover = numbered(columns) if titled_columns else (plain[1], plain[1])
    if titled_columns and len(columns) > TITLED_COLUMNS:  # titles would overlap: numbers, as the rows have them
        col_ticks, titled_columns = [str(j + 1) for j in range(len(columns))], False
    # A row or column named by its own number (a position, a dimension) is the cell's y or x on hover; titles
    # take a string per cell (customdata), most of a figure's bytes and of the time Streamlit takes to send it.
    refs, named = [], []
    for hover, axis, shape in ((row_hover, "y", (-1, 1)), (col_hover, "x", (1, -1))):
        if hover == [str(i) for i in range(len(hover))]:
            refs.append(f"%{{{axis}}}")
        else:
            refs.append("%{customdata}")
            named.append(np.broadcast_to(np.asarray(hover, dtype=object).reshape(shape), z.shape))
    if len(named) == 2:
        refs, custom = ["%{customdata[0]}", "%{customdata[1]}"], np.stack(named, axis=-1)
    else:
        custom = named[0].copy() if named else None
    finite = z[np.isfinite(z)]
    if scale == "attention":
        colours = dict(colorscale=ATTENTION_COLORSCALE, zmin=0.0, zmax=float(finite.max()) if finite.size else 1.0)
    elif scale == "mask":
        colours = dict(colorscale=MASK_COLORSCALE, zmin=0.0, zmax=1.0, showscale=False)
    else:
        top = float(np.abs(finite).max()) if finite.size else 1.0
        colours = dict(colorscale=SIGNED_COLORSCALE, zmin=-top, zmax=top, zmid=0.0)
    heatmap = dict(
        type="heatmap", z=z, x=list(range(z.shape[1])), y=list(range(z.shape[0])), name=title,
        hoverongaps=False, xgap=1 if z.shape[1] <= GAPS_UP_TO else 0, ygap=1 if z.shape[0] <= GAPS_UP_TO else 0,
        colorbar=dict(thickness=10, title=dict(text=value, side="right")), **colours,
        hovertemplate=f"{y_title}: {refs[0]}<br>{x_title}: {refs[1]}<br>{value}: <b>%{{z:.4f}}</b><extra></extra>",
    )
    if custom is not None:
        heatmap["customdata"] = custom
    # Numeric axes with tick text: plotly would merge equal category names (a film seen twice).
    step = 1 if z.shape[1] <= TITLED_COLUMNS else int(np.ceil(z.shape[1] / 4))  # room for 4 ticks at 420 px
    row_step = 1 if z.shape[0] <= 20 else int(np.ceil(z.shape[0] / 10))
    labels = 7 * max(len(t) for t in col_ticks) if titled_columns else 20
    return _figure([heatmap], title=title, height=int(np.clip(22 * z.shape[0], 160, 420)) + labels + 90,
                   xaxis=dict(title=dict(text=x_title), tickvals=list(range(0, z.shape[1], step)),
                              ticktext=col_ticks[::step], tickangle=-45 if titled_columns else 0, showgrid=False,
                              zeroline=False),
                   yaxis=dict(title=dict(text=y_title), tickvals=list(range(0, z.shape[0], row_step)),
                              ticktext=row_ticks[::row_step], range=[z.shape[0] - 0.5, -0.5], showgrid=False,
                              zeroline=False, automargin=True))


def _figure(data: list[dict], *, title: str, height: int, **layout) -> go.Figure:
    """A figure from plain trace dicts and layout settings, with the page's title, margins and backgrounds, built
    in one go: plotly validates each setting once, where `update_layout` / `update_xaxes` after the fact cost
    several times the figure itself (tens of ms per figure, and the Learn page draws about 25)."""
    return go.Figure(data=data, layout=dict(title=dict(text=title), height=height,
                                            margin=dict(l=10, r=10, t=50, b=10), **_LAYOUT, **layout))


def scores_figure(items: Sequence[RecItem], *, title: str) -> go.Figure:
    """Horizontal bars of the top items' scores, the first on top."""
    ticks, hover = numbered([i.title for i in items])
    bars = dict(type="bar", x=[i.score for i in items], y=list(range(len(items))), orientation="h",
                marker=dict(color="#4292c6"), customdata=hover, name=_("score"),
                hovertemplate="%{customdata}<br>" + _("score: {score}").format(score="<b>%{x:.4f}</b>")
                + "<extra></extra>")
    return _figure([bars], title=title, height=120 + 26 * len(items),
                   yaxis=dict(title=dict(text=_("recommended item")), tickvals=list(range(len(items))),
                              ticktext=ticks, range=[len(items) - 0.5, -0.5]),
                   xaxis=dict(title=dict(text=_("score (item embedding · final hidden state)"))))


def rank_figure(changes: Sequence[ListChange], *, title: str) -> go.Figure:
    """Where each item of the original top-k lands under each variant: rows the original list, columns the
    variants, the cell its new rank (darker = pushed further down, on a log scale)."""
    original = changes[0].items
    ranks = np.array([c.ranks for c in changes], dtype=float).T  # (items, variants)
    ticks, hover = numbered([i.title for i in original])
    custom = np.empty(ranks.shape + (2,), dtype=object)
    custom[..., 0] = np.asarray(hover, dtype=object)[:, None]
    variants = [_(c.variant) for c in changes]  # the variants' names are marked where they are made
    custom[..., 1] = np.asarray(variants, dtype=object)[None, :]
    heatmap = dict(
        type="heatmap", z=np.log10(ranks), x=list(range(len(changes))), y=list(range(len(original))),
        customdata=custom, text=ranks.astype(int), texttemplate="%{text}", colorscale="Oranges", zmin=0.0,
        zmax=max(2.0, float(np.log10(ranks).max())), xgap=1, ygap=1, showscale=False, name=title,
        hovertemplate="%{customdata[0]}<br>" + _("{variant}: rank {rank}").format(
            variant="%{customdata[1]}", rank="<b>%{text}</b>") + "<extra></extra>",
    )
    return _figure([heatmap], title=title, height=160 + 26 * len(original),
                   xaxis=dict(title=dict(text=_("history variant")), tickvals=list(range(len(changes))),
                              tickangle=-45, automargin=True, ticktext=variants),
                   yaxis=dict(title=dict(text=_("original top-10")), tickvals=list(range(len(original))),
                              ticktext=ticks, range=[len(original) - 0.5, -0.5]))


def overlap_figure(changes: Mapping[str, Sequence[ListChange]], k: int = 10) -> go.Figure:
    """Grouped bars: overlap@k of each variant's list with the original, one colour per model."""
    bars = [dict(type="bar", x=[_(c.variant) for c in found], y=[c.overlap for c in found], name=model,
                 marker=dict(color=MODEL_COLORS.get(model)),
                 hovertemplate=f"{model} · %{{x}}<br>overlap@{k}: <b>%{{y}}</b><extra></extra>")
            for model, found in changes.items()]
    return _figure(bars, title=_("How much of the top-{k} survives a change of order").format(k=k), height=360,
                   barmode="group", xaxis=dict(title=dict(text=_("history variant"))),
                   yaxis=dict(title=dict(text=_("overlap@{k} with the original list").format(k=k)), range=[0, k]),
                   legend=dict(orientation="h", y=-0.3))


def influence_figure(influences: Mapping[str, tuple[Influence, Sequence[str]]]) -> go.Figure:
    """Occlusion influence against distance from the end, one line per model.

    influences: model name → (its Influence, the history titles oldest first). Each model's drops are divided
    by its largest absolute drop (score scales differ between models); the hover gives the raw drop too.
    """
    lines = []
    for model, (inf, titles) in influences.items():
        top = float(np.abs(inf.drops).max()) or 1.0
        order = np.argsort(inf.distance)
        custom = np.stack([np.asarray([plot_text(t) for t in titles], dtype=object)[order], inf.drops[order]],
                          axis=1)
        lines.append(dict(
            type="scatter", x=inf.distance[order], y=inf.drops[order] / top, mode="lines+markers", name=model,
            line=dict(color=MODEL_COLORS.get(model)), customdata=custom,
            # the plotly references go in as values: the messages themselves hold no %{…}
            hovertemplate="<br>".join((
                f"<b>{model}</b> · " + _("removed: {item}").format(item="%{customdata[0]}"),
                _("distance from the end: {distance}").format(distance="%{x}"),
                _("drop of its #1's score: {drop} (relative {relative})").format(
                    drop="<b>%{customdata[1]:.4f}</b>", relative="%{y:.2f}"))) + "<extra></extra>",
        ))
    zero = dict(type="line", x0=0, x1=1, xref="x domain", y0=0, y1=0, yref="y",
                line=dict(color="gray", width=1, dash="dot"))  # what add_hline(y=0) draws
    few = bool(lines) and max(len(t["x"]) for t in lines) <= 15
    return _figure(lines, title=_("Influence of each history item on the #1 score, by distance from the end"),
                   height=380, shapes=[zero], legend=dict(orientation="h", y=-0.25),
                   xaxis=dict(title=dict(text=_("distance from the end (0 = the latest item)")),
                              dtick=1 if few else None),
                   yaxis=dict(title=dict(text=_("score drop of the #1 item (÷ largest)"))))


# ---------------------------------------------------------------- the walkthrough's panels, in reading order
SIGNED_NOTE = N_("Diverging scale, as the values are signed (unlike attention weights): red above 0, blue below.")


@dataclass(frozen=True)
class Panel:
    """One figure of the walkthrough with its chart key and the sentence that goes under it."""

    key: str
    figure: go.Figure
    caption: str


def _dims(z: np.ndarray) -> list[str]:
    return [str(j) for j in range(z.shape[1])]


def _items(z: np.ndarray, titles: Sequence[str], title: str, key: str, caption: str) -> Panel:
    """A (history items × dimensions) matrix of signed values."""
    fig = matrix_figure(z, titles, _dims(z), title=title, x_title=_("dimension"), y_title=_("history item"),
                        value=_("value"))
    return Panel(key, fig, sentences(caption, _(SIGNED_NOTE)))


def embedding_panels(walk: Walkthrough, titles: Sequence[str]) -> list[Panel]:
    """Item embeddings (× √D when the model scales them), the position rows added to them, and their sum x₀."""
    rows = (_("The row of each item's slot: the oldest item read takes the table's first row.")
            if walk.position_from == "first" else
            _("The row of each item's slot: the latest item always takes the table's last row."))
    return [_items(walk.item_part, titles, _("Item embeddings × √D") if walk.scaled else _("Item embeddings"),
                   "learn_items", _("Each item's own vector.")),
            _items(walk.position_part, titles, _("+ position embeddings"), "learn_positions", rows),
            _items(walk.item_part + walk.position_part, titles, _("= x₀, the first block's input"), "learn_x0",
                   _("Their sum: what the first block reads."))]


def position_panels(name: str, table: np.ndarray) -> list[Panel]:
    """A position table (positions × dimensions) and the cosine similarity of its rows. `name`: the table's, in
    English and marked (its first word is the charts' key), shown translated."""
    slots = [str(p) for p in range(len(table))]
    key = name.split()[0]
    return [
        Panel(f"learn_pos_{key}", matrix_figure(table, slots, _dims(table),
                                                title=_("Position table, {name}").format(name=_(name)),
                                                x_title=_("dimension"), y_title=_("position"), value=_("value"),
                                                titled_rows=False), _(SIGNED_NOTE)),
        Panel(f"learn_pos_sim_{key}", matrix_figure(cosine_similarity(table), slots, slots, x_title=_("position"),
                                                    title=_("Position similarity, {name}").format(name=_(name)),
                                                    y_title=_("position"), value=_("cosine"), titled_rows=False),
              _("Cosine similarity of each position's row with every other (the latest item sits in the last one): "
                "a dark red band along the diagonal means nearby positions look alike to the model.")),
    ]


def head_panels(steps: LayerSteps, head: int, titles: Sequence[str]) -> list[list[Panel]]:
    """Three rows: Q, K, V; scores, mask, softmax; the weighted sum, the heads concatenated, W_O."""
    pair = dict(x_title=_("key (looked at)"), y_title=_("query (looking)"), titled_columns=True)
    return [
        [_items(z[head], titles, f"{n} = {'x' if steps.post else 'LN₁(x)'} W_{n}", f"learn_{n.lower()}",
                _("The {name} rows of this head.").format(name=n))
         for n, z in (("Q", steps.q), ("K", steps.k), ("V", steps.v))],
        [Panel("learn_scores", matrix_figure(steps.scores[head], titles, titles, title=_("Scores QKᵀ/√d"),
                                             value=_("score"), **pair),
               sentences(_("How well each query matches each key, before the mask."), _(SIGNED_NOTE))),
         Panel("learn_mask", matrix_figure(steps.allowed.astype(float), titles, titles, title=_("The causal mask M"),
                                           value=_("allowed"), scale="mask", **pair),
               _("Dark: may look (M = 0); light: a later item, hidden (M = −∞) so the model cannot peek ahead.")),
         Panel("learn_softmax", matrix_figure(steps.weights[head], titles, titles,
                                              title=_("Softmax: attention weights"), value=_("weight"),
                                              scale="attention", masked=~steps.allowed, **pair),
               _("Each row sums to 1: the very weights of the Attention page. Masked cells are blank."))],
        [_items(steps.mixed[head], titles, _("Weighted sum: weights × V"), "learn_mixed",
                _("Each row mixes the V rows by its attention weights.")),
         _items(steps.concat, titles, _("All heads concatenated"), "learn_concat",
                _("Every head's output side by side.")),
         _items(steps.attention, titles, _("Projected by W_O"), "learn_projected",
                _("W_O mixes the heads back into one vector per item: the attention's output."))],
    ]


def block_panels(steps: LayerSteps, layer: int, titles: Sequence[str]) -> list[Panel]:
    """The rest of the block: the residual, what the feed-forward reads, the feed-forward and the block's output."""
    act = steps.activation.upper().replace("RELU", "ReLU")
    ffn = _("Two linear layers with a {activation} between, applied to each item on its own.").format(activation=act)
    if steps.post:  # LN₁ after attention's residual, LN₂ after the feed-forward's
        return [_items(steps.residual, titles, _("LN₁(x + attention)"), "learn_residual",
                       _("The block's input plus what attention added, normalised (post-norm).")),
                _items(steps.ffn, titles, _("Feed-forward FFN(·)"), "learn_ffn", ffn),
                _items(steps.out, titles, _("Layer {layer}'s output: LN₂(· + FFN)").format(layer=layer + 1),
                       "learn_out", _("The residual plus the feed-forward, normalised: the next block's input."))]
    return [_items(steps.residual, titles, _("Residual: x + attention"), "learn_residual",
                   _("The block's input plus what attention added.")),
            _items(steps.ln2, titles, _("LayerNorm LN₂"), "learn_ln2",
                   _("Each row normalised to mean 0 and spread 1, then scaled and shifted.")),
            _items(steps.ffn, titles, _("Feed-forward FFN(LN₂)"), "learn_ffn", ffn),
            _items(steps.out, titles, _("Layer {layer}'s output").format(layer=layer + 1), "learn_out",
                   _("Residual + feed-forward: the next block's input."))]


def cross_panels(cross: CrossAttention, candidates: Sequence[str], history: Sequence[str]) -> list[Panel]:
    """The additive model's candidates (rows) reading the history (columns): weights, then the energies."""
    pair = dict(x_title=_("history item (key)"), y_title=_("candidate (query)"), titled_columns=True)
    return [Panel("learn_cross_weights", matrix_figure(cross.weights, candidates, history, value=_("weight"),
                                                       title=_("Cross-attention: candidates read the history"),
                                                       scale="attention", **pair),
                  _("Each row is one of the additive model's top 10 attending over the history; rows sum to 1 "
                    "(target attention: the query is the candidate, not a history item).")),
            Panel("learn_cross_energies", matrix_figure(cross.energies, candidates, history, value=_("energy"),
                                                        title=_("Energies before the softmax"), **pair),
                  sentences(_("w_o · tanh(W₁x_i + W₂y_j + b) for each pair."), _(SIGNED_NOTE)))]
