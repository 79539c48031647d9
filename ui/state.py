"""The session contract every page relies on, and the only code that writes it.

- ``SOURCE``: str, the data source, default ``"builtin:films"``: ``builtin:NAME``, an absolute folder or file path,
  or ``FORMAT:path`` when the user forced a layout;
- ``HISTORY``: list[str] of catalogue item ids, oldest first, default ``[]``; always replaced, never edited in place;
- ``MODEL_DIR``: str, the checkpoint folder for the current source, default the shipped films SASRec;
- ``LANG``: "en" or "zh", the language the app speaks (recattn.i18n), default the link's `lang`, else the browser's;
- ``PICK``: str or None, the item picked on any page (a bar, a point on the map, the sidebar's list), highlighted in
  every view until cleared, default None.

Pages own their widget keys, prefixed by the page's name; one-time messages go through `flash` / `pop_flash`, and
`guard` turns a RecAttnError into an error box that stops the page with the state unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import streamlit as st

from recattn import history as history_ops, i18n, paths
from recattn.errors import RecAttnError
from ui.text import md

DEFAULT_SOURCE = "builtin:films"
DEFAULT_MODEL_DIR = str(paths.SHIPPED_MODELS / "films-sasrec")

SOURCE, HISTORY, MODEL_DIR, LANG, PICK = "source", "history", "model_dir", "lang", "pick"
_FLASH = "_flash"
LEVELS = ("info", "success", "warning", "error")
_ICONS = {"info": ":material/info:", "success": ":material/check_circle:", "warning": ":material/warning:",
          "error": ":material/error:"}


def init() -> None:
    """Put the contract's defaults into session_state (existing values are kept).

    app.py calls it first, at the top of every run (never from a widget callback); pages call it too, so a page
    also works when opened on its own (AppTest, or a direct URL on a fresh server).
    """
    _use_app_navigation()
    _defaults()
    i18n.set_resolver(_session_language)


def _defaults() -> None:
    st.session_state.setdefault(SOURCE, DEFAULT_SOURCE)
    st.session_state.setdefault(HISTORY, [])
    st.session_state.setdefault(MODEL_DIR, DEFAULT_MODEL_DIR)
    st.session_state.setdefault(PICK, None)
    if LANG not in st.session_state:
        st.session_state[LANG] = i18n.pick(st.query_params.get(LANG), st.context.locale)


def _session_language() -> str | None:
    """The language of the session whose script is running in this thread (None outside a script run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.session_state[LANG] if ctx is not None and LANG in ctx.session_state else None


def _use_app_navigation() -> None:
    # Streamlit 1.67 decides per process whether the app is an old-style "pages/ folder" app: until some run
    # has called st.navigation, a folder named pages/ next to app.py makes the server run the requested
    # page file by itself, skipping app.py (no page config, no state defaults, every file in pages/ in the
    # sidebar). That happens to the first visitor of a fresh server who opens a page URL directly. Clearing
    # the flag and rerunning makes this very run go through app.py and its st.navigation instead.
    # (AppTest resets the flag before every run, so under AppTest each run starts with this short detour.)
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a later Streamlit without the old mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


# ---------------------------------------------------------------- the contract
def source() -> str:
    """The current data source."""
    _defaults()
    return st.session_state[SOURCE]


def model_dir() -> str:
    """The current checkpoint folder."""
    _defaults()
    return st.session_state[MODEL_DIR]


def history() -> list[str]:
    """The current history (item ids, oldest first)."""
    _defaults()
    return st.session_state[HISTORY]


def set_history(ids: Sequence[str]) -> None:
    """Replace the history (a new list: widgets and caches never see a list that changes under them)."""
    st.session_state[HISTORY] = [str(i) for i in ids]


def set_source(new_source: str, kept_history: Sequence[str], new_model_dir: str | None) -> None:
    """Switch the source with the history items that exist there; `new_model_dir` None keeps the current folder."""
    st.session_state[SOURCE] = new_source
    st.session_state[PICK] = None  # an id of the old catalogue
    set_history(kept_history)
    if new_model_dir is not None:
        st.session_state[MODEL_DIR] = str(new_model_dir)


def language() -> str:
    """The language the app speaks ("en" or "zh")."""
    _defaults()
    return st.session_state[LANG]


def picked() -> str | None:
    """The picked item's id, or None."""
    _defaults()
    return st.session_state[PICK]


def set_pick(item_id: str | None) -> None:
    """Pick an item for every view to highlight (None: clear the pick)."""
    st.session_state[PICK] = None if item_id is None else str(item_id)


def set_model_dir(path: str) -> None:
    """Make the checkpoint in `path` the session's model."""
    st.session_state[MODEL_DIR] = str(path)


# ---------------------------------------------------------------- history operations
def add_item(item_id: str) -> None:
    """Append an item to the history (a film can be watched twice, so repeats are allowed)."""
    set_history(history_ops.add(history(), item_id))


def remove_at(position: int) -> None:
    """Drop the history entry at `position` (0 = oldest); a position out of range changes nothing."""
    set_history(history_ops.remove_at(history(), position))


def move(position: int, step: int) -> None:
    """Move the entry at `position` by `step` places (-1: earlier, +1: later); no-op at the ends."""
    set_history(history_ops.move(history(), position, step))


def clear_history() -> None:
    """Empty the history."""
    set_history([])


def quick_add(widget_key: str) -> None:
    """on_change callback of an "add an item" selectbox: add the picked id and reset the box for the next one."""
    item_id = st.session_state.get(widget_key)
    if item_id is not None:
        add_item(item_id)
        st.session_state[widget_key] = None


# ---------------------------------------------------------------- widgets that outlive their page
_KEPT = "_kept_widgets"


def remember(*keys: str) -> None:
    """Keep these widgets' values when the user visits another page and comes back.

    Streamlit drops a widget's value at the end of a run that does not draw it; a key that the script itself
    sets is kept. So `keep_widgets`, called by app.py at the top of every run, sets each remembered key to its own
    value. Only value widgets (selects, inputs, sliders), never buttons, whose values cannot be set.
    """
    st.session_state.setdefault(_KEPT, set()).update(keys)


def keep_widgets() -> None:
    """Re-set the remembered widget values (app.py, every run, before the page)."""
    for key in st.session_state.get(_KEPT, ()):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


# ---------------------------------------------------------------- messages and errors
def flash(level: str, text: str, where: str = "page") -> None:
    """Leave a message for the next run to show once (`pop_flash(where)`); `text` is markdown, already escaped."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    st.session_state.setdefault(_FLASH, {})[where] = (level, text)


def pop_flash(where: str = "page") -> None:
    """Show the message `flash` left for `where`, if any, once."""
    level, text = st.session_state.get(_FLASH, {}).pop(where, (None, None))
    if level is not None:
        getattr(st, level)(text, icon=_ICONS[level])


@contextmanager
def guard() -> Iterator[None]:
    """Run a block; a RecAttnError (something the user can fix) becomes an error box and stops the page, with the
    session state as it was. Other exceptions are bugs and propagate."""
    try:
        yield
    except RecAttnError as e:
        st.error(md(e), icon=_ICONS["error"])  # messages may quote file content: shown literally
        st.stop()
