"""The Recommender facade, all the pages use of a model: a history of catalogue ids in, dataclasses out. `recommend`
(items, scores, the attention trace), `explain` (why one item, by every method that applies), `walkthrough` (the
Learn page's step-by-step numbers), `item_map` (the Embeddings page), `checks`; `key` names the loaded checkpoint in
every cache. Pages never touch the model, the vocabulary or padding."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from recattn import checkpoint, history as history_ops, ranking
from recattn.ranking import RecItem
from recattn.analysis import checks, contrast, explain, head_roles, walkthrough
from recattn.analysis.embeddings import item_embeddings, pca
from recattn.data import prepare
from recattn.data.dataset import Dataset
from recattn.data.sequences import Vocab
from recattn.errors import RecAttnError
from recattn.i18n import N_, _
from recattn.models.additive import target_rows
from recattn.models.output import AttentionKind, ModelOutput
from recattn.trace import AttentionTrace, causal_mask


MASK_SLOT = "[next?]"  # BERT4Rec's mask slot: the position whose output scores the next item
POSITIONS_OFF = N_("positions off")  # the order variant of `order_changes` only SASRec has (a name: shown with _())


@dataclass(frozen=True)
class ItemExplanation:
    """Why one item is recommended after one history: one weight per history item (oldest first) by each method that
    applies to the model (`methods`, occlusion's in `occlusion.score_drop`), the fewest removals that drop it, and
    per-head diagnostics (empty for a model without self-attention heads)."""

    item_id: str
    methods: tuple[str, ...]
    weights: dict[str, np.ndarray]
    occlusion: explain.Occlusion
    counterfactual: explain.Counterfactual
    head_stats: tuple[explain.HeadStats, ...]
    ablations: tuple[explain.HeadAblation, ...]


@dataclass(frozen=True)
class ItemMap:
    """The model's item vectors on their first principal components, one point per catalogue item."""

    ids: tuple[str, ...]
    coords: np.ndarray  # (n_items, components)
    explained: np.ndarray  # (components,) share of the variance each explains
    width: int  # the vectors' dimension

    @functools.cached_property
    def _rows(self) -> dict[str, int]:  # made once per map: a page asks for rows on every rerun
        return {item: row for row, item in enumerate(self.ids)}

    def rows(self, ids: Sequence[str]) -> list[int]:
        """The row of `coords` of each id."""
        where = self._rows
        unknown = [str(i) for i in ids if str(i) not in where]
        if unknown:
            raise RecAttnError(_("unknown item id(s): {ids}. Use ids from the catalogue.").format(
                ids=", ".join(unknown[:5])))
        return [where[str(i)] for i in ids]


@dataclass(frozen=True)
class Recommendation:
    items: tuple[RecItem, ...]
    trace: AttentionTrace | None  # None for a model without attention, or when not asked for
    used_history: tuple[str, ...]  # the ids the model read (the last max_len of the history)
    kind: AttentionKind  # the model's kind of attention, also when no trace was asked for


class Recommender:
    """Holds a model and the catalogue it was trained on."""

    def __init__(self, model: torch.nn.Module, items: pd.DataFrame, key: str | None = None):
        self.model = model.eval()
        # what names this model in every cache: the checkpoint's key, or this object for a model held in memory
        self.key = key or f"in-memory:{id(self):x}"
        self.items = items.reset_index(drop=True)
        self.vocab = Vocab.from_items(items)
        self._titles = self.items["title"].astype(str).tolist()
        self._genres = self.items["genres"].astype(str).tolist()

    @classmethod
    def from_checkpoint(cls, path: str | Path, dataset: Dataset) -> "Recommender":
        """Load a checkpoint and check it belongs to `dataset`'s catalogue."""
        key = checkpoint.checkpoint_key(path)
        ckpt = checkpoint.load(path)
        checkpoint.check_catalogue(ckpt, dataset.fingerprint, dataset.name)
        return cls(ckpt.model, dataset.items, key)

    @property
    def kind(self) -> str:
        """The model kind: "sasrec", "bert4rec", "additive", "gru", "pop" or "itemknn"."""
        return self.model.config.kind

    @property
    def attention_kind(self) -> AttentionKind:
        return self.model.attention_kind

    @property
    def config(self):
        """The model's settings (a ModelConfig: kind, sizes, norm placement, ...)."""
        return self.model.config

    @property
    def methods(self) -> tuple[str, ...]:
        """The explanation methods that apply to this model (recattn.analysis.explain.METHODS)."""
        return explain.applicable_methods(self.model)

    @property
    def max_len(self) -> int:
        """How many of the latest history items the model reads."""
        return self.model.config.max_len

    def title(self, item_id: str) -> str:
        return self._titles[self.vocab.index([item_id])[0] - 1]

    def scores(self, history: list[str], with_attention: bool = False) -> ModelOutput:
        """The model's raw output for one history: scores (1, n_items + 1) over catalogue indices (column 0 is
        padding), and its attention if asked. Unknown ids raise RecAttnError naming them."""
        with torch.inference_mode():
            return self._score(self._indices(history), with_attention)

    def _indices(self, history: list[str]) -> np.ndarray:
        """The model indices of a history (n,); a history that is not a non-empty list of known ids raises."""
        if isinstance(history, (str, bytes)) or not isinstance(history, (Sequence, np.ndarray)):  # "12": "1", "2"
            raise RecAttnError(_("a history is a list of item ids, not {type}").format(type=type(history).__name__))
        if len(history) == 0:
            raise RecAttnError(_("the history is empty: add at least one item to get recommendations"))
        return self.vocab.index(history)

    def _score(self, indices: np.ndarray, with_attention: bool) -> ModelOutput:
        # the model reads its last max_len; the whole history feeds what looks at every seen item
        return self.model.score(torch.from_numpy(indices)[None, :], return_attention=with_attention)

    def recommend(self, history: list[str], k: int = 10, exclude_seen: bool = True,
                  with_attention: bool = True) -> Recommendation:
        """Top-k items after `history` (oldest first): k of them, or as many as are left unseen. Unknown ids, an
        empty history or a k below 1 raise RecAttnError."""
        _check_k(k)
        indices = self._indices(history)  # validated once, for the model and for excluding the seen
        history = [str(i) for i in history]
        used = tuple(history_ops.window(history, self.max_len))
        with torch.inference_mode():  # no autograd bookkeeping anywhere in the call
            out = self._score(indices, with_attention)
            items, top = self._rank(out.scores[0], indices if exclude_seen else None, k)
            trace = None if out.attention is None else self._trace(out, used, items, top)
        return Recommendation(items, trace, used, out.kind)

    def rank(self, scores: torch.Tensor | np.ndarray, history: list[str], k: int = 10,
             exclude_seen: bool = True) -> tuple[RecItem, ...]:
        """The top-k items of one score row over catalogue indices (n_items + 1, column 0 padding), ranked as
        `recommend` ranks them: for scores computed some other way (a perturbed forward, a hand-made pass)."""
        _check_k(k)
        seen = self.vocab.index(history) if exclude_seen else None
        return self._rank(torch.as_tensor(scores), seen, k)[0]

    def _rank(self, scores: torch.Tensor, seen: np.ndarray | None, k: int):
        """The top-k RecItems of scores (n_items + 1,) and their indices (k',): never padding, a non-finite score
        or one of the `seen` indices (None: seen items may be recommended); fewer than k when fewer are left."""
        # a fresh tensor (the model's may be an inference tensor, or the caller's) holding only recommendations
        scores = ranking.eligible(scores[None], None if seen is None else [seen])[0]
        top = torch.topk(scores, min(k, len(scores)))
        # -inf sorts last: fewer than k finite scores leave -inf at the end, which are no recommendations
        values = [s for s in top.values.tolist() if s != -math.inf]
        indices = top.indices[: len(values)]
        items = tuple(
            RecItem(self.vocab.id_of(i), self._titles[i - 1], self._genres[i - 1], s)
            for s, i in zip(values, indices.tolist())
        )
        return items, indices

    def _trace(self, out: ModelOutput, used: tuple[str, ...], items: tuple[RecItem, ...],
               top: torch.Tensor) -> AttentionTrace:
        """Label the maps of one history: rows and columns by kind, and the cells the model could not see."""
        maps = out.attention
        if out.kind == "target":  # one row per recommended candidate, reading the history
            maps = target_rows(maps, top)
            q_ids, k_ids = tuple(item.id for item in items), used
        elif out.kind == "bidirectional":
            q_ids = k_ids = (used + (MASK_SLOT,))[-self.max_len:]
        else:  # causal: a row per position (SASRec), or the last position's row alone (NARM)
            k_ids = used
            q_ids = used[len(used) - maps[0].shape[-2]:]
        weights = torch.stack([m[0] for m in maps]).float().numpy()
        if out.kind == "bidirectional":
            # a key that no query of any head may weigh was padding to the model: RecBole's BERT4Rec gives the
            # window's oldest item's place to padding (its test input); such a position is not part of what it read
            read = weights.any(axis=(0, 1, 2))
            if not read.all():
                weights = weights[:, :, read][:, :, :, read]
                q_ids = k_ids = tuple(i for i, kept in zip(k_ids, read) if kept)
        key_labels = tuple(self._label(i) for i in k_ids)
        return AttentionTrace(
            weights=weights,
            # causal rows are the last of the keys: their labels are the keys' (up to max_len look-ups saved)
            query_labels=key_labels[len(k_ids) - len(q_ids):] if out.kind == "causal" else tuple(
                self._label(i) for i in q_ids),
            key_labels=key_labels,
            query_ids=tuple(q_ids),
            key_ids=tuple(k_ids),
            kind=out.kind,
            mask=causal_mask(len(q_ids), len(k_ids)) if out.kind == "causal" else None,
        )

    def _label(self, item_id: str) -> str:
        index = self.vocab._index.get(item_id)  # one dict look-up: a trace labels up to 2 × max_len ids
        return item_id if index is None else self._titles[index - 1]

    def explain(self, history: list[str], item_id: str) -> ItemExplanation:
        """Why `item_id` is recommended after `history`: every applicable method, occlusion, the counterfactual,
        and the heads' statistics and ablation."""
        seq, item = self._indices(history), int(self._indices([item_id])[0])
        model = self.model
        methods = self.methods
        weights = {e.method: e.weights for e in explain.explain(
            model, seq, item, [m for m in methods if m != explain.OCCLUSION])}  # occlusion: its ranks too
        return ItemExplanation(str(item_id), methods, weights, explain.occlusion(model, seq, item),
                               explain.counterfactual(model, seq, item), explain.head_stats(model, seq),
                               explain.ablate_heads(model, seq, item))

    def rather_than(self, history: list[str], item_id: str, other_id: str) -> np.ndarray:
        """Why `item_id` rather than `other_id` after `history`: per history item (oldest first), how much the gap
        score(item) − score(other) drops without it (contrastive occlusion; above 0 it favoured `item_id`)."""
        if str(item_id) == str(other_id):
            raise RecAttnError(_("pick two different items to compare"))
        seq = self._indices(history)
        item, other = (int(i) for i in self._indices([item_id, other_id]))
        return explain.contrastive_occlusion(self.model, seq, item, other)

    def walkthrough(self, history: list[str], positions: bool = True) -> walkthrough.Walkthrough:
        """SASRec's forward pass on `history`, operation by operation (`positions=False`: blind to order)."""
        try:
            return walkthrough.walkthrough(self.model, self._indices(history), positions)
        except ValueError as e:
            raise RecAttnError(str(e)) from e

    def position_tables(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The sinusoidal position table of the model's shape, and its learned one (None when it has none)."""
        return walkthrough.position_tables(self.model)

    def cross_attention(self, history: list[str], candidate_ids: list[str]) -> walkthrough.CrossAttention:
        """Target attention recomputed by hand: each candidate (row) reading the history (an additive model's)."""
        if self.kind != "additive":
            raise RecAttnError(_("cross-attention is target attention's; this model is a {kind}").format(
                kind=self.kind))
        return walkthrough.cross_attention(self.model, self._indices(history), self._indices(candidate_ids))

    def item_map(self, components: int = 2) -> ItemMap:
        """The learned item vectors projected on their first principal components (RecAttnError for a model that
        learns none)."""
        try:
            vectors = item_embeddings(self.model)
        except ValueError as e:
            raise RecAttnError(str(e)) from e
        projection = pca(vectors, components)
        return ItemMap(tuple(self.items["item_id"].astype(str)), projection.coords, projection.explained,
                       vectors.shape[1])

    def ranking(self, history: list[str]) -> tuple[str, ...]:
        """Every item that may be recommended after `history`, best first (ties in catalogue order): the whole list
        `recommend` takes its top from, for ranks beyond the top-k ("12th for SASRec, 640th for popularity")."""
        scores = ranking.eligible(self.scores(list(history)).scores, [self._indices(history)])[0]
        order = torch.sort(scores, descending=True, stable=True).indices
        return tuple(self.vocab.id_of(i) for i in order[torch.isfinite(scores[order])].tolist())

    def order_changes(self, history: list[str], k: int = 10) -> tuple[contrast.ListChange, ...]:
        """How the top-k moves when the history is reversed, shuffled or loses its oldest item (the first entry is
        the original), and for a SASRec with its positions switched off (the GRU's order lives in its recurrence)."""
        variants = {name: (h, self.scores(h).scores[0].float().numpy())
                    for name, h in contrast.order_variants(history).items()}
        if self.kind == "sasrec":
            variants[POSITIONS_OFF] = (list(history), self.walkthrough(history, positions=False).scores)
        changes, original = [], None
        for name, (h, scores) in variants.items():
            items = self.rank(scores, h, k)
            original = original or items
            ranked = ranking.eligible(torch.as_tensor(scores)[None], [self._indices(h)])[0].numpy()
            wanted = ranked[self._indices([i.id for i in original])]
            ranks = tuple(int((ranked > s).sum()) + 1 for s in wanted)
            overlap = len({i.id for i in items} & {i.id for i in original})
            changes.append(contrast.ListChange(name, items, ranks, overlap))
        return tuple(changes)

    def influence(self, history: list[str]) -> contrast.Influence:
        """Each history item removed in turn (one batched forward): how much the model's #1 loses."""
        target = self.recommend(list(history), 1, with_attention=False).items[0]
        column = int(self._indices([target.id])[0])
        drops = explain.occlusion(self.model, self._indices(history), column).score_drop
        return contrast.Influence(target, drops, np.arange(len(drops))[::-1].copy())

    def checks(self, dataset: Dataset) -> tuple[checks.Check, ...]:
        """The model checks on 200 test histories of `dataset`, and whether it needs its attention (500 test users)."""
        vocab, split = prepare(dataset)
        found = checks.run_checks(self.model, checks.sample_histories(split.test_inputs, self.max_len),
                                  split.item_counts())
        return (*found, checks.attention_needed(self.model, split.test_inputs, split.test_targets, vocab.size))

    def head_roles(self, dataset: Dataset, users: int = 300) -> head_roles.HeadRoles:
        """What each layer × head does over up to `users` test histories of `dataset` (where its scoring row puts
        its weight against the roles the data can tell) and how much NDCG@10 the model loses without it."""
        vocab, split = prepare(dataset)
        props = head_roles.item_properties(self.items, split.item_counts(), split.train)
        try:
            return head_roles.head_roles(self.model, split.test_inputs, split.test_targets, vocab.size, props, users)
        except ValueError as e:
            raise RecAttnError(str(e)) from e


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise RecAttnError(_("the number of recommendations must be a whole number of at least 1, not {k}").format(
            k=repr(k)))


def search_titles(items: pd.DataFrame, query: str, limit: int = 50) -> pd.DataFrame:
    """Items whose title contains `query` (case-insensitive, plain text, not a regex)."""
    titles = items["title"].astype(str)
    hit = titles.str.contains(query, case=False, regex=False) if query else np.ones(len(items), dtype=bool)
    return items[hit].head(limit)
