"""Cached recommenders and the model picker. A loaded model is shared by every session and never changed."""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from recattn import checkpoint
from recattn.errors import RecAttnError
from recattn.i18n import N_, Lazy, _
from recattn.models import registry
from ui import sources, state

if TYPE_CHECKING:  # recattn.recommend imports torch (seconds): imported when a model is first loaded
    from recattn.recommend import Recommender

FALLBACK_MAX_LEN = 50  # used only when no model can be loaded to tell its own max_len
PICKER = "sidebar_model"  # the sidebar's model selectbox


def key(model_dir: str) -> str:
    """The cache key of the checkpoint in `model_dir` (recattn.checkpoint.checkpoint_key): every cache of what a model
    computes is keyed by it."""
    return checkpoint.checkpoint_key(model_dir)


def recommender(model_dir: str, source: str) -> Recommender:
    """The model in `model_dir` paired with `source`'s catalogue (RecAttnError if they do not belong together)."""
    return loaded(key(model_dir), source)


@st.cache_resource(show_spinner=Lazy(N_("Loading the model…")))
def loaded(checkpoint_key: str, source: str) -> Recommender:
    """The Recommender of a checkpoint key (see `key`) on `source`'s catalogue, loaded once for every session."""
    from recattn.recommend import Recommender

    return Recommender.from_checkpoint(checkpoint.key_folder(checkpoint_key), sources.dataset(source))


@functools.cache
def preload() -> threading.Thread:
    """Import the model code (torch takes seconds) on a background thread, once per server process. app.py calls it
    after a page is out, so the first page that loads a model finds torch imported while the first page did not
    wait for it."""
    thread = threading.Thread(target=importlib.import_module, args=("recattn.recommend",), name="recattn-preload",
                              daemon=True)
    thread.start()
    return thread


def current() -> Recommender:
    """The recommender for the session's source and model folder."""
    return recommender(state.model_dir(), state.source())


def current_info() -> checkpoint.CheckpointInfo | None:
    """What the listing knows of the session's model, or None when no model is trained on the current source."""
    found = {c.path: c for c in sources.checkpoints(state.source())}
    return found.get(state.model_dir())


def current_max_len() -> int:
    """How many of the latest items the session's model reads (FALLBACK_MAX_LEN when none can be loaded)."""
    try:
        return current().max_len
    except RecAttnError:
        return FALLBACK_MAX_LEN


def preferred(kind: str, listed: list[checkpoint.CheckpointInfo]) -> str | None:
    """The session's model folder when it is of `kind`, else the first of that kind in `listed`, or None."""
    of_kind = [c.path for c in listed if c.kind == kind]
    return state.model_dir() if state.model_dir() in of_kind else next(iter(of_kind), None)


def of_kind(source: str, where: Callable[[registry.ModelKind], bool]) -> list[checkpoint.CheckpointInfo]:
    """The source's checkpoints whose registered kind satisfies `where`, in listing order (shipped first)."""
    known = registry.names(where)
    return [c for c in sources.checkpoints(source) if c.kind in known]


def picker() -> None:
    """The sidebar's model select: the models trained on the current data; picking one sets the model folder.

    The select shows name and origin (the sidebar is narrow), the caption under it the test score and shape."""
    try:
        found = {c.path: c for c in sources.checkpoints(state.source())}
    except RecAttnError:  # the data cannot be loaded: the page says why
        return
    if not found:
        st.sidebar.caption(_("**Model** none trained on this data yet: train one on the Train page"))
        return
    current_dir = state.model_dir()
    # Set before the widget exists: the select follows the model folder when a page or a switch changed it.
    st.session_state[PICKER] = current_dir if current_dir in found else None
    st.sidebar.selectbox(_("Model"), list(found), key=PICKER, on_change=_picked, format_func=lambda p: found[p].label,
                         placeholder=_("Pick a model for this data"),
                         help=_("The models trained on this data: the shipped ones, then those trained here (runs/)."))
    if current_dir in found:
        st.sidebar.caption(f"{found[current_dir].score} · {found[current_dir].shape}")


def _picked() -> None:
    if st.session_state.get(PICKER):
        state.set_model_dir(st.session_state[PICKER])
