"""Learn: every tab renders on the films SASRec with a 5-item history, its softmax heatmap holds the Attention page's
weights for the chosen layer and head, an empty history gets a pointer, and a source without a SASRec still shows
the additive and GRU sections."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from recattn.data import load
from recattn.recommend import Recommender
from tests.app.conftest import HISTORY, MODELS, go, heatmaps, plotly_specs, z_of

LEARN = "pages/learn.py"
HISTORY_5 = ["2", "10", "11", "40", "5"]
WALKTHROUGH = {"learn_items", "learn_positions", "learn_x0", "learn_pos_sinusoidal", "learn_pos_sim_sinusoidal",
               "learn_pos_learned", "learn_pos_sim_learned", "learn_q", "learn_k", "learn_v", "learn_scores",
               "learn_mask", "learn_softmax", "learn_mixed", "learn_concat", "learn_projected", "learn_residual",
               "learn_ln2", "learn_ffn", "learn_out", "learn_top"}
CONTRASTS = {"learn_cross_weights", "learn_cross_energies", "learn_ranks_sasrec", "learn_ranks_gru4rec",
             "learn_overlap", "learn_influence"}


@pytest.fixture(scope="module")
def rec():
    """What the Attention page shows for the same history: its top-10 and trace."""
    return Recommender.from_checkpoint(MODELS / "films-sasrec", load("builtin:films")).recommend(HISTORY_5)


def softmax_z(at) -> np.ndarray:
    (grid,) = heatmaps(at, "learn_softmax")
    return z_of(grid)


def test_every_tab_renders_and_the_softmax_is_the_trace(at, rec):
    trace = rec.trace
    at.session_state["history"] = HISTORY_5
    go(at, LEARN)
    assert len(at.tabs) == 5 and not at.error and not at.info
    specs = plotly_specs(at)
    assert set(specs) == WALKTHROUGH | CONTRASTS
    for key, spec in specs.items():
        assert spec["layout"]["title"]["text"], key  # every figure has a title
        assert spec["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)", key

    z = softmax_z(at)
    assert z.shape == (5, 5) and np.isnan(z[np.triu_indices(5, 1)]).all()  # masked cells are blank
    np.testing.assert_allclose(np.nan_to_num(z), trace.weights[0, 0], atol=1e-6)
    softmax = heatmaps(at, "learn_softmax")[0]
    assert softmax["colorscale"][0][1] == "#dbe9f6"  # the one attention scale
    assert softmax["customdata"][4][0] == [f"5. {trace.query_labels[4]}", f"1. {trace.key_labels[0]}"]  # full on hover
    assert "%{z:.4f}" in softmax["hovertemplate"]
    assert heatmaps(at, "learn_q")[0]["zmid"] == 0  # signed: diverging around 0
    assert z_of(heatmaps(at, "learn_q")[0]).shape == (5, 32)  # one head: 64 dims / 2 heads

    # the step-by-step scores agree with the model's own forward pass, and the caption says by how much
    caption = next(c.value for c in at.caption if "match the model's own forward pass" in c.value)
    assert float(re.search(r"within ([0-9.e+-]+)\.", caption).group(1)) < 1e-4
    bars = plotly_specs(at)["learn_top"]["data"][0]
    np.testing.assert_allclose(z_of({"z": bars["x"]}), [i.score for i in rec.items], atol=1e-4)

    at.selectbox(key="learn_layer").set_value(1)
    at.selectbox(key="learn_head").set_value(1).run()
    assert not at.exception
    np.testing.assert_allclose(np.nan_to_num(softmax_z(at)), trace.weights[1, 1], atol=1e-6)
    assert heatmaps(at, "learn_out")[0]["name"] == "Layer 2's output"

    go(at, HISTORY)  # the layer and head survive a visit to another page
    go(at, LEARN)
    assert at.selectbox(key="learn_layer").value == 1 and at.selectbox(key="learn_head").value == 1
    np.testing.assert_allclose(np.nan_to_num(softmax_z(at)), trace.weights[1, 1], atol=1e-6)


def test_empty_history_points_to_build_history(at):
    go(at, LEARN)
    assert any("history is empty" in i.value for i in at.info)
    assert not at.get("plotly_chart") and not at.tabs


def test_without_a_sasrec_the_other_sections_still_work(at, tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    for kind in ("additive", "gru"):
        shutil.copytree(MODELS / f"films-{kind}", shipped / f"films-{kind}")
    monkeypatch.setattr("ui.state.SHIPPED_MODELS", shipped)
    at.session_state["history"] = HISTORY_5
    go(at, LEARN)
    assert sum("No SASRec is trained" in i.value for i in at.info) == 4  # tabs 1–3 and SASRec's side of tab 5
    assert set(plotly_specs(at)) == {"learn_cross_weights", "learn_cross_energies", "learn_ranks_gru4rec",
                                     "learn_overlap", "learn_influence"}


def test_a_one_item_history_has_nothing_to_remove(at):
    at.session_state["history"] = ["2"]
    go(at, LEARN)
    assert set(plotly_specs(at)) == WALKTHROUGH | CONTRASTS
    bars = plotly_specs(at)["learn_overlap"]["data"]
    assert [b["name"] for b in bars] == ["SASRec", "GRU4Rec"]
    assert bars[0]["x"] == ["original", "reversed", "shuffled", "positions off"]  # no oldest item to remove
    assert z_of(heatmaps(at, "learn_softmax")[0]).tolist() == [[1.0]]
