"""Attention: the top-10 for the current history next to the attention of every layer and head."""

import streamlit as st

from recattn import viz
from ui import sources, state, widgets
from ui.text import plural

state.init()
state.remember("attention_layers")

st.title("What the model looks at")

recommender = widgets.require_model()
history = widgets.require_history()
rec = widgets.recommend(recommender, history)

left, right = st.columns([1, 2], gap="large")

with left:
    st.subheader("Top 10 next items")
    widgets.top_list(rec.items, key="attention_top10")
    st.caption("Ranked by the model's score (the blue badge); items already in the history are never recommended.")

    st.subheader(f"History · {len(history)}")
    if len(rec.used_history) < len(history):
        st.caption(f"The model reads only the last {plural(len(rec.used_history), 'item')}.")
    ids, titles = sources.item_options(state.source())
    st.selectbox("Add an item", ids, index=None, key="attention_add", format_func=titles.get, filter_mode="contains",
                 placeholder="Type a title to add it…", on_change=state.quick_add, args=("attention_add",))
    with st.container(horizontal=True, gap="small"):
        st.button("Remove last", key="attention_remove_last", icon=":material/undo:", on_click=state.remove_at,
                  args=(len(history) - 1,))
        st.page_link("pages/history.py", label="Edit the history", icon=":material/edit:")

with right:
    trace = rec.trace
    if trace is None:
        st.info("This model has no attention to show.", icon=":material/visibility_off:")
        st.stop()
    st.subheader(f"Attention · {plural(trace.layers, 'layer')} × {plural(trace.heads, 'head')}")
    choice = st.segmented_control("Layers", ["All layers"] + [f"Layer {i + 1}" for i in range(trace.layers)],
                                  default="All layers", key="attention_layers", label_visibility="collapsed")
    layers = None if choice in (None, "All layers") else [int(choice.split()[-1]) - 1]
    if trace.kind == "target":
        st.caption(
            "Each **row** is one of the recommended items; each **column** an item of the history. A row shows how "
            "much that candidate weighs each history item, A = softmax(w·tanh(W₁x + W₂y + b)) over the history, "
            "and every row sums to 1. Hover a cell for the exact weight and both full titles."
        )
    else:
        masked = ("**Blank** cells are masked: this model may only look back, so an item never sees the ones after "
                  "it. " if trace.kind == "causal" else "")
        st.caption(
            "Each **row** is a position in the history asking *“what should I look at?”*; each **column** is an "
            "item it can look at; darker = more attention, and every row sums to 1. The **last row** (outlined in "
            f"orange) is what produced the recommendations. {masked}Hover a cell for the exact weight and both "
            "full titles."
        )
    st.plotly_chart(viz.trace_figure(trace, layers), key="attention", config={"displaylogo": False})
