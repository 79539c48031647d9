"""Each objective's loss on a tiny case computed by hand, and the batches each objective trains on."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from recattn.training import objectives
from recattn.config import TrainConfig
from recattn.models.scoring import TiedScoring


class Fixed(TiedScoring):
    """A stand-in model whose hidden states and item table are set by hand (no repeat offset)."""

    def __init__(self, hidden, table):
        super().__init__()
        self.h = hidden
        self.item_emb = nn.Embedding.from_pretrained(table)
        self.config = SimpleNamespace(n_items=table.shape[0] - 2, kind="sasrec", repeat_bias=False, causal=True)
        self.init_repeat_bias()

    def forward(self, inputs):
        return SimpleNamespace(hidden=self.h)


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


def _dense_loss(hidden, table, targets, smoothing, seen, bias):
    """The same loss through autograd's chain: a model's logits with the offset added to a dense copy."""
    logits = hidden @ table.T
    logits[:, 0] = float("-inf")
    rows = torch.arange(len(seen))[:, None].expand_as(seen)
    logits = logits.index_put((rows, seen), bias.expand(seen.shape), accumulate=True)
    logp = logits.log_softmax(-1)
    nll = -logp.gather(1, targets[:, None])[:, 0]
    return ((1 - smoothing) * nll - smoothing * logp[:, 1:].mean(-1)).mean()


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_catalogue_cross_entropy_matches_autograd_across_row_blocks(smoothing):
    # 10,001 columns: the CPU path works in blocks of 209 rows, so 500 rows cross two block boundaries
    gen = torch.Generator().manual_seed(0)
    hidden = torch.randn(500, 16, generator=gen)
    table = torch.randn(10_001, 16, generator=gen)
    targets = torch.randint(1, 10_001, (500,), generator=gen)
    seen = torch.cat([torch.randint(1, 10_001, (500, 6), generator=gen), torch.zeros(500, 3, dtype=torch.long)], 1)
    seen = torch.tensor([sorted(set(r)) + [0] * (9 - len(set(r))) for r in seen.tolist()])  # each item once
    bias = torch.tensor(-0.7)
    mine = [t.clone().requires_grad_() for t in (hidden, table, bias)]
    buffer = objectives.ScoreBuffer()
    got = objectives.catalogue_cross_entropy(mine[0], mine[1], targets, smoothing, seen, mine[2], buffer)
    assert buffer.held
    (got * 2).backward()
    assert not buffer.held
    ref = [t.clone().double().requires_grad_() for t in (hidden, table, bias)]
    expected = _dense_loss(*ref[:2], targets, smoothing, seen, ref[2])
    (expected * 2).backward()
    assert got.item() == pytest.approx(expected.item(), rel=1e-6)
    for a, b in zip(mine, ref):
        torch.testing.assert_close(a.grad, b.grad.float(), rtol=1e-4, atol=1e-6)
    assert (mine[1].grad[0] == 0).all()  # the padding row takes no gradient


def test_a_kept_score_buffer_gives_the_same_loss_and_is_never_shared_by_two_pending_passes():
    gen = torch.Generator().manual_seed(1)
    hidden, table = torch.randn(40, 8, generator=gen), torch.randn(300, 8, generator=gen)
    targets = [torch.randint(1, 300, (40,), generator=gen) for _ in range(3)]
    fresh = [objectives.catalogue_cross_entropy(hidden, table, t, 0.2) for t in targets]
    buffer = objectives.ScoreBuffer()
    h = hidden.clone().requires_grad_()
    pending = [objectives.catalogue_cross_entropy(h, table, t, 0.2, buffer=buffer) for t in targets[:2]]
    for loss, expected in zip(pending, fresh):
        assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    grads = [torch.autograd.grad(loss, h)[0] for loss in pending]  # the first pass's scores were not overwritten
    again = h.clone().detach().requires_grad_()
    for t, g in zip(targets[:2], grads):
        torch.testing.assert_close(g, torch.autograd.grad(objectives.catalogue_cross_entropy(again, table, t, 0.2),
                                                          again)[0])
    third = objectives.catalogue_cross_entropy(h, table, targets[2], 0.2, buffer=buffer)  # free again: reused
    assert buffer.held and third.item() == pytest.approx(fresh[2].item(), rel=1e-6)


def test_catalogue_cross_entropy_under_bfloat16_autocast_computes_the_loss_in_float32():
    hidden = torch.tensor([[2.0, -1.0]], requires_grad=True)
    table = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = objectives.catalogue_cross_entropy(hidden, table, torch.tensor([2]))
    got.backward()
    assert got.dtype == torch.float32
    # scores item1 = 2, item2 = -1, item3 = 1 (exact in bfloat16)
    assert got.item() == pytest.approx(-(-1 - math.log(math.exp(2) + math.exp(-1) + math.exp(1))), rel=1e-6)
    assert hidden.grad.dtype == torch.float32 and table.grad.dtype == torch.float32
    assert table.grad[2].sum().item() < 0 < table.grad[1].sum().item()  # the target's row pulled toward hidden