"""A class of users at once, at the AppTest level: the cached models are shared and never changed by any session,
and one session's history never shows in another.

(A training run in one session not blocking the others is tests/app/test_page_train.py's
`test_training_runs_off_the_script_thread_and_stops_on_request`; tests/test_load.py checks it against a real server
with 30 sessions speaking Streamlit's websocket protocol.)
"""

from __future__ import annotations

import hashlib

import torch
from streamlit.testing.v1 import AppTest

from recattn.data import load
from recattn.data.presets import presets
from tests.app.conftest import (APP, ATTENTION, HISTORY, MODELS, fresh_caches, go,  # noqa: F401 (autouse fixtures)
                                runs_dir)

LEARN, COMPARE, EMBEDDINGS = "pages/learn.py", "pages/compare.py", "pages/embeddings.py"
FILMS = "builtin:films"
SHIPPED = sorted(str(p) for p in MODELS.glob("films-*"))


def fingerprint(module: torch.nn.Module) -> dict[str, tuple]:
    """Every parameter and buffer of a model as (dtype, shape, sha256 of its bytes, in-place version), plus each
    submodule's train/eval mode. The version counter moves on any in-place write, so a change that is undone
    before the check (e.g. zeroing positions for a moment) still shows."""
    out: dict[str, tuple] = {}
    for name, t in [*module.named_parameters(), *module.named_buffers()]:
        raw = t.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes()
        out[name] = (str(t.dtype), tuple(t.shape), hashlib.sha256(raw).hexdigest(), t._version, t.requires_grad)
    out["modes"] = tuple(m.training for m in module.modules())
    return out


def _cached_recommenders(paths: list[str], source: str) -> None:
    """An AppTest script: the cached recommenders, as ui.models hands them to every page."""
    import streamlit as st

    from ui import models

    st.session_state["cached"] = [models.recommender(p, source) for p in paths]


def cached(paths: list[str]) -> list:
    at = AppTest.from_function(_cached_recommenders, args=(paths, FILMS), default_timeout=60).run()
    assert not at.exception, at.exception[0].stack_trace if at.exception else ""
    return at.session_state["cached"]


def test_fingerprint_sees_a_change_even_when_undone():
    model = torch.nn.Linear(3, 2)
    before = fingerprint(model)
    kept = model.weight.detach().clone()
    with torch.no_grad():
        model.weight[0, 0] += 1.0
    assert fingerprint(model)["weight"][2] != before["weight"][2]
    with torch.no_grad():
        model.weight.copy_(kept)  # the same bytes again, but it was written
    assert fingerprint(model)["weight"][2] == before["weight"][2]
    assert fingerprint(model) != before
    model.train(False)
    assert fingerprint(model)["modes"] != before["modes"]


def session(history: list[str]) -> AppTest:
    """A fresh browser session opened on a share link carrying `history`."""
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["source"] = FILMS
    at.query_params["history"] = ",".join(history)
    at.run()
    assert not at.exception, at.exception[0].stack_trace if at.exception else ""
    assert at.session_state["history"] == history
    return at


def test_the_shared_models_are_never_changed_by_sessions():
    """Three sessions build histories and walk Attention, Learn (the forward pass by hand, "positions off"),
    Compare and Embeddings; every cached model keeps the very same bytes and is the same object."""
    models_before = cached(SHIPPED)
    before = [fingerprint(r.model) for r in models_before]
    stories = presets(load(FILMS))
    for i, story in enumerate(stories[:3]):
        at = session(list(story.item_ids[:2]))
        go(at, HISTORY)
        at.button(key=f"history_preset_{i}").click().run()  # a story replaces the history
        assert at.session_state["history"] == list(story.item_ids)
        go(at, ATTENTION)
        at.selectbox(key="attention_add").set_value(str(100 + i)).run()  # add one item from the page itself
        assert not at.exception and at.session_state["history"] == [*story.item_ids, str(100 + i)]
        assert at.get("plotly_chart")
        go(at, LEARN)
        shown = set()
        for tab in ("3 · Block → scores", "5 · Transformer vs RNN"):  # lazy tabs: only the open one runs
            at.session_state["learn_tab"] = tab
            at.run()
            assert not at.exception
            shown |= {c.key for c in at.get("plotly_chart")}
        assert {"learn_top", "learn_ranks_sasrec", "learn_overlap"} <= shown
        go(at, COMPARE)
        assert at.dataframe
        go(at, EMBEDDINGS)
        assert "embeddings_map" in {c.key for c in at.get("plotly_chart")}
    models_after = cached(SHIPPED)
    assert all(a is b for a, b in zip(models_after, models_before)), "the cache loaded a model again"
    for path, rec, was in zip(SHIPPED, models_after, before):
        now = fingerprint(rec.model)
        changed = sorted(k for k in was if was[k] != now[k])
        assert not changed, f"{path}: a session changed {changed}"


def test_histories_never_leak_between_sessions():
    """Two sessions, each opened from its own link, edit their histories in turn; each sees only its own."""
    films = load(FILMS).items.set_index(load(FILMS).items["item_id"].astype(str))["title"]
    a, b = session(["1", "2", "3"]), session(["10", "20"])

    def shown(at: AppTest, expected: list[str]) -> None:
        """The session's state, the Build history page's heading and its list hold exactly `expected`."""
        go(at, HISTORY)
        assert at.session_state["history"] == expected
        assert f"Your history · {len(expected)}" in [h.value for h in at.subheader]
        listed = [m.value for m in at.markdown if m.value.startswith(":gray[")]
        assert len(listed) == len(expected)
        for line, item in zip(listed, expected):
            assert films[item].split(" (")[0] in line.replace("\\", "")
        go(at, ATTENTION)
        assert f"History · {len(expected)}" in [h.value for h in at.subheader]
        assert at.query_params.get("history", "") == ",".join(expected)  # the share link follows this session only

    shown(a, ["1", "2", "3"])
    shown(b, ["10", "20"])
    b.selectbox(key="attention_add").set_value("30").run()  # b adds, then a reruns
    a.run()
    shown(a, ["1", "2", "3"])
    shown(b, ["10", "20", "30"])
    go(a, HISTORY)
    a.button(key="history_remove_0").click().run()  # a removes, then b reruns
    a.button(key="history_clear").click().run()
    b.run()
    shown(b, ["10", "20", "30"])
    assert a.session_state["history"] == []
    go(b, HISTORY)
    b.button(key="history_preset_0").click().run()
    a.run()
    assert a.session_state["history"] == [] and "Your history · 0" in [h.value for h in a.subheader]
