"""Leave-one-out evaluation: full ranking over the catalogue or the true item against sampled negatives.

Ranks are 0-based: rank 0 is the top. Ties with the true item share the middle of their range (half
of the tied items count as ranked above it), so constant scores earn no credit for luck.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from recattn.errors import RecAttnError

PROTOCOLS = ("full", "uniform100", "popular100")
KS = (5, 10, 20)

Scorer = Callable[[Sequence[np.ndarray]], torch.Tensor]  # histories -> (batch, n_items + 1) scores


def metrics_from_ranks(ranks: np.ndarray, ks: Sequence[int] = KS) -> dict[str, float]:
    """HR@k, NDCG@k and MRR@k (reciprocal rank, 0 beyond k) averaged over users."""
    ranks = np.asarray(ranks, dtype=np.float64)
    out: dict[str, float] = {}
    for k in ks:
        hit = ranks < k
        out[f"hr@{k}"] = float(hit.mean()) if len(ranks) else 0.0
        out[f"ndcg@{k}"] = float(np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0).mean()) if len(ranks) else 0.0
        out[f"mrr@{k}"] = float(np.where(hit, 1.0 / (ranks + 1.0), 0.0).mean()) if len(ranks) else 0.0
    return out


def rank_of_target(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """0-based rank of each row's target among that row's finite candidates; ties count half."""
    target_score = scores.gather(1, targets[:, None])
    above = (scores > target_score).sum(1)
    ties = (scores == target_score).sum(1) - 1
    return above + ties // 2


def _exclude_seen(scores: torch.Tensor, histories, targets: torch.Tensor) -> None:
    rows = np.concatenate([np.full(len(h), r) for r, h in enumerate(histories)]) if len(histories) else np.array([])
    cols = np.concatenate(list(histories)) if len(histories) else np.array([])
    if len(rows):
        keep = scores.gather(1, targets[:, None]).clone()  # a repeat of a seen item still counts
        scores[torch.as_tensor(rows, dtype=torch.long), torch.as_tensor(cols, dtype=torch.long)] = float("-inf")
        scores.scatter_(1, targets[:, None], keep)


def _sample_candidates(rng, histories, targets, n_items, counts, protocol, n=100):
    """Per user: the true item then n negatives not in the history, uniform or by training popularity."""
    weights = None
    if protocol == "popular100":
        weights = counts[1:].astype(np.float64) + 1e-9
        weights /= weights.sum()
    cands = np.empty((len(targets), n + 1), dtype=np.int64)
    for r, (h, t) in enumerate(zip(histories, targets)):
        banned = set(h.tolist()) | {int(t)}  # grows as negatives are taken, so none repeats
        if n_items - len(banned) < n:
            raise RecAttnError(f"{protocol} needs {n} items outside each history, but a history leaves only "
                               f"{n_items - len(banned)} of the {n_items} catalogue items; use the full protocol")
        picked: list[int] = []
        while len(picked) < n:
            for d in (rng.choice(n_items, size=2 * n, p=weights) + 1).tolist():
                if d not in banned:
                    banned.add(d)
                    picked.append(d)
        cands[r, 0] = t
        cands[r, 1:] = picked[:n]
    return cands


def evaluate(scorer: Scorer, histories: Sequence[np.ndarray], targets: np.ndarray, n_items: int, *,
             protocol: str = "full", exclude_seen: bool = True, item_counts: np.ndarray | None = None,
             ks: Sequence[int] = KS, batch_size: int = 256, seed: int = 0) -> dict[str, float]:
    """Metrics for predicting `targets` from `histories` (index arrays), plus coverage@10 and the mean
    training popularity of the top-10 (full protocol). `item_counts` (training counts per index) is needed
    for popular100 and the popularity figure."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    rng = np.random.default_rng(seed)
    counts = item_counts if item_counts is not None else np.ones(n_items + 1)
    all_ranks = []
    recommended = np.zeros(n_items + 1, dtype=bool)
    top_pop = []
    for start in range(0, len(targets), batch_size):
        hist = histories[start: start + batch_size]
        tgt = torch.as_tensor(targets[start: start + batch_size], dtype=torch.long)
        scores = scorer(hist).float().cpu()
        scores[:, 0] = float("-inf")
        if protocol == "full":
            if exclude_seen:
                _exclude_seen(scores, hist, tgt)
            all_ranks.append(rank_of_target(scores, tgt).numpy())
            top = scores.topk(min(10, n_items), dim=1)
            shown = torch.isfinite(top.values).numpy()  # excluded items are not recommendations
            idx = top.indices.numpy()
            recommended[idx[shown]] = True
            top_pop.append(counts[idx[shown]])
        else:
            cands = torch.as_tensor(_sample_candidates(rng, hist, tgt.numpy(), n_items, counts, protocol))
            sub = scores.gather(1, cands)
            all_ranks.append(rank_of_target(sub, torch.zeros(len(tgt), dtype=torch.long)).numpy())
    ranks = np.concatenate(all_ranks) if all_ranks else np.array([])
    out = metrics_from_ranks(ranks, ks)
    out["users"] = int(len(ranks))
    if protocol == "full":
        out["coverage@10"] = float(recommended[1:].sum() / n_items)
        pops = np.concatenate(top_pop) if top_pop else np.array([])
        out["popularity@10"] = float(pops.mean()) if len(pops) else 0.0
    return out
