"""Embeddings: the item map of the chosen model, the history and the top 10 marked, the variance it explains."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from recattn import checkpoint, data
from recattn.analysis.embeddings import item_embeddings, pca
from tests.app.conftest import MODELS, go, plotly_specs

EMBEDDINGS = "pages/embeddings.py"
HISTORY_5 = ["2", "10", "11", "40", "7"]


def traces(at) -> dict[str, dict]:
    return {t["name"]: t for t in plotly_specs(at)["embeddings_map"]["data"]}


def values(array) -> np.ndarray:
    """A 1-D plotly array as numpy (plotly 7 sends numpy arrays as base64 typed arrays)."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array, dtype=float)


def xy(trace: dict) -> np.ndarray:
    return np.stack([values(trace["x"]), values(trace["y"])], axis=1)


@pytest.fixture(scope="module")
def films():
    return data.load("builtin:films")


def test_history_and_recommendations_are_marked(at, films):
    at.session_state["history"] = HISTORY_5
    go(at, EMBEDDINGS)
    assert at.selectbox(key="embeddings_model").value == str(MODELS / "films-sasrec")  # the session's model
    shown = traces(at)
    genres = films.items["genres"].str.split("|").str[0]
    assert set(shown) == set(genres) | {"history", "recommended"}
    assert sum(len(xy(t)) for name, t in shown.items() if name not in ("history", "recommended")) == len(films.items)
    # The marked points are exactly the history items, at their projected places, in history order.
    proj = pca(item_embeddings(checkpoint.load(MODELS / "films-sasrec").model))
    rows = [int(i) - 1 for i in HISTORY_5]  # film ids are 1..1000 in catalogue order
    np.testing.assert_allclose(xy(shown["history"]), proj.coords[rows], rtol=1e-5, atol=1e-6)
    titles = films.items["title"].tolist()
    assert [c[0] for c in shown["history"]["customdata"]] == [titles[r] for r in rows]
    assert len(shown["recommended"]["customdata"]) == 10
    assert not {c[0] for c in shown["recommended"]["customdata"]} & {titles[r] for r in rows}
    caption = next(c.value for c in at.caption if "of the variance" in c.value)
    assert f"explain {proj.explained[0]:.0%} and {proj.explained[1]:.0%}" in caption

    at.selectbox(key="embeddings_model").set_value(str(MODELS / "films-gru")).run()
    assert not at.exception
    gru = pca(item_embeddings(checkpoint.load(MODELS / "films-gru").model))
    np.testing.assert_allclose(xy(traces(at)["history"]), gru.coords[rows], rtol=1e-5, atol=1e-6)


def test_empty_history_draws_the_map_without_marks(at, films):
    go(at, EMBEDDINGS)
    assert any("history is empty" in i.value for i in at.info)
    shown = traces(at)
    assert "history" not in shown and "recommended" not in shown
    assert sum(len(xy(t)) for t in shown.values()) == len(films.items)


def test_a_model_without_embeddings_gets_a_note(at):
    at.session_state["model_dir"] = str(MODELS / "films-pop")
    at.session_state["history"] = HISTORY_5
    go(at, EMBEDDINGS)
    assert any("learns no item vectors" in i.value for i in at.info)
    assert at.selectbox(key="embeddings_model").value == str(MODELS / "films-sasrec")
    assert "history" in traces(at)


def test_source_without_embedding_models(at, tmp_path, monkeypatch):
    monkeypatch.setattr("recattn.paths.SHIPPED_MODELS", tmp_path / "none")
    go(at, EMBEDDINGS)
    assert "No model with item embeddings" in at.info[0].value
    assert not at.get("plotly_chart")
