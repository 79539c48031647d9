"""Build history: widgets edit the shared history, which survives page switches."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from recattn import data
from recattn.data.presets import presets
from tests.app.conftest import APP, ATTENTION, HISTORY, HOME, MODELS, go, heatmaps
from ui.text import md


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


# ---------------------------------------------------------------- story presets and share links


def test_a_story_preset_replaces_the_history_and_the_link_follows(at):
    at.session_state["history"] = ["1"]
    go(at, HISTORY)
    trilogy = presets(data.load("builtin:films"))[0]
    assert at.button(key="history_preset_0").label == trilogy.name
    at.button(key="history_preset_0").click().run()
    assert not at.exception
    assert at.session_state["history"] == list(trilogy.item_ids)
    assert any(trilogy.name in i.value and "part 2" in i.value for i in at.info)  # the story, once
    expected = {"source": "builtin:films", "model": "films-sasrec", "history": ",".join(trilogy.item_ids),
                "lang": "en"}
    assert at.query_params == expected  # the URL follows the history
    assert at.code[0].value == (f"/history?source=builtin:films&model=films-sasrec&history={expected['history']}"
                                 "&lang=en")
    at.button(key="history_remove_0").click().run()
    assert at.query_params["history"] == ",".join(trilogy.item_ids[1:])
    at.button(key="history_clear").click().run()
    assert "history" not in at.query_params and at.code[0].value.endswith("model=films-sasrec&lang=en")


def _opened(params: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params = dict(params)
    at.run()
    assert not at.exception, at.exception[0].stack_trace if at.exception else ""
    return at


def test_a_link_opens_its_state_once_and_names_the_unknown_ids():
    at = _opened({"source": "builtin:films", "model": "films-bert4rec", "history": "2,10,<b>x</b>,11"})
    assert at.session_state["history"] == ["2", "10", "11"]
    assert at.session_state["model_dir"] == str(MODELS / "films-bert4rec")
    go(at, HISTORY)
    (warning,) = at.warning
    assert "Dropped 1 unknown id: " + md("<b>x</b>") in warning.value  # shown literally, never as HTML
    assert "3 items" in warning.value
    # Later edits are not overwritten by the link, even when the URL still carries it.
    at.button(key="history_remove_0").click().run()
    at.query_params = {"source": "builtin:films", "history": "2,10,11"}
    at.run()
    assert at.session_state["history"] == ["10", "11"] and not at.warning


def test_a_link_switches_the_source_and_refuses_paths():
    at = _opened({"source": "builtin:news", "model": "news-additive", "history": "N3,N1"})
    assert at.session_state["source"] == "builtin:news"
    assert at.session_state["model_dir"] == str(MODELS / "news-additive")
    assert at.session_state["history"] == ["N3", "N1"]
    go(at, HISTORY)
    assert any(f"Opened a shared link: 2 items of **{md('builtin:news')}**" in i.value for i in at.info)

    at = _opened({"source": "/etc", "model": "../films-gru", "history": "1"})
    assert at.session_state["source"] == "builtin:films"
    assert at.session_state["model_dir"] == str(MODELS / "films-sasrec")
    go(at, HISTORY)
    assert "Unknown data source “/etc”" in at.warning[0].value and "No model named" in at.warning[0].value


def test_real_data_says_it_has_no_story_presets(at, tmp_path):
    films = data.load("builtin:films")
    films.items[["item_id", "title", "genres"]].set_axis(["id", "title", "genres"], axis=1).to_csv(
        tmp_path / "items.csv", index=False)
    films.interactions[["user_id", "item_id", "timestamp"]].head(500).set_axis(["user", "item", "timestamp"],
                                                                               axis=1).to_csv(
        tmp_path / "interactions.csv", index=False)
    at.session_state["source"] = str(tmp_path)
    go(at, HISTORY)
    assert not at.error
    assert not [b for b in at.button if b.key and b.key.startswith("history_preset_")]
    assert any("no story presets" in c.value for c in at.caption)
