"""Build history: start from a story, search the catalogue, line items up in the order they were seen."""

import streamlit as st

from recattn.i18n import _
from ui import models, share, sources, state, widgets
from ui.text import describe, md

state.init()
state.remember("history_search")

st.title(_("Build a history"))
source = state.source()
many = sources.nouns(source)[1]  # in the reader's language
st.caption(_("{items} in the order they were seen, oldest first. The model reads this list to guess what comes next; "
             "every change updates the recommendations on the Attention page.").format(items=many.capitalize()))
with state.guard():
    sources.dataset(source)  # an error box, and a stop, when the data cannot be loaded


find, mine = st.columns([2, 3], gap="large")

with find:
    st.subheader(_("Start from a story"))
    stories = sources.presets(source)  # their name and story read in the reader's language
    if not stories:
        st.caption(_("Stories are built from the causes planted in the built-in worlds (franchises, stories, genres); "
                     "this data has none of those marks, so there are no story presets: try a random user's "
                     "history."))
    with st.container(horizontal=True, gap="small"):
        for i, preset in enumerate(stories):
            st.button(md(preset.name), key=f"history_preset_{i}", icon=":material/auto_stories:", help=md(preset.story),
                      on_click=widgets.start_story, args=(preset, "history"))

    st.subheader(_("Add {items}").format(items=many))
    query = st.text_input(_("Search titles"), key="history_search",
                          placeholder=_("e.g. {examples}").format(examples="Storm, Avalon, Midnight…"),
                          icon=":material/search:")
    hits = sources.find_items(source, query)
    st.caption(_("Matches for “{query}”").format(query=md(query.strip())) if query.strip()
               else _("Most popular {items}").format(items=many))
    if hits.empty:
        st.info(_("No title contains that text."), icon=":material/search_off:")
    for _row_number, row in hits.iterrows():  # not `_`: that is the translation function
        with st.container(horizontal=True, vertical_alignment="center", gap="small", wrap=False):
            st.markdown(f"**{md(row['title'])}** :gray[· {describe(row)}]", width="stretch")
            st.button("", key=f"history_add_{row['item_id']}", icon=":material/add:",
                      help=_("Add to the end of the history"), on_click=state.add_item, args=(str(row["item_id"]),))

with mine:
    history = state.history()
    st.subheader(_("Your history · {count}").format(count=len(history)))
    with st.container(horizontal=True, gap="small"):
        st.button(_("Start from a random user's real history"), key="history_random", icon=":material/casino:",
                  on_click=sources.load_random_user,
                  args=(models.current_max_len(),))
        st.button(_("Clear"), key="history_clear", icon=":material/delete_sweep:", on_click=state.clear_history,
                  disabled=not history)
    state.pop_flash("history")
    if not history:
        st.info(_("Empty for now: add {items} on the left, or start from a random user's history.").format(
            items=many), icon=":material/playlist_add:")
    table = sources.history_table(source, history)
    with st.container(height=560 if len(table) > 9 else "content", border=False):
        for i, row in table.iterrows():
            with st.container(horizontal=True, vertical_alignment="center", gap="small", wrap=False):
                mark = widgets.PICKED_MARK if history[i] == state.picked() else ""
                st.markdown(f":gray[{i + 1}.] **{md(row['title'])}**{mark} :gray[· {describe(row)}]",
                            width="stretch")
                st.button("", key=f"history_pick_{i}", icon=":material/my_location:", type="tertiary",
                          help=_("Highlight it in every view"), on_click=state.set_pick, args=(history[i],))
                st.button("", key=f"history_up_{i}", icon=":material/arrow_upward:", help=_("Earlier"),
                          disabled=i == 0, on_click=state.move, args=(i, -1), type="tertiary")
                st.button("", key=f"history_down_{i}", icon=":material/arrow_downward:", help=_("Later"),
                          disabled=i == len(table) - 1, on_click=state.move, args=(i, 1), type="tertiary")
                st.button("", key=f"history_remove_{i}", icon=":material/close:", help=_("Remove"),
                          on_click=state.remove_at, args=(i,), type="tertiary")
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        if history:
            st.page_link("pages/attention.py", label=_("See the recommendations and the attention"),
                         icon=":material/arrow_forward:")
        with st.popover(_("Share"), icon=":material/share:"):
            st.markdown(_("Anyone opening this link (after this app's address) gets this data, model and history:"))
            st.code(share.link("history"), language=None, wrap_lines=True)
