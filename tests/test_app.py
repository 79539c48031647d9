"""The Streamlit app through streamlit.testing's AppTest: every page runs, widgets change the shared state,
the attention page draws one heatmap per layer × head. No browser; about 10 s."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")  # AppTest resolves relative paths against this file
HOME, HISTORY, ATTENTION = "pages/home.py", "pages/history.py", "pages/attention.py"
logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)


@pytest.fixture(autouse=True)
def fresh_caches():
    """st caches are process-wide: a model cached by one test must not leak into the next."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield


@pytest.fixture
def at() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception[0].stack_trace if at.exception else ""
    return at


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception[0].message
    return at


def heatmaps(at: AppTest) -> list[dict]:
    charts = at.get("plotly_chart")
    assert len(charts) == 1 and charts[0].key == "attention"
    return [t for t in json.loads(charts[0].proto.spec)["data"] if t["type"] == "heatmap"]


def z_of(trace: dict) -> np.ndarray:
    z = trace["z"]  # plotly 7 sends numpy arrays as base64 typed arrays
    if isinstance(z, dict):
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(
            tuple(int(n) for n in z["shape"].split(",")))
    return np.asarray(z, dtype=float)


def test_home_shows_data_model_and_stored_metrics(at):
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Data"] == "builtin:films" and metrics["Model"] == "SASRec"
    stored = json.loads((Path(APP).parent / "assets/models/films-sasrec/metrics.json").read_text())["test"]
    assert metrics["Test NDCG@10"] == f"{stored['ndcg@10']:.3f}"
    assert metrics["Test HR@10"] == f"{stored['hr@10']:.3f}"
    assert [(link.value, link.proto.page) for link in at.page_link] == [
        ("Build a history", "history"), ("See the attention", "attention")]
    assert at.session_state["source"] == "builtin:films" and at.session_state["history"] == []
    assert Path(at.session_state["model_dir"]).is_absolute()
    assert Path(at.session_state["model_dir"], "config.json").is_file()


def test_every_page_runs(at):
    go(at, HISTORY)
    assert at.title[0].value == "Build a history"
    go(at, ATTENTION)  # empty history: a hint and a link, no error
    assert at.info and "history is empty" in at.info[0].value
    go(at, HOME)
    assert at.title[0].value.startswith("recattn")


def test_history_widgets_edit_the_shared_history(at):
    go(at, HISTORY)
    at.text_input(key="search").input("Storm").run()
    adds = [b.key for b in at.button if b.key and b.key.startswith("add_")]
    assert adds, "the search found nothing"
    at.button(key=adds[0]).click().run()
    at.button(key=adds[1]).click().run()
    first, second = adds[0][4:], adds[1][4:]
    assert at.session_state["history"] == [first, second]
    at.button(key="up_1").click().run()
    assert at.session_state["history"] == [second, first]
    at.button(key="remove_0").click().run()
    assert at.session_state["history"] == [first]
    at.button(key="clear").click().run()
    assert at.session_state["history"] == []

    at.button(key="random_user").click().run()
    assert not at.exception
    real = at.session_state["history"]
    assert 0 < len(real) <= 50 and at.caption and any("Loaded the last" in c.value for c in at.caption)
    at.button(key="random_user").click().run()
    assert at.session_state["history"] != real  # a new draw, a new user


def test_attention_page_draws_every_layer_and_head(at):
    go(at, HISTORY)
    at.text_input(key="search").input("Storm").run()
    for key in [b.key for b in at.button if b.key and b.key.startswith("add_")][:3]:
        at.button(key=key).click().run()
    go(at, ATTENTION)
    maps = heatmaps(at)
    assert len(maps) == 2 * 2  # the shipped SASRec: 2 layers × 2 heads
    z = z_of(maps[0])
    assert z.shape == (3, 3)
    assert np.isnan(z[np.triu_indices(3, 1)]).all()  # masked: blank
    np.testing.assert_allclose(np.nansum(z, axis=1), 1.0, rtol=1e-5)
    assert "%{z:.4f}" in maps[0]["hovertemplate"]
    top = at.markdown[[i for i, m in enumerate(at.markdown) if m.value.startswith("1. **")][0]].value
    assert top.count("\n") == 9 * 2 + 1  # ten entries, two lines each

    # The inline editor adds a film; the maps grow with the history.
    at.selectbox(key="quick_add").set_value("5").run()
    assert not at.exception and at.session_state["history"][-1] == "5"
    assert z_of(heatmaps(at)[0]).shape == (4, 4)
    assert at.selectbox(key="quick_add").value is None  # reset for the next film
    at.button(key="remove_last").click().run()
    assert len(at.session_state["history"]) == 3

    at.segmented_control(key="layer_view").set_value("Layer 2").run()
    assert [t["name"] for t in heatmaps(at)] == ["Layer 2 · head 1", "Layer 2 · head 2"]


def test_history_survives_page_switches(at):
    at.session_state["history"] = ["1", "2", "3"]
    for page in (ATTENTION, HOME, HISTORY, ATTENTION):
        go(at, page)
        assert at.session_state["history"] == ["1", "2", "3"]
    assert len(heatmaps(at)) == 4


def test_a_bad_model_folder_is_an_error_box_and_state_is_kept(at, tmp_path):
    at.session_state["history"] = ["1", "2"]
    at.session_state["model_dir"] = str(tmp_path)
    go(at, ATTENTION)
    assert at.error and "not a recattn checkpoint" in at.error[0].value
    assert at.session_state["history"] == ["1", "2"]


def _switch_source_script():
    import streamlit as st

    import ui
    from recattn.errors import RecAttnError

    ui.init_state()
    st.session_state["history"] = ["1", "no-such-film", "2"]
    st.session_state["dropped"] = ui.set_source("builtin:films")
    try:
        ui.set_source("builtin:nope")
    except RecAttnError as e:
        st.session_state["refused"] = str(e)


def test_set_source_keeps_known_items_and_returns_dropped():
    at = AppTest.from_function(_switch_source_script, default_timeout=60).run()
    assert not at.exception
    assert at.session_state["dropped"] == ["no-such-film"]
    assert at.session_state["history"] == ["1", "2"]
    assert at.session_state["source"] == "builtin:films"  # the refused switch changed nothing
    assert "unknown" in at.session_state["refused"]
