"""Contrasts for the Learn page, computed live on one history through the Recommender: how the top-10 of SASRec and
of the GRU move when the history's order changes, and how an item's influence on the score falls with its distance
from the end (occlusion)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from recattn import ranking
from recattn.analysis import explain
from recattn.recommend import RecItem, Recommender

SHUFFLE_SEED = 0


def order_variants(history: Sequence[str], seed: int = SHUFFLE_SEED) -> dict[str, list[str]]:
    """The history as it is, reversed, shuffled (seeded) and without its oldest item (when it has two or more)."""
    history = list(history)
    shuffled = [history[i] for i in np.random.default_rng(seed).permutation(len(history))]
    variants = {"original": history, "reversed": history[::-1], "shuffled": shuffled}
    if len(history) > 1:
        variants["oldest removed"] = history[1:]
    return variants


def variant_scores(recommender: Recommender, history: Sequence[str]) -> dict[str, tuple[list[str], np.ndarray]]:
    """Each variant's history and the model's scores for it; a SASRec also with its positions switched off
    (the GRU has no positions: order lives in its recurrence)."""
    out = {name: (h, recommender.scores(h).scores[0].float().numpy()) for name, h in order_variants(history).items()}
    if recommender.kind == "sasrec":
        out["positions off"] = (list(history),
                                recommender.walkthrough(history, positions=False).scores)
    return out


@dataclass(frozen=True)
class ListChange:
    """One variant's top-k next to the original's."""

    variant: str
    items: tuple[RecItem, ...]  # the variant's top-k
    ranks: tuple[int, ...]  # the rank each item of the ORIGINAL top-k gets under this variant (1 = first)
    overlap: int  # how many items the two top-k lists share


def list_changes(recommender: Recommender, history: Sequence[str], k: int = 10) -> tuple[ListChange, ...]:
    """How the top-k moves under each order variant (the first entry is the original itself)."""
    changes, original = [], None
    for name, (h, scores) in variant_scores(recommender, history).items():
        items = recommender.rank(scores, h, k)
        original = original or items
        ranked = ranking.eligible(torch.as_tensor(scores)[None], [recommender.vocab.index(h)])[0].numpy()
        wanted = ranked[recommender.vocab.index([i.id for i in original])]
        ranks = tuple(int((ranked > s).sum()) + 1 for s in wanted)
        overlap = len({i.id for i in items} & {i.id for i in original})
        changes.append(ListChange(name, items, ranks, overlap))
    return tuple(changes)


@dataclass(frozen=True)
class Influence:
    """Occlusion: how much the score of the model's original #1 falls when one history item is removed."""

    target: RecItem  # the original #1
    drops: np.ndarray  # (T,) score(#1 | history) − score(#1 | history without item i), oldest first
    distance: np.ndarray  # (T,) items between i and the end (0 = the latest item)


def occlusion(recommender: Recommender, history: Sequence[str]) -> Influence:
    """Remove each history item in turn (`recattn.analysis.explain.occlusion`: one batched forward) and see what the
    model's #1 loses."""
    target = recommender.recommend(list(history), 1, with_attention=False).items[0]
    column = int(recommender.vocab.index([target.id])[0])
    drops = explain.occlusion(recommender.model, recommender.vocab.index(history), column).score_drop
    return Influence(target, drops, np.arange(len(drops))[::-1].copy())
