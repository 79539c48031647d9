"""Comparing models: overlap, rank tables, the metrics table and the protocol-gap sentences, on known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recattn import data
from recattn.results import comparison
from recattn.data.dataset import number_repeats
from recattn.results.comparison import FULL, PROTOCOL_CHOICES, RankedList
from recattn.recommend import Recommender

MODELS = Path(__file__).resolve().parents[1] / "assets" / "models"
UNIFORM = next(p for p in PROTOCOL_CHOICES if p.protocol == "uniform100")
KEEP_SEEN = next(p for p in PROTOCOL_CHOICES if p.protocol == "full" and not p.exclude_seen)


def test_overlap_of_identical_disjoint_and_partial_lists():
    assert comparison.overlap(["a", "b", "c"], ["c", "a", "b"]) == 1.0  # order does not matter
    assert comparison.overlap(["a", "b"], ["c", "d"]) == 0.0
    assert comparison.overlap(list("abcdefghij"), list("abcXYZWVUT")) == pytest.approx(0.3)
    assert comparison.overlap([], []) == 0.0


def test_overlap_matrix_is_symmetric_with_ones_on_the_diagonal():
    lists = [RankedList("A", ("a", "b"), {}), RankedList("B", ("b", "c"), {}), RankedList("C", ("x", "y"), {})]
    m = comparison.overlap_matrix(lists)
    assert list(m.index) == list(m.columns) == ["A", "B", "C"]
    np.testing.assert_allclose(m.to_numpy(), [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]])


def test_rank_table_gives_every_listed_item_its_rank_in_every_model():
    a = RankedList("A", ("x", "y"), {"x": 1, "y": 2, "z": 7, "w": 3})
    b = RankedList("B", ("z", "x"), {"z": 1, "x": 2, "y": 40})  # w is in B's history: no rank
    titles = {"x": "X film", "y": "Y film", "z": "Z film"}
    table = comparison.rank_table([a, b], titles)
    assert list(table.columns) == ["item", "A", "B", "spread"]
    assert list(table.index) == ["x", "z", "y"]  # best rank 1 (mean 1.5), 1 (mean 4), 2
    assert table.loc["x", "A"] == 1 and table.loc["x", "B"] == 2 and table.loc["x", "spread"] == 1
    assert table.loc["z", "A"] == 7 and table.loc["z", "spread"] == 6
    assert table.loc["y", "B"] == 40 and table.loc["y", "spread"] == 38
    assert table.loc["y", "item"] == "Y film"


def test_side_by_side_has_a_row_per_rank_and_a_column_per_model():
    table = comparison.side_by_side([RankedList("A", ("x", "y"), {}), RankedList("B", ("y",), {})],
                                    {"x": "X", "y": "Y"})
    assert list(table.columns) == ["A", "B"] and list(table.index) == [1, 2]
    assert table["A"].tolist() == ["X", "Y"] and table["B"].tolist() == ["Y", ""]


@pytest.fixture(scope="module")
def films():
    return data.load("builtin:films")


@pytest.mark.parametrize("kind", ["sasrec", "pop"])
def test_ranked_list_agrees_with_recommend(films, kind):
    rec = Recommender.from_checkpoint(MODELS / f"films-{kind}", films)
    history = ["2", "10", "11", "40", "7"]
    ranked = comparison.ranked_list("m", rec.ranking(history), k=10)
    expected = rec.recommend(history, k=10, with_attention=False).items
    scores = [item.score for item in expected]
    if len(set(scores)) == len(scores):  # no ties: the same order
        assert ranked.top == tuple(item.id for item in expected)
    assert set(ranked.top) <= set(ranked.ranks) and [ranked.ranks[i] for i in ranked.top] == list(range(1, 11))
    assert not set(history) & set(ranked.ranks)  # seen items are not ranked
    assert sorted(ranked.ranks.values()) == list(range(1, len(films.items) - len(set(history)) + 1))


def test_metrics_table_rows_and_columns():
    table = comparison.metrics_table(
        {"A": {"ndcg@10": 0.3, "hr@10": 0.4, "mrr@10": 0.25, "coverage@10": 0.5}, "B": {"ndcg@10": 0.1, "hr@10": 0.2,
                                                                                      "mrr@10": 0.05}},
        {"A": 1.5, "B": 0.2})
    assert list(table.index) == ["A", "B"]
    assert list(table.columns) == ["NDCG@10", "HR@10", "MRR@10", "coverage@10", "seconds"]
    assert table.loc["A", "NDCG@10"] == 0.3 and np.isnan(table.loc["B", "coverage@10"])
    sampled = comparison.metrics_table({"A": {"ndcg@10": 0.5, "hr@10": 0.6, "mrr@10": 0.4}}, {"A": 1.0})
    assert list(sampled.columns) == ["NDCG@10", "HR@10", "MRR@10", "seconds"]  # no coverage without full ranking


def _m(ndcg: float) -> dict:
    return {"ndcg@10": ndcg}


def test_gap_sentences_carry_the_computed_numbers():
    full = {"SASRec": _m(0.30), "GRU": _m(0.20), "Pop": _m(0.10)}
    uniform = {"SASRec": _m(0.60), "GRU": _m(0.50), "Pop": _m(0.40)}
    first, pop, order = comparison.protocol_gap(UNIFORM, uniform, full, "Pop")
    assert "SASRec's NDCG@10 is 0.60 against 0.30" in first and "inflates every model" in first
    assert "×2.0 to ×4.0" in first  # SASRec doubles, popularity quadruples
    assert "gets 0.40" in pop and "67% of SASRec's score" in pop and "0.10 (33%)" in pop and "closer" in pop
    assert order == "The models keep their order."


def test_gap_sentences_say_when_the_order_changes():
    full = {"A": _m(0.30), "B": _m(0.20)}
    sampled = {"A": _m(0.40), "B": _m(0.50)}
    sentences = comparison.protocol_gap(UNIFORM, sampled, full, None)
    assert len(sentences) == 2  # no baseline sentence without a popularity model
    assert sentences[-1] == "The order changes: B > A here, A > B under full ranking."


def test_gap_sentences_for_full_and_for_seen_items_kept():
    full = {"SASRec": _m(0.30), "GRU": _m(0.05), "Pop": _m(0.10)}
    (only,) = comparison.protocol_gap(FULL, full, full, "Pop")
    assert "gets NDCG@10 0.10" in only and "SASRec, gets 0.30 (×3.0)" in only and "1 of 2 models beat it" in only
    kept = {"SASRec": _m(0.15), "GRU": _m(0.05), "Pop": _m(0.10)}
    first = comparison.protocol_gap(KEEP_SEEN, kept, full, "Pop")[0]
    assert "0.15 against 0.30" in first and "×0.50 to ×1.00" in first


def test_number_repeats():
    assert number_repeats(["A", "B", "A", "A"]) == ["A", "B", "A (2)", "A (3)"]
