"""The Recommender facade: a history of catalogue ids in, a Recommendation (items, scores, trace) out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from recattn import checkpoint
from recattn.data.dataset import Dataset
from recattn.data.sequences import Vocab
from recattn.errors import RecAttnError


@dataclass(frozen=True)
class RecItem:
    id: str
    title: str
    genres: str
    score: float


@dataclass(frozen=True)
class AttentionTrace:
    """The attention a model used for one history.

    weights: (layers, heads, queries, keys), exactly the weights of the forward pass that produced the
        scores (after masking and softmax, before dropout; eval mode has no dropout).
    query_labels / key_labels: what each row / column stands for (titles; BERT4Rec adds its mask slot).
    """

    weights: np.ndarray
    query_labels: tuple[str, ...]
    key_labels: tuple[str, ...]
    query_ids: tuple[str, ...]
    key_ids: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.weights.shape)


@dataclass(frozen=True)
class Recommendation:
    items: tuple[RecItem, ...]
    trace: AttentionTrace | None
    used_history: tuple[str, ...]  # the ids the model read (the last max_len of the history)


class Recommender:
    """Holds a model and the catalogue it was trained on."""

    def __init__(self, model: torch.nn.Module, items: pd.DataFrame):
        self.model = model.eval()
        self.items = items.reset_index(drop=True)
        self.vocab = Vocab.from_items(items)
        self._titles = self.items["title"].astype(str).tolist()
        self._genres = self.items["genres"].astype(str).tolist()

    @classmethod
    def from_checkpoint(cls, path: str | Path, dataset: Dataset) -> "Recommender":
        """Load a checkpoint and check it belongs to `dataset`'s catalogue."""
        ckpt = checkpoint.load(path)
        checkpoint.check_catalogue(ckpt, dataset.fingerprint, dataset.name)
        return cls(ckpt.model, dataset.items)

    def title(self, item_id: str) -> str:
        return self._titles[self.vocab.index([item_id])[0] - 1]

    def recommend(self, history: list[str], k: int = 10, exclude_seen: bool = True,
                  with_attention: bool = True) -> Recommendation:
        """Top-k items after `history` (oldest first). Unknown ids raise RecAttnError naming them."""
        if not history:
            raise RecAttnError("the history is empty: add at least one item to get recommendations")
        idx = self.vocab.index(history)
        max_len = self.model.config.max_len
        seqs = torch.as_tensor(idx[None, :])  # the model reads its last max_len
        with torch.no_grad():
            if with_attention and hasattr(self.model, "trace_inputs"):
                scores, maps = self.model.score(seqs, return_attention=True)
            else:
                scores, maps = self.model.score(seqs), None
        scores = scores[0].float()
        if exclude_seen:
            scores[torch.as_tensor(idx)] = float("-inf")
        k = min(k, int(torch.isfinite(scores).sum()))
        top = torch.topk(scores, k)
        items = tuple(
            RecItem(self.vocab.id_of(int(i)), self._titles[int(i) - 1], self._genres[int(i) - 1], float(s))
            for s, i in zip(top.values, top.indices)
        )
        used = tuple(history[-max_len:])
        trace = None
        if maps is not None:
            q_ids, k_ids = self.model.trace_inputs(used)
            if hasattr(self.model, "target_rows"):  # target attention: one row per recommended candidate
                maps = self.model.target_rows(maps, top.indices)
                q_ids = tuple(item.id for item in items)
            trace = AttentionTrace(
                weights=torch.stack([m[0] for m in maps]).float().numpy(),
                query_labels=tuple(self._label(i) for i in q_ids),
                key_labels=tuple(self._label(i) for i in k_ids),
                query_ids=tuple(q_ids),
                key_ids=tuple(k_ids),
            )
        return Recommendation(items, trace, used)

    def _label(self, item_id: str) -> str:
        return self.title(item_id) if item_id in self.vocab._index else item_id


def search_titles(items: pd.DataFrame, query: str, limit: int = 50) -> pd.DataFrame:
    """Items whose title contains `query` (case-insensitive, plain text, not a regex)."""
    titles = items["title"].astype(str)
    hit = titles.str.contains(query, case=False, regex=False) if query else np.ones(len(items), dtype=bool)
    return items[hit].head(limit)
