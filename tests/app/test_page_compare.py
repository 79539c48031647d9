"""Compare models: every model's top 10 side by side, their overlap and ranks, and the metrics table under each
protocol, computed on a button press from the checkpoints in front of the user."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from recattn import paths
from recattn import checkpoint, data
from recattn.training import workflow
from tests.app.conftest import MODELS, go, heatmaps, plotly_specs, z_of
from tests.test_measured import CONVERGED, REPORT, TIMED

COMPARE = "pages/compare.py"
HISTORY_5 = ["2", "10", "11", "40", "7"]


@pytest.fixture(autouse=True)
def results(tmp_path, monkeypatch):
    """An empty results folder: each test says whether an equal search was run."""
    folder = tmp_path / "results"
    folder.mkdir()
    monkeypatch.setattr(paths, "RESULTS", folder)
    return folder


def test_the_equal_search_is_shown_with_its_spread_when_it_was_run(at, results):
    go(at, COMPARE)
    assert any("No equal search has been run" in c.value for c in at.caption)
    (results / "search-films.json").write_text(json.dumps(REPORT))
    go(at, COMPARE)
    table = at.dataframe[0].value  # no history: the measured table comes first
    assert table["model"].tolist() == ["SASRec", "GRU4Rec", "SASRec → Additive attention (top 200)", "Popularity"]
    assert table["test sd"].iloc[0] == pytest.approx(0.01)
    assert any("mean and standard deviation over seeds" in c.value and "4 configurations × 1 min" in c.value
               for c in at.caption)
    assert "SASRec − GRU4Rec: +0.0200 NDCG@10 per user" in " ".join(m.value for m in at.markdown).replace("\\", "")
    later = {**REPORT, "models": {"sasrec-additive": REPORT["models"]["sasrec"]}, "paired": []}
    (results / "search-films-additive.json").write_text(json.dumps(later))  # a later run of one model
    go(at, COMPARE)
    assert at.dataframe[0].value["model"].tolist() == table["model"].tolist()  # the equal search stays first
    assert at.dataframe[1].value["model"].tolist() == ["SASRec (additive)"]
    assert any(c.value.startswith("A later search of some models on the same data") for c in at.caption)


def test_the_searched_curves_show_what_changes_with_the_budget(at, results):
    (results / "search-films.json").write_text(json.dumps(TIMED))
    go(at, COMPARE)
    curves = plotly_specs(at)["compare_measured_curves"]
    assert len(curves["data"]) == 4  # the two winners' two seeds each
    assert any("The leader changes with the budget: GRU4Rec learns faster, SASRec is ahead at the end."
               in c.value.replace("\\", "") for c in at.caption)
    (results / "converge-films.json").write_text(json.dumps(CONVERGED))
    go(at, COMPARE)
    curves = plotly_specs(at)["compare_measured_curves"]
    assert len(curves["data"]) == 6 and curves["layout"]["yaxis2"]["matches"] == "y"  # and one run each to the stop
    assert any("so given time GRU4Rec overtakes SASRec" in c.value.replace("\\", "") for c in at.caption)


def test_every_shipped_model_side_by_side(at):
    at.session_state["history"] = HISTORY_5
    go(at, COMPARE)
    lists, ranks = at.dataframe[0].value, at.dataframe[1].value
    assert list(lists.columns) == ["SASRec · shipped", "BERT4Rec · shipped", "SASRec (additive) · shipped",
                                   "Additive attention · shipped", "NARM (additive) · shipped", "GRU4Rec · shipped",
                                   "Popularity · shipped", "ItemKNN · shipped"]
    assert list(lists.index) == list(range(1, 11))
    items = data.load("builtin:films").items.set_index("item_id")
    assert not set(items.loc[HISTORY_5, "title"]) & set(lists.to_numpy().ravel())  # history items never suggested
    (grid,) = heatmaps(at, "compare_overlap")
    z = z_of(grid)
    assert z.shape == (8, 8)
    np.testing.assert_allclose(np.diag(z), 1.0)
    np.testing.assert_allclose(z, z.T)
    # Overlap computed from the lists shown: SASRec (column 0) against popularity (column 6).
    shared = len(set(lists.iloc[:, 0]) & set(lists.iloc[:, 6]))
    assert z[0, 6] == pytest.approx(shared / 10)
    assert set(ranks.columns) >= {"item", "spread"} and len(ranks.columns) == 8 + 2
    assert set(ranks["item"]) == set(lists.to_numpy().ravel())  # every listed item, once
    first = ranks.iloc[0]
    assert first[lists.columns].min() == 1  # the first row is some model's number one
    # The metrics wait for the button: seven models, one of them slow.
    assert at.button(key="compare_compute")
    assert not at.get("progress")


@pytest.fixture
def three_models(tmp_path, monkeypatch):
    """The page sees only the three fast shipped films models (popularity, GRU4Rec, ItemKNN)."""
    shipped = tmp_path / "shipped"
    for kind in ("gru", "pop", "itemknn"):
        shutil.copytree(MODELS / f"films-{kind}", shipped / f"films-{kind}")
    monkeypatch.setattr("recattn.paths.SHIPPED_MODELS", shipped)
    return shipped


def test_metrics_table_under_two_protocols(at, three_models):
    at.session_state["history"] = HISTORY_5
    go(at, COMPARE)
    at.button(key="compare_compute").click().run()
    assert not at.exception
    assert at.progress[0].value == 100
    table = at.dataframe[-1].value
    assert list(table.index) == ["GRU4Rec · shipped", "Popularity · shipped", "ItemKNN · shipped"]
    assert list(table.columns) == ["NDCG@10", "HR@10", "MRR@10", "coverage@10", "seconds"]
    films = data.load("builtin:films")
    pop_full = workflow.evaluate_checkpoint(checkpoint.load(three_models / "films-pop"), films)
    assert table.loc["Popularity · shipped", "NDCG@10"] == pytest.approx(pop_full["ndcg@10"])
    assert table.loc["Popularity · shipped", "coverage@10"] == pytest.approx(pop_full["coverage@10"])
    text = " ".join(m.value for m in at.markdown)
    assert f"gets NDCG@10 {pop_full['ndcg@10']:.2f}" in text.replace("\\", "")
    assert "compare_compute" not in [b.key for b in at.button]  # computed: no button

    at.segmented_control(key="compare_protocol").set_value("uniform100").run()
    assert at.button(key="compare_compute")  # uniform100 not computed yet
    at.button(key="compare_compute").click().run()
    table = at.dataframe[-1].value
    pop_uniform = workflow.evaluate_checkpoint(checkpoint.load(three_models / "films-pop"), films,
                                               protocol="uniform100")
    assert table.loc["Popularity · shipped", "NDCG@10"] == pytest.approx(pop_uniform["ndcg@10"])
    assert "coverage@10" not in table.columns  # a full-ranking figure
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "Under uniform100" in text and f"gets {pop_uniform['ndcg@10']:.2f} under uniform100" in text
    assert f"against {pop_full['ndcg@10']:.2f}" in text

    at.segmented_control(key="compare_protocol").set_value("full").run()  # back: cached, shown at once
    assert "compare_compute" not in [b.key for b in at.button]
    assert at.dataframe[-1].value.loc["Popularity · shipped", "NDCG@10"] == pytest.approx(pop_full["ndcg@10"])


def test_empty_history_still_offers_the_metrics(at):
    go(at, COMPARE)
    assert any("history is empty" in i.value for i in at.info)
    assert not at.get("plotly_chart") and not at.dataframe  # no lists, and no equal search in this results folder
    assert at.button(key="compare_compute")


def test_source_without_models(at, tmp_path, monkeypatch, results):
    monkeypatch.setattr("recattn.paths.SHIPPED_MODELS", tmp_path / "none")
    at.session_state["history"] = HISTORY_5
    go(at, COMPARE)
    assert "No model is trained" in at.info[0].value
    assert not at.dataframe and not at.button
    assert not any("No equal search" in c.value for c in at.caption)  # no search, no checkpoint: nothing to say
    # a source with committed searches shows them with no checkpoint of its own (ml-latest-small on a fresh clone)
    (results / "search-films.json").write_text(json.dumps(REPORT))
    go(at, COMPARE)
    assert "No model is trained" in at.info[0].value and not at.button
    assert at.dataframe[0].value["model"].tolist()[0] == "SASRec"
    assert any("4 configurations × 1 min" in c.value for c in at.caption)
