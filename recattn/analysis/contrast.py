"""Contrasts for the Learn page, computed live on one history: additive target attention (cross-attention) by hand,
how the top-10 of SASRec and of the GRU move when the history's order changes, and how an item's influence on the
score falls with its distance from the end (occlusion)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from recattn.analysis import explain
from recattn.analysis.walkthrough import walkthrough
from recattn.models.additive import AdditiveAttention
from recattn.recommend import RecItem, Recommender

SHUFFLE_SEED = 0


@dataclass(frozen=True)
class CrossAttention:
    """Candidates (rows) reading the history (columns) in the additive model."""

    energies: np.ndarray  # (C, T) w_o · tanh(W1 x_i + b + W2 y_j), before the softmax
    weights: np.ndarray  # (C, T) softmax over the history


def cross_attention(model: AdditiveAttention, seq: Sequence[int], candidates: Sequence[int]) -> CrossAttention:
    """The additive model's energies and weights for some candidate indices over one history of indices,
    recomputed from its parameters: x_i = item × √D + position, W1 = key, W2 = query, w_o = energy."""
    idx = torch.as_tensor(np.asarray(seq, dtype=np.int64))[-model.config.max_len:]
    cand = torch.as_tensor(np.asarray(candidates, dtype=np.int64))
    with torch.no_grad():
        x = model.item_emb.weight[idx] * math.sqrt(model.config.hidden) + model.pos_emb[-len(idx):]
        keys = x @ model.key.weight.T + model.key.bias  # (T, D)
        queries = model.item_emb.weight[cand] @ model.query.weight.T  # (C, D)
        energies = torch.tanh(keys[None] + queries[:, None]) @ model.energy.weight[0]  # (C, T)
        weights = torch.softmax(energies, dim=-1)
    return CrossAttention(energies.numpy(), weights.numpy())


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
                                walkthrough(recommender.model, recommender.vocab.index(history), False).scores)
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
        ranked = np.array(scores, dtype=np.float32)
        ranked[recommender.vocab.index(h)] = -np.inf
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
