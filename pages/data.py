"""Data: choose where the interactions come from, see them in numbers and charts, train a model on them."""

from pathlib import Path

import streamlit as st

import ui
from recattn import viz
from recattn.config import MODEL_KINDS
from recattn.data import BUILTIN
from recattn.data.download import NAMES
from recattn.data.loaders import FORMATS, SIGNS
from recattn.errors import RecAttnError

ui.init_state()

CHOICES = {"builtin:films": "Built-in films", "builtin:news": "Built-in news", "downloaded": "Downloaded",
           "folder": "Local folder", "upload": "Upload"}
ABOUT_BUILTIN = {
    "builtin:films": "Viewers and films with genres and franchises, generated offline from planted rules: the same "
                     "data on every machine, and every interaction knows why it happened.",
    "builtin:news": "Readers and articles over two months, with stories told in parts, generated offline from planted "
                    "rules: the same data on every machine, and every click knows why it happened.",
}


def load(make_source) -> None:
    """Callback of the load buttons: `make_source` reads the widgets when the click arrives, not when drawn."""
    ui.switch_source(make_source())


def choose() -> None:
    """Callback of the source choice: a built-in world loads at once; the other choices wait for their button."""
    choice = st.session_state["source_choice"]
    if choice in BUILTIN and choice != st.session_state["source"]:
        ui.switch_source(choice)


def request_training() -> None:
    # A flag, not the button's own value: that value lasts for one script run only, and the training must
    # happen in the page (for its progress bar), after the run that app.py may restart.
    st.session_state["_train_requested"] = True


st.title("Data")
st.caption("Where the interactions come from. Every page works on the data chosen here; when it changes, the history "
           "keeps the items that exist in the new data.")

source = st.session_state["source"]
with st.container(border=True):
    choice = st.segmented_control("Source", list(CHOICES), format_func=CHOICES.get, default=ui.source_kind(source),
                                  required=True, key="source_choice", on_change=choose, label_visibility="collapsed")
    if choice in BUILTIN:
        st.caption(ABOUT_BUILTIN[choice])
    elif choice == "downloaded":
        folders = ui.downloaded_sources()
        if not folders:
            st.info(f"No data set in `{ui.data_dir()}` yet. In a terminal at the repository root, run "
                    "`python -m recattn data download ml-latest-small` (or another name: "
                    f"{', '.join(NAMES)}), then come back.", icon=":material/download:")
        else:
            with st.container(horizontal=True, vertical_alignment="bottom"):
                st.selectbox("Downloaded data set", folders, format_func=lambda p: Path(p).name, key="downloaded",
                             index=folders.index(source) if source in folders else 0)
                st.button("Load", key="load_downloaded", icon=":material/upload_file:", on_click=load,
                          args=(lambda: st.session_state["downloaded"],))
    elif choice == "folder":
        path_col, format_col, button_col = st.columns([5, 2, 1], vertical_alignment="bottom")
        path = path_col.text_input("Folder or file", key="folder_path",
                                   placeholder="e.g. ../shared/data/ml-latest-small",
                                   help="Relative paths start at the repository root.")
        format_col.selectbox("Layout", FORMATS, index=None, key="folder_format", placeholder="detect it",
                             help="Leave empty to detect the layout from the file names.")
        button_col.button("Load", key="load_folder", icon=":material/folder_open:", disabled=not path.strip(),
                          on_click=load, args=(lambda: ui.folder_source(st.session_state["folder_path"],
                                                                        st.session_state["folder_format"]),))
    else:
        limit = st.get_option("server.maxUploadSize")
        files = st.file_uploader(f"Data files of one layout, up to {limit} MB each", accept_multiple_files=True,
                                 key="uploads", help="The limit is the server's `server.maxUploadSize` setting.")
        st.button("Load the uploaded files", key="load_upload", icon=":material/upload_file:", disabled=not files,
                  on_click=load, args=(lambda: ui.save_uploads(st.session_state["uploads"]),))
    if choice in ("folder", "upload"):
        st.caption("Layouts are recognised by their file names: " + " · ".join(f"**{f}** {s}" for f, s in SIGNS))

if note := ui.pop_source_note():
    level, text = note
    if level == "error":
        st.error(text, icon=":material/error:")
    else:
        (st.warning if level == "warning" else st.info)(text, icon=":material/swap_horiz:")

try:
    profile = ui.data_profile(source)
except RecAttnError as e:
    ui.show_error(e)
    st.stop()

st.subheader(ui.source_label(source))
if source not in BUILTIN:
    st.caption(f"{profile['format']} layout · `{source}`")
users, count, catalogue, inter = st.columns(4, border=True)
users.metric("Users", f"{profile['users']:,}")
count.metric("Items with interactions", f"{profile['items']:,}",
             help="Items someone interacted with; the models rank the whole catalogue.")
catalogue.metric("Catalogue", f"{profile['catalogue']:,}", help="Items in the catalogue, with or without interactions.")
inter.metric("Interactions", f"{profile['interactions']:,}")
median, density, first, last = st.columns(4, border=True)
median.metric("Median history", f"{profile['median_length']:g}", help="Interactions per user, median over users.")
density.metric("Density", f"{profile['density']:.2%}",
               help="Share of the user × item pairs (items with interactions) that have an interaction.")
first.metric("First interaction", (profile["first_time"] or "—")[:10], help=profile["first_time"])
last.metric("Last interaction", (profile["last_time"] or "—")[:10], help=profile["last_time"])

news = source == "builtin:news" or profile["format"] == "mind"
lengths, tail = st.columns(2, gap="large")
with lengths:
    st.markdown("**History lengths**")
    st.caption("Users by their number of interactions; the dashed line marks the median.")
    st.altair_chart(viz.history_length_chart(profile["lengths"]))
with tail:
    st.markdown("**The long tail of popularity**")
    st.caption(f"Items ranked by interactions; the 10 % most popular take {profile['top_decile_share']:.0%} of them.")
    st.altair_chart(viz.popularity_chart(profile["popular_titles"], profile["popular_counts"]))
genres, causes = st.columns(2, gap="large")
with genres:
    noun = "category" if news else "genre"
    st.markdown(f"**Top {'categories' if news else 'genres'}**")
    if profile["genres"].empty:
        st.caption(f"This catalogue has no {noun}s.")
    else:
        st.caption(f"Interactions with the items of each {noun}; an item with several counts for each.")
        st.altair_chart(viz.genre_chart(profile["genres"], profile["interactions"], noun=noun))
if profile["causes"]:
    with causes:
        st.markdown("**Why the simulated users picked what they picked**")
        st.caption("Each generated interaction records the rule behind it: a ground truth to check the attention "
                   "against. Hover a bar for the rule.")
        st.altair_chart(viz.cause_chart(profile["causes"], ui.CAUSES))

st.subheader("Train a model on this data")
st.caption("Each user's last item is held out for the test and the one before it for validation; training stops early "
           "once validation NDCG@10 stops improving. The model is saved in `runs/` and becomes the app's model.")
with st.container(horizontal=True, vertical_alignment="bottom"):
    kind = st.selectbox("Model", MODEL_KINDS, format_func=ui.MODEL_NAMES.get, key="train_kind", width=220)
    counted = kind in ui.COUNTED
    epochs = st.number_input("Epochs", 1, 500, 20, key="train_epochs", width=140, disabled=counted,
                             help="Popularity and ItemKNN count in one pass." if counted else
                             "At most this many passes over the data.")
    minutes = st.number_input("Max minutes", 0.5, 240.0, 5.0, step=0.5, key="train_minutes", width=140,
                              disabled=counted, help="Training stops after the epoch that passes this time.")
    st.button(f"Train {ui.MODEL_NAMES[kind]} on this data", key="train", type="primary",
              icon=":material/model_training:", on_click=request_training)
if st.session_state.pop("_train_requested", False):
    bar = st.progress(0.0, text="Preparing the sequences…")

    def show_epoch(r) -> None:  # returns None: a true value would stop the training
        bar.progress(r.epoch / r.epochs, text=f"Epoch {r.epoch}/{r.epochs} · loss {r.loss:.3f} · "
                                              f"valid NDCG@10 {r.valid.get('ndcg@10', r.best_ndcg):.3f}")

    try:
        ui.train_model(kind, epochs, minutes, show_epoch)
    except RecAttnError as e:
        bar.empty()
        ui.show_error(e)
if result := ui.pop_training_result():
    epochs_run = result["epochs"]
    run = (f"in {result['seconds']:.0f} s" if not epochs_run else f"in {result['seconds']:.0f} s: {epochs_run} "
           f"epoch{'s' if epochs_run != 1 else ''}, best on epoch {result['best_epoch']}")
    st.success(f"Trained {result['name']} {run}. Saved in `{result['folder']}`; it is now the app's model.",
               icon=":material/check_circle:")
    ndcg, hr, link = st.columns([1, 1, 2], vertical_alignment="center")
    ndcg.metric("Test NDCG@10", f"{result['test'].get('ndcg@10', float('nan')):.3f}", border=True)
    hr.metric("Test HR@10", f"{result['test'].get('hr@10', float('nan')):.3f}", border=True)
    link.page_link("pages/attention.py", label="See what it looks at", icon=":material/arrow_forward:")
