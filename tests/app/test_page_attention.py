"""Attention: one heatmap per layer × head, the inline editor, target attention and models without attention."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np

from recattn import data
from recattn.analysis.head_roles import describe
from recattn.recommend import Recommender
from recattn.viz.attention import short_label
from recattn.viz.text import plot_text
from ui.text import md
from tests.app.conftest import APP, ATTENTION, HISTORY, MODELS, go, heatmaps, plotly_specs, z_of


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


# ---------------------------------------------------------------- one head, the deciding row, ranks, the model
HIST = ["2", "10", "11"]


def _trace(model: str, history: list[str]):
    return Recommender.from_checkpoint(MODELS / model, data.load("builtin:films")).recommend(history)


def _bars(at) -> list[np.ndarray]:
    """The x of each bar trace (plotly 7 sends a 1-d array as base64 without a shape)."""
    xs = [t["x"] for t in plotly_specs(at)["attention_bars"]["data"] if t["type"] == "bar"]
    return [np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"]) if isinstance(x, dict) else np.asarray(x)
            for x in xs]


def test_bars_are_the_last_row_and_one_head_is_enlarged(at):
    at.session_state["history"] = HIST
    go(at, ATTENTION)
    trace = _trace("films-sasrec", HIST).trace
    bars = _bars(at)
    assert len(bars) == 4  # layer 1 head 1, layer 1 head 2, layer 2 head 1, layer 2 head 2
    for (layer, head), bar in zip(np.ndindex(2, 2), bars):
        np.testing.assert_allclose(bar, trace.weights[layer, head, -1], rtol=1e-6)
    assert "attention_head_map" not in plotly_specs(at)  # nothing enlarged until a head is picked

    at.selectbox(key="attention_head").set_value("Layer 2 · head 1").run()
    assert not at.exception
    (big,) = heatmaps(at, "attention_head_map")
    expected = np.where(trace.mask, np.nan, trace.weights[1, 0])
    np.testing.assert_allclose(z_of(big), expected, rtol=1e-6)  # NaN (blank) exactly where masked
    assert big["name"] == "Layer 2 · head 1" and "Layer 2 · head 1" in big["hovertemplate"]
    assert plotly_specs(at)["attention_head_map"]["layout"]["title"]["text"].startswith("Layer 2 · head 1")


def test_the_head_role_grid_is_the_librarys_measure_of_every_head(at):
    at.session_state["history"] = HIST
    go(at, ATTENTION)
    roles = Recommender.from_checkpoint(MODELS / "films-sasrec", data.load("builtin:films")).head_roles(
        data.load("builtin:films"))
    grid = plotly_specs(at)["attention_roles"]
    drawn = {tuple(c): t["name"] for t in grid["data"] for c in t["customdata"]}
    assert drawn == {(h.layer, h.head): h.role for h in roles.heads}  # 2 layers × 2 heads, each by its role
    assert any(c.value.startswith(md(describe(roles).split(";")[0])) for c in at.caption)
    assert "same franchise or story" in roles.roles  # the films world can tell franchises


def test_charts_save_at_print_resolution_in_the_sidebars_format_and_a_report_is_offered(at):
    at.session_state["history"] = HIST
    go(at, ATTENTION)
    (chart,) = [c for c in at.get("plotly_chart") if c.key == "attention"]
    saved = json.loads(chart.proto.config)["toImageButtonOptions"]
    assert saved == {"format": "png", "scale": 3, "filename": "recattn-attention"}
    at.segmented_control(key="chart_format").set_value("SVG").run()
    (chart,) = [c for c in at.get("plotly_chart") if c.key == "attention"]
    assert json.loads(chart.proto.config)["toImageButtonOptions"]["format"] == "svg"
    assert [b for b in at.get("download_button") if "Download report" in b.proto.label]


def _badges(at) -> list[str]:
    top = next(m.value for m in at.markdown if m.value.startswith("1. **"))
    lines = [line for line in top.split("\n") if re.match(r"\d+\. \*\*", line)]
    return [(re.findall(r"badge\[(new|▲\d+|▼\d+)\]", line) or [""])[0] for line in lines]


def test_rank_changes_after_an_edit_match_a_recomputation(at):
    at.session_state["history"] = HIST
    go(at, ATTENTION)
    assert _badges(at) == [""] * 10  # a first view has nothing to compare with
    at.selectbox(key="attention_add").set_value("915").run()
    before = {item.id: rank for rank, item in enumerate(_trace("films-sasrec", HIST).items, 1)}
    expected = []
    for rank, item in enumerate(_trace("films-sasrec", HIST + ["915"]).items, 1):
        was = before.get(item.id)
        expected.append("new" if was is None else f"▲{was - rank}" if was > rank else f"▼{rank - was}"
                        if was < rank else "")
    assert any(expected) and _badges(at) == expected
    at.segmented_control(key="attention_layers").set_value("Layer 1").run()
    assert _badges(at) == expected  # a rerun without an edit keeps the change since the last edit


def test_the_model_selector_switches_to_bert4rec_with_its_mask_slot(at):
    at.session_state["history"] = HIST
    go(at, ATTENTION)
    select = at.selectbox(key="attention_model")
    assert [o.split(" · ")[0] for o in select.options] == ["SASRec", "BERT4Rec", "SASRec (additive)",
                                                                "Additive attention", "NARM (additive)"]
    select.set_value(str(MODELS / "films-bert4rec")).run()
    assert not at.exception
    assert at.session_state["model_dir"] == str(MODELS / "films-bert4rec")
    z = z_of(heatmaps(at)[0])
    assert z.shape == (4, 4) and not np.isnan(z).any()  # three items and the mask slot, nothing masked
    spec = plotly_specs(at)["attention"]
    assert spec["layout"]["yaxis"]["ticktext"][-1] == "4. [next?]"
    trace = Recommender.from_checkpoint(MODELS / "films-bert4rec", data.load("builtin:films")).recommend(HIST).trace
    for (layer, head), bar in zip(np.ndindex(trace.layers, trace.heads), _bars(at)):
        np.testing.assert_allclose(bar, trace.weights[layer, head, -1], rtol=1e-6)  # the mask slot's row


def test_sasrec_with_the_additive_score_shows_every_layer_and_head_it_used(at):
    at.session_state["history"] = HIST
    at.session_state["model_dir"] = str(MODELS / "films-sasrec-additive")
    go(at, ATTENTION)
    assert not at.exception
    assert any("seed's additive formula" in c.value for c in at.caption)
    recommender = Recommender.from_checkpoint(MODELS / "films-sasrec-additive", data.load("builtin:films"))
    trace = recommender.recommend(HIST).trace
    assert (trace.layers, trace.heads) == (2, 2)
    for (layer, head), bar in zip(np.ndindex(trace.layers, trace.heads), _bars(at), strict=True):
        np.testing.assert_allclose(bar, trace.weights[layer, head, -1], rtol=1e-6)  # the scoring row the model used


def test_target_attention_bars_follow_the_chosen_recommendation(at):
    at.session_state["history"] = HIST
    at.session_state["model_dir"] = str(MODELS / "films-additive")
    go(at, ATTENTION)
    rec = _trace("films-additive", HIST)
    at.selectbox(key="attention_candidate").set_value(2).run()
    (bar,) = _bars(at)
    np.testing.assert_allclose(bar, rec.trace.weights[0, 0, 2], rtol=1e-6)
    title = plotly_specs(at)["attention_bars"]["layout"]["title"]["text"]
    assert title == f"What {plot_text(short_label(rec.items[2].title, 30))} reads"


def test_empty_history_and_a_model_without_attention_say_what_to_do(at):
    go(at, ATTENTION)
    assert any("history is empty" in i.value for i in at.info) and not at.get("plotly_chart")
    at.session_state["history"] = HIST
    at.session_state["model_dir"] = str(MODELS / "films-gru")
    at.run()
    assert at.selectbox(key="attention_model").value is None  # GRU4Rec is not among the attention models
    assert any("pick an attention model above" in i.value for i in at.info)


def test_an_empty_history_is_one_click_from_a_story(at):
    go(at, ATTENTION)
    story = at.button(key="empty_story")
    assert story.label.startswith("Start with a story: ")
    story.click().run()
    assert not at.exception and len(at.session_state["history"]) >= 2 and heatmaps(at)
    name = story.label.removeprefix("Start with a story: ")
    assert any(name in i.value for i in at.info)  # the story is told where the page shows its messages
