"""Attention: the top-10 for the current history next to the attention of every layer and head."""

import streamlit as st

import ui
from recattn.errors import RecAttnError

ui.init_state()

st.title("What the model looks at")

source = st.session_state["source"]
try:
    trained = bool(ui.available_models(source))
except RecAttnError as e:
    ui.show_error(e)
    st.stop()
if not trained:
    st.info(f"No model is trained on {ui.md(ui.source_label(source))} yet: train one on the Data page, it is one "
            "click.", icon=":material/model_training:")
    st.page_link("pages/data.py", label="Train a model on this data", icon=":material/arrow_forward:")
    st.stop()

history = ui.history()
if not history:
    st.info("The history is empty: add a few films first, then come back here.", icon=":material/playlist_add:")
    st.page_link("pages/history.py", label="Build a history", icon=":material/arrow_forward:")
    st.stop()

try:
    model = ui.current_recommender()
    rec = model.recommend(history, k=10)
except RecAttnError as e:
    ui.show_error(e)
    st.stop()

left, right = st.columns([1, 2], gap="large")

with left:
    st.subheader("Top 10 next films")
    # One markdown list, not one element per film: compact, and it wraps well in a narrow column.
    st.container(key="top10").markdown("\n".join(
        f"{r.Rank}. **{ui.md(r.Title)}**  \n:gray[{r.Genres}] · :blue-badge[{r.Score:.2f}]"
        for r in ui.top_table(rec).itertuples()))
    st.caption("Ranked by the model's score (the blue badge); films already in the history are never recommended.")

    st.subheader(f"History · {len(history)}")
    if len(rec.used_history) < len(history):
        st.caption(f"The model reads only the last {len(rec.used_history)} films.")
    ids, titles = ui.item_options(source)
    st.selectbox("Add a film", ids, index=None, key="quick_add", format_func=titles.get, filter_mode="contains",
                 placeholder="Type a title to add it…", on_change=ui.quick_add, args=("quick_add",))
    with st.container(horizontal=True, gap="small"):
        st.button("Remove last", key="remove_last", icon=":material/undo:", on_click=ui.remove_at,
                  args=(len(history) - 1,))
        st.page_link("pages/history.py", label="Edit the history", icon=":material/edit:")

with right:
    trace = rec.trace
    if trace is None:
        st.info("This model has no attention to show.", icon=":material/visibility_off:")
        st.stop()
    n_layers, n_heads = trace.weights.shape[:2]
    st.subheader(f"Attention · {n_layers} layer{'s' * (n_layers > 1)} × {n_heads} head{'s' * (n_heads > 1)}")
    choice = st.segmented_control("Layers", ["All layers"] + [f"Layer {i + 1}" for i in range(n_layers)],
                                  default="All layers", key="layer_view", label_visibility="collapsed")
    layers = None if choice in (None, "All layers") else [int(choice.split()[-1]) - 1]
    masked = (f"**Blank** cells are masked: {ui.model_label(model)} may only look back, so a film never sees the "
              "ones after it. " if ui.is_causal(model) else "")
    if ui.is_target_attention(model):
        st.caption(
            "Each **row** is one of the recommended films; each **column** a film of the history. A row shows how "
            "much that candidate weighs each history item, A = softmax(w·tanh(W₁x + W₂y + b)) over the history, "
            "and every row sums to 1. Hover a cell for the exact weight and both full titles."
        )
    else:
        st.caption(
            "Each **row** is a position in the history asking *“what should I look at?”*; each **column** is an "
            "item it can look at; darker = more attention, and every row sums to 1. The **last row** (outlined in "
            f"orange) is what produced the recommendations. {masked}Hover a cell for the exact weight and both "
            "full titles."
        )
    st.plotly_chart(ui.attention_figure(rec, model, layers), key="attention", config={"displaylogo": False})
