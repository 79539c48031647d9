"""Attention: the top-10 for the current history next to the attention of every layer and head, the row that
produced them as bars per head, and one head enlarged."""

import streamlit as st

from recattn import viz
from recattn.i18n import N_, Lazy, _, count_of, sentences
from recattn.models import registry
from recattn.recommend import MASK_SLOT
from recattn.analysis.head_roles import describe
from recattn.viz.attention import head_name
from recattn.viz.heads import head_figure, role_grid, row_bars
from ui import charts, models, report, sources, state, widgets
from ui.text import md

RANKS = "attention_ranks"  # (model, history, top-10 ranks, the ranks before the last edit), owned by this page
MODEL = "attention_model"
ROLES, HEAD = "attention_roles", "attention_head"  # the head-role grid's chart; the enlarged head's select
ALL_LAYERS = N_("All layers")  # the layer choice's first option (kept in English, shown with _())
ATTENTION_KINDS = {"causal": N_("causal"), "bidirectional": N_("bidirectional"), "target": N_("target")}


def layer_option(option: str) -> str:
    """The layer choice's options as people read them: "All layers", "Layer 2" (the values stay English)."""
    return _(option) if option == ALL_LAYERS else _("Layer {n}").format(n=option.split()[-1])


@st.cache_data(show_spinner=Lazy(N_("Measuring every head on 300 test histories…")), max_entries=20)
def head_roles(source: str, key: str):
    """Each head's role and importance over the source's test histories: once per checkpoint, for every session."""
    return models.loaded(key, source).head_roles(sources.dataset(source))


def open_head() -> None:
    """The head-role grid's click: enlarge that head below (a callback, so it runs before the select is drawn)."""
    points = st.session_state[ROLES]["selection"]["points"]
    if points:
        layer, head = points[0]["customdata"]
        st.session_state[HEAD] = f"Layer {layer + 1} · head {head + 1}"


def catalogue_id(item_id: str) -> str | None:
    """A clicked bar's item, None for BERT4Rec's mask slot (not an item of the catalogue)."""
    return None if item_id == MASK_SLOT else item_id


def picked_model() -> None:
    """The model select's callback: make the picked checkpoint the session's model."""
    if st.session_state.get(MODEL):
        state.set_model_dir(st.session_state[MODEL])


def ranks_before(model: str, ids: list[str], top: list[str]) -> dict[str, int] | None:
    """The top-10 ranks before the last edit of the history (None: first view, or another model)."""
    ranks = {item: rank for rank, item in enumerate(top, 1)}
    kept = st.session_state.get(RANKS)
    if kept is None or kept[0] != model:
        before = None
    elif kept[1] == tuple(ids):
        before = kept[3]  # a rerun without an edit keeps showing the last change
    else:
        before = kept[2]
    st.session_state[RANKS] = (model, tuple(ids), ranks, before)
    return before


state.init()
state.remember("attention_layers", "attention_head", "attention_candidate")

st.title(_("What the model looks at"))

recommender = widgets.require_model()
source = state.source()
with state.guard():
    attentive = {c.path: c for c in models.of_kind(source, lambda kind: kind.has_attention)}
if attentive:
    # Follows the session's model (also when the sidebar changed it); empty when that one has no attention.
    st.session_state[MODEL] = state.model_dir() if state.model_dir() in attentive else None
    kinds = _("; ").join(_("{model} ({attention})").format(model=_(k.label), attention=_(ATTENTION_KINDS.get(
        k.attention, k.attention))) for k in map(registry.get, registry.names(lambda kind: kind.has_attention)))
    st.selectbox(_("Attention model"), list(attentive), key=MODEL, format_func=lambda p: attentive[p].label,
                 placeholder=_("Pick a model with attention"), on_change=picked_model, width=320,
                 help=_("The models of this data that have attention: {models}.").format(models=kinds))
history = widgets.require_history()
rec = widgets.recommend(recommender, history)


left, right = st.columns([1, 2], gap="large")

with left:
    st.subheader(_("Top 10 next items"))
    widgets.top_list(rec.items, key="attention_top10",
                     ranks_before=ranks_before(state.model_dir(), history, [item.id for item in rec.items]))
    st.caption(_("Ranked by the model's score (the blue badge); ▲/▼ how far an item moved with the last edit of the "
                 "history, *new* when it just entered. Items already in the history are never recommended."))

    st.subheader(_("History · {n}").format(n=len(history)))
    state.pop_flash("history")
    widgets.cut_note(len(history), {_("The model"): len(rec.used_history)})
    widgets.quick_edit(source, history, "attention", (_("Add an item"), _("Remove last"), _("Edit the history")))
    report.download_button(recommender, source, history, key="attention_report")

with right:
    trace = rec.trace
    if trace is None:
        st.info((_("This model ({kind}) has no attention to show: pick an attention model above.") if attentive else
                 _("This model ({kind}) has no attention to show: no SASRec, BERT4Rec, SASRec (additive), additive or "
                   "NARM model is trained on this data yet; train one on the Train page.")).format(
            kind=md(recommender.kind)), icon=":material/visibility_off:")
        st.stop()
    st.subheader(_("Attention · {layers} × {heads}").format(
        layers=count_of(trace.layers, "{n} layer", "{n} layers"), heads=count_of(trace.heads, "{n} head", "{n} heads")))
    options = [ALL_LAYERS] + [f"Layer {i + 1}" for i in range(trace.layers)]
    if st.session_state.get("attention_layers") not in options:  # first visit, or a model with fewer layers
        st.session_state["attention_layers"] = ALL_LAYERS  # not default=: it would fight remember()
    choice = st.segmented_control(_("Layers"), options, key="attention_layers", label_visibility="collapsed",
                                  format_func=layer_option)
    layers = None if choice in (None, ALL_LAYERS) else [int(choice.split()[-1]) - 1]
    if trace.kind == "target":
        st.caption(_(
            "Each **row** is one of the recommended items; each **column** an item of the history. A row shows how "
            "much that candidate weighs each history item, A = softmax(w·tanh(W₁x + W₂y + b)) over the history, "
            "and every row sums to 1. Hover a cell for the exact weight and both full titles."
        ))
    else:
        said = [_("Each **row** is a position in the history asking *“what should I look at?”*; each **column** "
                       "is an item it can look at; darker = more attention, and every row sums to 1."),
                     _("The **last row** (outlined in orange) is what produced the recommendations.")]
        if trace.kind == "causal":
            said.append(_("**Blank** cells are masked: this model may only look back, so an item never sees the "
                               "ones after it."))
        if recommender.kind == "sasrec-additive":
            said.append(_("Every head scores with the seed's additive formula, A = softmax(w·tanh(W₁x + W₂y + b)) "
                               "over the items a position may see, where SASRec takes a dot product."))
        said.append(_("Hover a cell for the exact weight and both full titles."))
        st.caption(sentences(*said))
    title = _("Attention weights of {model}, per layer and head").format(model=_(registry.label(recommender.kind)))
    st.plotly_chart(viz.trace_figure(trace, layers, picked=state.picked(), title=title), key="attention",
                    config=charts.config("attention"))

    st.subheader(_("The row that chose the recommendations"))
    candidate = 0
    if trace.kind == "target":  # one row per candidate: pick which recommended item's row to read
        options = list(range(len(rec.items)))
        if st.session_state.get("attention_candidate") not in options:
            st.session_state["attention_candidate"] = 0
        candidate = st.selectbox(_("Recommended item"), options, key="attention_candidate",
                                 format_func=lambda i: f"{i + 1}. {rec.items[i].title}")
        st.caption(_("How much this candidate weighs each history item; its score is read from this mix."))
    elif trace.kind == "bidirectional":
        st.caption(_("The last row of every map, as bars: how much each head weighs each history item when it scores "
                     "the next one (from BERT4Rec's mask slot, [next?])."))
    else:
        st.caption(_("The last row of every map, as bars: how much each head weighs each history item when it scores "
                     "the next one."))
    on_bar = widgets.pick_on_click("attention_bars", lambda point: catalogue_id(trace.key_ids[int(point["y"])]))
    st.plotly_chart(row_bars(trace, candidate, picked=state.picked()), key="attention_bars", on_select=on_bar,
                    selection_mode="points", config=charts.config("attention-rows"))

    heads = {f"Layer {layer + 1} · head {h + 1}": (layer, h) for layer in range(trace.layers)
             for h in range(trace.heads)}
    if registry.get(recommender.kind).layered and len(heads) > 1:
        st.subheader(_("What each head does"))
        with state.guard():
            roles = head_roles(source, models.key(state.model_dir()))
        st.plotly_chart(role_grid(roles), key=ROLES, on_select=open_head, selection_mode="points",
                        config=charts.config("head-roles"))
        st.caption(sentences(*(md(describe(roles)), _(
            "A head's role is where its scoring row puts more weight than chance would (hover a cell for every role); "
            "its size is the NDCG@10 the model loses when that head alone is zeroed. Click a cell to draw that head "
            "large below."))))
    if len(heads) > 1:  # a single map is already drawn in full above
        if st.session_state.get(HEAD) not in heads:
            st.session_state[HEAD] = None  # a head of another model's shape
        picked = st.selectbox(_("Enlarge one head"), list(heads), index=None, key=HEAD,
                              format_func=lambda k: head_name(*heads[k]),
                              placeholder=_("Pick a layer and head to draw it large…"))
        if picked is not None:
            st.plotly_chart(head_figure(trace, *heads[picked], picked=state.picked()), key="attention_head_map",
                            config=charts.config("attention-head"))
