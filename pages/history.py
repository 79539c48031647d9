"""Build history: search the catalogue, line films up in the order they were watched."""

import streamlit as st

import ui
from recattn.errors import RecAttnError

ui.init_state()

st.title("Build a history")
st.caption("Films in the order they were watched, oldest first. The model reads this list to guess what comes next; "
           "every change updates the recommendations on the Attention page.")

source = st.session_state["source"]
try:
    ui.dataset(source)
except RecAttnError as e:
    ui.show_error(e)
    st.stop()

find, mine = st.columns([2, 3], gap="large")

with find:
    st.subheader("Add films")
    query = st.text_input("Search titles", key="search", placeholder="e.g. Storm, Avalon, Midnight…",
                          icon=":material/search:")
    hits = ui.find_items(source, query)
    st.caption(f"Matches for “{query.strip()}”" if query.strip() else "Most watched films")
    if hits.empty:
        st.info("No title contains that text.", icon=":material/search_off:")
    for _, row in hits.iterrows():
        with st.container(horizontal=True, vertical_alignment="center", gap="small", wrap=False):
            st.markdown(f"**{ui.md(row['title'])}** :gray[· {ui.describe(row)}]", width="stretch")
            st.button("", key=f"add_{row['item_id']}", icon=":material/add:", help="Add to the end of the history",
                      on_click=ui.add_item, args=(str(row["item_id"]),))

with mine:
    history = ui.history()
    st.subheader(f"Your history · {len(history)}")
    with st.container(horizontal=True, gap="small"):
        st.button("Start from a random user's real history", key="random_user", icon=":material/casino:",
                  on_click=ui.load_random_user)
        st.button("Clear", key="clear", icon=":material/delete_sweep:", on_click=ui.clear_history,
                  disabled=not history)
    if note := st.session_state.pop("_history_note", None):
        st.caption(note)
    if not history:
        st.info("Empty for now: add films on the left, or start from a random user's history.",
                icon=":material/playlist_add:")
    table = ui.history_table(source, history)
    with st.container(height=560 if len(table) > 9 else "content", border=False):
        for i, row in table.iterrows():
            with st.container(horizontal=True, vertical_alignment="center", gap="small", wrap=False):
                st.markdown(f":gray[{i + 1}.] **{ui.md(row['title'])}** :gray[· {ui.describe(row)}]",
                            width="stretch")
                st.button("", key=f"up_{i}", icon=":material/arrow_upward:", help="Earlier", disabled=i == 0,
                          on_click=ui.move, args=(i, -1), type="tertiary")
                st.button("", key=f"down_{i}", icon=":material/arrow_downward:", help="Later",
                          disabled=i == len(table) - 1, on_click=ui.move, args=(i, 1), type="tertiary")
                st.button("", key=f"remove_{i}", icon=":material/close:", help="Remove",
                          on_click=ui.remove_at, args=(i,), type="tertiary")
    if history:
        st.page_link("pages/attention.py", label="See the recommendations and the attention",
                     icon=":material/arrow_forward:")
