"""What the Learn page's contrasts hold (the Recommender computes them: `order_changes`, `influence`): how the top-10
of SASRec and of the GRU move when the history's order changes, and how an item's influence on the score falls with
its distance from the end (occlusion); and the order variants of a history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recattn.i18n import N_
from recattn.ranking import RecItem

SHUFFLE_SEED = 0


def order_variants(history: Sequence[str], seed: int = SHUFFLE_SEED) -> dict[str, list[str]]:
    """The history as it is, reversed, shuffled (seeded) and without its oldest item (when it has two or more)."""
    history = list(history)
    shuffled = [history[i] for i in np.random.default_rng(seed).permutation(len(history))]
    # the keys are shown: a figure translates them where it draws them (`_(variant)`)
    variants = {N_("original"): history, N_("reversed"): history[::-1], N_("shuffled"): shuffled}
    if len(history) > 1:
        variants[N_("oldest removed")] = history[1:]
    return variants


@dataclass(frozen=True)
class ListChange:
    """One variant's top-k next to the original's."""

    variant: str
    items: tuple[RecItem, ...]  # the variant's top-k
    ranks: tuple[int, ...]  # the rank each item of the ORIGINAL top-k gets under this variant (1 = first)
    overlap: int  # how many items the two top-k lists share


@dataclass(frozen=True)
class Influence:
    """Occlusion: how much the score of the model's original #1 falls when one history item is removed."""

    target: RecItem  # the original #1
    drops: np.ndarray  # (T,) score(#1 | history) − score(#1 | history without item i), oldest first
    distance: np.ndarray  # (T,) items between i and the end (0 = the latest item)
