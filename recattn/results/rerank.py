"""Two-stage ranking: a first stage scores the whole catalogue, and per-candidate target attention (the additive
model, as DIN is used) re-scores only that stage's top N, which is what makes it affordable on a large catalogue.

The two-stage scores keep the whole catalogue, so `recattn.results.evaluate.evaluate` ranks them like any model's: the top
N carry the re-ranker's scores, every other item ranks below all of them, in the first stage's order.
"""

from __future__ import annotations

import torch

from recattn import ranking
from recattn.config import RERANK_N
from recattn.data.sequences import left_pad
from recattn.results.evaluate import Scorer
from recattn.models.additive import AdditiveAttention


def top_candidates(first: torch.Tensor, n: int = RERANK_N) -> torch.Tensor:
    """The indices of each row's n highest first-stage scores (B, V) → (B, min(n, V - 1)); column 0 (padding)
    is never picked while a row has n finite scores."""
    scores = first.float().clone()
    scores[:, 0] = float("-inf")
    return scores.topk(min(n, scores.shape[1] - 1), dim=1).indices


def merge(first: torch.Tensor, candidates: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Two-stage scores (B, V): `second` (B, N) on the `candidates` (B, N), and every other item below the lowest
    of them, in first-stage order. A score that is not finite in the first stage (padding, an excluded item)
    stays -inf in both places."""
    first = first.float()
    second = second.float().masked_fill(~torch.isfinite(first.gather(1, candidates)), float("-inf"))
    finite = torch.isfinite(second)
    # the first stage's scores shifted so that its best item outside the candidates sits 1 below their minimum
    floor = torch.where(finite, second, torch.inf).amin(1, keepdim=True).nan_to_num(0.0, posinf=0.0) - 1.0
    inside = torch.zeros_like(first, dtype=torch.bool).scatter_(1, candidates, True)
    best_outside = first.masked_fill(inside, float("-inf")).amax(1, keepdim=True)
    out = first - best_outside.nan_to_num(0.0, neginf=0.0) + floor
    return out.scatter_(1, candidates, second)


def rerank_scorer(first: Scorer, reranker: AdditiveAttention, n: int = RERANK_N, exclude_seen: bool = False) -> Scorer:
    """A Scorer for recattn.results.evaluate: `first` (histories → (B, n_items + 1) scores, e.g. train.model_scorer of
    SASRec or NARM) picks each history's top n, and the additive model (put in eval mode) scores those n alone.

    exclude_seen: pick the n among items not in the history (what a deployed re-ranker is handed); seen items then
    rank below every candidate, in first-stage order, which only matters where evaluation ranks seen items too.
    """
    device = next(reranker.parameters()).device

    def score(histories) -> torch.Tensor:
        base = first(histories).float().cpu()
        pool = ranking.exclude_(base.clone(), histories) if exclude_seen else base
        candidates = top_candidates(pool, n)
        seqs = torch.as_tensor(left_pad(histories, max(map(len, histories), default=1)), device=device)
        with torch.no_grad():
            second = reranker.eval().score_candidates(seqs, candidates.to(device)).cpu()
        return merge(base, candidates, second)

    return score
