"""Explanation methods, head diagnostics and counterfactuals on tiny models, each against a known answer."""

import copy

import numpy as np
import pytest
import torch

from recattn.analysis import explain as ex
from recattn.config import ModelConfig
from recattn.data.sequences import Split
from recattn.models import build_model


def _model(kind="sasrec", **kw):
    cfg = {"kind": kind, "n_items": 30, "max_len": 8, "hidden": 16, "layers": 2, "heads": 2, "dropout": 0.0} | kw
    return build_model(ModelConfig(**cfg), seed=0).eval()


SEQ = np.array([0, 0, 5, 7, 9, 2, 11, 4])  # left-padded, 6 items
LONG = np.array([3, 8, 12, 14, 5, 7, 9, 2, 11, 4, 6, 10])  # 12 items: the first 4 are outside an 8-item window
ITEM = 13


def test_rollout_of_identity_attention_is_identity_and_a_hand_case():
    eye = np.stack([np.eye(4)] * 2)  # (heads, Q, Q)
    assert np.allclose(ex.rollout([eye, eye, eye]), np.eye(4))
    # one causal layer over 2 positions, the second row half-half: Â = 0.5 A + 0.5 I = [[1, 0], [.25, .75]]
    a = np.array([[[1.0, 0.0], [0.5, 0.5]]])
    hat = np.array([[1.0, 0.0], [0.25, 0.75]])
    assert np.allclose(ex.rollout([a]), hat)
    assert np.allclose(ex.rollout([a, a]), hat @ hat)
    # a row that sees nothing keeps its residual alone
    assert np.allclose(ex.rollout([np.zeros((1, 2, 2))]), np.eye(2))


@pytest.mark.parametrize("kind", ["sasrec", "bert4rec", "additive", "narm"])
def test_attention_rows_are_the_scoring_rows_and_sum_to_one(kind):
    model = _model(kind)
    rows = ex.attention_rows(model, SEQ, ITEM)  # (L, H, T)
    out = ex.score_batch(model, SEQ[None], attention=True)
    assert rows.shape == (len(out.attention), out.attention[0].shape[1], len(SEQ))
    assert (rows[..., SEQ == 0] == 0).all()  # padding gets nothing
    last = out.attention[-1][0, :, -1].numpy()  # (H, K)
    if kind == "additive":  # the candidate's own row, over the whole history
        assert np.allclose(rows[-1], out.attention[-1][0, :, ITEM].numpy())
        assert np.allclose(rows.sum(-1), 1.0, atol=1e-5)
    elif kind in ("sasrec", "narm"):  # the last item's row (NARM has only that one)
        assert np.allclose(rows[-1], last)
        assert np.allclose(rows.sum(-1), 1.0, atol=1e-5)
    else:  # the mask slot's row without its weight on itself (the slot is no history item)
        assert np.allclose(rows[-1, :, 1:], last[:, :-1])  # the window of 8 holds the last 7 positions and the slot
        on_itself = np.stack([m[0, :, -1, -1].numpy() for m in out.attention])  # (L, H)
        assert np.allclose(rows.sum(-1) + on_itself, 1.0, atol=1e-5)


def test_rollout_of_a_model_is_the_last_row_of_its_maps_rolled_out():
    model = _model("sasrec")
    out = ex.score_batch(model, SEQ[None], attention=True)
    expected = ex.rollout([m[0].numpy() for m in out.attention])[-1]
    got = ex.attention_rollout(model, SEQ, ITEM)
    assert np.allclose(got, expected) and (got[SEQ == 0] == 0).all()
    with pytest.raises(ValueError):
        ex.attention_rollout(_model("additive"), SEQ, ITEM)


def test_occlusion_of_items_the_model_cannot_read_is_zero():
    model = _model("sasrec")  # reads the last 8 of LONG's 12 items
    occ = ex.occlusion(model, LONG, ITEM)
    assert occ.score_drop.shape == occ.rank_change.shape == (12,)
    assert (occ.score_drop[:4] == 0).all() and (occ.score_drop[4:] != 0).all()
    # the rank still moves by one where the removed item, now unseen, scores above the item
    scores = ex.score_batch(model, LONG[None]).scores[0]
    assert occ.rank_change[:4].tolist() == [int(scores[i] > scores[ITEM]) for i in LONG[:4]]
    # padding: removing it removes nothing
    occ = ex.occlusion(model, SEQ, ITEM)
    assert (occ.score_drop[:2] == 0).all()
    # a model that ignores the history: no item matters
    assert (ex.occlusion(_model("pop"), LONG, ITEM).score_drop == 0).all()


@pytest.mark.parametrize("kind", ["sasrec", "gru", "additive"])
def test_occlusion_equals_removing_each_item_by_hand(kind):
    model = _model(kind)
    occ = ex.occlusion(model, SEQ, ITEM)
    full = ex.score_batch(model, SEQ[None]).scores
    assert occ.score_before == pytest.approx(float(full[0, ITEM]))
    assert occ.rank_before == int(ex.ranks(full, SEQ[None], ITEM)[0])
    for i in np.flatnonzero(SEQ):
        without = np.r_[0, np.delete(SEQ, i)]
        s = ex.score_batch(model, without[None]).scores
        assert occ.score_drop[i] == pytest.approx(float(full[0, ITEM] - s[0, ITEM]), abs=1e-5)
        assert occ.rank_change[i] == int(ex.ranks(s, without[None], ITEM)[0]) - occ.rank_before


def test_ranks_leave_out_the_history_and_count_strictly_higher_scores():
    scores = torch.tensor([[float("-inf"), 5.0, 4.0, 3.0, 3.0, float("nan")]])
    assert ex.ranks(scores, [[0, 1]], 3).tolist() == [2]  # item 1 is seen; 2 is higher; 4 ties; NaN never counts
    assert ex.ranks(scores, [[0, 0]], 3).tolist() == [3]
    assert ex.top_k(scores, [[0, 1]], 1).tolist() == [[2]]
    assert ex.top_k(scores, [[0, 2]], 1).tolist() == [[1]]


@pytest.mark.parametrize("kind", ["sasrec", "bert4rec", "gru", "additive", "narm"])
def test_gradients_shapes_zeros_at_padding_and_ig_completeness(kind):
    model = _model(kind)
    g = ex.gradients(model, SEQ, ITEM, steps=64)
    assert g.grad_x_input.shape == g.integrated.shape == (len(SEQ),)
    assert (g.grad_x_input[SEQ == 0] == 0).all() and (g.integrated[SEQ == 0] == 0).all()
    assert g.score == pytest.approx(float(ex.score_batch(model, SEQ[None]).scores[0, ITEM]), abs=1e-5)
    # completeness: the attributions add up to f(x) - f(zero embeddings), the midpoint rule's error falling as 1/steps²
    gap = g.score - g.baseline
    error = abs(g.integrated.sum() - gap)
    assert error <= 0.01 * abs(gap) + 2e-6
    coarse = abs(ex.gradients(model, SEQ, ITEM, steps=16).integrated.sum() - gap)
    assert error <= coarse / 8 + 1e-8
    assert ex.gradients(model, SEQ, ITEM, steps=0).integrated is None
    with pytest.raises(ValueError):
        ex.gradients(_model("pop"), SEQ, ITEM)


@pytest.mark.parametrize("kind", ["sasrec", "bert4rec", "gru", "narm"])
def test_grad_x_input_lands_on_the_right_position(kind):
    """Against a finite difference that scales one position's embedding by (1 + eps), in float64. The GRU moves
    its padding behind the items and BERT4Rec appends a mask slot: the slot of position i is found by hand."""
    model = _model(kind).double()
    seq = SEQ
    g = ex.gradients(model, seq, ITEM, steps=0)
    pad = int((seq == 0).sum())
    # NARM computes its attention energies in float32 even in float64: a wider step, a looser tolerance
    eps, rel = (1e-2, 2e-3) if kind == "narm" else (1e-4, 1e-4)

    def score(position: int, scale: float) -> float:
        slot = position - pad if kind in ("gru", "narm") else position  # a GRU embeds its items first
        if kind == "bert4rec":
            slot -= 1  # the window of 8 is the last 7 history positions and the mask slot

        def hook(module, args, out):
            out = out.clone()
            out[:, slot] *= scale
            return out

        handle = model.item_emb.register_forward_hook(hook)
        try:
            with torch.no_grad():
                return float(model.score(torch.as_tensor(seq[None])).scores[0, ITEM])
        finally:
            handle.remove()

    for i in np.flatnonzero(seq):
        fd = (score(i, 1 + eps) - score(i, 1 - eps)) / (2 * eps)
        assert g.grad_x_input[i] == pytest.approx(fd, rel=rel, abs=1e-8)


@pytest.mark.parametrize("kind,expected", [
    ("sasrec", {"attention", "value_norm", "rollout", "occlusion", "grad_x_input", "integrated_gradients",
                "attention_L1",
                "attention_L2H2"}),
    ("bert4rec", {"attention", "value_norm", "rollout", "occlusion", "grad_x_input", "integrated_gradients"}),
    ("sasrec-additive", {"attention", "value_norm", "rollout", "occlusion", "grad_x_input", "integrated_gradients",
                         "attention_L1", "attention_L2H2"}),  # SASRec's layers and heads, the seed's score in each
    ("additive", {"attention", "occlusion", "grad_x_input", "integrated_gradients"}),
    ("narm", {"attention", "occlusion", "grad_x_input", "integrated_gradients"}),  # one causal row, no rollout
    ("gru", {"occlusion", "grad_x_input", "integrated_gradients"}),
    ("pop", {"occlusion"}),
])
def test_explain_all_runs_what_applies_to_each_kind(kind, expected):
    model = _model(kind)
    got = ex.explain_all(model, SEQ, ITEM)
    assert expected <= set(got)
    assert set(ex.applicable_methods(model)) == expected & set(ex.METHODS)
    if kind in ("additive", "narm", "gru", "pop"):  # one attention row or none: no per-layer or per-head entries
        assert set(got) == expected
    for weights in got.values():
        assert weights.shape == (len(SEQ),) and np.isfinite(weights).all() and (weights[SEQ == 0] == 0).all()
    assert np.allclose(ex.explain_all(model, SEQ, ITEM)["occlusion"], got["occlusion"])


def test_explain_leaves_the_model_as_it_was():
    model = _model("sasrec").train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    ex.explain_all(model, SEQ, ITEM)
    ex.ablate_heads(model, SEQ, ITEM)
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not model.item_emb._forward_hooks and not model.blocks[0].attn.out._forward_pre_hooks


def test_masking_no_head_changes_nothing_and_masking_the_only_head_does():
    model = _model("sasrec", layers=1, heads=1)
    x = torch.as_tensor(SEQ[None])
    plain = model.score(x).scores
    with ex.heads_masked(model, np.ones((1, 1))):
        assert torch.equal(model.score(x).scores, plain)
    with ex.heads_masked(model, np.zeros((1, 1))):
        assert not torch.allclose(model.score(x).scores, plain)
    (only,) = ex.ablate_heads(model, SEQ, ITEM)
    assert (only.layer, only.head) == (0, 0) and only.score_change != 0


@pytest.mark.parametrize("kind", ["sasrec", "sasrec-additive"])
def test_masking_a_head_equals_zeroing_its_columns_of_the_output_projection(kind):
    model = _model(kind)  # 2 layers x 2 heads of size 8
    edited = copy.deepcopy(model)
    with torch.no_grad():
        edited.blocks[1].attn.out.weight[:, 8:] = 0  # layer 1, head 1
    x = torch.as_tensor(np.stack([SEQ, LONG[-8:]]))
    with ex.heads_masked(model, [[1, 1], [1, 0]]):
        assert torch.allclose(model.score(x).scores, edited.score(x).scores, atol=1e-6)
    # per row: row 0 ablates layer 1 head 1, row 1 nothing
    with ex.heads_masked(model, [[[1, 1], [1, 0]], [[1, 1], [1, 1]]]):
        both = model.score(x).scores
    assert torch.allclose(both[0], edited.score(x[:1]).scores[0], atol=1e-6)
    assert torch.allclose(both[1], model.score(x[1:]).scores[0], atol=1e-6)


def test_ablate_heads_reports_each_head_most_consequential_first():
    model = _model("sasrec")
    found = ex.ablate_heads(model, SEQ, ITEM, k=10)
    assert sorted((a.layer, a.head) for a in found) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [a.overlap for a in found] == sorted(a.overlap for a in found)
    for a in found:  # each entry is what zeroing that head really does
        mask = np.ones((2, 2))
        mask[a.layer, a.head] = 0
        with ex.heads_masked(model, mask):
            s = ex.score_batch(model, SEQ[None]).scores
        assert a.rank == int(ex.ranks(s, SEQ[None], ITEM)[0])
    assert ex.ablate_heads(_model("gru"), SEQ, ITEM) == ()


def test_head_stats_of_a_one_item_history_are_certain():
    model = _model("sasrec")
    stats = ex.head_stats(model, np.array([0, 0, 0, 0, 0, 0, 0, 9]))
    assert len(stats) == 4
    for s in stats:  # the only key is the newest item: all weight, no uncertainty, no look-back
        assert s.newest_weight == pytest.approx(1.0) and s.entropy_last == pytest.approx(0.0, abs=1e-6)
        assert s.lookback == pytest.approx(0.0) and s.entropy_rows == pytest.approx(0.0, abs=1e-6)
    two = ex.head_stats(model, np.array([[0, 0, 0, 0, 0, 0, 4, 9]]))
    out = ex.score_batch(model, np.array([[0, 0, 0, 0, 0, 0, 4, 9]]), attention=True)
    for s in two:  # two keys: look-back = weight on the older one, entropy of a two-way split
        w = out.attention[s.layer][0, s.head, -1, -2:].numpy()
        assert s.lookback == pytest.approx(w[0], abs=1e-6) and s.newest_weight == pytest.approx(w[1], abs=1e-6)
        assert s.entropy_last == pytest.approx(-(w * np.log(w)).sum(), abs=1e-5)
    assert ex.head_stats(_model("additive"), SEQ) == ()


def _knn_with_one_cause():
    """An ItemKNN where item 20 follows only item 3 (once) and items 21..30 are each seen 3 times."""
    model = _model("itemknn")
    popular = np.arange(21, 31)
    model.fit_counts(Split(train=(np.array([3, 20]),) + (popular,) * 3, valid_inputs=(), valid_targets=np.zeros(0),
                           test_inputs=(), test_targets=np.zeros(0), n_items=30))
    return model


def test_counterfactual_removes_the_one_cause_and_the_item_really_drops():
    model = _knn_with_one_cause()
    seq = np.array([0, 1, 2, 3, 4])
    cf = ex.counterfactual(model, seq, 20, k=10)
    assert cf.found and cf.removed_positions == (3,) and cf.removed_items == (3,)
    # before: 20 is the only follower, #1; without 3 only popularity is left: 21..30 rank above it
    assert (cf.rank_before, cf.rank_after) == (1, 11)
    assert cf.history_after.tolist() == [0, 0, 1, 2, 4]
    top = ex.top_k(ex.score_batch(model, cf.history_after[None]).scores, cf.history_after[None], 10)
    assert 20 not in top[0].tolist()


@pytest.mark.parametrize("kind", ["sasrec", "gru"])
def test_counterfactual_is_consistent_with_a_fresh_ranking(kind):
    model = _model(kind)
    first = int(ex.top_k(ex.score_batch(model, LONG[None]).scores, LONG[None], 1)[0, 0])
    cf = ex.counterfactual(model, LONG, first, k=3, max_removals=4)
    assert cf.rank_before == 1 and 1 <= len(cf.removed_positions) <= 4
    kept = np.delete(LONG, cf.removed_positions)
    assert cf.history_after.tolist() == [0] * len(cf.removed_positions) + kept.tolist()
    assert cf.removed_items == tuple(LONG[list(cf.removed_positions)])
    fresh = int(ex.ranks(ex.score_batch(model, cf.history_after[None]).scores, cf.history_after[None], first)[0])
    assert cf.rank_after == fresh and cf.found == (fresh > 3)


def test_counterfactual_of_an_item_already_outside_the_top_k_removes_nothing():
    model = _knn_with_one_cause()
    cf = ex.counterfactual(model, np.array([0, 1, 2, 4]), 20, k=10)
    assert cf.found and cf.removed_positions == () and cf.rank_before == cf.rank_after == 11


def _layer_input(model, seq):
    """What the last self-attention layer read and what it returned, for one history."""
    layer = ex.attention_layers(model)[-1]
    seen = []
    handle = layer.register_forward_hook(lambda module, args, out: seen.append((args[0], out[0])))
    try:
        ex.score_batch(model, np.asarray(seq)[None])
    finally:
        handle.remove()
    return layer, *seen[-1]


@pytest.mark.parametrize("kind", ["sasrec", "sasrec-additive", "bert4rec"])
def test_what_each_key_carries_adds_up_to_the_layers_output(kind):
    model = _model(kind)
    layer, x, y = _layer_input(model, SEQ)
    alpha = ex.score_batch(model, SEQ[None], attention=True).attention[-1][0, :, -1, :]  # the scoring row (H, K)
    with torch.inference_mode():
        carried = ex._carried(layer, x)  # (H, K, D)
        rebuilt = torch.einsum("hk,hko->o", alpha, carried) + layer.out.bias
    assert torch.allclose(rebuilt, y[0, -1], atol=1e-5)  # the decomposition is the layer's own sum


def test_value_norm_is_the_weight_times_the_norm_of_what_the_key_carries():
    model = _model("sasrec", heads=1)
    layer, x, _ = _layer_input(model, SEQ)
    D = x.shape[-1]
    with torch.inference_mode():
        v = layer.qkv(x)[0, :, 2 * D:]  # (K, D): one head's values
        carried = (v @ layer.out.weight.T).norm(dim=-1).numpy()
    alpha = ex.attention_rows(model, SEQ, ITEM)[-1, 0]  # (T,)
    expected = alpha * carried
    assert np.allclose(ex.value_norms(model, SEQ), expected, atol=1e-6)
    assert (ex.value_norms(model, SEQ)[SEQ == 0] == 0).all()
    with pytest.raises(ValueError, match="self-attention layers"):
        ex.value_norms(_model("gru"), SEQ)


@pytest.mark.parametrize("kind", ["sasrec", "gru"])
def test_contrastive_occlusion_is_the_difference_of_the_two_items_occlusions(kind):
    model = _model(kind)
    other = 17
    got = ex.contrastive_occlusion(model, SEQ, ITEM, other)
    expected = ex.occlusion(model, SEQ, ITEM).score_drop - ex.occlusion(model, SEQ, other).score_drop
    assert np.allclose(got, expected, atol=1e-5) and (got[SEQ == 0] == 0).all()
