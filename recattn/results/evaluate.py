"""Leave-one-out evaluation: full ranking over the catalogue or the true item against sampled negatives.

Ranks are 0-based: rank 0 is the top. Ties with the true item share the middle of their range: the rank is
the number of candidates scored above it plus half of those tied with it (a fraction, the same rule for every
model), so constant scores earn no credit for luck. A model must give its target a finite score, and no score
may be NaN: anything else is a broken output and raises RecAttnError rather than earning a rank.

Seen items: with `exclude_seen` the items of a user's history are not recommendations, and a target that is
itself one of them (a repeat) is treated the same way: it can never be shown, so it counts as a miss (rank
infinity). `seen_targets` in the output counts those users. Without `exclude_seen` everything is ranked.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from recattn import ranking
from recattn.errors import RecAttnError
from recattn.i18n import _

PROTOCOLS = ("full", "uniform100", "popular100")
KS = (5, 10, 20)
SEEN_KEPT = "seen_kept"  # where evaluate_seen_both nests the figures with seen items ranked too

Scorer = Callable[[Sequence[np.ndarray]], torch.Tensor]  # histories -> (batch, n_items + 1) scores


def metrics_from_ranks(ranks: np.ndarray, ks: Sequence[int] = KS) -> dict[str, float]:
    """HR@k, NDCG@k and MRR@k averaged over users, from 0-based ranks that may be fractional (ties) or
    infinite (never shown): a hit is rank < k, its gain 1 / log2(rank + 2) and 1 / (rank + 1), 0 beyond k."""
    ranks = np.asarray(ranks, dtype=np.float64)
    out: dict[str, float] = {}
    for k in ks:
        hit = ranks < k
        out[f"hr@{k}"] = float(hit.mean()) if len(ranks) else 0.0
        out[f"ndcg@{k}"] = float(np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0).mean()) if len(ranks) else 0.0
        out[f"mrr@{k}"] = float(np.where(hit, 1.0 / (ranks + 1.0), 0.0).mean()) if len(ranks) else 0.0
    return out


def rank_of_target(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """0-based rank (float64) of each row's target: the candidates scored above it plus half of those tied."""
    target_score = scores.gather(1, targets[:, None])
    above = (scores > target_score).sum(1)
    ties = (scores == target_score).sum(1) - 1
    return above.double() + ties.double() / 2


def check_scores(scores: torch.Tensor, targets: torch.Tensor) -> None:
    """Raise RecAttnError when a model's scores (batch, n_items + 1) cannot be ranked: a target's score that is
    not finite (NaN, +inf, -inf) or a NaN anywhere. Column 0 (padding) is not looked at."""
    target_score = scores.gather(1, targets[:, None])[:, 0]  # (batch,)
    bad = ~torch.isfinite(target_score)
    nan_rows = torch.isnan(scores[:, 1:]).any(1)
    if not (bad.any() or nan_rows.any()):
        return
    if bad.any():
        row = int(bad.nonzero()[0, 0])
        raise RecAttnError(_("the model's output is broken: it gave a non-finite score ({score}) for the target item "
                             "of {count} of {users} users (first: item index {index}). Every item needs a finite "
                             "score to be ranked; retrain the model (a learning rate too high can make its weights "
                             "overflow) or check the checkpoint's weights.").format(
            score=float(target_score[row]), count=int(bad.sum()), users=len(bad), index=int(targets[row])))
    raise RecAttnError(_("the model's output is broken: it gave NaN scores for {count} of {users} users. Every item "
                         "needs a finite score to be ranked; retrain the model (a learning rate too high can make its "
                         "weights overflow) or check the checkpoint's weights.").format(
        count=int(nan_rows.sum()), users=len(nan_rows)))


def seen_targets(histories: Sequence[np.ndarray], targets: np.ndarray) -> np.ndarray:
    """(batch,) bool: whether each target is already in its history (a repeat)."""
    return np.array([bool(np.isin(t, h)) for h, t in zip(histories, targets)], dtype=bool)


def sample_candidates(rng: np.random.Generator, histories: Sequence[np.ndarray], targets: np.ndarray, n_items: int,
                      counts: np.ndarray, protocol: str, n: int = 100) -> np.ndarray:
    """(users, n + 1) indices per user: the true item, then n distinct negatives that are neither in the history
    nor the target, drawn uniformly (uniform100) or in proportion to the training `counts` (popular100)."""
    weights = None
    if protocol == "popular100":
        weights = counts[1:].astype(np.float64) + 1e-9
        weights /= weights.sum()
    cands = np.empty((len(targets), n + 1), dtype=np.int64)
    for r, (h, t) in enumerate(zip(histories, targets)):
        banned = set(h.tolist()) | {int(t)}  # grows as negatives are taken, so none repeats
        if n_items - len(banned) < n:
            raise RecAttnError(_("{protocol} needs {n} items outside each history, but a history leaves only {left} of "
                                 "the {n_items} catalogue items; use the full protocol").format(
                protocol=protocol, n=n, left=n_items - len(banned), n_items=n_items))
        picked: list[int] = []
        while len(picked) < n:
            for d in (rng.choice(n_items, size=2 * n, p=weights) + 1).tolist():
                if d not in banned:
                    banned.add(d)
                    picked.append(d)
        cands[r, 0] = t
        cands[r, 1:] = picked[:n]
    return cands


def _evaluate(scorer: Scorer, histories, targets, n_items: int, protocol: str, rules: Sequence[bool],
              counts: np.ndarray, ks: Sequence[int], batch_size: int,
              seed: int) -> list[tuple[dict[str, float], np.ndarray]]:
    """The metrics and the (users,) ranks under each rule for seen items in `rules` (True: excluded), from one
    scoring pass."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    rng = np.random.default_rng(seed)
    ranks: list[list[np.ndarray]] = [[] for _ in rules]
    recommended = [np.zeros(n_items + 1, dtype=bool) for _ in rules]
    top_pop: list[list[np.ndarray]] = [[] for _ in rules]
    n_seen = 0
    for start in range(0, len(targets), batch_size):
        hist = histories[start: start + batch_size]
        tgt = torch.as_tensor(targets[start: start + batch_size], dtype=torch.long)
        scores = scorer(hist).float().cpu()  # (batch, n_items + 1)
        check_scores(scores, tgt)
        scores[:, 0] = float("-inf")
        seen = torch.as_tensor(seen_targets(hist, tgt.numpy()))
        n_seen += int(seen.sum())
        if protocol != "full":
            cands = torch.as_tensor(sample_candidates(rng, hist, tgt.numpy(), n_items, counts, protocol))
            sampled = rank_of_target(scores.gather(1, cands), torch.zeros(len(tgt), dtype=torch.long))
        for j, exclude in enumerate(rules):
            if protocol == "full":
                ruled = scores.clone() if exclude else scores
                if exclude:  # a target among the history's items too
                    ranking.exclude_(ruled, hist)
                rank = rank_of_target(ruled, tgt)
                top = ruled.topk(min(10, n_items), dim=1)
                shown = torch.isfinite(top.values).numpy()  # excluded items are not recommendations
                idx = top.indices.numpy()
                recommended[j][idx[shown]] = True
                top_pop[j].append(counts[idx[shown]])
            else:
                rank = sampled
            # an excluded target is never shown, whatever its score: a miss
            ranks[j].append(torch.where(seen, torch.inf, rank).numpy() if exclude else rank.numpy())
    results = []
    for j in range(len(rules)):
        flat = np.concatenate(ranks[j]) if ranks[j] else np.array([])
        out = metrics_from_ranks(flat, ks)
        out["users"] = int(len(flat))
        out["seen_targets"] = n_seen
        if protocol == "full":
            out["coverage@10"] = float(recommended[j][1:].sum() / n_items)
            pops = np.concatenate(top_pop[j]) if top_pop[j] else np.array([])
            out["popularity@10"] = float(pops.mean()) if len(pops) else 0.0
        results.append((out, flat))
    return results


def evaluate(scorer: Scorer, histories: Sequence[np.ndarray], targets: np.ndarray, n_items: int, *,
             protocol: str = "full", exclude_seen: bool = True, item_counts: np.ndarray | None = None,
             ks: Sequence[int] = KS, batch_size: int = 256, seed: int = 0) -> dict[str, float]:
    """Metrics for predicting `targets` from `histories` (index arrays), plus `users`, `seen_targets` (users
    whose target is already in their history: misses when seen items are excluded), and for the full protocol
    coverage@10 and the mean training popularity of the top-10. `item_counts` (training counts per index) is
    needed for popular100 and the popularity figure."""
    counts = item_counts if item_counts is not None else np.ones(n_items + 1)
    return _evaluate(scorer, histories, targets, n_items, protocol, (exclude_seen,), counts, ks, batch_size,
                     seed)[0][0]


def evaluate_seen_both(scorer: Scorer, histories: Sequence[np.ndarray], targets: np.ndarray, n_items: int, *,
                       item_counts: np.ndarray | None = None, ks: Sequence[int] = KS, batch_size: int = 256) -> dict:
    """Full ranking under both rules for seen items from one scoring pass: the seen-excluded metrics (as
    `evaluate` gives them; `ndcg@10` is the selection metric) with the seen-kept ones nested under "seen_kept"."""
    counts = item_counts if item_counts is not None else np.ones(n_items + 1)
    (excluded, _r), (kept, _r) = _evaluate(scorer, histories, targets, n_items, "full", (True, False), counts, ks,
                                         batch_size, 0)
    return {**excluded, SEEN_KEPT: kept}


def ranks(scorer: Scorer, histories: Sequence[np.ndarray], targets: np.ndarray, n_items: int, *,
          exclude_seen: bool = True, batch_size: int = 256) -> np.ndarray:
    """(users,) float64: each user's full-ranking rank of its target, exactly as `evaluate` ranks it (0-based,
    ties fractional; with `exclude_seen` a target already in its history is never shown: infinity), for paired
    comparisons over users. `metrics_from_ranks` of them gives `evaluate`'s HR, NDCG and MRR."""
    return _evaluate(scorer, histories, targets, n_items, "full", (exclude_seen,), np.ones(n_items + 1), KS,
                     batch_size, 0)[0][1]
