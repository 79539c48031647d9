"""Data: choose where the interactions come from, see them in numbers and charts, train a model on them."""

from pathlib import Path

import streamlit as st

from recattn import i18n, paths, viz
from recattn.data import BUILTIN
from recattn.data.download import NAMES
from recattn.data.formats.finish import shown_note
from recattn.data.info import cause_meanings
from recattn.data.loaders import FORMATS, SIGNS
from recattn.errors import RecAttnError
from recattn.i18n import N_, _
from ui import charts, imports, sources, state
from ui.text import md

state.init()
state.remember("data_folder", "data_format")

CHOICES = {"builtin:films": N_("Built-in films"), "builtin:news": N_("Built-in news"), "downloaded": N_("Downloaded"),
           "folder": N_("Local folder"), "upload": N_("Upload")}
ABOUT_BUILTIN = {
    "builtin:films": N_("Viewers and films with genres and franchises, generated offline from planted rules: the same "
                        "data on every machine, and every interaction knows why it happened."),
    "builtin:news": N_("Readers and articles over two months, with stories told in parts, generated offline from "
                       "planted rules: the same data on every machine, and every click knows why it happened."),
}


def load(make_source) -> None:
    """Callback of the load buttons: `make_source` reads the widgets when the click arrives, not when drawn; its
    refusal (a path outside the allowed folders, a full uploads space) is shown like a failed load."""
    try:
        new_source = make_source()
    except RecAttnError as e:
        state.flash("error", md(e), "source")
        return
    sources.switch_source(new_source)


def choose() -> None:
    """Callback of the source choice: a built-in world loads at once; the other choices wait for their button."""
    choice = st.session_state["data_source"]
    if choice in BUILTIN and choice != state.source():
        sources.switch_source(choice)


st.title(_("Data"))
st.caption(_("Where the interactions come from. Every page works on the data chosen here; when it changes, the "
             "history keeps the items that exist in the new data."))

source = state.source()
with st.container(border=True):
    choice = st.segmented_control(_("Source"), list(CHOICES), format_func=lambda c: _(CHOICES[c]),
                                  default=sources.source_kind(source), required=True, key="data_source",
                                  on_change=choose, label_visibility="collapsed")
    if choice in BUILTIN:
        st.caption(_(ABOUT_BUILTIN[choice]))
    elif choice == "downloaded":
        folders = sources.downloaded_sources()
        if not folders:
            st.info(_("No data set in `{folder}` yet. In a terminal at the repository root, run "
                      "`python -m recattn data download ml-latest-small` (or another name: {names}), then come "
                      "back.").format(folder=md(sources.data_dir()), names=", ".join(NAMES)),
                    icon=":material/download:")
        else:
            with st.container(horizontal=True, vertical_alignment="bottom"):
                st.selectbox(_("Downloaded data set"), folders, format_func=lambda p: Path(p).name,
                             key="data_downloaded", index=folders.index(source) if source in folders else 0)
                st.button(_("Load"), key="data_load_downloaded", icon=":material/upload_file:", on_click=load,
                          args=(lambda: st.session_state["data_downloaded"],))
    elif choice == "folder":
        path_col, format_col, button_col = st.columns([5, 2, 1], vertical_alignment="bottom")
        path = path_col.text_input(_("Folder or file"), key="data_folder",
                                   placeholder=_("e.g. {path}").format(path="../shared/data/ml-latest-small"),
                                   help=_("Relative paths start at the repository root. This app reads only folders "
                                          "under {roots}; the server's {setting} setting adds more.").format(
                                       roots=", ".join(map(md, sources.root_names(sources.allowed_roots()))),
                                       setting=paths.ROOTS_ENV))
        format_col.selectbox(_("Layout"), FORMATS, index=None, key="data_format", placeholder=_("detect it"),
                             help=_("Leave empty to detect the layout from the file names."))
        button_col.button(_("Load"), key="data_load_folder", icon=":material/folder_open:", disabled=not path.strip(),
                          on_click=load, args=(lambda: sources.folder_source(st.session_state["data_folder"],
                                                                        st.session_state["data_format"]),))
    else:
        limit = st.get_option("server.maxUploadSize")
        files = st.file_uploader(_("Data files of one layout, up to {limit} MB each").format(limit=limit),
                                 accept_multiple_files=True, key="data_uploads",
                                 help=_("The limit is the server's `server.maxUploadSize` setting. Uploads are "
                                        "deleted when you leave."))
        st.button(_("Load the uploaded files"), key="data_load_upload", icon=":material/upload_file:",
                  disabled=not files, on_click=load,
                  args=(lambda: sources.save_uploads(st.session_state["data_uploads"]),))
    if choice in ("folder", "upload"):
        st.caption(_("Layouts are recognised by their file names: {layouts}. Up to {limit:,} interactions: larger data "
                     "trains from a terminal with `python -m recattn train --data PATH`.").format(
            layouts=" · ".join(f"**{f}** {_(s)}" for f, s in SIGNS), limit=paths.MAX_INTERACTIONS))

state.pop_flash("source")

@st.cache_data(show_spinner=False, max_entries=16)
def summary(source: str, lang: str, chart_format: str | None) -> None:
    """The data in numbers and charts, all of it from the source alone: drawn once per source, language and charts'
    save format (`lang` and `chart_format`, the session's: only part of the key, since a replay keeps each chart's
    toolbar as drawn), then replayed by Streamlit on every later run (a history edit reruns this page too), without
    building or sending the charts' specifications again."""
    profile = sources.data_profile(source)

    st.subheader(md(sources.source_label(source)))
    if source not in BUILTIN:
        st.caption(_("{layout} layout · {source}").format(layout=md(profile["format"]), source=md(source)))
    for note in profile.get("notes", ()):  # what the reader changed while loading (units, dropped duplicates)
        st.info(md(shown_note(note)), icon=":material/info:")
    users, count, catalogue, inter = st.columns(4, border=True)
    users.metric(_("Users"), f"{profile['users']:,}")
    count.metric(_("Items with interactions"), f"{profile['items']:,}",
                 help=_("Items someone interacted with; the models rank the whole catalogue."))
    catalogue.metric(_("Catalogue"), f"{profile['catalogue']:,}",
                     help=_("Items in the catalogue, with or without interactions."))
    inter.metric(_("Interactions"), f"{profile['interactions']:,}")
    median, density, first, last = st.columns(4, border=True)
    median.metric(_("Median history"), f"{profile['median_length']:g}",
                  help=_("Interactions per user, median over users."))
    density.metric(_("Density"), f"{profile['density']:.2%}",
                   help=_("Share of the user × item pairs (items with interactions) that have an interaction."))
    first.metric(_("First interaction"), (profile["first_time"] or "—")[:10], help=profile["first_time"])
    last.metric(_("Last interaction"), (profile["last_time"] or "—")[:10], help=profile["last_time"])

    news = source == "builtin:news" or profile["format"] == "mind"
    lengths, tail = st.columns(2, gap="large")
    with lengths:
        st.caption(_("Users by their number of interactions; the dashed line marks the median."))
        st.plotly_chart(viz.history_length_chart(profile["lengths"]), key="data_lengths",
                        config=charts.config("lengths"))
    with tail:
        st.caption(_("Items ranked by interactions; the 10 % most popular take {share:.0%} of them.").format(
            share=profile["top_decile_share"]))
        st.plotly_chart(viz.popularity_chart(profile["popular_titles"], profile["popular_counts"]),
                        key="data_popularity", config=charts.config("popularity"))
    genres, causes = st.columns(2, gap="large")
    with genres:
        if profile["genres"].empty:
            st.caption(_("This catalogue has no categories.") if news else _("This catalogue has no genres."))
        else:
            st.caption(_("Interactions with the items of each category; an item with several counts for each.") if news
                       else _("Interactions with the items of each genre; an item with several counts for each."))
            st.plotly_chart(viz.genre_chart(profile["genres"], profile["interactions"],
                                            noun=N_("category") if news else N_("genre"),
                                            title=N_("Top categories") if news else N_("Top genres")),
                            key="data_genres", config=charts.config("genres"))
    if profile["causes"]:
        with causes:
            st.caption(_("Each generated interaction records the rule behind it: a ground truth to check the "
                         "attention against. Hover a bar for the rule."))
            st.plotly_chart(viz.cause_chart(profile["causes"], cause_meanings(source)), key="data_causes",
                            config=charts.config("causes"))


with state.guard():
    sources.data_profile(source)  # an error box, and a stop, when the data cannot be profiled
summary(source, i18n.current(), st.session_state.get(charts.FORMAT))

st.page_link("pages/train.py", label=_("Train a model on this data"), icon=":material/model_training:")

st.subheader(_("Bring a model trained elsewhere"))
with st.container(border=True):
    if imports.accepts(source):
        st.caption(_("A checkpoint that RecBole 1.2.x's trainer saved (SASRec, BERT4Rec or GRU4Rec) on these atomic "
                     "files becomes a recattn model that gives RecBole's own scores, with its attention on every "
                     "page. The file is read as tensors and plain data only: nothing in it runs."))
        with st.container(horizontal=True, vertical_alignment="bottom"):
            upload = st.file_uploader(_("RecBole checkpoint (.pth, up to {limit} MB)").format(
                limit=imports.MAX_MODEL_MB), type=["pth"], key="data_model_upload")
            st.button(_("Import and use it"), key="data_import", icon=":material/input:", disabled=upload is None,
                      on_click=imports.imported, args=("data_model_upload",))
    else:
        st.caption(_("To import a RecBole checkpoint (.pth), first load the RecBole atomic files it was trained on "
                     "(Local folder or Upload: the folder with its .inter file). From a terminal: `python -m recattn "
                     "import recbole FILE.pth --data DIR --out DIR`."))
    state.pop_flash("data")
