"""Home: what recattn is, which data and model are loaded, where to go next."""

import streamlit as st

from recattn.i18n import N_, _
from ui import models, sources, state
from ui.text import md

state.init()

st.title(_("recattn: see what a recommender looks at"))
st.markdown(_(
    "A **sequential recommender** reads the items someone watched or read, in order, and guesses what comes next. "
    "Transformer recommenders such as **SASRec** do it with *self-attention*: at every position the model "
    "decides how much to look at each earlier item. This app lets you build a history, get the "
    "model's top-10, and see that attention — every layer, every head."
))

source = state.source()
with state.guard():
    summary = sources.data_profile(source)
    info = models.current_info()  # None right after a switch to data no model is trained on

st.subheader(_("What is loaded"))
test = info.test if info else {}
c1, c2, c3, c4 = st.columns(4, border=True)
c1.metric(_("Data"), md(sources.source_label(source)),
          help=_("{items:,} items · {users:,} users · {interactions:,} interactions").format(
              items=summary["catalogue"], users=summary["users"], interactions=summary["interactions"]))
c1.caption(_("{items:,} items · {users:,} users").format(items=summary["catalogue"], users=summary["users"]))
if info:
    c2.metric(_("Model"), info.name, help=_("trained on {data}").format(data=md(info.source)))
    c2.caption(md(info.shape))
else:
    c2.metric(_("Model"), "—")
    c2.caption(_("none trained on this data yet"))
for col, key, label in ((c3, "ndcg@10", N_("Test NDCG@10")), (c4, "hr@10", N_("Test HR@10"))):
    value = test.get(key)
    col.metric(_(label), "—" if value is None else f"{value:.3f}",
               help=_("Leave-one-out test: each user's last item is hidden and ranked against the whole catalogue "
                      "(items already seen excluded)."))
    col.caption(_("hit in the top 10, rank-weighted") if key.startswith("ndcg")
                else _("share of users whose hidden item is in the top 10"))

if not info:
    st.info(_("No model is trained on this data yet: train one, it is one click."), icon=":material/model_training:")
    st.page_link("pages/train.py", label=_("Train a model on this data"), icon=":material/arrow_forward:")

st.subheader(_("Where to go next"))
NEXT = [
    ("pages/history.py", _("Build a history"), ":material/playlist_add:",
     _("Start from a story, search items and line them up, or load a real user's history.")),
    ("pages/attention.py", _("See the attention"), ":material/grid_on:",
     _("The top-10 next to one heatmap per layer and head, updated on every change.")),
    ("pages/learn.py", _("Learn how it computes"), ":material/school:",
     _("The model's own numbers, step by step: positions, Q, K, V, softmax, the block; additive attention; "
       "Transformer vs RNN.")),
    ("pages/compare.py", _("Compare the models"), ":material/compare_arrows:",
     _("Every model's top-10 for your history, and their test metrics under four protocols.")),
    ("pages/lesson.py", _("Teach a lesson"), ":material/co_present:",
     _("Seven steps in the seed's order, each a live view with a computed sentence and a question; a presenter "
       "view.")),
    ("pages/ab.py", _("Compare two histories"), ":material/difference:",
     _("Pin a history as A, edit it into B: both top-10s and every head's change of attention.")),
]
for column, (target, label, icon, about) in zip(st.columns(2) * 3, NEXT):
    with column.container(border=True):
        st.page_link(target, label=label, icon=icon)
        st.caption(about)
