"""NARM: a GRU's last state reads every earlier state with the seed's additive attention. The weights it returns
are the ones that made its scores, rows sum to 1 over the history, padding changes nothing, and it learns."""

import numpy as np
import pandas as pd
import pytest
import torch

from recattn import viz
from recattn.config import ModelConfig, TrainConfig
from recattn.data.sequences import Sequences, leave_one_out
from recattn.results.evaluate import evaluate
from recattn.models import build_model
from recattn.recommend import Recommender
from recattn.training.fit import fit, model_scorer
from recattn.viz.heads import row_bars

N_ITEMS = 30
TINY = {"n_items": N_ITEMS, "max_len": 8, "hidden": 16, "layers": 1, "dropout": 0.0}
SEQS = torch.tensor([[0, 0, 0, 3, 5, 7, 2, 9], [0] * 8, [0, 0, 0, 0, 0, 0, 0, 4], [1, 2, 3, 4, 5, 6, 7, 8]])


def _close(a: torch.Tensor, b: torch.Tensor) -> None:
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def _model(**changes):
    return build_model(ModelConfig(kind="narm", **{**TINY, **changes}), seed=0).eval()


def test_scores_and_one_attention_row_per_history():
    with torch.no_grad():
        out = _model().score(SEQS, return_attention=True)
    assert out.kind == "causal" and out.scores.shape == (4, N_ITEMS + 1)
    assert (out.scores[:, 0] == float("-inf")).all() and torch.isfinite(out.scores[:, 1:]).all()
    (w,) = out.attention
    assert w.shape == (4, 1, 1, 8)
    w = w[:, 0, 0]
    present = SEQS != 0
    assert (w[~present] == 0).all()  # padding keys get nothing
    np.testing.assert_allclose(w.sum(-1), [1.0, 0.0, 1.0, 1.0], rtol=1e-5)  # an empty history: zeros, not NaN
    assert w[2, -1] == pytest.approx(1.0)  # one item: all the weight on it


def test_the_returned_weights_are_the_ones_that_made_the_scores():
    """Rebuild the context by hand from the returned weights and the GRU states: c = Σ A_i x_i, u = B [c; y]."""
    model = _model()
    with torch.no_grad():
        out = model.score(SEQS, return_attention=True)
        states = model.states(SEQS)  # (B, T, D)
        w = out.attention[0][:, 0, 0]  # (B, T)
        context = (w[..., None] * states).sum(1)
        user = model.decode(torch.cat([context, states[:, -1]], dim=-1))
        np.testing.assert_allclose(model.logits(user), out.scores, rtol=1e-5, atol=1e-5)
        # other weights would give other scores: the check can fail
        flat = torch.where(SEQS != 0, 1.0, 0.0) / (SEQS != 0).sum(1, keepdim=True).clamp_min(1)
        other = model.logits(model.decode(torch.cat([(flat[..., None] * states).sum(1), states[:, -1]], -1)))
        assert not torch.allclose(other[[0, 3]], out.scores[[0, 3]], atol=1e-4)
        # and by the formula: A = softmax(w_o · tanh(W1 x_i + b + W2 y)) over the present keys
        e = model.energy(torch.tanh(model.key(states[3]) + model.query(states[3, -1]))).squeeze(-1)
        np.testing.assert_allclose(torch.softmax(e, 0), w[3], rtol=1e-5, atol=1e-6)


def test_training_path_is_causal_and_its_last_row_is_the_scoring_path():
    model = _model()
    with torch.no_grad():
        full = model(SEQS, return_attention=True)
        out = model.score(SEQS, return_attention=True)
        (maps,) = full.attention  # (B, 1, T, T)
        assert maps.shape == (4, 1, 8, 8)
        assert (maps[:, 0].triu(1) == 0).all()  # no position reads a later one
        _close(maps[:, :, -1:], out.attention[0])
        _close(model.logits(full.hidden[:, -1]), out.scores)
        # changing the last item moves nothing before it
        changed = SEQS.clone()
        changed[:, -1] = 11
        later = model(changed).hidden
        _close(later[:, :-1], full.hidden[:, :-1])


def test_left_padding_and_long_histories():
    model = _model()
    with torch.no_grad():
        short = model.score(torch.tensor([[4, 9, 2]]), return_attention=True)
        padded = model.score(torch.tensor([[0, 0, 0, 0, 0, 4, 9, 2]]), return_attention=True)
        _close(short.scores, padded.scores)
        _close(short.attention[0], padded.attention[0][..., -3:])
        long = torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]])  # reads the last max_len = 8
        _close(model.score(long).scores, model.score(long[:, -8:]).scores)


def _cycles(users=60, length=12, seed=0) -> Sequences:
    """Each user walks the catalogue in order (k → k + 1, wrapping) from a random start: a learnable rule."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, N_ITEMS, size=users)
    return Sequences(tuple(f"u{u}" for u in range(users)),
                     tuple((s + np.arange(length)) % N_ITEMS + 1 for s in starts))


def test_learns_a_rule_that_chance_does_not_find():
    split = leave_one_out(_cycles(users=40), N_ITEMS)
    result = fit(_model(), split, TrainConfig(epochs=6, batch_size=16, lr=1e-2, device="cpu", eval_every=6))
    test = evaluate(model_scorer(result.model, "cpu"), split.test_inputs, split.test_targets, N_ITEMS, ks=(1,))
    # 19 unseen candidates per user: chance puts the next item first about 1 time in 19
    assert test["hr@1"] > 0.8, test


def test_recommend_traces_one_causal_row_and_viz_draws_it():
    items = pd.DataFrame({"item_id": [str(i) for i in range(1, N_ITEMS + 1)],
                          "title": [f"Film {i}" for i in range(1, N_ITEMS + 1)], "genres": "Drama"})
    rec = Recommender(_model(), items).recommend(["4", "9", "2"], k=5)
    trace = rec.trace
    assert trace.kind == "causal" and trace.produced_by_last_row
    assert trace.weights.shape == (1, 1, 1, 3)
    assert trace.query_ids == ("2",) and trace.key_ids == ("4", "9", "2")
    assert not trace.mask.any()  # the last position may read every item
    np.testing.assert_allclose(trace.weights.sum(-1), 1.0, rtol=1e-5)
    (heatmap,) = viz.trace_figure(trace).data
    np.testing.assert_allclose(np.asarray(heatmap.z, dtype=float), trace.weights[0, 0])
    bars = row_bars(trace)
    np.testing.assert_allclose(np.asarray(bars.data[0].x, dtype=float), trace.weights[0, 0, 0])
