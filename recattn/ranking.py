"""What may be recommended: scores over catalogue indices (column 0 is padding) with padding, non-finite scores and
the items already in each history taken out of the ranking (set to -inf). Written once for every caller: the
Recommender, the explanations, the evaluation, the comparisons and the two-stage re-ranker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class RecItem:
    """One recommended item: its catalogue id, title and genres, and the score that ranked it."""

    id: str
    title: str
    genres: str
    score: float


def exclude_(scores: torch.Tensor, histories: Sequence[np.ndarray] | np.ndarray | torch.Tensor) -> torch.Tensor:
    """Set each row's history items to -inf in place and return `scores` (B, V). `histories`: one index array per
    row (ragged, as evaluation holds them), or a (B, T) array of left-padded rows (padding's column 0 is set too)."""
    if isinstance(histories, (np.ndarray, torch.Tensor)) and np.ndim(histories) == 2:
        return scores.scatter_(1, torch.as_tensor(histories, dtype=torch.long, device=scores.device), float("-inf"))
    lengths = [len(h) for h in histories]
    if sum(lengths):
        rows = torch.as_tensor(np.repeat(np.arange(len(lengths)), lengths), device=scores.device)
        cols = torch.as_tensor(np.concatenate([np.asarray(h) for h in histories]), dtype=torch.long,
                               device=scores.device)
        scores[rows, cols] = float("-inf")
    return scores


def eligible(scores: torch.Tensor, histories=None) -> torch.Tensor:
    """A float copy of `scores` (B, V) in which only recommendations can rank: padding, any non-finite score (a NaN
    or an inf would otherwise rank first) and, given `histories` (see `exclude_`), each row's seen items are -inf."""
    out = torch.nan_to_num(scores.detach().float(), nan=-torch.inf, posinf=-torch.inf, neginf=-torch.inf)
    out[:, 0] = float("-inf")
    return out if histories is None else exclude_(out, histories)
