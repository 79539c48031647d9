"""Model construction by kind. Every model maps left-padded histories to next-item scores via `score`."""

from __future__ import annotations

import torch
from torch import nn

from recattn.config import ModelConfig


def build_model(cfg: ModelConfig, seed: int | None = None) -> nn.Module:
    """A fresh, untrained model for `cfg.kind`; with `seed`, its initial weights are repeatable."""
    if seed is not None:
        torch.manual_seed(seed)
    if cfg.kind in ("sasrec", "bert4rec"):
        from recattn.models.transformer import SequentialTransformer

        return SequentialTransformer(cfg)
    if cfg.kind == "additive":
        from recattn.models.additive import AdditiveAttention

        return AdditiveAttention(cfg)
    if cfg.kind == "narm":
        from recattn.models.narm import NARM

        return NARM(cfg)
    if cfg.kind == "gru":
        from recattn.models.gru import GRU4Rec

        return GRU4Rec(cfg)
    if cfg.kind in ("pop", "itemknn"):
        from recattn.models.baselines import ItemKNN, Popularity

        return Popularity(cfg) if cfg.kind == "pop" else ItemKNN(cfg)
    raise ValueError(f"model kind {cfg.kind!r} is not available in this version")
