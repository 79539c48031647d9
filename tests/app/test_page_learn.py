"""Learn: each tab renders on the films SASRec with a 5-item history, only the open tab is built, the open tab and
the chosen layer and head survive a visit to another page, its softmax heatmap holds the Attention page's weights
for the chosen layer and head, an empty history gets a pointer, and a source without a SASRec still shows the
additive and GRU sections."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from recattn import paths
from recattn.data import load
from recattn.recommend import Recommender
from tests.app.conftest import HISTORY, MODELS, go, heatmaps, plotly_specs, z_of
from tests.test_measured import REPORT, TIMED

LEARN = "pages/learn.py"
HISTORY_5 = ["2", "10", "11", "40", "5"]
TABS = ("1 · Embeddings", "2 · One attention head", "3 · Block → scores", "4 · Additive attention",
        "5 · Transformer vs RNN")
EMBEDDINGS, ONE_HEAD, BLOCK, ADDITIVE, VERSUS = TABS
CHARTS = {  # the charts each tab draws, by key
    EMBEDDINGS: {"learn_items", "learn_positions", "learn_x0", "learn_pos_sinusoidal", "learn_pos_sim_sinusoidal",
                 "learn_pos_learned", "learn_pos_sim_learned"},
    ONE_HEAD: {"learn_q", "learn_k", "learn_v", "learn_scores", "learn_mask", "learn_softmax", "learn_mixed",
               "learn_concat", "learn_projected"},
    BLOCK: {"learn_residual", "learn_ln2", "learn_ffn", "learn_out", "learn_top"},
    ADDITIVE: {"learn_cross_weights", "learn_cross_energies"},
    VERSUS: {"learn_ranks_sasrec", "learn_ranks_gru4rec", "learn_overlap", "learn_influence"},
}


def open_tab(at, label: str):
    """Pick a tab as a click would (its keyed value), then rerun."""
    at.session_state["learn_tab"] = label
    at.run()
    assert not at.exception, at.exception[0].message
    return at


@pytest.fixture(scope="module")
def rec():
    """What the Attention page shows for the same history: its top-10 and trace."""
    return Recommender.from_checkpoint(MODELS / "films-sasrec", load("builtin:films")).recommend(HISTORY_5)


def softmax_z(at) -> np.ndarray:
    (grid,) = heatmaps(at, "learn_softmax")
    return z_of(grid)


def test_each_tab_renders_alone_and_the_softmax_is_the_trace(at, rec):
    trace = rec.trace
    at.session_state["history"] = HISTORY_5
    go(at, LEARN)
    assert [t.label for t in at.tabs] == list(TABS)
    assert set(plotly_specs(at)) == CHARTS[EMBEDDINGS]  # the first tab is open; the others are not built
    for label in TABS:
        open_tab(at, label)
        assert not at.error and not at.info, label
        specs = plotly_specs(at)
        assert set(specs) == CHARTS[label]  # this tab's charts, none of the hidden ones
        assert all(not tab.children for tab in at.tabs if tab.label != label), label
        for key, spec in specs.items():
            assert spec["layout"]["title"]["text"], key  # every figure has a title
            assert spec["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)", key

    open_tab(at, ONE_HEAD)
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
    open_tab(at, BLOCK)
    caption = next(c.value for c in at.caption if "match the model's own forward pass" in c.value)
    assert float(re.search(r"within ([0-9.e+-]+)\.", caption).group(1)) < 1e-4
    bars = plotly_specs(at)["learn_top"]["data"][0]
    np.testing.assert_allclose(z_of({"z": bars["x"]}), [i.score for i in rec.items], atol=1e-4)
    assert heatmaps(at, "learn_out")[0]["name"] == "Layer 1's output"

    open_tab(at, ONE_HEAD)
    at.selectbox(key="learn_layer").set_value(1)
    at.selectbox(key="learn_head").set_value(1).run()
    assert not at.exception
    np.testing.assert_allclose(np.nan_to_num(softmax_z(at)), trace.weights[1, 1], atol=1e-6)
    open_tab(at, BLOCK)  # tab 3 follows the layer picked in tab 2, whose selects it does not draw
    assert heatmaps(at, "learn_out")[0]["name"] == "Layer 2's output"

    go(at, HISTORY)  # the open tab, the layer and the head survive a visit to another page
    go(at, LEARN)
    assert set(plotly_specs(at)) == CHARTS[BLOCK]
    assert heatmaps(at, "learn_out")[0]["name"] == "Layer 2's output"
    open_tab(at, ONE_HEAD)
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
    monkeypatch.setattr("recattn.paths.SHIPPED_MODELS", shipped)
    at.session_state["history"] = HISTORY_5
    go(at, LEARN)
    shown = {}
    for label in TABS:
        open_tab(at, label)
        shown[label] = (sum("No SASRec is trained" in i.value for i in at.info), set(plotly_specs(at)))
    assert shown == {EMBEDDINGS: (1, set()), ONE_HEAD: (1, set()), BLOCK: (1, set()),  # tabs 1–3 say why
                     ADDITIVE: (0, CHARTS[ADDITIVE]),
                     VERSUS: (1, {"learn_ranks_gru4rec", "learn_overlap", "learn_influence"})}  # SASRec's side too


def test_a_one_item_history_has_nothing_to_remove(at):
    at.session_state["history"] = ["2"]
    go(at, LEARN)
    for label in TABS:
        assert set(plotly_specs(open_tab(at, label))) == CHARTS[label]
    bars = plotly_specs(at)["learn_overlap"]["data"]  # the last tab is open
    assert [b["name"] for b in bars] == ["SASRec", "GRU4Rec"]
    assert bars[0]["x"] == ["original", "reversed", "shuffled", "positions off"]  # no oldest item to remove
    assert z_of(heatmaps(open_tab(at, ONE_HEAD), "learn_softmax")[0]).tolist() == [[1.0]]


def test_the_contrast_states_the_measured_gap_only_when_a_search_was_run(at, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "RESULTS", tmp_path)
    at.session_state["history"] = HISTORY_5
    go(at, LEARN)
    open_tab(at, VERSUS)
    assert any("makes no claim" in c.value for c in at.caption)
    (tmp_path / "search-films.json").write_text(json.dumps(REPORT))
    open_tab(at, VERSUS)
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "SASRec reaches a test NDCG@10 of 0.210 ± 0.010 and GRU4Rec 0.190 ± 0.010" in text
    assert "a gap beyond noise" in text and not any("makes no claim" in c.value for c in at.caption)


def test_the_contrast_draws_the_searched_curves_against_the_clock(at, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "RESULTS", tmp_path)
    at.session_state["history"] = HISTORY_5
    go(at, LEARN)
    open_tab(at, VERSUS)
    assert "learn_budget" not in plotly_specs(at)  # the search recorded no curves: nothing drawn
    (tmp_path / "search-films.json").write_text(json.dumps(TIMED))
    open_tab(at, VERSUS)
    assert {t["name"] for t in plotly_specs(at)["learn_budget"]["data"]} == {"SASRec", "GRU4Rec"}
    assert any("GRU4Rec learns faster, SASRec is ahead at the end" in c.value for c in at.caption)


def test_the_additive_tab_states_the_seeds_score_inside_sasrec_once_it_was_measured(at, tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "RESULTS", tmp_path)
    at.session_state["history"] = HISTORY_5
    go(at, LEARN)
    open_tab(at, ADDITIVE)
    assert not any("inside SASRec" in m.value for m in at.markdown)  # nothing measured, nothing said
    later = {**REPORT, "models": {"sasrec-additive": REPORT["models"]["gru"], "sasrec": REPORT["models"]["sasrec"]},
             "paired": [{**REPORT["paired"][0], "b": "sasrec-additive"}]}
    (tmp_path / "search-films-additive.json").write_text(json.dumps(later))
    open_tab(at, ADDITIVE)
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "SASRec (additive) reaches a test NDCG@10 of 0.190 ± 0.010 and SASRec 0.210 ± 0.010" in text
    assert "-0.020 (95% CI -0.035 to -0.005): a gap beyond noise" in text
