"""Home: what recattn is, which data and model are loaded, where to go next."""

import streamlit as st

from ui import models, sources, state
from ui.text import md

state.init()

st.title("recattn: see what a recommender looks at")
st.markdown(
    "A **sequential recommender** reads the items someone watched or read, in order, and guesses what comes next. "
    "Transformer recommenders such as **SASRec** do it with *self-attention*: at every position the model "
    "decides how much to look at each earlier item. This app lets you build a history, get the "
    "model's top-10, and see that attention — every layer, every head."
)

source = state.source()
with state.guard():
    summary = sources.data_profile(source)
    info = models.current_info()  # None right after a switch to data no model is trained on

st.subheader("What is loaded")
test = info.test if info else {}
c1, c2, c3, c4 = st.columns(4, border=True)
c1.metric("Data", md(sources.source_label(source)),
          help=f"{summary['catalogue']:,} items · {summary['users']:,} users · {summary['interactions']:,} interactions")
c1.caption(f"{summary['catalogue']:,} items · {summary['users']:,} users")
if info:
    c2.metric("Model", info.name, help=f"trained on {md(info.source)}")
    c2.caption(md(info.shape))
else:
    c2.metric("Model", "—")
    c2.caption("none trained on this data yet")
for col, key, label in ((c3, "ndcg@10", "Test NDCG@10"), (c4, "hr@10", "Test HR@10")):
    value = test.get(key)
    col.metric(label, "—" if value is None else f"{value:.3f}",
               help="Leave-one-out test: each user's last item is hidden and ranked against the whole catalogue "
                    "(items already seen excluded).")
    col.caption("hit in the top 10, rank-weighted" if key.startswith("ndcg")
                else "share of users whose hidden item is in the top 10")

if not info:
    st.info("No model is trained on this data yet: train one, it is one click.", icon=":material/model_training:")
    st.page_link("pages/train.py", label="Train a model on this data", icon=":material/arrow_forward:")

st.subheader("Where to go next")
NEXT = [
    ("pages/history.py", "Build a history", ":material/playlist_add:",
     "Start from a story, search items and line them up, or load a real user's history."),
    ("pages/attention.py", "See the attention", ":material/grid_on:",
     "The top-10 next to one heatmap per layer and head, updated on every change."),
    ("pages/learn.py", "Learn how it computes", ":material/school:",
     "The model's own numbers, step by step: positions, Q, K, V, softmax, the block; additive attention; "
     "Transformer vs RNN."),
    ("pages/compare.py", "Compare the models", ":material/compare_arrows:",
     "Every model's top-10 for your history, and their test metrics under four protocols."),
    ("pages/lesson.py", "Teach a lesson", ":material/co_present:",
     "Seven steps in the seed's order, each a live view with a computed sentence and a question; a presenter view."),
    ("pages/ab.py", "Compare two histories", ":material/difference:",
     "Pin a history as A, edit it into B: both top-10s and every head's change of attention."),
]
for column, (target, label, icon, about) in zip(st.columns(2) * 3, NEXT):
    with column.container(border=True):
        st.page_link(target, label=label, icon=icon)
        st.caption(about)
