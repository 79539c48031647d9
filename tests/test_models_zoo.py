"""The other models: additive target attention, GRU4Rec, Popularity and ItemKNN share the scoring interface,
round-trip through checkpoints and learn."""

import numpy as np
import pytest
import torch

from recattn import checkpoint
from recattn.models import registry
from recattn.config import ModelConfig, TrainConfig
from recattn.data.sequences import Sequences, Split, leave_one_out
from recattn.models import build_model
from recattn.models.additive import target_rows
from recattn.training.fit import fit

N_ITEMS = 12
TINY = dict(n_items=N_ITEMS, max_len=8, hidden=16, layers=2, heads=2, dropout=0.0)
SEQS = torch.tensor([[0, 0, 0, 3, 5, 7, 2, 9], [0] * 8, [0, 0, 0, 0, 0, 0, 0, 4], [1, 2, 3, 4, 5, 6, 7, 8]])


def _cycles(users=40, length=10, seed=0) -> Sequences:
    """Each user walks the catalogue in order (k → k + 1, wrapping) from a random start: a learnable rule."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, N_ITEMS, size=users)
    return Sequences(tuple(f"u{u}" for u in range(users)),
                     tuple((s + np.arange(length)) % N_ITEMS + 1 for s in starts))


@pytest.fixture(scope="module")
def split():
    return leave_one_out(_cycles(), N_ITEMS)


def _model(kind, split=None):
    model = build_model(ModelConfig(kind=kind, **TINY), seed=0).eval()
    if hasattr(model, "fit_counts"):
        model.fit_counts(split)
    return model


@pytest.mark.parametrize("kind", registry.names())
def test_scores_shape_padding_column_and_attention_flag(kind, split):
    model = _model(kind, split)
    with torch.no_grad():
        scores = model.score(SEQS).scores
        again = model.score(SEQS, return_attention=True).scores
    assert scores.shape == (len(SEQS), N_ITEMS + 1)
    assert (scores[:, 0] == float("-inf")).all() and torch.isfinite(scores[:, 1:]).all()
    assert torch.allclose(scores, again, atol=1e-5)  # the transformer's fused path vs its traced one


@pytest.mark.parametrize("kind", registry.names())
def test_checkpoint_round_trip_gives_identical_scores(kind, split, tmp_path):
    model = _model(kind, split)
    path = checkpoint.save(tmp_path / kind, model, TrainConfig(), "test:cycles", "f0")
    loaded = checkpoint.load(path).model  # a fresh, unfitted model: ItemKNN's sparse buffers must resize
    with torch.no_grad():
        assert torch.equal(model.score(SEQS).scores, loaded.score(SEQS).scores)


def test_additive_attention_maps_rows_and_padding():
    model = _model("additive")
    with torch.no_grad():
        out = model.score(SEQS, return_attention=True)
        scores, maps = out.scores, out.attention
    (w,) = maps
    assert w.shape == (len(SEQS), 1, N_ITEMS + 1, SEQS.shape[1])
    assert not torch.isnan(w).any() and torch.isfinite(scores[:, 1:]).all()
    real = (SEQS != 0)[:, None, None, :].expand_as(w)
    assert (w.masked_select(~real) == 0).all()  # padding keys get exactly zero
    assert (w[:, :, 0] == 0).all()  # the padding candidate's row
    sums = w[:, 0, 1:].sum(-1)  # (B, n_items)
    assert torch.allclose(sums[[0, 2, 3]], torch.ones(1), atol=1e-5)
    assert (w[1] == 0).all()  # an all-padding history: zeros, not NaN


def test_additive_target_rows_keep_the_chosen_candidates():
    with torch.no_grad():
        (w,) = _model("additive").score(SEQS, return_attention=True).attention
    (rows,) = target_rows((w,), torch.tensor([5, 2]))
    assert rows.shape == (len(SEQS), 1, 2, SEQS.shape[1])
    assert torch.equal(rows[:, :, 0], w[:, :, 5]) and torch.equal(rows[:, :, 1], w[:, :, 2])
    (per_row,) = target_rows((w,), torch.tensor([[1], [2], [3], [4]]))
    assert torch.equal(per_row[3, 0, 0], w[3, 0, 4])


def test_additive_training_scores_equal_causal_attention_at_every_position():
    """The prefix-sum training path is the same maths as attending to the keys i <= t."""
    model = _model("additive")
    ids = torch.arange(1, N_ITEMS + 1)
    with torch.no_grad():
        keys, values, present = model._history(SEQS)
        every = model._prefix_scores(keys, values, ids, present)  # (B, T, C)
        for t in range(SEQS.shape[1]):
            allowed = present[:, None, :] & (torch.arange(SEQS.shape[1]) <= t)
            direct, _ = model._attend(keys, values, ids, allowed)
            assert torch.allclose(every[:, t], direct, atol=1e-5)
        assert torch.allclose(every[:, -1], model.score(SEQS).scores[:, 1:], atol=1e-5)


@pytest.mark.parametrize("objective", ["ce", "bce", "sampled_softmax"])
def test_additive_train_loss_is_finite_with_gradients(objective):
    model = _model("additive").train()
    x, y = SEQS[:, :-1], SEQS[:, 1:] * (SEQS[:, :-1] != 0)
    loss = model.train_loss(x, y, objective, negatives=5, generator=torch.Generator().manual_seed(0))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(model.item_emb.weight.grad).all()
    if objective == "ce":  # smoothing reaches the additive model's own full-softmax loss too
        smoothed = model.train_loss(x, y, objective, negatives=5, label_smoothing=0.2)
        assert torch.isfinite(smoothed) and smoothed.item() != pytest.approx(loss.item())


def test_gru_ignores_extra_left_padding():
    model = _model("gru")
    history = torch.tensor([[4, 9, 2]])
    padded = torch.tensor([[0, 0, 0, 0, 0, 4, 9, 2]])
    with torch.no_grad():
        a, b = model.score(history).scores, model.score(padded).scores
    assert torch.allclose(a[:, 1:], b[:, 1:], atol=1e-5)
    assert (model(padded).hidden[0, :5] == 0).all()


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("kind", ["gru", "additive"])
def test_short_fit_lowers_the_loss(kind, precision, split):
    model = build_model(ModelConfig(kind=kind, **TINY), seed=0)
    result = fit(model, split, TrainConfig(epochs=8, batch_size=16, lr=1e-2, patience=100, device="cpu",
                                           precision=precision))
    losses = [r.loss for r in result.history]
    assert losses[-1] < losses[0] - 0.5, losses


def _train_only(seqs) -> Split:
    """A split that trains on `seqs` whole (nothing held out)."""
    none = np.zeros(0, dtype=np.int64)
    return Split(tuple(np.array(s) for s in seqs), (), none, (), none, N_ITEMS)


def test_popularity_ranks_by_count():
    model = _model("pop", _train_only([[3, 3], [3, 2], [2, 1]]))
    order = model.score(torch.zeros(1, 8, dtype=torch.long)).scores[0, 1:].argsort(descending=True) + 1
    assert order.tolist()[:3] == [3, 2, 1]


def test_itemknn_ranks_the_most_frequent_follower_first():
    # after 1: 2 follows twice, 3 once; 4 is the most popular item but never follows 1
    model = _model("itemknn", _train_only([[1, 2], [1, 2], [1, 3], [4, 4, 4, 4]]))
    scores = model.score(torch.tensor([[0, 0, 0, 1]])).scores[0]
    assert scores.argmax().item() == 2 and scores[2] > scores[3] > scores[4]
    # with nothing to go on, popularity alone breaks the tie
    assert model.score(torch.zeros(1, 4, dtype=torch.long)).scores[0].argmax().item() == 4


def test_additive_defaults_switch_to_sampled_negatives_on_big_catalogues():
    from recattn import defaults

    assert defaults.train_config("additive", n_items=1_000).objective == "ce"
    big = defaults.train_config("additive", n_items=9_742)
    assert (big.objective, big.negatives) == ("bce", 256)
    assert defaults.train_config("additive", n_items=9_742, objective="ce").objective == "ce"  # asked for: kept
    assert defaults.train_config("sasrec", n_items=9_742).objective == "ce"


def test_compare_trains_every_kind_on_one_split(small_world):
    from recattn.training.compare import compare, table

    kinds = ["sasrec", "bert4rec", "additive", "gru", "pop", "itemknn"]
    report = compare(small_world, kinds, ("full",), train_overrides={"epochs": 1, "device": "cpu"},
                     seen_kept_too=True)
    assert list(report["models"]) == kinds
    for kind, row in report["models"].items():
        assert set(row["protocols"]) == {"full", "full_keep_seen"}
        full, kept = row["protocols"]["full"], row["protocols"]["full_keep_seen"]
        # ranking seen items too can only push the true (unseen) item down
        assert kept["ndcg@10"] <= full["ndcg@10"] + 1e-12, kind
    assert all(kind in table(report) for kind in kinds)


KINDS_OF_ATTENTION = {"sasrec": "causal", "bert4rec": "bidirectional", "sasrec-additive": "causal",
                      "additive": "target", "narm": "causal", "gru": "none", "pop": "none", "itemknn": "none"}


@pytest.mark.parametrize("kind", registry.names())
def test_every_model_answers_score_with_one_output(kind, split):
    """One answer whatever the model: scores, the maps (None without attention) and the kind of attention."""
    model = _model(kind, split)
    with torch.no_grad():
        plain, traced = model.score(SEQS), model.score(SEQS, return_attention=True)
    assert plain.kind == traced.kind == model.attention_kind == KINDS_OF_ATTENTION[kind]
    assert plain.attention is None and plain.scores.shape == (len(SEQS), N_ITEMS + 1)
    assert (traced.attention is None) == (traced.kind == "none")
    if traced.attention is not None:
        assert all(m.shape[0] == len(SEQS) and m.ndim == 4 for m in traced.attention)
