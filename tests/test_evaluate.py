"""Metrics on hand-computed ranks, and each protocol on a case whose answer is known."""

import math

import numpy as np
import pytest
import torch

from recattn.evaluate import evaluate, metrics_from_ranks, rank_of_target


def test_metrics_from_hand_computed_ranks():
    m = metrics_from_ranks(np.array([0, 1, 9, 10, 25]), ks=(10,))
    assert m["hr@10"] == pytest.approx(3 / 5)
    assert m["ndcg@10"] == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(11)) / 5)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 2 + 1 / 10) / 5)


def test_rank_counts_items_above_and_half_the_ties():
    scores = torch.tensor([[float("-inf"), 0.9, 0.5, 0.5, 0.5, 0.1]])
    assert rank_of_target(scores, torch.tensor([1])).item() == 0
    assert rank_of_target(scores, torch.tensor([5])).item() == 4
    # target tied with two others: 1 above + 2 ties // 2
    assert rank_of_target(scores, torch.tensor([2])).item() == 2


def _fixed_scorer(order):
    """Scores that rank items in `order` (best first) for every history."""
    def score(histories):
        s = torch.zeros(len(histories), len(order) + 1)
        for r, item in enumerate(order):
            s[:, item] = len(order) - r
        return s
    return score


def test_full_protocol_excludes_seen_items_unless_kept():
    scorer = _fixed_scorer([1, 2, 3, 4, 5])
    hist = [np.array([1, 2])]
    target = np.array([3])
    excluded = evaluate(scorer, hist, target, 5, ks=(1,))
    kept = evaluate(scorer, hist, target, 5, ks=(1,), exclude_seen=False)
    assert excluded["hr@1"] == 1.0  # items 1 and 2 are seen, so 3 is on top
    assert kept["hr@1"] == 0.0 and kept["mrr@1"] == 0.0 and kept["ndcg@1"] == 0.0
    assert kept["users"] == 1
    assert excluded["coverage@10"] == pytest.approx(3 / 5)  # the top-10 of 5 items, minus the 2 seen


@pytest.mark.parametrize("protocol", ["uniform100", "popular100"])
def test_sampled_protocols_rank_against_100_negatives(protocol):
    n = 500
    order = list(range(1, n + 1))
    scorer = _fixed_scorer(order)  # item 1 best, item 500 worst
    counts = np.r_[0, np.arange(n, 0, -1)]
    best = evaluate(scorer, [np.array([7])], np.array([1]), n, protocol=protocol, item_counts=counts, ks=(1,))
    worst = evaluate(scorer, [np.array([7])], np.array([n]), n, protocol=protocol, item_counts=counts, ks=(10,))
    assert best["hr@1"] == 1.0
    assert worst["hr@10"] == 0.0  # the worst item is below all 100 negatives


@pytest.mark.parametrize("protocol", ["uniform100", "popular100"])
def test_sampled_protocol_on_a_too_small_catalogue_is_a_clear_error(protocol):
    from recattn.errors import RecAttnError

    scorer = _fixed_scorer(list(range(1, 121)))
    history = np.arange(2, 30)  # 28 seen + the target leave 91 of 120 items: fewer than 100 negatives
    with pytest.raises(RecAttnError, match="needs 100 items outside each history"):
        evaluate(scorer, [history], np.array([1]), 120, protocol=protocol, item_counts=np.ones(121))
