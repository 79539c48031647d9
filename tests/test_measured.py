"""recattn/results/measured.py: the committed search results read back as the pages show them, and a clear error for a
broken file."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from recattn.results import measured
from recattn.errors import RecAttnError


def _spread(values):
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else None
    return {"mean": mean, "sd": sd, "values": values}


def _row(test, valid, **extra):
    return {"valid_ndcg": _spread(valid), "test_ndcg": _spread(test), "test_hr": _spread([2 * t for t in test]),
            "test_ndcg_seen_kept": _spread([t - 0.01 for t in test]), **extra}


REPORT = {
    "source": "builtin:films", "users": 400, "seeds": [0, 1, 2], "command": "python benchmarks/search.py --data x",
    "commit": "a" * 40, "date": "2026-11-30", "threads": 1,
    "budget": {"configs": 4, "minutes": 1.0, "top": 1, "seeds": [0, 1, 2], "device": "auto"},
    "models": {
        "sasrec": _row([0.20, 0.22, 0.21], [0.25, 0.26, 0.24], configs=4, is_default=False,
                       settings={"lr": 0.003, "hidden": 64, "repeat_bias": False}),
        "gru": _row([0.18, 0.19, 0.20], [0.22, 0.23, 0.21], configs=4, is_default=True,
                    settings={"lr": 0.003, "hidden": 64}),
        "sasrec>additive": _row([0.15, 0.16, 0.14], [0.2, 0.2, 0.2], configs=0, two_stage=True, settings={}),
        "pop": _row([0.05], [0.06], configs=0, settings={}),
    },
    "paired": [{"a": "sasrec", "b": "gru", "users": 400, "mean_diff": 0.02, "ci95": [0.005, 0.035], "wins": 150,
                "losses": 100, "ties": 150, "sign_p": 0.002, "verdict": "beyond noise"}],
}


@pytest.fixture
def search(tmp_path):
    (tmp_path / "search-films.json").write_text(json.dumps(REPORT))
    (found,) = measured.searches("builtin:films", tmp_path)
    return found


def test_results_are_found_by_the_source_name(tmp_path):
    assert measured.results_path("builtin:news", tmp_path) == tmp_path / "search-news.json"
    assert measured.results_path("/data/ml-latest-small", tmp_path) == tmp_path / "search-ml-latest-small.json"
    assert measured.searches("builtin:news", tmp_path) == []  # never run: nothing to claim


def test_the_table_holds_every_model_with_its_spread(search):
    table = measured.model_table(search)
    assert table["model"].tolist() == ["SASRec", "GRU4Rec", "SASRec → Additive attention (top 200)", "Popularity"]
    sasrec = table.iloc[0]
    assert sasrec["test NDCG@10"] == pytest.approx(0.21) and sasrec["test sd"] == pytest.approx(0.01)
    assert sasrec["seeds"] == 3 and sasrec["settings"] == "lr 0.003, hidden 64, repeat offset off"
    assert table.iloc[1]["settings"].endswith("(the default)")
    assert table.iloc[2]["settings"] == "— (the two winners, seed by seed)"
    assert table.iloc[3]["settings"] == "— (counted, nothing to tune)" and pd.isna(table.iloc[3]["test sd"])  # one run


def test_the_contrast_states_the_spread_and_the_verdict_either_way_round(search):
    said = measured.contrast(search, "sasrec", "gru")
    assert "SASRec reaches a test NDCG@10 of 0.210 ± 0.010 and GRU4Rec 0.190 ± 0.010" in said
    assert "+0.020 (95% CI +0.005 to +0.035): a gap beyond noise" in said
    flipped = measured.contrast(search, "gru", "sasrec")
    assert "-0.020 (95% CI -0.035 to -0.005)" in flipped
    assert measured.contrast(search, "sasrec", "bert4rec") is None  # not in this search
    (sentence,) = measured.paired_sentences(search)
    assert sentence.startswith("SASRec − GRU4Rec: +0.0200 NDCG@10 per user") and sentence.endswith("beyond noise.")
    assert "4 configurations × 1 min" in search.made() and "commit aaaaaaaaaa" in search.made()


@pytest.mark.parametrize("text", ["{not json", "[]", json.dumps({"models": {}})])
def test_a_broken_results_file_gets_a_clear_error(tmp_path, text):
    (tmp_path / "search-films.json").write_text(text)
    with pytest.raises(RecAttnError, match="search-films.json .*run python benchmarks/search.py --data builtin:films"):
        measured.searches("builtin:films", tmp_path)


@pytest.mark.parametrize("verdict, sign_p, says", [
    ("beyond noise", 0.002, "a gap beyond noise."),
    ("beyond noise", 0.45, "a gap beyond noise by the bootstrap of the mean, but not by counting users: SASRec is "
                           "better for 150 users and worse for 100 (sign test p = 0.45)"),
    ("within noise", 0.3, "a gap within noise: this data cannot tell them apart."),
    ("within noise", 0.01, "a gap within noise by the bootstrap of the mean, though counting users SASRec is better "
                           "for 150 users and worse for 100 (sign test p = 0.01)"),
])
def test_the_contrast_says_when_the_bootstrap_and_the_sign_test_disagree(tmp_path, verdict, sign_p, says):
    report = json.loads(json.dumps(REPORT))
    report["paired"][0].update(verdict=verdict, sign_p=sign_p)
    (tmp_path / "search-films.json").write_text(json.dumps(report))
    (search,) = measured.searches("builtin:films", tmp_path)
    assert says in measured.contrast(search, "sasrec", "gru")
    if "counting users" in says:  # the counts follow the order the contrast is asked in
        assert "GRU4Rec is better for 100 users and worse for 150" in measured.contrast(search, "gru", "sasrec")


def test_later_searches_of_the_same_data_come_after_the_equal_search(tmp_path):
    """search-<name>-<what>.json holds a later run on the same data: read after the equal search of all models, and
    a contrast is taken from the first search that holds both models."""
    later = json.loads(json.dumps(REPORT))
    later["models"] = {"sasrec-additive": _row([0.23, 0.24, 0.22], [0.27, 0.27, 0.27], configs=4, settings={}),
                       "sasrec": _row([0.19, 0.20, 0.21], [0.25, 0.25, 0.25], configs=4, settings={})}
    later["paired"] = []
    assert measured.searches("builtin:films", tmp_path) == []
    (tmp_path / "search-films-additive.json").write_text(json.dumps(later))
    (tmp_path / "search-filmsy.json").write_text("{not json")  # another source's name: never read
    (tmp_path / "search-films.json").write_text(json.dumps(REPORT))
    found = measured.searches("builtin:films", tmp_path)
    assert [m.path.name for m in found] == ["search-films.json", "search-films-additive.json"]
    # SASRec against GRU4Rec: the equal search holds both; SASRec (additive) is only in the later one
    assert "SASRec reaches a test NDCG@10 of 0.210 ± 0.010" in measured.first_contrast(found, "sasrec", "gru")
    said = measured.first_contrast(found, "sasrec-additive", "sasrec")
    assert said.startswith("After the same tuning effort on builtin:films, SASRec (additive) reaches a test NDCG@10 "
                           "of 0.230 ± 0.010 and SASRec 0.200 ± 0.010")
    assert measured.first_contrast(found, "sasrec-additive", "gru") is None


# ---------------------------------------------------------------- at equal time and at convergence
# GRU4Rec validates early and learns fast; SASRec starts late and ends higher: the leader changes with the budget
GRU_CURVES = [[(5.0, 0.10), (20.0, 0.15), (60.0, 0.16)], [(6.0, 0.12), (21.0, 0.14), (59.0, 0.15)]]
SASREC_CURVES = [[(12.0, 0.05), (40.0, 0.18), (60.0, 0.20)], [(16.0, 0.07), (41.0, 0.19), (58.0, 0.17)]]


def _runs(curves, settings):
    return [{"settings": settings, "seed": s, "stage": "seeds", "curve": c} for s, c in enumerate(curves)]


TIMED = {**REPORT, "seeds": [0, 1], "models": {
    **REPORT["models"],
    "sasrec": {**REPORT["models"]["sasrec"], "seed_runs": _runs(SASREC_CURVES, REPORT["models"]["sasrec"]["settings"])},
    "gru": {**REPORT["models"]["gru"], "seed_runs": _runs(GRU_CURVES, REPORT["models"]["gru"]["settings"])
            + _runs([[(1.0, 0.9)]], {"lr": 0.1})},  # a seed run of the configuration that lost: not the winner's
}}
CONVERGED = {"cap_minutes": 15, "seeds": [0], "models": {
    "sasrec": {"valid_ndcg": _spread([0.24]), "seconds": _spread([300.0]), "runs": [{"curve": [(60.0, 0.2)]}]},
    "gru": {"valid_ndcg": _spread([0.26]), "seconds": _spread([240.0]), "runs": [{"curve": [(60.0, 0.2)]}]}}}


def test_the_curves_are_the_winners_seed_runs_and_a_run_keeps_its_best_so_far(tmp_path):
    timed = measured.Measured(TIMED, tmp_path / "search-films.json")
    found = measured.curves(timed)
    assert set(found) == {"sasrec", "gru"}  # the two-stage and counted rows have none
    assert found["gru"] == GRU_CURVES  # the losing configuration's run is left out
    assert measured.reached(SASREC_CURVES[1], 15.9) is None and measured.reached(SASREC_CURVES[1], 60) == 0.19
    early = measured.standing(found, 15.0)
    assert early["gru"] == pytest.approx(0.11) and early["sasrec"] is None  # one SASRec seed has not validated yet
    assert measured.standing(found, 60.0)["sasrec"] == pytest.approx((0.20 + 0.19) / 2)


def test_the_budget_sentence_says_who_leads_when(tmp_path):
    timed = measured.Measured(TIMED, tmp_path / "search-films.json")
    said = measured.budget_sentence(timed)
    assert said.startswith("Mean best validation NDCG@10 over seeds 0, 1: after 15 s, GRU4Rec 0.110 (SASRec: no epoch "
                           "validated yet); after the search's 60 s, SASRec 0.195 > GRU4Rec 0.155.")
    assert said.endswith("The leader changes with the budget: GRU4Rec learns faster, SASRec is ahead at the end.")
    converged = measured.budget_sentence(timed, CONVERGED)
    # seed 0 at the 60 s budget: SASRec 0.20, GRU4Rec 0.16, so the same seed's runs to early stop are compared to it
    assert converged.endswith("Trained to early stop (seed 0, at most 15 min; minutes taken: SASRec 5.0, GRU4Rec "
                              "4.0): GRU4Rec 0.260 > SASRec 0.240, so given time GRU4Rec overtakes SASRec, first at "
                              "the budget with the same seed 0.")
    assert measured.budget_sentence(measured.Measured(REPORT, tmp_path / "search-films.json")) is None  # no curves


def test_the_convergence_file_beside_a_search_is_read_and_a_broken_one_says_how_to_remake_it(tmp_path):
    timed = measured.Measured(TIMED, tmp_path / "search-films-recipe.json")
    assert measured.convergence(timed) is None
    (tmp_path / "converge-films-recipe.json").write_text(json.dumps(CONVERGED))
    assert measured.convergence(timed)["cap_minutes"] == 15
    (tmp_path / "converge-films-recipe.json").write_text("{")
    with pytest.raises(RecAttnError, match="run python benchmarks/converge.py search-films-recipe.json"):
        measured.convergence(timed)
