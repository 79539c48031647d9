"""Two histories through one model, A (pinned) and B (its edited copy): how each head's attention changes on the items
both maps hold, and where B's recommendations stood in A's list. Traces and lists in, arrays out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recattn.trace import AttentionTrace


@dataclass(frozen=True)
class AttentionChange:
    """Both maps on the rows and columns they share, in B's order: `a` and `b` (layers, heads, rows, columns), NaN
    where a map masks the cell (a causal model never looks ahead)."""

    row_ids: tuple[str, ...]
    row_labels: tuple[str, ...]
    column_ids: tuple[str, ...]
    column_labels: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray

    @property
    def diff(self) -> np.ndarray:
        """B − A per cell: above 0 B looks there more."""
        return self.b - self.a

    def largest(self) -> tuple[int, int, int, int] | None:
        """(layer, head, row, column) of the largest |B − A|; None when no cell is shared."""
        d = np.abs(np.nan_to_num(self.diff, nan=0.0))
        if not d.size or not d.any():
            return None
        return tuple(int(i) for i in np.unravel_index(int(d.argmax()), d.shape))


def _last_places(ids: Sequence[str]) -> dict[str, int]:
    """Each id's position in a map (its last, should a history repeat an item)."""
    return {item: n for n, item in enumerate(ids)}


def _masked(trace: AttentionTrace) -> np.ndarray:
    weights = trace.weights.astype(np.float64)
    return weights if trace.mask is None else np.where(trace.mask, np.nan, weights)


def attention_change(a: AttentionTrace, b: AttentionTrace) -> AttentionChange:
    """A's and B's maps on their shared rows and columns (ids in both, in B's order). ValueError when the two traces
    come from models of another shape or kind."""
    if a.weights.shape[:2] != b.weights.shape[:2] or a.kind != b.kind:
        raise ValueError("A and B must come from the same model")
    rows_a, rows_b = _last_places(a.query_ids), _last_places(b.query_ids)
    cols_a, cols_b = _last_places(a.key_ids), _last_places(b.key_ids)
    rows = [i for i in dict.fromkeys(b.query_ids) if i in rows_a]
    cols = [i for i in dict.fromkeys(b.key_ids) if i in cols_a]
    wa, wb = _masked(a), _masked(b)
    ra, rb = [rows_a[i] for i in rows], [rows_b[i] for i in rows]
    ca, cb = [cols_a[i] for i in cols], [cols_b[i] for i in cols]
    b_rows = dict(zip(b.query_ids, b.query_labels))
    b_cols = dict(zip(b.key_ids, b.key_labels))
    return AttentionChange(tuple(rows), tuple(b_rows[i] for i in rows), tuple(cols), tuple(b_cols[i] for i in cols),
                           wa[:, :, ra][:, :, :, ca], wb[:, :, rb][:, :, :, cb])

