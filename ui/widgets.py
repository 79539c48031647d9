"""Pieces several pages draw: the sidebar status, the notices that stop a page with nothing to show, the top-k
list and the layer/head selector. User text goes through `ui.text.md`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from recattn import i18n
from recattn.i18n import _, count_of, ngettext
from recattn.results import measured
from recattn.errors import RecAttnError
from recattn.viz.compare import budget_figure
from ui import charts, models, sources, state
from ui.text import md

if TYPE_CHECKING:  # recattn.recommend imports torch (seconds), which the first page does not need
    from recattn.ranking import RecItem
    from recattn.recommend import Recommendation, Recommender


def language_switch() -> None:
    """The sidebar's 中文 / English switch (the session's LANG; the share link carries it)."""
    st.sidebar.radio("Language · 语言", list(i18n.LANGUAGES), format_func=i18n.LANGUAGES.get, key=state.LANG,
                     horizontal=True)


def pick_control() -> None:
    """The sidebar's picked item: a list of the history's items (and the pick, when it came from elsewhere) to pick
    from, and one click to clear it. Charts pick with `pick_on_click`."""
    history, pick = state.history(), state.picked()
    options = list(dict.fromkeys([*history, *([pick] if pick else [])]))
    if not options:
        return
    titles = dict(zip(options, sources.titles_of(state.source(), options)))
    st.sidebar.selectbox(_("Highlight an item"), options, key=state.PICK, format_func=titles.get,
                         placeholder=_("Click a bar or a point, or pick here"),
                         help=_("The picked item is outlined in every view: its rows and columns in the attention "
                                "maps, its bars, its point on the map, its line in the lists."))
    if pick is not None:
        st.sidebar.button(_("Clear the highlight"), key="pick_clear", icon=":material/close:", on_click=state.set_pick,
                          args=(None,))


def pick_on_click(chart: str, item_at: Callable[[dict], str | None]) -> Callable[[], None]:
    """An on_select callback for the plotly chart keyed `chart`: pick the item `item_at` finds in the clicked
    point (a Streamlit selection point: x, y, customdata, point_index)."""
    def picked() -> None:
        points = st.session_state[chart]["selection"]["points"]
        item = item_at(points[0]) if points else None
        if item is not None:
            state.set_pick(item)
    return picked


PICKED_MARK = " :red-badge[:material/my_location:]"  # the picked item in a markdown list


def sidebar_status() -> None:
    """A reminder in the sidebar of what is loaded, and the model picker."""
    n = len(state.history())
    st.sidebar.caption(_("**Data** {data}  \n**History** {items}").format(
        data=md(sources.source_label(state.source())), items=count_of(n, "{n} item", "{n} items")))
    models.picker()


def require_model() -> Recommender:
    """The session's recommender; without one trained on this data, a pointer to the Train page and a stop."""
    source = state.source()
    with state.guard():
        trained = bool(sources.checkpoints(source))
    if not trained:
        st.info(_("No model is trained on {data} yet: train one, it is one click.").format(
            data=md(sources.source_label(source))), icon=":material/model_training:")
        st.page_link("pages/train.py", label=_("Train a model on this data"), icon=":material/arrow_forward:")
        st.stop()
    with state.guard():
        return models.current()


def start_story(preset, where: str) -> None:
    """A story button's callback: the preset becomes the history, and its story is told once at `where`."""
    state.set_history(preset.item_ids)
    state.flash("info", f"**{md(preset.name)}**: {md(preset.story)}", where)


def require_history(what: str | None = None, where: str = "history") -> list[str]:
    """The history; when it is empty, one click to a story (the data's first preset, else a real user's history),
    a pointer to Build history, and a stop. `what`: what the page shows of it, already translated (default: "the
    recommendations"); `where`: the flash slot the page shows (the story's sentence)."""
    history = state.history()
    if not history:
        st.info(_("The history is empty: start from a story, or add a few items, to see {what}.").format(
            what=_("the recommendations") if what is None else what), icon=":material/playlist_add:")
        with state.guard():
            stories = sources.presets(state.source())
        with st.container(horizontal=True, gap="small", vertical_alignment="center"):
            if stories:
                st.button(_("Start with a story: {story}").format(story=md(stories[0].name)), key="empty_story",
                          type="primary",
                          icon=":material/auto_stories:", help=md(stories[0].story), on_click=start_story,
                          args=(stories[0], where))
            else:
                st.button(_("Start from a random user's real history"), key="empty_random", type="primary",
                          icon=":material/casino:", on_click=sources.load_random_user,
                          args=(models.current_max_len(), where))
            st.page_link("pages/history.py", label=_("Build a history"), icon=":material/arrow_forward:")
        st.stop()
    return history


def recommend(recommender: Recommender, history: Sequence[str], k: int = 10) -> Recommendation:
    """`recommender.recommend` with a RecAttnError shown as an error box that stops the page. Shared by every session:
    a class on the lecturer's link computes each history once."""
    with state.guard():
        return _shared_recommendation(recommender.key, tuple(history), k, recommender)


@st.cache_resource(max_entries=512, show_spinner=False)  # a trace of 50 items: ~0.1 MB
def _shared_recommendation(model_key: str, history: tuple[str, ...], k: int, _recommender: Recommender
                           ) -> Recommendation:
    # the model is named by its key (a checkpoint's content), the object itself is not hashed; an error is not kept
    return _recommender.recommend(list(history), k=k)


def cut_note(history_length: int, windows: Mapping[str, int]) -> None:
    """A caption when a history is longer than what a model reads. windows: a model's name, already translated
    (_("The model") for a page's only one) → its window, the number of latest items it reads; nothing is shown when
    all read it whole."""
    cut = [ngettext("{name} reads only the last {n} item", "{name} reads only the last {n} items", n).format(
        name=md(name), n=n) for name, n in windows.items() if n < history_length]
    if cut:
        # TRANSLATORS: {cuts} is one or more "<model> reads only the last <n> items", joined by "; "
        st.caption(_("{cuts} of the {total} in the history: the older ones are left out.").format(
            cuts=_("; ").join(cut), total=history_length),
            help=_("The window is the model's maximum length, set when it was trained."))


def top_list(items: Sequence[RecItem], key: str, ranks_before: dict[str, int] | None = None) -> None:
    """The recommendations as one compact markdown list: rank, title, genres, score, and with `ranks_before` the
    change of rank since then ("new" for an item that was not in the list); the picked item (state.PICK) marked."""
    lines = []
    for rank, item in enumerate(items, 1):
        move = ""
        if ranks_before is not None:
            before = ranks_before.get(item.id)
            move = (" :green-badge[" + _("new") + "]" if before is None else f" :green-badge[▲{before - rank}]"
                    if before > rank else f" :red-badge[▼{rank - before}]" if before < rank else "")
        genres = md(item.genres.replace("|", " · "))
        mark = PICKED_MARK if item.id == state.picked() else ""
        lines.append(f"{rank}. **{md(item.title)}**{move}{mark}  \n:gray[{genres}] · :blue-badge[{item.score:.2f}]")
    st.container(key=key).markdown("\n".join(lines))


def quick_edit(source: str, history: Sequence[str], key: str, labels: tuple[str, str, str]) -> None:
    """Edit the history without leaving the page: add an item by title, remove the last one, or go to Build
    history. `key` prefixes the widgets' keys ("<key>_add", "<key>_remove_last"); labels: the three texts, already
    translated."""
    add, remove, more = labels
    ids, titles = sources.item_options(source)
    st.selectbox(add, ids, index=None, key=f"{key}_add", format_func=titles.get, filter_mode="contains",
                 placeholder=_("Type a title to add it…"), on_change=state.quick_add, args=(f"{key}_add",))
    with st.container(horizontal=True, gap="small"):
        st.button(remove, key=f"{key}_remove_last", icon=":material/undo:", on_click=state.remove_at,
                  args=(len(history) - 1,))
        st.page_link("pages/history.py", label=more, icon=":material/edit:")


def layer_head(trace_layers: int, trace_heads: int, key: str) -> tuple[int, int]:
    """Two selects for one layer and one head (0-based), side by side."""
    left, right = st.columns(2)
    layer = left.selectbox(_("Layer"), range(trace_layers), format_func=lambda i: _("Layer {n}").format(n=i + 1),
                           key=f"{key}_layer")
    head = right.selectbox(_("Head"), range(trace_heads), format_func=lambda i: _("Head {n}").format(n=i + 1),
                           key=f"{key}_head")
    return int(layer), int(head)


def model_error(e: RecAttnError) -> None:
    """A RecAttnError as an error box, the page going on (for a part of a page that may fail alone)."""
    st.error(md(e), icon=":material/error:")


@st.cache_data(show_spinner=False, max_entries=20)
def _searches(source: str, stamp: tuple):
    return measured.searches(source)


def measured_searches(source: str) -> list:
    """The committed searches of `source` (recattn.results.measured.Measured, the equal search of every model first), read
    again only when a file changes; [] when there is none, or when one cannot be read (an error box says why, the
    page goes on)."""
    stamp = tuple((str(p), p.stat().st_mtime_ns) for p in measured.search_paths(source))
    try:
        return _searches(source, stamp)
    except RecAttnError as e:
        model_error(e)
        return []


@st.cache_data(show_spinner=False, max_entries=20)
def _convergence(path: str, stamp: int | None):
    return measured.convergence(measured.Measured({}, Path(path)))


def budget_curves(search: measured.Measured, key: str) -> bool:
    """The search's winners: validation NDCG@10 against seconds at its budget (one line per seed) and, when they
    were trained to early stop, to convergence, with the computed sentence on what changes with the budget; whether
    the search recorded curves (searches before 2026-12-05 did not)."""
    found = measured.curves(search)
    if len(found) < 2:
        return False
    beside = search.path.with_name(search.path.name.replace("search-", "converge-", 1))
    try:
        converged = _convergence(str(search.path), beside.stat().st_mtime_ns if beside.is_file() else None)
    except RecAttnError as e:
        model_error(e)
        converged = None
    budget = _("At the search's budget ({minutes:g} min)").format(minutes=search.report["budget"]["minutes"])
    panels = {budget: found}
    if converged:
        panels[_("Trained to early stop")] = {k: [run["curve"] for run in row["runs"]]
                                           for k, row in converged["models"].items()}
    st.plotly_chart(budget_figure(panels, {k: measured.label(k) for curves in panels.values() for k in curves}),
                    key=key, config=charts.config(key))
    st.caption(md(measured.budget_sentence(search, converged)))
    return True
