"""recattn's Streamlit app: `streamlit run app.py` from the repository root.

The entry script only sets up the page and the navigation; each task lives in a file in pages/. With
st.navigation, Streamlit does not auto-discover pages/: only the pages listed here appear.
"""

import streamlit as st

from ui import models, share, state, widgets

st.set_page_config(page_title="recattn", page_icon=":material/visibility:", layout="wide")
state.init()
state.keep_widgets()
share.open_link()  # a shared link's source, model and history, at the session's first run only

PAGES = {
    "Explore": [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/history.py", title="Build history", icon=":material/playlist_add:"),
        st.Page("pages/attention.py", title="Attention", icon=":material/grid_on:"),
        st.Page("pages/explain.py", title="Explain", icon=":material/lightbulb:"),
    ],
    "Learn": [
        st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
        st.Page("pages/compare.py", title="Compare models", icon=":material/compare_arrows:"),
        st.Page("pages/embeddings.py", title="Embeddings", icon=":material/scatter_plot:"),
    ],
    "Models and data": [
        st.Page("pages/data.py", title="Data", icon=":material/database:"),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    ],
}

page = st.navigation(PAGES)
widgets.sidebar_status()
share.sync()  # the address bar follows the state (callbacks have already run)
page.run()
models.preload()  # torch for the model pages, imported while the reader looks at this one
