"""The leave-one-out split on a constructed log whose held-out items are sentinels (items that occur only as some
user's validation or test item): training holds only what came before the validation item, the test history
holds the validation item, and the test item never reaches anything a model learns from: the training windows,
the popularity counts, the item-to-item co-occurrences, or the repeat offset (which learns from training
inputs only)."""

import numpy as np
import pytest
import torch

from recattn.training import objectives
from recattn.config import ModelConfig, TrainConfig
from recattn.data.sequences import Sequences, leave_one_out
from recattn.models import build_model
from recattn.models.baselines import follower_matrix
from recattn.training.fit import fit

POOL = np.arange(1, 21)  # items 1..20 are trained on
VALID = np.arange(21, 26)  # 21..25 are only ever validation items
TEST = np.arange(26, 31)  # 26..30 are only ever test items
N_ITEMS = 30


def _sequences() -> Sequences:
    """30 users of 3..12 items (training part from POOL, then one VALID, then one TEST), two users too short
    to split (1 and 2 items, from POOL)."""
    rng = np.random.default_rng(3)
    seqs = [np.r_[rng.choice(POOL, size=1 + u % 10, replace=False), VALID[u % 5], TEST[u % 5]] for u in range(30)]
    seqs += [np.array([4]), np.array([5, 6])]
    return Sequences(tuple(f"u{u}" for u in range(len(seqs))), tuple(s.astype(np.int64) for s in seqs))


@pytest.fixture(scope="module")
def split():
    return leave_one_out(_sequences(), N_ITEMS)


def test_validation_and_test_are_the_last_two_items_in_time_order(split):
    seqs = _sequences().seqs
    assert len(split.valid_targets) == len(split.test_targets) == 30  # the two short users are not evaluated
    for u, s in enumerate(seqs[:30]):
        assert split.valid_targets[u] == s[-2] and split.test_targets[u] == s[-1]
        # training holds exactly what came before the validation item
        assert np.array_equal(split.train[u], s[:-2]) and np.array_equal(split.valid_inputs[u], s[:-2])
        # the test history is everything before the test item: it ends with the validation item
        assert np.array_equal(split.test_inputs[u], s[:-1]) and split.test_inputs[u][-1] == split.valid_targets[u]
    assert [s.tolist() for s in split.train[30:]] == [[4], [5, 6]]  # too short to split: training only


def test_no_held_out_item_is_in_training(split):
    trained = np.concatenate(split.train)
    assert not np.isin(trained, np.r_[VALID, TEST]).any()
    assert not any(np.isin(TEST, h).any() for h in split.valid_inputs)


def test_popularity_counts_only_training_interactions(split):
    counts = split.item_counts()
    assert counts.tolist() == np.bincount(np.concatenate(split.train), minlength=N_ITEMS + 1).tolist()
    assert counts[VALID].sum() == counts[TEST].sum() == 0 and counts.sum() == sum(map(len, split.train))
    pop = build_model(ModelConfig(kind="pop", n_items=N_ITEMS))
    pop.fit_counts(split)
    assert pop.counts[torch.as_tensor(TEST)].sum() == 0


def test_item_to_item_cooccurrences_never_hold_a_held_out_item(split):
    crow, col, _ = follower_matrix(split.train, N_ITEMS)
    held_out = np.r_[VALID, TEST]
    assert not np.isin(col, held_out).any()  # never a follower
    assert (crow[held_out + 1] - crow[held_out] == 0).all()  # never followed
    knn = build_model(ModelConfig(kind="itemknn", n_items=N_ITEMS))
    knn.fit_counts(split)
    assert not np.isin(knn.col.numpy(), held_out).any()
    assert len(knn.col) == len(col) > 0


@pytest.mark.parametrize("causal", [True, False])
def test_training_windows_are_cut_from_training_sequences_only(split, causal):
    windows = objectives.training_windows(split.train, 4, causal, stride=2)
    items = np.concatenate([w for w, _ in windows])
    assert not np.isin(items, np.r_[VALID, TEST]).any()
    assert set(items.tolist()) == set(np.concatenate(split.train).tolist())  # and all of training is used


def test_the_model_and_its_repeat_offset_never_see_the_test_item_while_training(split, monkeypatch):
    """Every input the model reads while fitting (training steps and validation) and every training target:
    the repeat offset is learned from the training inputs' seen items, so none holds a test item."""
    model = build_model(ModelConfig(kind="sasrec", n_items=N_ITEMS, max_len=6, hidden=8, layers=1, heads=1,
                                    repeat_bias=True), seed=0)
    read, targets = [], []
    forward, loss = model.forward, objectives.loss

    def spy_forward(seqs, *args, **kwargs):
        read.append(seqs.detach().clone())
        return forward(seqs, *args, **kwargs)

    def spy_loss(m, x, y, *args, **kwargs):
        targets.append(y.detach().clone())
        return loss(m, x, y, *args, **kwargs)

    monkeypatch.setattr(model, "forward", spy_forward)
    monkeypatch.setattr(objectives, "loss", spy_loss)
    before = model.repeat_bias.detach().clone()
    fit(model, split, TrainConfig(epochs=2, batch_size=8, device="cpu", lr=1e-2, eval_every=1))
    assert targets and read
    assert not model.repeat_bias.detach().equal(before)  # the offset did learn, from these inputs
    for t in read + targets:
        assert not torch.isin(t, torch.as_tensor(TEST)).any()
    assert not any(torch.isin(y, torch.as_tensor(VALID)).any() for y in targets)  # validation items: never targets
