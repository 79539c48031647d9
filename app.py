"""recattn's Streamlit app: `streamlit run app.py` from the repository root.

The entry script only sets up the page and the navigation; each task lives in a file in pages/. With
st.navigation, Streamlit does not auto-discover pages/: only the pages listed here appear.
"""

import streamlit as st

from recattn.i18n import _
from ui import charts, models, share, state, widgets

st.set_page_config(page_title="recattn", page_icon=":material/visibility:", layout="wide")
state.init()
state.keep_widgets()
share.open_link()  # a shared link's source, model and history, at the session's first run only

PAGES = {
    _("Explore"): [
        st.Page("pages/home.py", title=_("Home"), icon=":material/home:", default=True),
        st.Page("pages/history.py", title=_("Build history"), icon=":material/playlist_add:"),
        st.Page("pages/attention.py", title=_("Attention"), icon=":material/grid_on:"),
        st.Page("pages/explain.py", title=_("Explain"), icon=":material/lightbulb:"),
        st.Page("pages/ab.py", title=_("A and B"), icon=":material/difference:"),
    ],
    _("Learn"): [
        st.Page("pages/lesson.py", title=_("Lesson"), icon=":material/co_present:"),
        st.Page("pages/learn.py", title=_("Learn"), icon=":material/school:"),
        st.Page("pages/compare.py", title=_("Compare models"), icon=":material/compare_arrows:"),
        st.Page("pages/embeddings.py", title=_("Embeddings"), icon=":material/scatter_plot:"),
    ],
    _("Models and data"): [
        st.Page("pages/data.py", title=_("Data"), icon=":material/database:"),
        st.Page("pages/train.py", title=_("Train"), icon=":material/model_training:"),
    ],
}

page = st.navigation(PAGES)
widgets.language_switch()
widgets.sidebar_status()
widgets.pick_control()
charts.format_picker()
share.sync(keep_page_params=page.url_path == "lesson")  # the address bar follows the state (after the callbacks)
page.run()
models.preload()  # torch for the model pages, imported while the reader looks at this one
