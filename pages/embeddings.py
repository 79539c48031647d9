"""Embeddings: the item vectors a model learned, on a 2-D map, with the history and its recommendations marked."""

import streamlit as st

from recattn.i18n import _, count_of, sentences
from recattn.models import registry
from recattn.recommend import ItemMap
from recattn.viz.embeddings import embedding_map
from ui import charts, models, sources, state, widgets
from ui.text import md

state.init()
state.remember("embeddings_model")

K = 10


@st.cache_data(show_spinner=False, max_entries=16)
def item_map(key: str, source: str) -> ItemMap:
    """The 2-D map of the item vectors of a checkpoint key (`models.key`): one SVD per checkpoint, not per run."""
    return models.loaded(key, source).item_map()


st.title(_("Item embeddings"))
st.caption(_("Every model that reads a history first turns each item into a vector it learned in training. Items "
             "the model treats alike get nearby vectors; this map squeezes them to two dimensions with PCA, the two "
             "directions along which the vectors differ most."))

source = state.source()
with state.guard():
    found = {c.path: c for c in models.of_kind(source, lambda kind: kind.item_vectors)}
    current = models.current_info()
if not found:
    with_vectors = ", ".join(_(registry.label(k)) for k in registry.names(lambda kind: kind.item_vectors))
    st.info(_("No model with item embeddings ({models}) is trained on {source} yet: train one to see its map.").format(
        models=with_vectors, source=md(sources.source_label(source))), icon=":material/model_training:")
    st.page_link("pages/train.py", label=_("Train a model on this data"), icon=":material/arrow_forward:")
    st.stop()
if current is not None and current.kind not in registry.names(lambda kind: kind.item_vectors):
    st.info(_("The current model, {model}, learns no item vectors: pick a model below.").format(
        model=md(current.name)), icon=":material/info:")
if st.session_state.get("embeddings_model") not in found:  # first visit, or another source: the session's model
    st.session_state["embeddings_model"] = state.model_dir() if state.model_dir() in found else next(iter(found))
path = st.selectbox(_("Model"), list(found), key="embeddings_model", format_func=lambda p: found[p].label)

with state.guard():
    recommender = models.recommender(path, source)
    projection = item_map(models.key(path), source)
items = recommender.items
history = state.history()
with state.guard():  # an id this catalogue lacks is an error box
    in_history = {row: pos for pos, row in enumerate(projection.rows(history), 1)}
recommended = {}
if history:
    rec = widgets.recommend(recommender, history, K)
    widgets.cut_note(len(history), {_("The model"): len(rec.used_history)})
    recommended = dict(zip(projection.rows([item.id for item in rec.items]), range(1, len(rec.items) + 1)))
else:
    st.info(_("The history is empty: the map shows every item. Add a few items to see where they and the model's "
              "recommendations fall."), icon=":material/playlist_add:")
    st.page_link("pages/history.py", label=_("Build a history"), icon=":material/arrow_forward:")

with state.guard():
    news = source == "builtin:news" or sources.data_profile(source)["format"] == "mind"
first, second = projection.explained
pick = state.picked()
picked_row = projection.rows([pick])[0] if pick in projection.ids else None
st.plotly_chart(embedding_map(projection.coords, items["title"].astype(str).tolist(), items["genres"].astype(str).tolist(),
                              projection.explained, in_history, recommended,
                              noun=_("category") if news else _("genre"), picked=picked_row),
                key="embeddings_map", on_select=widgets.pick_on_click(
                    "embeddings_map", lambda point: projection.ids[int(point["customdata"][-1])]),
                selection_mode="points", config=charts.config("embeddings"))
coloured = (_("{n:,} items of {model}, coloured by category.") if news else
            _("{n:,} items of {model}, coloured by first genre.")).format(n=len(items), model=md(found[path].label))
explained = _("The two components explain {first:.0%} and {second:.0%} of the variance of the {width}-dimensional "
              "vectors ({together:.0%} together): distances on the map are a rough guide, not the whole story.").format(
    first=first, second=second, width=projection.width, together=first + second)
marked = _("Diamonds: the {items}; stars: the top {k}.").format(
    items=count_of(len(in_history), "{n} history item", "{n} history items"), k=len(recommended)) if history else ""
st.caption(sentences(coloured, explained, marked, _("Hover a point for its title; click one to highlight it in "
                                                  "every view.")))
