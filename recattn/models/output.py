"""The one answer every model gives to `score`: scores, the attention it used (if any) and what kind it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

AttentionKind = Literal["causal", "bidirectional", "target", "none"]
ATTENTION_KINDS: tuple[AttentionKind, ...] = ("causal", "bidirectional", "target", "none")


@dataclass(frozen=True)
class ModelOutput:
    """What `model.score(seqs, return_attention)` returns, whatever the model.

    scores: (batch, n_items + 1) next-item scores; column 0 (padding) is -inf.
    attention: None unless asked for and the model has attention; else one tensor per layer,
        (batch, heads, queries, keys), after masking and softmax, before dropout: exactly the weights used.
        Target attention (kind "target") has one row per catalogue item: (batch, 1, n_items + 1, keys).
    kind: "causal" (looks back only), "bidirectional" (sees the whole history and a mask slot),
        "target" (each candidate reads the history), or "none" (no attention at all).
    """

    scores: torch.Tensor
    attention: tuple[torch.Tensor, ...] | None
    kind: AttentionKind
