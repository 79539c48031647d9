"""Model construction by kind. Every model maps left-padded histories to next-item scores via `score`."""

from __future__ import annotations

from torch import nn

from recattn.config import ModelConfig


def build_model(cfg: ModelConfig) -> nn.Module:
    """A fresh, untrained model for `cfg.kind`."""
    if cfg.kind in ("sasrec", "bert4rec"):
        from recattn.models.transformer import SequentialTransformer

        return SequentialTransformer(cfg)
    raise ValueError(f"model kind {cfg.kind!r} is not available in this version")
