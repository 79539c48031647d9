"""Two-stage ranking: the additive model re-scores a first stage's top N, and only those N; everything else ranks
below them in the first stage's order."""

import numpy as np
import pytest
import torch

from recattn.config import ModelConfig
from recattn.data.sequences import left_pad
from recattn.results.evaluate import evaluate
from recattn.models import additive, build_model
from recattn.results.rerank import merge, rerank_scorer, top_candidates
from recattn.training.fit import model_scorer

N_ITEMS = 40
SEQS = torch.tensor([[0, 0, 0, 3, 5, 7, 2, 9], [0] * 8, [0, 0, 0, 0, 0, 0, 0, 4], [1, 2, 3, 4, 5, 6, 7, 8]])
HISTORIES = [np.array([3, 5, 7, 2, 9]), np.array([4]), np.array([1, 2, 3, 4, 5, 6, 7, 8, 10, 12]), np.array([40, 1])]
TARGETS = np.array([11, 13, 30, 2])


def _model(kind):
    cfg = ModelConfig(kind=kind, n_items=N_ITEMS, max_len=8, hidden=16, layers=1, dropout=0.0)
    return build_model(cfg, seed=0).eval()


@pytest.mark.parametrize("chunk", [additive.CHUNK_ELEMENTS, 4 * 8 * 16 * 4])  # one chunk; 4 candidates a chunk
def test_score_candidates_equals_the_columns_of_full_scoring(chunk, monkeypatch):
    monkeypatch.setattr(additive, "CHUNK_ELEMENTS", chunk)
    model = _model("additive")
    candidates = torch.randint(1, N_ITEMS + 1, (len(SEQS), 9), generator=torch.Generator().manual_seed(0))
    candidates[0, 3] = 0  # padding is no candidate
    with torch.no_grad():
        full = model.score(SEQS).scores
        some = model.score_candidates(SEQS, candidates)
    assert some.shape == candidates.shape and some[0, 3] == float("-inf")
    np.testing.assert_allclose(some.numpy(), full.gather(1, candidates).numpy(), rtol=1e-5, atol=1e-6)


def test_merge_keeps_the_second_stage_on_top_and_the_first_stage_order_below():
    first = torch.tensor([[float("-inf"), 5.0, 4.0, 3.0, 2.0, 1.0, float("-inf")]])
    candidates = torch.tensor([[1, 2, 3]])  # the top 3
    second = torch.tensor([[-7.0, 2.0, -9.0]])
    out = merge(first, candidates, second)
    assert out[0, [1, 2, 3]].tolist() == [-7.0, 2.0, -9.0]
    assert out[0, 4] < -9.0 and out[0, 5] < out[0, 4]  # below every candidate, in the first stage's order
    assert out[0, 0] == out[0, 6] == float("-inf")  # what the first stage ruled out stays out
    assert out.argsort(descending=True)[0, :5].tolist() == [2, 1, 3, 4, 5]


def test_top_candidates_never_picks_padding():
    first = torch.tensor([[9.0, 1.0, 3.0, 2.0]])
    assert top_candidates(first, n=2).tolist() == [[2, 3]]
    assert sorted(top_candidates(first, n=200)[0].tolist()) == [1, 2, 3]  # a catalogue smaller than n: all of it


def test_two_stage_scores_the_first_stages_top_n_with_the_additive_model_alone(monkeypatch):
    first_model, reranker = _model("narm"), _model("additive")
    first = model_scorer(first_model, "cpu")
    calls = []
    real = reranker.score_candidates

    def counted(seqs, candidates):
        calls.append(tuple(candidates.shape))
        return real(seqs, candidates)

    monkeypatch.setattr(reranker, "score_candidates", counted)
    monkeypatch.setattr(reranker, "score", None)  # full-catalogue scoring is never called
    out = rerank_scorer(first, reranker, n=10)(HISTORIES)
    assert calls == [(len(HISTORIES), 10)]

    base = first(HISTORIES)
    top = base.topk(10, dim=1).indices
    expected = real(torch.as_tensor(left_pad(HISTORIES, 8)), top)
    np.testing.assert_allclose(out.gather(1, top).numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    inside = torch.zeros_like(out, dtype=torch.bool).scatter_(1, top, True)
    inside[:, 0] = True  # padding: -inf
    lowest_inside = out.gather(1, top).min(1).values
    assert (out.masked_fill(inside, float("-inf")).max(1).values < lowest_inside).all()


def test_a_first_stage_top_n_of_the_whole_catalogue_evaluates_as_the_additive_model():
    first, reranker = _model("narm"), _model("additive")
    two_stage = evaluate(rerank_scorer(model_scorer(first, "cpu"), reranker, n=N_ITEMS), HISTORIES, TARGETS, N_ITEMS)
    alone = evaluate(model_scorer(reranker, "cpu"), HISTORIES, TARGETS, N_ITEMS)
    assert two_stage["ndcg@10"] == pytest.approx(alone["ndcg@10"]) and two_stage["hr@20"] == alone["hr@20"]
    first_alone = evaluate(model_scorer(first, "cpu"), HISTORIES, TARGETS, N_ITEMS)
    assert two_stage["ndcg@20"] != pytest.approx(first_alone["ndcg@20"])  # the check can tell the stages apart


def test_exclude_seen_hands_the_reranker_unseen_items_only(monkeypatch):
    first_model, reranker = _model("narm"), _model("additive")
    picked = []
    real = reranker.score_candidates
    monkeypatch.setattr(reranker, "score_candidates", lambda seqs, c: picked.append(c) or real(seqs, c))
    out = rerank_scorer(model_scorer(first_model, "cpu"), reranker, n=10, exclude_seen=True)(HISTORIES)
    (candidates,) = picked
    for row, history in enumerate(HISTORIES):
        assert not np.isin(candidates[row].numpy(), history).any()
        others = np.setdiff1d(candidates[row].numpy(), history)
        assert (out[row, history].max() < out[row, others].min())  # seen: below every candidate, still rankable
        assert torch.isfinite(out[row, history]).all()
    kept = rerank_scorer(model_scorer(first_model, "cpu"), reranker, n=10)(HISTORIES)
    assert torch.isfinite(kept[2, HISTORIES[2]]).all()  # without it, the first stage decides
