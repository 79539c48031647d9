"""The Learn page's computation: the step-by-step walkthrough IS SASRec's forward pass (same softmax weights as the
Attention page's trace, same final scores as model.score), the sinusoidal table follows its formula, and the
contrasts (additive cross-attention, order variants, occlusion) give the answers they must."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from recattn.analysis import contrast
from recattn.analysis import walkthrough as learn
from recattn.data import load
from recattn.recommend import Recommender

MODELS = Path(__file__).resolve().parents[1] / "assets" / "models"
HISTORY = ["2", "10", "11", "40", "5"]


@pytest.fixture(scope="module")
def films():
    return load("builtin:films")


@pytest.fixture(scope="module")
def sasrec(films):
    return Recommender.from_checkpoint(MODELS / "films-sasrec", films)


@pytest.fixture(scope="module")
def gru(films):
    return Recommender.from_checkpoint(MODELS / "films-gru", films)


def test_softmax_step_equals_the_attention_pages_trace(sasrec):
    walk = learn.walkthrough(sasrec.model, sasrec.vocab.index(HISTORY))
    trace = sasrec.recommend(HISTORY).trace
    assert walk.weights.shape == trace.weights.shape == (2, 2, 5, 5)
    for layer in range(2):
        for head in range(2):
            np.testing.assert_allclose(walk.layers[layer].weights[head], trace.weights[layer, head], atol=1e-6)
    assert not walk.layers[0].allowed[0, 1] and walk.layers[0].allowed[4].all()  # causal: row t sees keys <= t


@pytest.mark.parametrize("length", [5, 60])  # 60 > max_len: the blocks read the last 50, the repeat bias sees all
def test_step_by_step_scores_equal_model_score(sasrec, length):
    seq = np.arange(1, length + 1) * 7 % 1000 + 1
    walk = learn.walkthrough(sasrec.model, seq)
    with torch.no_grad():
        real = sasrec.model.score(torch.as_tensor(seq[None])).scores[0].numpy()
    assert np.isneginf(walk.scores[0]) and np.isneginf(real[0])
    np.testing.assert_allclose(walk.scores[1:], real[1:], atol=1e-4)
    assert walk.repeat_bias is not None and walk.item_part.shape == (min(length, 50), 64)
    # each intermediate is what the next step reads: LN1's rows have mean 0 before the affine, the residual adds up
    steps = walk.layers[1]
    np.testing.assert_allclose(steps.residual, steps.x + steps.attention, atol=1e-5)
    np.testing.assert_allclose(steps.out, steps.residual + steps.ffn, atol=1e-5)
    np.testing.assert_allclose(steps.concat[:, 32:], steps.mixed[1].reshape(len(steps.x), 32), atol=1e-6)


def test_top_items_match_recommend(sasrec):
    walk = learn.walkthrough(sasrec.model, sasrec.vocab.index(HISTORY))
    ours = sasrec.rank(walk.scores, HISTORY)
    theirs = sasrec.recommend(HISTORY).items
    assert [i.id for i in ours] == [i.id for i in theirs] and len(ours) == 10
    np.testing.assert_allclose([i.score for i in ours], [i.score for i in theirs], atol=1e-4)
    assert not set(HISTORY) & {i.id for i in ours}


def test_positions_off_changes_scores_and_leaves_the_model_alone(sasrec):
    before = sasrec.model.pos_emb.detach().clone()
    on = learn.walkthrough(sasrec.model, sasrec.vocab.index(HISTORY))
    off = learn.walkthrough(sasrec.model, sasrec.vocab.index(HISTORY), positions=False)
    assert not off.position_part.any() and on.position_part.any()
    assert np.abs(on.scores[1:] - off.scores[1:]).max() > 1e-3
    torch.testing.assert_close(sasrec.model.pos_emb.detach(), before, rtol=0, atol=0)
    assert all(not p.requires_grad or p.grad is None for p in sasrec.model.parameters())


def test_sinusoidal_table_follows_the_formula(sasrec):
    sinusoidal, learned = learn.position_tables(sasrec.model)
    assert sinusoidal.shape == learned.shape == (50, 64)
    d = 64
    for pos, i in [(0, 0), (1, 0), (7, 3), (49, 31), (20, 10)]:
        assert sinusoidal[pos, 2 * i] == pytest.approx(math.sin(pos / 10000 ** (2 * i / d)), abs=1e-5)
        assert sinusoidal[pos, 2 * i + 1] == pytest.approx(math.cos(pos / 10000 ** (2 * i / d)), abs=1e-5)
    np.testing.assert_array_equal(learned, sasrec.model.pos_emb.detach().numpy())


def test_cosine_similarity_known_answers():
    sim = learn.cosine_similarity(np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [1.0, 1.0]]))
    np.testing.assert_allclose(np.diag(sim), 1.0)
    assert sim[0, 1] == pytest.approx(0.0) and sim[0, 2] == pytest.approx(-1.0)
    assert sim[0, 3] == pytest.approx(1 / math.sqrt(2))


def test_additive_cross_attention_equals_the_trace(films):
    additive = Recommender.from_checkpoint(MODELS / "films-additive", films)
    rec = additive.recommend(HISTORY)
    cross = additive.cross_attention(HISTORY, [i.id for i in rec.items])
    assert cross.weights.shape == cross.energies.shape == (10, 5)
    np.testing.assert_allclose(cross.weights, rec.trace.weights[0, 0], atol=1e-6)
    e = np.exp(cross.energies - cross.energies.max(1, keepdims=True))
    np.testing.assert_allclose(cross.weights, e / e.sum(1, keepdims=True), atol=1e-6)


def test_order_variants():
    v = contrast.order_variants(["a", "b", "c", "d"])
    assert v["original"] == ["a", "b", "c", "d"] and v["reversed"] == ["d", "c", "b", "a"]
    assert v["oldest removed"] == ["b", "c", "d"]
    assert sorted(v["shuffled"]) == ["a", "b", "c", "d"]
    assert v["shuffled"] == contrast.order_variants("abcd")["shuffled"]  # seeded: the same shuffle every time
    assert list(contrast.order_variants(["a"])) == ["original", "reversed", "shuffled"]  # nothing left to remove


def test_reversing_the_history_changes_the_grus_list(gru):
    changes = {c.variant: c for c in gru.order_changes(HISTORY)}
    assert "positions off" not in changes  # a GRU has no positions
    original, reversed_ = changes["original"], changes["reversed"]
    assert original.overlap == 10 and original.ranks == tuple(range(1, 11))
    assert [i.id for i in reversed_.items] != [i.id for i in original.items]
    # the ranks are those of the original items in the reversed history's own ranking
    top = {i.id: r for r, i in enumerate(reversed_.items, 1)}
    for item, rank in zip(original.items, reversed_.ranks):
        assert top.get(item.id, rank) == rank and (item.id in top) == (rank <= 10)
    assert reversed_.overlap == sum(r <= 10 for r in reversed_.ranks)


def test_sasrec_list_changes_include_positions_off(sasrec):
    changes = {c.variant: c for c in sasrec.order_changes(HISTORY)}
    assert list(changes) == ["original", "reversed", "shuffled", "oldest removed", "positions off"]
    walk = learn.walkthrough(sasrec.model, sasrec.vocab.index(HISTORY), positions=False)
    assert [i.id for i in changes["positions off"].items] == [i.id for i in sasrec.rank(walk.scores,
                                                                                                HISTORY)]


def test_occlusion_beyond_max_len_is_zero(sasrec):
    history = [str(i) for i in range(100, 155)]  # 55 items: the 5 oldest lie beyond SASRec's max_len of 50
    inf = sasrec.influence(history)
    assert inf.drops.shape == (55,) and inf.distance[0] == 54 and inf.distance[-1] == 0
    np.testing.assert_allclose(inf.drops[:5], 0.0, atol=1e-6)
    assert np.abs(inf.drops[5:]).max() > 1e-3
    assert inf.target.id == sasrec.recommend(history).items[0].id


def test_occlusion_matches_removing_the_item_by_hand(sasrec, gru):
    for rec in (sasrec, gru):
        inf = rec.influence(HISTORY)
        col = rec.vocab.index([inf.target.id])[0]
        full = rec.scores(HISTORY).scores[0, col].item()
        for i in (0, 4):
            without = rec.scores(HISTORY[:i] + HISTORY[i + 1:]).scores[0, col].item()
            assert inf.drops[i] == pytest.approx(full - without, abs=1e-4)


def test_matrix_figure_labels_masks_and_scales():
    from recattn.viz.learn import matrix_figure

    titles = [f"A rather long film title number {i} (1990)" for i in range(3)]
    z = np.array([[1.0, 0, 0], [0.4, 0.6, 0], [0.2, 0.3, 0.5]])
    fig = matrix_figure(z, titles, titles, title="w", x_title="key", y_title="query", value="weight",
                        scale="attention", masked=np.triu(np.ones((3, 3), bool), 1), titled_columns=True)
    trace = fig.data[0]
    assert np.isnan(trace.z[0, 1]) and trace.z[2, 2] == 0.5 and trace.zmin == 0 and trace.zmax == 1.0
    assert trace.customdata[2, 0, 0] == "3. " + titles[2]  # full title on hover
    assert len(fig.layout.xaxis.ticktext[0]) < len(titles[0])  # shortened on the axis
    signed = matrix_figure(np.array([[-2.0, 1.0]]), ["x"], ["0", "1"], title="s", x_title="d", y_title="i",
                           value="v")
    assert (signed.data[0].zmin, signed.data[0].zmax, signed.data[0].zmid) == (-2.0, 2.0, 0.0)
    many = matrix_figure(np.zeros((20, 20)), titles * 6 + titles[:2], titles * 6 + titles[:2], title="m",
                         x_title="k", y_title="q", value="v", titled_columns=True)
    assert many.layout.xaxis.ticktext[:2] == ("1", "6")  # too many columns for titles: numbers, every 5th
    with pytest.raises(ValueError):
        matrix_figure(z, titles[:2], titles, title="bad", x_title="k", y_title="q", value="v")
