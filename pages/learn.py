"""Learn: the loaded SASRec's computation on the user's own history, operation by operation, with its real numbers
(after Transformer Explainer); then additive attention and a Transformer-vs-RNN contrast on the same history."""

import numpy as np
import streamlit as st

from recattn import i18n
from recattn.analysis import contrast
from recattn.analysis.walkthrough import block_formulas
from recattn.i18n import N_, _, count_of
from recattn.results import measured
from recattn.viz import learn as figs
from ui import charts, models, sources, state, widgets
from ui.text import md

state.init()
state.remember("learn_layer", "learn_head", "learn_tab")
TABS = (N_("1 · Embeddings"), N_("2 · One attention head"), N_("3 · Block → scores"),
        N_("4 · Additive attention"), N_("5 · Transformer vs RNN"))


def tab_labels() -> list[str]:
    """The tabs' labels in the session's language. The open tab's widget value is its label: one kept from another
    language (the reader switched) becomes the same tab's label in this one, so the switch keeps the tab open."""
    shown = [_(t) for t in TABS]
    kept = st.session_state.get("learn_tab")
    if kept is not None and kept not in shown:
        for lang in i18n.LANGUAGES:
            with i18n.language(lang):
                other = [_(t) for t in TABS]
            if kept in other:
                st.session_state["learn_tab"] = shown[other.index(kept)]
                break
    return shown


st.title(_("How attention computes a recommendation"))
history = widgets.require_history(_("the model's computation on it, step by step"))
state.pop_flash("history")  # a story started from the empty page: its sentence
source = state.source()


@st.cache_data(show_spinner=False, max_entries=8)
def position_tables(key: str, source: str, lang: str) -> None:
    """The position tables of the SASRec of a checkpoint key (`models.key`) side by side, each with the similarity
    of its rows. They do not depend on the history: drawn once per checkpoint (and language: `lang` is
    `i18n.current()`, which the figures' words are in), then replayed by Streamlit on every later run, without
    building or sending the figures again."""
    sinusoidal, learned = models.loaded(key, source).position_tables()
    for col, name, table in zip(st.columns(2), (N_("sinusoidal"), N_("learned by this model")), (sinusoidal, learned)):
        with col:
            if table is None:
                st.info(_("This model uses the sinusoidal table: it has no learned one."))
            for panel in figs.position_panels(name, table) if table is not None else []:
                show(panel.key, panel.figure, panel.caption)


def missing(name: str, what: str) -> None:
    """`name`: a model's name or its description, `what`: what cannot be shown, both already translated."""
    st.info(_("No {name} is trained on this data, so {what} cannot be shown: train one on the Train page.").format(
        name=name, what=what), icon=":material/model_training:")


def show(key: str, fig, caption: str) -> None:
    st.plotly_chart(fig, key=key, config=charts.config(key.removeprefix("learn_")))
    st.caption(caption)


def grid(panels: list[figs.Panel], per_row: int) -> None:
    """Panels side by side (columns stack on a narrow screen)."""
    for start in range(0, len(panels), per_row):
        for col, panel in zip(st.columns(per_row), panels[start:start + per_row]):
            with col:
                show(panel.key, panel.figure, panel.caption)


with state.guard():
    listed = sources.checkpoints(source)
    sasrec_dir, additive_dir, gru_dir = (models.preferred(kind, listed) for kind in ("sasrec", "additive", "gru"))
    sasrec, additive, gru = (None if path is None else models.recommender(path, source)
                             for path in (sasrec_dir, additive_dir, gru_dir))
widgets.cut_note(len(history), {name: r.max_len for name, r in (("SASRec", sasrec),
                                                                (_("The additive model"), additive),
                                                                ("GRU4Rec", gru)) if r is not None})
# Lazy tabs: only the open one runs (the others stay empty until picked), so a rerun builds a handful of figures
# instead of all of them. The open tab is a widget value, kept like the layer and head.
tabs = st.tabs(tab_labels(), key="learn_tab", on_change="rerun")
if sasrec is None:
    for tab in (t for t in tabs[:3] if t.open):
        with tab:
            missing("SASRec", _("its step-by-step computation"))
elif any(tab.open for tab in tabs[:3]):
    used = sources.titles_of(source, history[-sasrec.max_len:])
    with state.guard():  # an id the model does not know is an error box
        walk = sasrec.walkthrough(history)
    cfg = sasrec.config
    if tabs[0].open:
        with tabs[0]:
            slots = (_("counted from the oldest item it reads") if cfg.position_from == "first"
                     else _("counted back from the latest item"))
            enters = (_("Each enters as its **item embedding**, scaled by √D, plus the **position embedding** of its "
                        "slot ({slots}).") if cfg.scale_embeddings else
                      _("Each enters as its **item embedding** plus the **position embedding** of its slot ({slots})."))
            said = [count_of(len(used), "SASRec reads the last {n} item of the history.",
                             "SASRec reads the last {n} items of the history."), enters.format(slots=slots)]
            if cfg.norm == "post":
                said.append(_("The sum is then normalised (LayerNorm), as post-norm models do."))
            st.markdown(i18n.sentences(*said))
            grid(figs.embedding_panels(walk, used), 2)
            st.latex(r"PE_{(pos,\,2i)} = \sin\!\left(pos / 10000^{2i/d}\right)")
            st.latex(r"PE_{(pos,\,2i+1)} = \cos\!\left(pos / 10000^{2i/d}\right)")
            with state.guard():
                position_tables(models.key(sasrec_dir), source, i18n.current())

    if tabs[1].open:
        with tabs[1]:
            layer, head = widgets.layer_head(cfg.layers, cfg.heads, key="learn")
            read = "x" if cfg.norm == "post" else r"\mathrm{LN}_1(x)"
            st.latex(rf"Q = {read}\,W_Q \quad K = {read}\,W_K \quad V = {read}\,W_V")
            st.latex(r"\mathrm{head} = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d}} + M\right) V")
            reads = _("Layer {layer}, head {head} of {layers} × {heads}: each head reads d = {d} of the {hidden} "
                      "dimensions.").format(layer=layer + 1, head=head + 1, layers=cfg.layers, heads=cfg.heads,
                                            d=cfg.hidden // cfg.heads, hidden=cfg.hidden)
            parts = (_("W_Q, W_K and W_V are the three parts of the layer's fused qkv matrix; LN₁ comes after "
                       "attention's residual (post-norm).") if cfg.norm == "post" else
                     _("W_Q, W_K and W_V are the three parts of the layer's fused qkv matrix; LN₁ comes before "
                       "attention (pre-norm)."))
            st.caption(i18n.sentences(reads, parts))
            for row in figs.head_panels(walk.layers[layer], head, used):
                grid(row, 2)

    if tabs[2].open:
        with tabs[2]:
            # tab 2's select is not drawn in this run: its remembered value, or the first layer as the select
            # itself falls back to when a smaller model is loaded
            layer = st.session_state.get("learn_layer", 0)
            layer = layer if layer in range(cfg.layers) else 0
            repeat = r" + b_{\mathrm{repeat}}\,[j \in \mathrm{history}]" if walk.repeat_bias is not None else ""
            for formula in (*block_formulas(cfg.norm), r"s_j = h_T \cdot e_j" + repeat):
                st.latex(formula)
            st.caption((_("Layer {layer} (pick it in tab 2) of the loaded model, with its {activation} feed-forward; "
                          "the scores come after the last layer.") if cfg.norm == "post" else
                        _("Layer {layer} (pick it in tab 2) of the loaded model, with its {activation} feed-forward; "
                          "the final LayerNorm and the scores come after the last layer.")).format(
                layer=layer + 1, activation=cfg.activation.upper()))
            grid(figs.block_panels(walk.layers[layer], layer, used), 2)
            with state.guard():
                real = sasrec.scores(history).scores[0].float().numpy()
            seen = np.isfinite(real)  # padding (column 0) is -inf in both
            gap = float(np.abs(walk.scores[seen] - real[seen]).max())
            said = [_("These scores, computed operation by operation above, match the model's own forward pass to "
                      "within {gap:.1e}.").format(gap=gap)]
            if walk.repeat_bias is not None:
                said.append(_("The repeat bias, {bias:+.3f}, goes to items already seen.").format(
                    bias=walk.repeat_bias))
            show("learn_top", figs.scores_figure(sasrec.rank(walk.scores, history),
                                                 title=_("Top 10: h_T · each item's embedding")),
                 i18n.sentences(*said))

if tabs[3].open:
    with tabs[3]:
        left, right = st.columns(2)
        left.latex(r"A_{ij} = \mathrm{softmax}_i\!\left(w_o \cdot \tanh(W_1 x_i + W_2 y_j + b)\right)")
        left.caption(_("Additive (the seed's): a small network scores each history item x_i for candidate y_j."))
        right.latex(r"A = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d}} + M\right)")
        right.caption(_("Scaled dot-product (SASRec's): a query's match with each key is a dot product; its weights "
                        "on this history are in tab 2."))
        left, right = st.columns(2)
        left.latex(r"\begin{aligned} h_i = \mathrm{LayerNorm}\big(&h_{i-1} + \mathrm{MultiHead}(h_{i-1}) \\ "
                   r"&+ \mathrm{FFN}(h_{i-1})\big) \end{aligned}")
        left.caption(_("The seed's layer."))
        norm = sasrec.config.norm if sasrec is not None else "pre"
        attention_step, ffn_step, final_step = block_formulas(norm)
        right.latex(rf"\begin{{aligned}} &{attention_step} \\ &{ffn_step} \\ &{final_step} \end{{aligned}}")
        right.caption(_("What the loaded SASRec runs") if sasrec is not None else
                      _("What recattn's SASRec runs by default"))
        st.caption(_("The seed adds attention and feed-forward in parallel and normalises after; SASRec runs them "
                     "one after the other, normalising after each residual (post-norm, as RecBole does).")
                   if norm == "post" else
                   i18n.sentences(_("The seed adds attention and feed-forward in parallel and normalises after; "
                                    "SASRec runs them one after the other, normalising before each (pre-norm), with "
                                    "one LayerNorm at the very end."),
                                  _("The norm placement is a setting (`norm`: pre or post).")))
        said = measured.first_contrast(widgets.measured_searches(source), "sasrec-additive", "sasrec")
        if said:
            told = _("**The seed's score inside SASRec.** SASRec (additive) is SASRec with the additive score on the "
                     "left in every head, all else the same. {said} Its heatmaps, layer by layer and head by head, "
                     "are on the Attention page.").format(said=md(said))
            st.markdown(f":material/balance: {told}")
        if additive is None:
            missing(_("additive-attention model"), _("cross-attention"))
        else:
            rec = widgets.recommend(additive, history)
            cand = [i.title for i in rec.items]
            cross = additive.cross_attention(history, [i.id for i in rec.items])
            keys = sources.titles_of(source, history[-additive.max_len:])
            grid(figs.cross_panels(cross, cand, keys), 2)

if tabs[4].open:
    with tabs[4]:
        said = measured.first_contrast(widgets.measured_searches(source), "sasrec", "gru")
        if said:
            told = _("**Which is better?** {said} The plots below show how each one reads this history.").format(
                said=md(said))
            st.markdown(f":material/balance: {told}")
        else:
            st.caption(_("No equal search of SASRec and GRU4Rec has been run on this data, so this page makes no "
                         "claim about which is better: the plots below show how each one reads this history."))
        # the same runs against the clock: which is ahead depends on how long each may train
        timed = [m for m in widgets.measured_searches(source) if {"sasrec", "gru"} <= set(measured.curves(m))]
        if timed:
            widgets.budget_curves(timed[0], key="learn_budget")
        found = {name: r for name, r in (("SASRec", sasrec), ("GRU4Rec", gru)) if r is not None}
        for name in [n for n in ("SASRec", "GRU4Rec") if n not in found]:
            missing(name, _("{name}'s side of the contrast").format(name=name))
        if found:
            changes = {name: r.order_changes(history) for name, r in found.items()}
            cols = st.columns(len(found))
            for col, (name, change) in zip(cols, changes.items()):
                with col:
                    caption = (_("Each cell is the new rank of an original top-10 item when the history is changed "
                                 "(shuffle seed {seed}); 'positions off' zeroes the position embeddings.")
                               if name == "SASRec" else
                               _("Each cell is the new rank of an original top-10 item when the history is changed "
                                 "(shuffle seed {seed})."))
                    show(f"learn_ranks_{name.lower()}",
                         figs.rank_figure(change, title=_("{name}: where its top 10 go").format(name=name)),
                         caption.format(seed=contrast.SHUFFLE_SEED))
            show("learn_overlap", figs.overlap_figure(changes), _("How many of the original top 10 stay in the top 10 "
                 "(an order-blind model would keep all of them); the GRU has no positions to switch off."))
            influence = {name: (r.influence(history), sources.titles_of(source, history))
                         for name, r in found.items()}
            show("learn_influence", figs.influence_figure(influence), _("How much each model's #1 score falls when "
                 "one item is removed, against how far back that item was (each model divided by its largest drop)."))
