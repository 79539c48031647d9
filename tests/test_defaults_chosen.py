"""The defaults are the equal search's choices on validation: every neural kind's declared settings, on the axes its
search had, are the winner of the recipe search on ml-latest-small
(benchmarks/results/search-ml-latest-small-recipe.json), which chose on validation only. SASRec (additive) keeps
SASRec's, so that the score is the one change between them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import search

DECIDING = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "search-ml-latest-small-recipe.json"


@pytest.fixture(scope="module")
def winners() -> dict:
    return json.loads(DECIDING.read_text())["models"]


@pytest.mark.parametrize("kind", ["sasrec", "bert4rec", "gru", "narm"])
def test_each_default_is_its_searchs_winner(kind, winners):
    assert search.default_settings(kind) == winners[kind]["settings"]


def test_sasrec_additive_keeps_sasrecs_settings():
    assert search.default_settings("sasrec-additive") == search.default_settings("sasrec")


def test_the_deciding_search_chose_on_validation_and_recorded_how(winners):
    report = json.loads(DECIDING.read_text())
    assert report["seeds"] == [0, 1, 2] and len(report["commit"]) == 40
    for kind in ("sasrec", "bert4rec", "gru", "narm"):
        row = winners[kind]
        tried = {json.dumps(t["settings"], sort_keys=True): t["valid"]["ndcg@10"] for t in row["tries"]}
        best_tried = sorted(tried, key=tried.get, reverse=True)[:report["budget"]["top"]]
        assert json.dumps(row["settings"], sort_keys=True) in best_tried  # the winner was among the best on validation
