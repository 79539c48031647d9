"""Training: the loss goes down, early stopping keeps the best weights, runs repeat on CPU."""

import pytest
import torch

from recattn.config import ModelConfig, TrainConfig
from recattn.data import prepare
from recattn.models import build_model
from recattn.training.fit import fit

SMALL = dict(max_len=20, hidden=32, layers=1, heads=2, dropout=0.1)


def _fit(world, epochs=6, seed=0):
    vocab, split = prepare(world)
    model = build_model(ModelConfig(kind="sasrec", n_items=vocab.size, **SMALL), seed=seed)
    return fit(model, split, TrainConfig(epochs=epochs, device="cpu", batch_size=64, lr=3e-3, seed=seed))


def test_short_training_lowers_the_loss_and_beats_chance(small_world):
    result = _fit(small_world)
    losses = [r.loss for r in result.history]
    assert losses[-1] < losses[0] - 0.3
    assert result.best_valid["hr@10"] > 3 * 10 / 120  # well above a random top-10 of 120 films


def test_same_seed_repeats_exactly(small_world):
    a = _fit(small_world, epochs=2, seed=5)
    b = _fit(small_world, epochs=2, seed=5)
    assert [r.loss for r in a.history] == [r.loss for r in b.history]
    for (k, va), vb in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(va, vb), k


def test_early_stopping_keeps_the_best_epoch(small_world):
    seen = []

    def on_epoch_end(report):
        seen.append(report)

    vocab, split = prepare(small_world)
    model = build_model(ModelConfig(kind="sasrec", n_items=vocab.size, **SMALL))
    # lr so high the model gets worse after it peaks; patience 2 must stop it
    result = fit(model, split, TrainConfig(epochs=40, patience=2, device="cpu", lr=0.05, batch_size=64), on_epoch_end)
    assert result.stopped == "early"
    assert len(seen) == len(result.history) == result.best_epoch + 2
    best = max(r.valid["ndcg@10"] for r in seen)
    assert result.best_valid["ndcg@10"] == best
    from recattn.training.fit import validate
    assert abs(validate(result.model, split, torch.device("cpu"))["ndcg@10"] - best) < 1e-9


def test_callback_can_stop_training(small_world):
    vocab, split = prepare(small_world)
    model = build_model(ModelConfig(kind="sasrec", n_items=vocab.size, **SMALL))
    result = fit(model, split, TrainConfig(epochs=10, device="cpu"), lambda r: r.epoch == 2)
    assert result.stopped == "callback" and len(result.history) == 2


def test_time_budget_is_checked_inside_an_epoch(small_world):
    vocab, split = prepare(small_world)
    model = build_model(ModelConfig(kind="sasrec", n_items=vocab.size, **SMALL), seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    # a budget already spent: not one step may run, however long an epoch would be
    result = fit(model, split, TrainConfig(epochs=10, device="cpu", max_minutes=0.0))
    assert result.stopped == "time" and result.history == []
    assert all(torch.equal(before[k], v) for k, v in result.model.state_dict().items())


def test_weight_average_is_what_is_validated_and_kept(small_world):
    vocab, split = prepare(small_world)
    cfg = TrainConfig(epochs=3, device="cpu", batch_size=64, lr=3e-3, ema_decay=0.9, patience=10)
    averaged = fit(build_model(ModelConfig(kind="sasrec", n_items=vocab.size, **SMALL), seed=0), split, cfg)
    plain = fit(build_model(ModelConfig(kind="sasrec", n_items=vocab.size, **SMALL), seed=0), split,
                TrainConfig(epochs=3, device="cpu", batch_size=64, lr=3e-3, patience=10))
    # the same steps were taken (the loss is the raw model's), but the kept weights are the average's
    assert [r.loss for r in averaged.history] == [r.loss for r in plain.history]
    from recattn.training.fit import validate
    assert validate(averaged.model, split, torch.device("cpu"))["ndcg@10"] == averaged.best_valid["ndcg@10"]
    assert not torch.equal(averaged.model.item_emb.weight, plain.model.item_emb.weight)


def test_cosine_schedule_warms_up_then_decays_to_zero():
    from recattn.training.fit import lr_factor

    assert lr_factor("constant", 0, 100, 0.9) == 1.0
    assert lr_factor("cosine", 0, 10, 0.0) == pytest.approx(0.1)
    assert lr_factor("cosine", 9, 10, 0.0) == pytest.approx(1.0)
    assert lr_factor("cosine", 500, 10, 0.5) == pytest.approx(0.5)
    assert lr_factor("cosine", 999, 10, 1.0) == pytest.approx(0.0, abs=1e-12)
    assert lr_factor("cosine", 999, 10, 1.7) == pytest.approx(0.0, abs=1e-12)  # a run past its budget


def test_cosine_run_ends_with_the_learning_rate_near_zero(small_world):
    vocab, split = prepare(small_world)
    model = build_model(ModelConfig(kind="sasrec", n_items=vocab.size, **SMALL), seed=0)
    result = fit(model, split, TrainConfig(epochs=4, device="cpu", batch_size=64, lr=3e-3, schedule="cosine",
                                           warmup_steps=5, patience=10))
    lrs = [r.lr for r in result.history]
    assert lrs == sorted(lrs, reverse=True) and lrs[0] < 3e-3
    assert lrs[-1] < 0.02 * 3e-3


def test_precision_choice():
    from recattn.training.fit import autocast_dtype

    cpu = torch.device("cpu")
    assert autocast_dtype("fp32", cpu) is None
    assert autocast_dtype("bf16", cpu) is torch.bfloat16
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(precision="fp16")
    with pytest.raises(ValueError, match="schedule"):
        TrainConfig(schedule="linear")


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_training_learns_in_either_precision(small_world, precision):
    vocab, split = prepare(small_world)
    model = build_model(ModelConfig(kind="sasrec", n_items=vocab.size, **SMALL), seed=0)
    result = fit(model, split, TrainConfig(epochs=4, device="cpu", batch_size=64, lr=3e-3, precision=precision))
    assert result.history[-1].loss < result.history[0].loss - 0.2
    assert result.model.item_emb.weight.dtype == torch.float32  # autocast computes in bf16, weights stay fp32
