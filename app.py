"""recattn's Streamlit app: `streamlit run app.py` from the repository root.

The entry script only sets up the page and the navigation; each task lives in a file in pages/. With
st.navigation, Streamlit does not auto-discover pages/: only the pages listed here appear.
"""

import streamlit as st

import ui

st.set_page_config(page_title="recattn", page_icon=":material/visibility:", layout="wide")
ui.init_state()

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/database:"),
    st.Page("pages/history.py", title="Build history", icon=":material/playlist_add:"),
    st.Page("pages/attention.py", title="Attention", icon=":material/grid_on:"),
]

page = st.navigation(PAGES)
ui.sidebar_status()
page.run()
