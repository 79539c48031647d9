"""Each objective's loss on a tiny case computed by hand, and the batches each objective trains on."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from recattn import objectives
from recattn.config import TrainConfig


class Fixed(nn.Module):
    """A stand-in model whose hidden states and item table are set by hand."""

    def __init__(self, hidden, table):
        super().__init__()
        self.h = hidden
        self.item_emb = nn.Embedding.from_pretrained(table)
        self.config = SimpleNamespace(n_items=table.shape[0] - 2)

    def forward(self, inputs):
        return SimpleNamespace(hidden=self.h)

    def logits(self, hidden):
        out = hidden @ self.item_emb.weight[: self.config.n_items + 1].T
        out[..., 0] = float("-inf")
        return out


# items 1..3 (row 0 padding, row 4 a mask token), 2-d embeddings
TABLE = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5]])
HIDDEN = torch.tensor([[[9.0, 9.0], [2.0, -1.0]]])  # position 0 has no target; position 1 targets item 2
TARGETS = torch.tensor([[0, 2]])
INPUTS = torch.tensor([[1, 3]])


def test_full_softmax_cross_entropy_by_hand():
    # h = (2, -1): logits item1 = 2, item2 = -1, item3 = 1
    expected = -(-1 - math.log(math.exp(2) + math.exp(-1) + math.exp(1)))
    got = objectives.loss(Fixed(HIDDEN, TABLE), INPUTS, TARGETS, "ce", negatives=1)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_label_smoothing_by_hand_leaves_the_padding_column_out():
    # logits item1 = 2, item2 = -1, item3 = 1; 0.3 of the target mass spread over the 3 items
    log_z = math.log(math.exp(2) + math.exp(-1) + math.exp(1))
    logp = {1: 2 - log_z, 2: -1 - log_z, 3: 1 - log_z}
    expected = -(0.7 * logp[2] + 0.3 * sum(logp.values()) / 3)
    got = objectives.loss(Fixed(HIDDEN, TABLE), INPUTS, TARGETS, "ce", negatives=1, label_smoothing=0.3)
    assert got.item() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="label_smoothing"):
        TrainConfig(label_smoothing=1.0)


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_binary_cross_entropy_with_sampled_negatives_by_hand():
    gen = torch.Generator().manual_seed(0)
    negs = torch.randint(1, 4, (1, 3), generator=torch.Generator().manual_seed(0))[0].tolist()
    dot = {1: 2.0, 2: -1.0, 3: 1.0}  # h = (2, -1) against each item
    expected = -math.log(_sigmoid(dot[2])) + np.mean([-math.log(1 - _sigmoid(dot[n])) for n in negs])
    got = objectives.loss(Fixed(HIDDEN, TABLE), INPUTS, TARGETS, "bce", negatives=3, generator=gen)
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_sampled_softmax_by_hand():
    gen = torch.Generator().manual_seed(1)
    negs = torch.randint(1, 4, (4,), generator=torch.Generator().manual_seed(1)).tolist()
    dot = {1: 2.0, 2: -1.0, 3: 1.0}
    others = [dot[n] for n in negs if n != 2]  # a negative equal to the positive is masked out
    expected = -(dot[2] - math.log(math.exp(dot[2]) + sum(math.exp(o) for o in others)))
    got = objectives.loss(Fixed(HIDDEN, TABLE), INPUTS, TARGETS, "sampled_softmax", negatives=4, generator=gen)
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_next_item_batch_shifts_by_one():
    x, y = objectives.next_item_batch([(np.array([4, 5, 6, 7]), 3)], max_len=5)
    assert x.tolist() == [[0, 0, 4, 5, 6]] and y.tolist() == [[0, 0, 5, 6, 7]]


def test_next_item_batch_trains_only_fresh_targets():
    x, y = objectives.next_item_batch([(np.arange(1, 7), 2)], max_len=5)
    assert x.tolist() == [[1, 2, 3, 4, 5]] and y.tolist() == [[0, 0, 0, 5, 6]]


def test_masked_item_batch_hides_items_and_always_the_last():
    rng = np.random.default_rng(0)
    windows = [(np.arange(1, 41), 40)] * 50
    x, y = objectives.masked_item_batch(windows, 40, mask_token=99, mask_prob=0.2, rng=rng)
    hidden = x == 99
    assert hidden[:, -1].all()
    assert (y[hidden] == np.tile(np.arange(1, 41), (50, 1))[hidden]).all() and (y[~hidden] == 0).all()
    assert 0.15 < hidden[:, :-1].mean() < 0.25


def _trained_targets(windows, max_len):
    """Each trained target with the number of items the model reads before it."""
    x, y = objectives.next_item_batch(windows, max_len)
    return [(int(y[r, t]), int((x[r, : t + 1] != 0).sum())) for r, t in zip(*np.nonzero(y))]


@pytest.mark.parametrize("stride", [None, 10, 4, 1])
def test_training_windows_train_each_target_once(stride):
    seq = np.arange(1, 26)
    causal = objectives.training_windows([seq], max_len=10, causal=True, stride=stride)
    trained = _trained_targets(causal, 10)
    assert sorted(t for t, _ in trained) == list(range(2, 26))  # every item after the first, once
    step = stride or 10
    # every target reads all earlier items, or at least max_len - stride + 1 of them
    assert all(context >= min(target - 1, 10 - step + 1) for target, context in trained)
    masked = objectives.training_windows([seq], max_len=10, causal=False, stride=stride)
    assert sorted(np.concatenate([w for w, _ in masked]).tolist()) == list(range(1, 26))


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_catalogue_cross_entropy_matches_autograd_across_row_blocks(smoothing):
    # 10,000 columns: the CPU path works in blocks of 52 rows, so 120 rows cross two block boundaries
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(120, 10_000, generator=gen, dtype=torch.float64) * 3
    logits[:, 0] = float("-inf")
    targets = torch.randint(1, 10_000, (120,), generator=gen)
    mine = logits.clone().requires_grad_()
    got = objectives.catalogue_cross_entropy(mine, targets, smoothing)
    (got * 2).backward()
    ref = logits.clone().requires_grad_()
    logp = ref.log_softmax(-1)
    nll = -logp.gather(1, targets[:, None])[:, 0]
    expected = ((1 - smoothing) * nll - smoothing * logp[:, 1:].mean(-1)).mean()
    (expected * 2).backward()
    assert got.item() == pytest.approx(expected.item(), rel=1e-12)
    assert torch.allclose(mine.grad, ref.grad, rtol=1e-10, atol=1e-14)
    assert (mine.grad[:, 0] == 0).all()


def test_catalogue_cross_entropy_keeps_bfloat16_scores_and_computes_in_float32():
    logits = torch.tensor([[float("-inf"), 2.0, -1.0, 1.0]], dtype=torch.bfloat16, requires_grad=True)
    got = objectives.catalogue_cross_entropy(logits, torch.tensor([2]))
    got.backward()
    assert got.dtype == torch.float32
    assert got.item() == pytest.approx(-(-1 - math.log(math.exp(2) + math.exp(-1) + math.exp(1))), rel=1e-6)
    assert logits.grad.dtype == torch.bfloat16
    assert logits.grad[0, 2].item() < 0 < logits.grad[0, 1].item()
