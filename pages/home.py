"""Home: what recattn is, which data and model are loaded, where to go next."""

import streamlit as st

import ui
from recattn.errors import RecAttnError

ui.init_state()

st.title("recattn: see what a recommender looks at")
st.markdown(
    "A **sequential recommender** reads the films someone watched, in order, and guesses what comes next. "
    "Transformer recommenders such as **SASRec** do it with *self-attention*: at every position the model "
    "decides how much to look at each earlier film. This app lets you build a viewing history, get the "
    "model's top-10, and see that attention — every layer, every head."
)

source = st.session_state["source"]
try:
    summary = ui.dataset_summary(source)
    # No model trained on this data (say, right after switching to new data): say so instead of showing another's.
    info = ui.model_info(st.session_state["model_dir"]) if ui.available_models(source) else None
except RecAttnError as e:
    ui.show_error(e)
    st.stop()

st.subheader("What is loaded")
test = info["test"] if info else {}
c1, c2, c3, c4 = st.columns(4, border=True)
c1.metric("Data", ui.source_label(source),
          help=f"{summary['items']:,} items · {summary['users']:,} users · {summary['interactions']:,} interactions")
c1.caption(f"{summary['items']:,} films · {summary['users']:,} users")
if info:
    c2.metric("Model", info["name"], help=f"trained on {info['source']}")
    c2.caption(info["shape"])
else:
    c2.metric("Model", "—")
    c2.caption("none trained on this data yet")
for col, key, label in ((c3, "ndcg@10", "Test NDCG@10"), (c4, "hr@10", "Test HR@10")):
    value = test.get(key)
    col.metric(label, "—" if value is None else f"{value:.3f}",
               help="Leave-one-out test: each user's last film is hidden and ranked against the whole catalogue "
                    "(films already seen excluded).")
    col.caption("hit in the top 10, rank-weighted" if key.startswith("ndcg")
                else "share of users whose hidden film is in the top 10")

if not info:
    st.info("No model is trained on this data yet: train one on the Data page, it is one click.",
            icon=":material/model_training:")
    st.page_link("pages/data.py", label="Train a model on this data", icon=":material/arrow_forward:")

st.subheader("Where to go next")
a, b = st.columns(2)
with a.container(border=True):
    st.page_link("pages/history.py", label="Build a history", icon=":material/playlist_add:")
    st.caption("Search films and line them up, or start from a real user's history.")
with b.container(border=True):
    st.page_link("pages/attention.py", label="See the attention", icon=":material/grid_on:")
    st.caption("The top-10 next to one heatmap per layer and head, updated on every change.")
