"""What a page draws of one recommendation's attention: the weights, what rows and columns stand for, and
which cells the model could not look at. It carries its own kind and mask, so a figure needs nothing else."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recattn.models.output import AttentionKind


def causal_mask(n_queries: int, n_keys: int) -> np.ndarray:
    """True where a causal model could not look: key position after the query position.

    Rows and columns are aligned at the end (the last query is the last key), which is how a left-padded
    history is traced; for the usual square case this is the strict upper triangle.
    """
    q = np.arange(n_queries)[:, None] + (n_keys - n_queries)
    k = np.arange(n_keys)[None, :]
    return k > q


@dataclass(frozen=True)
class AttentionTrace:
    """The attention a model used for one history.

    weights: (layers, heads, queries, keys), exactly the weights of the forward pass that produced the
        scores (after masking and softmax, before dropout; eval mode has no dropout).
    query_labels / key_labels: what each row / column stands for (titles; BERT4Rec adds its mask slot;
        target attention has one row per recommended item).
    query_ids / key_ids: the catalogue ids behind the labels ("[next?]" for BERT4Rec's mask slot).
    kind: "causal", "bidirectional" or "target" (a model without attention has no trace).
    mask: (queries, keys) bool, True where the model was not allowed to look, or None when it saw every cell.
    """

    weights: np.ndarray
    query_labels: tuple[str, ...]
    key_labels: tuple[str, ...]
    query_ids: tuple[str, ...]
    key_ids: tuple[str, ...]
    kind: AttentionKind
    mask: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.weights.shape)

    @property
    def layers(self) -> int:
        return self.weights.shape[0]

    @property
    def heads(self) -> int:
        return self.weights.shape[1]

    @property
    def produced_by_last_row(self) -> bool:
        """Whether the last row is the one that scored the recommendations (self-attention), rather than each
        row scoring its own candidate (target attention)."""
        return self.kind != "target"
