"""Linked views: an item picked once (the sidebar's list, a bar, a point on the map, a history row) is outlined on
every page that shows it, survives page switches, and one click clears it."""

from __future__ import annotations

from recattn.viz.attention import PICKED
from tests.app.conftest import ATTENTION, HISTORY, go, plotly_specs

EXPLAIN, EMBEDDINGS = "pages/explain.py", "pages/embeddings.py"
STORY = ["2", "10", "11", "5"]


def _outlined_positions(spec: dict) -> set[float]:
    """The row starts of the picked outlines in an attention figure."""
    return {s["y0"] for s in spec["layout"].get("shapes", []) if s["line"]["color"] == PICKED
            and s["x0"] == -0.5 and s["y0"] != -0.5}


def _outlined_bars(spec: dict) -> list[int]:
    widths = spec["data"][0]["marker"]["line"]["width"]
    return [i for i, w in enumerate(widths) if w]


def test_a_pick_is_outlined_on_every_page_and_cleared_in_one_click(at):
    at.session_state["history"] = STORY
    go(at, ATTENTION)
    assert _outlined_positions(plotly_specs(at)["attention"]) == set()
    at.sidebar.selectbox(key="pick").set_value("11").run()
    assert not at.exception and at.session_state["pick"] == "11"
    specs = plotly_specs(at)
    assert _outlined_positions(specs["attention"]) == {1.5}  # "11" is the third item: row 2 in every panel
    assert _outlined_bars(specs["attention_bars"]) == [2]
    assert any(":material/my_location:" in m.value for m in at.markdown) is False  # "11" is not recommended

    go(at, EXPLAIN)  # the pick survives the page switch
    assert at.session_state["pick"] == "11"
    assert _outlined_bars(plotly_specs(at)["explain_methods"]) == [2]

    go(at, EMBEDDINGS)
    ring = [t for t in plotly_specs(at)["embeddings_map"]["data"] if t["marker"].get("color") == PICKED]
    assert len(ring) == 1

    go(at, HISTORY)
    rows = [m.value for m in at.markdown if m.value.startswith(":gray[")]
    assert [":material/my_location:" in r for r in rows] == [False, False, True, False]
    at.button(key="history_pick_0").click().run()  # a history row picks too
    assert at.session_state["pick"] == "2"

    at.sidebar.button(key="pick_clear").click().run()
    assert at.session_state["pick"] is None
    go(at, ATTENTION)
    assert _outlined_positions(plotly_specs(at)["attention"]) == set()
    assert "pick_clear" not in [b.key for b in at.sidebar.button]


def test_a_pick_outside_the_history_stays_in_the_sidebar_list(at):
    at.session_state["history"] = STORY
    at.session_state["pick"] = "42"  # picked on the map, not in the history
    go(at, ATTENTION)
    assert at.sidebar.selectbox(key="pick").value == "42" and len(at.sidebar.selectbox(key="pick").options) == 5
    assert at.session_state["pick"] == "42"
