"""Model checks: a causal leak is caught, ignored positions, collapsed attention and popularity bias are named."""

import numpy as np
import pytest
import torch

from recattn.analysis import checks
from recattn.config import ModelConfig
from recattn.models import build_model, transformer


def _model(kind="sasrec", **kw):
    cfg = {"kind": kind, "n_items": 30, "max_len": 8, "hidden": 16, "layers": 2, "heads": 2, "dropout": 0.0} | kw
    return build_model(ModelConfig(**cfg), seed=0).eval()


SEQS = checks.sample_histories([np.random.default_rng(u).integers(1, 31, 3 + u % 9) for u in range(40)], 8, n=30)


def test_sample_histories_draws_left_padded_histories_of_two_items_or_more():
    got = checks.sample_histories([np.array([1]), np.array([1, 2]), np.arange(1, 12)], 8, n=5)
    assert got.tolist() == [[0, 0, 0, 0, 0, 0, 1, 2], [4, 5, 6, 7, 8, 9, 10, 11]]
    assert SEQS.shape == (30, 8) and ((SEQS != 0).sum(1) >= 2).all()


@pytest.mark.parametrize("kind", ["sasrec", "gru", "narm"])
def test_a_causal_model_passes_the_leak_check(kind):
    check = checks.causal_leak(_model(kind), SEQS)
    assert check.applicable and check.passed and check.value <= checks.LEAK_TOLERANCE
    assert check.reading.startswith("No leak")


@pytest.mark.parametrize("ahead", [1, 8])
def test_a_mask_that_lets_positions_see_the_future_fails_the_leak_check(monkeypatch, ahead):
    """SASRec with a mask that shows `ahead` later positions (1: only the next one): the leak is caught."""

    def leaky(seqs, causal):
        T = seqs.shape[1]
        keys = (seqs != 0)[:, None, None, :]
        return keys & torch.ones(T, T, dtype=torch.bool).tril(ahead)

    monkeypatch.setattr(transformer, "attention_mask", leaky)
    check = checks.causal_leak(_model("sasrec"), SEQS)
    assert check.applicable and not check.passed and check.value > 1e-3
    assert check.reading.startswith("Leak")


def test_leak_check_does_not_apply_to_bidirectional_or_score_only_models():
    bert = checks.causal_leak(_model("bert4rec"), SEQS)
    assert not bert.applicable and bert.passed and bert.value > 1e-3  # it does see the future, by design
    for kind in ("additive", "pop"):
        check = checks.causal_leak(_model(kind), SEQS)
        assert not check.applicable and check.passed


def test_a_model_that_ignores_the_order_fails_the_positions_check():
    check = checks.positions_used(_model("pop"), SEQS)
    assert not check.passed and check.value == 1.0 and check.details["mean_score_change"] == 0.0


def test_a_model_that_reads_the_order_passes_the_positions_check():
    check = checks.positions_used(_model("gru", layers=1), SEQS)  # a recurrence: the latest items weigh most
    assert check.passed and check.value < checks.ORDER_IGNORED and check.details["mean_score_change"] > 0


def _scale_queries_and_keys(model, factor):
    with torch.no_grad():
        for block in model.blocks:
            D = model.config.hidden
            block.attn.qkv.weight[: 2 * D] *= factor
            block.attn.qkv.bias[: 2 * D] *= factor


def test_uniform_and_one_hot_heads_are_flagged_as_collapsed():
    uniform = _model("sasrec")
    _scale_queries_and_keys(uniform, 0.0)  # every score equal: each row spreads evenly
    check = checks.attention_collapse(uniform, SEQS)
    assert not check.passed and check.value == 1.0
    assert check.details["uniform_heads"] == ["L1H1", "L1H2", "L2H1", "L2H2"] and not check.details["one_hot_heads"]
    sharp = _model("sasrec")
    _scale_queries_and_keys(sharp, 1000.0)  # scores far apart: each row picks one key
    check = checks.attention_collapse(sharp, SEQS)
    assert not check.passed and set(check.details["one_hot_heads"]) == {"L1H1", "L1H2", "L2H1", "L2H2"}
    assert not checks.attention_collapse(_model("gru"), SEQS).applicable


def test_popularity_bias_places_the_top_k_between_what_people_pick_and_a_chart():
    counts = np.r_[0, np.arange(1, 31)]  # item i was seen i times: item 30 most popular
    chart = _model("pop")
    chart.counts.copy_(torch.as_tensor(counts, dtype=torch.float32))
    check = checks.popularity_bias(chart, SEQS, counts)
    assert not check.passed and check.details["chart_share"] == pytest.approx(1.0)
    assert check.value == check.details["chart_percentile"] > check.details["interactions_percentile"]
    shuns = _model("pop")
    shuns.counts.copy_(-torch.as_tensor(counts, dtype=torch.float32))  # the least popular first
    check = checks.popularity_bias(shuns, SEQS, counts)
    assert check.passed and check.value < 0.5 and check.details["chart_share"] < 0
    # interactions-weighted percentile: sum_i i * (i / 30) / sum_i i
    people = (counts[1:] * counts[1:] / 30).sum() / counts.sum()
    assert check.details["interactions_percentile"] == pytest.approx(people)


def test_run_checks_gives_every_check_a_sentence():
    counts = np.r_[0, np.ones(30)]
    found = checks.run_checks(_model("sasrec"), SEQS, counts)
    assert [c.name for c in found] == ["causal leak", "positions", "attention collapse", "popularity bias"]
    assert all(c.reading.endswith(".") for c in found)


def test_uniform_target_attention_is_flagged_and_its_rows_are_candidates():
    model = _model("additive")
    with torch.no_grad():
        model.energy.weight.zero_()  # every energy equal: each candidate reads the history evenly
    check = checks.attention_collapse(model, SEQS)
    assert not check.passed and check.details["uniform_heads"] == ["L1H1"]


@pytest.mark.parametrize("kind", ["sasrec", "bert4rec", "sasrec-additive", "narm", "additive"])
def test_uniform_attention_weighs_every_visible_item_alike_and_only_inside_its_block(kind):
    from recattn.models.attention import uniform_attention

    model, seqs = _model(kind), torch.as_tensor(SEQS[:4])
    learned = model.score(seqs, return_attention=True)
    with uniform_attention():
        flat = model.score(seqs, return_attention=True)
    for m in flat.attention:
        rows = m.sum(-1)
        visible = m > 0
        assert torch.allclose(rows[rows > 0], torch.ones_like(rows[rows > 0]))
        # every visible weight of a row is the same: 1 / the number of visible keys
        assert torch.allclose(m[visible], (1 / visible.sum(-1, keepdim=True).expand_as(m).float())[visible])
    assert not torch.allclose(flat.scores[:, 1:], learned.scores[:, 1:])
    assert torch.allclose(model.score(seqs).scores, learned.scores, atol=1e-5)  # the learned weights again after it


def test_the_attention_check_reports_the_ndcg_drop_it_measured(monkeypatch):
    histories = [np.random.default_rng(u).integers(1, 31, 3 + u % 9) for u in range(60)]
    targets = np.random.default_rng(1).integers(1, 31, 60)
    check = checks.attention_needed(_model("sasrec"), histories, targets, 30, users=40)
    learned, uniform = check.details["ndcg@10"], check.details["ndcg@10_uniform"]
    assert check.applicable and check.details["users"] == 40
    assert check.value == pytest.approx((learned - uniform) / learned if learned > 0 else 0.0)
    assert check.passed == (check.value >= checks.NEEDS_ATTENTION) and f"{learned:.4f}" in check.reading
    none = checks.attention_needed(_model("gru"), histories, targets, 30)
    assert not none.applicable and none.passed
