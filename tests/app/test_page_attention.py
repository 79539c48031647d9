"""Attention: one heatmap per layer × head, the inline editor, target attention and models without attention."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, ATTENTION, DATA, HISTORY, HOME, MODELS, TRAIN, charts, finish_training, go, has_tooltips, heatmaps, z_of


def test_attention_page_draws_every_layer_and_head(at):
    go(at, HISTORY)
    at.text_input(key="history_search").input("Storm").run()
    for key in [b.key for b in at.button if b.key and b.key.startswith("history_add_")][:3]:
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
    at.selectbox(key="attention_add").set_value("5").run()
    assert not at.exception and at.session_state["history"][-1] == "5"
    assert z_of(heatmaps(at)[0]).shape == (4, 4)
    assert at.selectbox(key="attention_add").value is None  # reset for the next film
    at.button(key="attention_remove_last").click().run()
    assert len(at.session_state["history"]) == 3

    at.segmented_control(key="attention_layers").set_value("Layer 2").run()
    assert [t["name"] for t in heatmaps(at)] == ["Layer 2 · head 1", "Layer 2 · head 2"]


def test_a_bad_model_folder_is_an_error_box_and_state_is_kept(at, tmp_path):
    at.session_state["history"] = ["1", "2"]
    at.session_state["model_dir"] = str(tmp_path)
    go(at, ATTENTION)
    assert at.error and "not a recattn checkpoint" in at.error[0].value
    assert at.session_state["history"] == ["1", "2"]


def test_target_attention_and_attention_free_models(at):
    """Additive attention shows one row per recommended film over the history; GRU says it has no attention."""
    models = Path(APP).parent / "assets" / "models"
    at.session_state["history"] = ["2", "10", "11"]
    at.session_state["model_dir"] = str(models / "films-additive")
    go(at, ATTENTION)
    assert not at.exception
    (grid,) = heatmaps(at)  # one layer, one head
    z = z_of(grid)
    assert z.shape == (10, 3)  # the top-10 candidates × the three history films
    np.testing.assert_allclose(z.sum(axis=1), 1.0, rtol=1e-5)
    assert not np.isnan(z).any()  # nothing is masked: every candidate may read the whole history
    at.session_state["model_dir"] = str(models / "films-gru")
    at.run()
    assert not at.exception and not at.get("plotly_chart")
    assert any("no attention" in i.value for i in at.info)
