"""Metrics on hand-computed ranks, and each protocol on a case whose answer is known: fractional ties, broken
scores, repeats of seen items, validation under both seen rules, the sampled negatives and their proportions."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch

from recattn import defaults
from recattn.cli import build_parser, main
from recattn.config import ModelConfig, TrainConfig
from recattn.data import Dataset, prepare
from recattn.errors import RecAttnError
from recattn.results.evaluate import (SEEN_KEPT, evaluate, evaluate_seen_both, metrics_from_ranks, rank_of_target, ranks,
                              sample_candidates)
from recattn.models import build_model
from recattn.training.fit import model_scorer, validate
from recattn.training.workflow import train_and_save

INF = float("inf")


def test_metrics_from_hand_computed_ranks():
    m = metrics_from_ranks(np.array([0, 1, 9, 10, 25]), ks=(10,))
    assert m["hr@10"] == pytest.approx(3 / 5)
    assert m["ndcg@10"] == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(11)) / 5)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 2 + 1 / 10) / 5)


def test_metrics_from_fractional_and_infinite_ranks():
    m = metrics_from_ranks(np.array([0.5, 9.5, 10.0, INF]), ks=(10,))
    assert m["hr@10"] == pytest.approx(2 / 4)  # 9.5 < 10 is a hit; 10 and never-shown are not
    assert m["ndcg@10"] == pytest.approx((1 / math.log2(2.5) + 1 / math.log2(11.5)) / 4)
    assert m["mrr@10"] == pytest.approx((1 / 1.5 + 1 / 10.5) / 4)


def test_rank_counts_items_above_and_half_the_ties():
    scores = torch.tensor([[-INF, 0.9, 0.5, 0.5, 0.5, 0.1]])
    assert rank_of_target(scores, torch.tensor([1])).item() == 0
    assert rank_of_target(scores, torch.tensor([5])).item() == 4
    assert rank_of_target(scores, torch.tensor([2])).item() == 2  # 1 above + 2 ties / 2
    pair = torch.tensor([[-INF, 0.9, 0.5, 0.5, 0.1]])
    assert rank_of_target(pair, torch.tensor([3])).item() == 1.5  # 1 above + 1 tie / 2: a fraction, not 1
    flat = torch.zeros(1, 8)
    assert rank_of_target(flat, torch.tensor([4])).item() == 3.5  # all 8 tied: the middle of ranks 0..7


def _fixed_scorer(order):
    """Scores that rank items in `order` (best first) for every history."""
    def score(histories):
        s = torch.zeros(len(histories), len(order) + 1)
        for r, item in enumerate(order):
            s[:, item] = len(order) - r
        return s
    return score


def _constant_scorer(n_items):
    return lambda histories: torch.ones(len(histories), n_items + 1)


def test_constant_scores_rank_in_the_middle_of_the_candidates():
    # history {1}: four candidates 2..5 all tied, so the target's rank is 0 + 3 / 2 for any model
    m = evaluate(_constant_scorer(5), [np.array([1])], np.array([3]), 5, ks=(1, 2))
    assert m["hr@1"] == 0.0 and m["hr@2"] == 1.0
    assert m["ndcg@2"] == pytest.approx(1 / math.log2(3.5))
    assert m["mrr@2"] == pytest.approx(1 / 2.5)


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
    assert excluded["seen_targets"] == kept["seen_targets"] == 0


@pytest.mark.parametrize("protocol", ["full", "uniform100", "popular100"])
def test_a_target_already_seen_is_excluded_like_the_other_seen_items(protocol):
    n = 300
    scorer = _fixed_scorer(list(range(1, n + 1)))  # item 1 best
    hist = [np.array([1, 2]), np.array([5, 6])]
    targets = np.array([2, 3])  # user 0 repeats item 2 (second best of all); user 1's target is new
    kw = dict(protocol=protocol, item_counts=np.ones(n + 1), ks=(20,))
    excluded = evaluate(scorer, hist, targets, n, **kw)
    kept = evaluate(scorer, hist, targets, n, exclude_seen=False, **kw)
    assert excluded["seen_targets"] == kept["seen_targets"] == 1
    assert excluded["hr@20"] == 0.5  # the repeat is a miss, however high it scores; user 1 still hits
    assert kept["hr@20"] == 1.0  # with seen items kept the repeat is ranked like any item


@pytest.mark.parametrize("protocol", ["full", "uniform100", "popular100"])
@pytest.mark.parametrize("bad", [float("nan"), INF, -INF])
def test_a_non_finite_target_score_is_a_clear_error(protocol, bad):
    n = 200

    def broken(histories):
        s = torch.rand(len(histories), n + 1)
        s[:, 7] = bad
        return s

    with pytest.raises(RecAttnError, match="output is broken.*non-finite score.*item index 7"):
        evaluate(broken, [np.array([1, 2])], np.array([7]), n, protocol=protocol, item_counts=np.ones(n + 1))


def test_minus_infinity_on_other_items_ranks_them_last_and_padding_is_not_read():
    def scorer(histories):
        s = _fixed_scorer([1, 2, 3, 4, 5])(histories)
        s[:, 1] = -INF  # the model's own exclusion of item 1: fine, it ranks below everything
        s[:, 0] = float("nan")  # padding is never a candidate
        return s

    m = evaluate(scorer, [np.array([5])], np.array([2]), 5, ks=(1,), exclude_seen=False)
    assert m["hr@1"] == 1.0


def test_a_nan_score_anywhere_is_a_clear_error():
    def broken(histories):
        s = torch.arange(11.0).repeat(len(histories), 1)
        s[:, 4] = float("nan")  # not the target, but a NaN is no score: it would silently rank below everything
        return s

    with pytest.raises(RecAttnError, match="output is broken: it gave NaN scores for 1 of 1 users"):
        evaluate(broken, [np.array([1])], np.array([9]), 10)


def test_seen_both_matches_each_rule_from_one_scoring_pass():
    calls = []
    order = _fixed_scorer([3, 1, 4, 2, 5, 6])

    def scorer(histories):
        calls.append(len(histories))
        return order(histories)

    hist = [np.array([3]), np.array([1, 4]), np.array([2])]
    targets = np.array([1, 3, 2])  # the last user repeats item 2
    both = evaluate_seen_both(scorer, hist, targets, 6, ks=(1, 5), batch_size=2)
    assert calls == [2, 1]  # one pass over the users, in batches
    assert {k: v for k, v in both.items() if k != SEEN_KEPT} == evaluate(order, hist, targets, 6, ks=(1, 5))
    assert both[SEEN_KEPT] == evaluate(order, hist, targets, 6, ks=(1, 5), exclude_seen=False)
    assert both["hr@1"] == pytest.approx(2 / 3) and both[SEEN_KEPT]["hr@1"] == pytest.approx(1 / 3)


def test_per_user_ranks_are_those_the_metrics_average():
    order = _fixed_scorer([3, 1, 4, 2, 5, 6])
    hist = [np.array([3]), np.array([1, 4]), np.array([2]), np.array([6])]
    targets = np.array([1, 3, 2, 4])  # the third user repeats item 2
    excluded = ranks(order, hist, targets, 6, batch_size=3)
    kept = ranks(order, hist, targets, 6, exclude_seen=False)
    # user 0: 1 is first once 3 is out; user 1: 3 is first; user 2: a repeat, never shown; user 3: 3 and 1 above 4
    assert excluded.tolist() == [0.0, 0.0, INF, 2.0]
    assert kept.tolist() == [1.0, 0.0, 3.0, 2.0]
    assert metrics_from_ranks(excluded) == {k: v for k, v in evaluate(order, hist, targets, 6).items()
                                           if k in metrics_from_ranks(excluded)}
    tied = ranks(_constant_scorer(5), [np.array([1])], np.array([3]), 5)
    assert tied.tolist() == [1.5]  # four candidates tied: the middle of ranks 0..3


def _tiny_dataset(n_users=40, n_items=25, length=8, seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    rows = [(f"u{u}", f"i{i}", t) for u in range(n_users)
            for t, i in enumerate(rng.choice(np.arange(1, n_items + 1), size=length, replace=False))]
    items = pd.DataFrame({"item_id": [f"i{i}" for i in range(1, n_items + 1)],
                          "title": [f"Item {i}" for i in range(1, n_items + 1)], "genres": "",
                          "year": pd.array([pd.NA] * n_items, dtype="Int64")})
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"]).astype({"timestamp": "int64"})
    return Dataset("tiny", "memory", items, inter)


def test_validation_and_stored_metrics_hold_both_seen_rules(tmp_path):
    dataset = _tiny_dataset()
    vocab, split = prepare(dataset)
    model = build_model(ModelConfig(kind="pop", n_items=vocab.size))
    model.fit_counts(split)
    valid = validate(model, split, torch.device("cpu"))
    scorer = model_scorer(model, torch.device("cpu"))
    counts = split.item_counts()
    assert valid == {**evaluate(scorer, split.valid_inputs, split.valid_targets, vocab.size, item_counts=counts),
                     SEEN_KEPT: evaluate(scorer, split.valid_inputs, split.valid_targets, vocab.size,
                                         item_counts=counts, exclude_seen=False)}
    # popularity ranks seen items too, so keeping them can only push the target down
    assert valid[SEEN_KEPT]["ndcg@10"] < valid["ndcg@10"]

    _, metrics = train_and_save(dataset, ModelConfig(kind="pop"), TrainConfig(device="cpu"), tmp_path / "m")
    stored = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert stored["test"] == metrics["test"] and stored["valid"] == metrics["valid"]
    assert stored["valid"]["ndcg@10"] == valid["ndcg@10"]  # the selection figure, read where it always was
    assert stored["valid"][SEEN_KEPT] == valid[SEEN_KEPT]
    assert set(stored["test"][SEEN_KEPT]) >= {"ndcg@10", "hr@10", "users", "seen_targets"}
    assert stored["test"][SEEN_KEPT]["ndcg@10"] < stored["test"]["ndcg@10"]


def test_the_repeat_offset_switch_reaches_the_trained_model(tmp_path, capsys):
    parse = build_parser().parse_args
    assert parse(["train", "--out", "x"]).repeat_bias is None  # the model's own default stays
    assert defaults.model_config("sasrec", repeat_bias=None).repeat_bias is True
    assert parse(["compare", "--no-repeat-bias"]).repeat_bias is False
    data = tmp_path / "tiny.csv"
    _tiny_dataset().interactions.rename(columns={"user_id": "user", "item_id": "item"}).to_csv(data, index=False)
    common = ["--data", str(data), "--model", "sasrec", "--epochs", "1", "--max-len", "8", "--hidden", "8",
              "--layers", "1", "--device", "cpu", "--json"]
    for flag, want in (("--no-repeat-bias", False), ("--repeat-bias", True)):
        out = tmp_path / flag
        assert main(["train", *common, "--out", str(out), flag]) == 0
        capsys.readouterr()
        assert json.loads((out / "config.json").read_text())["model"]["repeat_bias"] is want


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
def test_sampled_negatives_are_distinct_and_never_seen_nor_the_target(protocol):
    n = 150  # small, so a careless draw would hit the history or repeat itself
    rng = np.random.default_rng(0)
    hist = [rng.choice(np.arange(1, n + 1), size=40, replace=False) for _ in range(50)]
    targets = np.array([h[0] for h in hist[:25]] + [int(np.setdiff1d(np.arange(1, n + 1), h)[0]) for h in hist[25:]])
    counts = np.r_[0, rng.integers(1, 50, size=n)]
    cands = sample_candidates(np.random.default_rng(1), hist, targets, n, counts, protocol)
    assert cands.shape == (50, 101)
    assert (cands[:, 0] == targets).all()
    for h, t, row in zip(hist, targets, cands):
        negatives = row[1:]
        assert len(set(negatives.tolist())) == 100
        assert not np.isin(negatives, h).any() and t not in negatives
        assert ((negatives >= 1) & (negatives <= n)).all()  # never padding


def test_popular100_draws_negatives_in_proportion_to_training_counts():
    # 4 tiers of 1,000 items with training counts 1, 2, 4, 8, and 1,000 items never trained on
    n = 5000
    counts = np.r_[0, np.repeat([1, 2, 4, 8, 0], 1000)]
    tier = np.r_[-1, np.repeat(np.arange(5), 1000)]
    hist = [np.array([1, 1001, 2001, 3001])] * 300
    cands = sample_candidates(np.random.default_rng(7), hist, np.full(300, 4001), n, counts, "popular100")
    drawn = np.bincount(tier[cands[:, 1:].ravel()], minlength=5)  # 30,000 draws
    assert drawn[4] == 0  # an item never seen in training is never a popular negative
    per_item = drawn[:4] / 1000
    assert per_item / per_item[0] == pytest.approx([1, 2, 4, 8], rel=0.1)
    expected = drawn[:4].sum() * np.array([1, 2, 4, 8]) / 15
    chi2 = ((drawn[:4] - expected) ** 2 / expected).sum()
    assert chi2 < 16.3  # 3 degrees of freedom, p = 0.001
    uniform = sample_candidates(np.random.default_rng(7), hist, np.full(300, 4001), n, counts, "uniform100")
    spread = np.bincount(tier[uniform[:, 1:].ravel()], minlength=5)
    assert spread / spread.sum() == pytest.approx([0.2] * 5, rel=0.1)


@pytest.mark.parametrize("protocol", ["uniform100", "popular100"])
def test_sampled_protocol_on_a_too_small_catalogue_is_a_clear_error(protocol):
    scorer = _fixed_scorer(list(range(1, 121)))
    history = np.arange(2, 30)  # 28 seen + the target leave 91 of 120 items: fewer than 100 negatives
    with pytest.raises(RecAttnError, match="needs 100 items outside each history"):
        evaluate(scorer, [history], np.array([1]), 120, protocol=protocol, item_counts=np.ones(121))
