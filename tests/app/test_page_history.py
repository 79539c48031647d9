"""Build history: widgets edit the shared history, which survives page switches."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, ATTENTION, DATA, HISTORY, HOME, MODELS, TRAIN, charts, finish_training, go, has_tooltips, heatmaps, z_of


def test_history_widgets_edit_the_shared_history(at):
    go(at, HISTORY)
    at.text_input(key="history_search").input("Storm").run()
    adds = [b.key for b in at.button if b.key and b.key.startswith("history_add_")]
    assert adds, "the search found nothing"
    at.button(key=adds[0]).click().run()
    at.button(key=adds[1]).click().run()
    first, second = adds[0][12:], adds[1][12:]
    assert at.session_state["history"] == [first, second]
    at.button(key="history_up_1").click().run()
    assert at.session_state["history"] == [second, first]
    at.button(key="history_remove_0").click().run()
    assert at.session_state["history"] == [first]
    at.button(key="history_clear").click().run()
    assert at.session_state["history"] == []

    at.button(key="history_random").click().run()
    assert not at.exception
    real = at.session_state["history"]
    assert 0 < len(real) <= 50 and any("Loaded the last" in i.value for i in at.info)
    at.button(key="history_random").click().run()
    assert at.session_state["history"] != real  # a new draw, a new user


def test_history_survives_page_switches(at):
    at.session_state["history"] = ["1", "2", "3"]
    for page in (ATTENTION, HOME, HISTORY, ATTENTION):
        go(at, page)
        assert at.session_state["history"] == ["1", "2", "3"]
    assert len(heatmaps(at)) == 4


def _switch_source_script():
    import streamlit as st

    from recattn.errors import RecAttnError
    from ui import sources, state

    state.init()
    st.session_state["history"] = ["1", "no-such-film", "2"]
    st.session_state["dropped"] = sources.set_source("builtin:films")
    try:
        sources.set_source("builtin:nope")
    except RecAttnError as e:
        st.session_state["refused"] = str(e)


def test_set_source_keeps_known_items_and_returns_dropped():
    at = AppTest.from_function(_switch_source_script, default_timeout=60).run()
    assert not at.exception
    assert at.session_state["dropped"] == ["no-such-film"]
    assert at.session_state["history"] == ["1", "2"]
    assert at.session_state["source"] == "builtin:films"  # the refused switch changed nothing
    assert "unknown" in at.session_state["refused"]


def test_widget_values_survive_a_visit_to_another_page(at):
    go(at, HISTORY)
    at.text_input(key="history_search").input("Storm").run()
    go(at, HOME)
    go(at, HISTORY)
    assert at.text_input(key="history_search").value == "Storm"
