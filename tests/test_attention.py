"""Masks and traced weights of the Transformer backbone (SASRec causal, BERT4Rec bidirectional, SASRec with the
seed's additive score), and the repeat offset of every kind that has one."""

import pytest
import torch

from recattn.config import ModelConfig
from recattn.models import build_model


def _model(kind="sasrec", **kw):
    """A small model of `kind` (the recurrent kinds too, for the repeat offset), seed 0, eval mode."""
    cfg = ModelConfig(kind=kind, n_items=30, max_len=8, hidden=16, layers=2, heads=2, dropout=0.0, **kw)
    return build_model(cfg, seed=0).eval()


SEQS = torch.tensor([[0, 0, 0, 5, 7, 9, 2, 11], [3, 4, 5, 6, 7, 8, 9, 10], [0, 0, 0, 0, 0, 0, 0, 4]])


@pytest.mark.parametrize("kind", ["sasrec", "bert4rec", "sasrec-additive"])
def test_attention_shape_and_rows(kind):
    out = _model(kind)(SEQS, return_attention=True)
    assert len(out.attention) == 2
    for w in out.attention:
        assert w.shape == (3, 2, 8, 8)
        assert not torch.isnan(w).any()
        real = SEQS != 0
        sums = w.sum(-1)  # (B, H, Q)
        assert torch.allclose(sums[real[:, None, :].expand_as(sums)], torch.ones(1), atol=1e-5)
        # padding keys get exactly zero weight
        assert (w.masked_select(~real[:, None, None, :].expand_as(w)) == 0).all()


@pytest.mark.parametrize("kind", ["sasrec", "sasrec-additive"])
def test_causal_upper_triangle_is_zero_and_empty_queries_are_zero_not_nan(kind):
    w = _model(kind)(SEQS, return_attention=True).attention[0]
    upper = torch.ones(8, 8, dtype=torch.bool).triu(1)
    assert (w[..., upper] == 0).all()
    # left padding: a padding query under a causal mask sees no real key at all -> an all-zero row
    assert (w[2, :, :7, :] == 0).all() and not torch.isnan(w).any()


def test_bidirectional_sees_the_future():
    w = _model("bert4rec")(SEQS, return_attention=True).attention[0]
    upper = torch.ones(8, 8, dtype=torch.bool).triu(1)
    assert (w[1][:, upper] > 0).all()


@pytest.mark.parametrize("kind", ["sasrec", "bert4rec", "sasrec-additive"])
@pytest.mark.parametrize("position", ["learned", "sinusoidal"])
def test_scores_equal_with_and_without_return_attention(kind, position):
    model = _model(kind, position=position)
    plain = model.score(SEQS).scores
    traced = model.score(SEQS, return_attention=True)
    assert traced.attention is not None and torch.allclose(plain, traced.scores, atol=1e-5)
    # the fused fast path and the hand-written one give the same hidden states
    assert torch.allclose(model(SEQS).hidden, model(SEQS, return_attention=True).hidden, atol=1e-5)
    assert plain[:, 0].eq(float("-inf")).all()


def test_returned_weights_are_the_ones_used():
    """Recompute layer 0's output from the returned weights: it must match the model's own."""
    model = _model("sasrec")
    seqs = SEQS[:1]
    out = model(seqs, return_attention=True)
    block = model.blocks[0]
    x = model.item_emb(seqs) * 16 ** 0.5 + model.pos_emb[-8:]
    x = x * (seqs != 0)[..., None]
    h = block.ln1(x)
    q, k, v = block.attn.qkv(h).split(16, dim=-1)
    v = v.view(1, 8, 2, 8).transpose(1, 2)
    y = (out.attention[0] @ v).transpose(1, 2).reshape(1, 8, 16)
    expected = block.attn.out(y)
    got, _ = block.attn(h, torch.ones(1, 1, 8, 8, dtype=torch.bool).tril() & (seqs != 0)[:, None, None, :], True)
    assert torch.allclose(expected, got, atol=1e-5)


def test_additive_heads_compute_the_seeds_formula_and_use_the_weights_they_return():
    """Layer 0 of SASRec (additive), recomputed one head, one query and one key at a time from the seed's formula
    A_ij = softmax_j(w_o · tanh(W1 x_j + W2 y_i + b)): the returned weights are those, and the layer's output is
    made from exactly them."""
    from recattn.models.attention import ADDITIVE_HEAD_DIM as d

    model = _model("sasrec-additive")
    seqs = SEQS[:1]
    maps = model(seqs, return_attention=True).attention
    attn = model.blocks[0].attn
    x = model.item_emb(seqs) * 16 ** 0.5 + model.pos_emb[-8:]
    h = model.blocks[0].ln1(x * (seqs != 0)[..., None])[0]  # (T, D)
    W1, b, W2, w_o = attn.key.weight, attn.key.bias, attn.query.weight, attn.energy
    expected = torch.zeros(2, 8, 8)
    for head in range(2):
        rows = slice(head * d, (head + 1) * d)
        for i in range(8):
            keys = [j for j in range(i + 1) if seqs[0, j] != 0]  # causal, padding never a key
            if not keys:
                continue
            e = torch.stack([w_o[head] @ torch.tanh(W1[rows] @ h[j] + b[rows] + W2[rows] @ h[i]) for j in keys])
            expected[head, i, keys] = torch.softmax(e, 0)
    assert torch.allclose(maps[0][0], expected, atol=1e-5)
    v = attn.value(h).view(8, 2, 8).transpose(0, 1)  # (H, T, d_v)
    made = attn.out((expected @ v).transpose(0, 1).reshape(1, 8, 16))
    allowed = torch.ones(1, 1, 8, 8, dtype=torch.bool).tril() & (seqs != 0)[:, None, None, :]
    assert torch.allclose(attn(h[None], allowed)[0], made, atol=1e-5)


def test_left_padding_does_not_change_scores():
    model = _model("sasrec")
    short = torch.tensor([[5, 7, 9]])
    padded = torch.tensor([[0, 0, 0, 0, 0, 5, 7, 9]])
    assert torch.allclose(model.score(short).scores, model.score(padded).scores, atol=1e-5)


def test_seen_items_are_the_causal_prefix_each_once():
    from recattn.models.scoring import seen_items

    inputs = torch.tensor([[0, 3, 5, 3]])
    where = torch.tensor([[False, True, False, True]])
    causal = seen_items(inputs, where, n_items=6, causal=True)
    assert [sorted(set(r) - {0}) for r in causal.tolist()] == [[3], [3, 5]]
    assert [sorted(r for r in row if r) for row in causal.tolist()] == [[3], [3, 5]]  # 3 listed once
    both = seen_items(inputs, where, n_items=6, causal=False)
    assert [sorted(r for r in row if r) for row in both.tolist()] == [[3, 5], [3, 5]]
    masked = seen_items(torch.tensor([[2, 7, 4]]), torch.tensor([[False, False, True]]), n_items=6, causal=False)
    assert sorted(r for r in masked[0].tolist() if r) == [2, 4]  # 7 is the mask token, not an item


REPEAT_KINDS = ["sasrec", "bert4rec", "gru", "narm"]  # every kind with one hidden state per position


@pytest.mark.parametrize("kind", REPEAT_KINDS)
def test_repeat_bias_moves_exactly_the_seen_items(kind):
    model = _model(kind, repeat_bias=True)
    with torch.no_grad():
        model.repeat_bias.fill_(-2.5)
    seqs = torch.tensor([[0, 0, 0, 5, 9, 5, 7, 9]])  # 5 and 9 twice: the offset is added once
    with_bias = model.score(seqs).scores
    with torch.no_grad():
        model.repeat_bias.fill_(0.0)
    without = model.score(seqs).scores
    diff = (with_bias - without)[0, 1:]
    expected = torch.zeros(30)
    expected[[4, 6, 8]] = -2.5
    assert torch.allclose(diff, expected, atol=1e-5)


@pytest.mark.parametrize("kind", REPEAT_KINDS)
def test_repeat_bias_reaches_items_older_than_the_window(kind):
    model = _model(kind, repeat_bias=True)
    long = torch.tensor([[12, 13, 14, 5, 7, 9, 2, 11, 3, 4]])  # max_len 8: 12 and 13 are older
    with torch.no_grad():
        model.repeat_bias.fill_(-2.5)
    diff = (model.score(long).scores - model.score(long[:, -8:]).scores)[0, 1:]
    expected = torch.zeros(30)
    expected[[11, 12]] = -2.5  # the model read the same 8 items; only 12 and 13 gained the offset
    assert torch.allclose(diff, expected, atol=1e-5)


@pytest.mark.parametrize("kind", ["sasrec", "gru", "narm"])  # causal: position t has seen inputs 1..t
def test_training_loss_with_repeat_bias_matches_a_dense_offset(kind):
    import torch.nn.functional as F
    from recattn.training import objectives

    model = _model(kind, repeat_bias=True)
    with torch.no_grad():
        model.repeat_bias.fill_(-1.5)
    inputs = torch.tensor([[0, 5, 7, 5, 9], [4, 4, 6, 8, 2]])
    targets = torch.tensor([[0, 7, 5, 9, 3], [4, 6, 0, 2, 1]])
    hidden = model(inputs).hidden
    dense = []
    for b in range(2):
        for t in range(5):
            if targets[b, t]:
                row = model.logits(hidden[b, t])
                seen = sorted(set(inputs[b, : t + 1].tolist()) - {0})
                row[seen] += -1.5
                dense.append(row)
    expected = F.cross_entropy(torch.stack(dense), targets[targets != 0])
    got = objectives.loss(model, inputs, targets, "ce", negatives=1)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)
    got.backward()
    assert model.repeat_bias.grad is not None and model.repeat_bias.grad.abs() > 0


@pytest.mark.parametrize("kind", ["gru", "narm"])
def test_without_the_flag_the_recurrent_models_are_unchanged(kind):
    """The offset is opt-in: no parameter, and the shipped checkpoints' state dicts keep their keys."""
    model = _model(kind)
    assert model.repeat_bias is None and "repeat_bias" not in model.state_dict()
    assert model.history_items(torch.tensor([[0, 3, 3]])) is None


@pytest.mark.parametrize("kind", REPEAT_KINDS)
def test_scores_with_the_repeat_offset_have_gradients(kind):
    """Explanations differentiate the scores: the offset must not overwrite what autograd saved."""
    model = _model(kind, repeat_bias=True)
    scores = model.score(torch.tensor([[0, 0, 0, 5, 9, 5, 7, 9]])).scores
    scores[:, 1:].sum().backward()
    assert model.repeat_bias.grad is not None and model.repeat_bias.grad.item() == pytest.approx(3.0)  # 5, 7, 9
