"""Default settings of a model kind, as its registration declares them (recattn.models.registry, with the figures
behind each choice): the starting point of the CLI, the app and `compare`."""

from __future__ import annotations

from recattn.config import ModelConfig, TrainConfig, replace
from recattn.models import registry


def model_config(kind: str, **overrides) -> ModelConfig:
    """The default architecture of `kind`, with `overrides` (None values ignored)."""
    declared = registry.get(kind).model_defaults
    return replace(ModelConfig(kind=kind, **declared), **{k: v for k, v in overrides.items() if v is not None})


# The additive model scores every candidate against the whole history, so full softmax costs
# n_items × max_len × hidden per position: about 40 minutes an epoch on ml-latest-small's 9,742 films on
# 2 CPU cores. Above this many items it trains on shared sampled negatives instead.
ADDITIVE_FULL_SOFTMAX_ITEMS = 2_000
ADDITIVE_SAMPLED = {"objective": "bce", "negatives": 256}


def train_config(kind: str, n_items: int | None = None, **overrides) -> TrainConfig:
    """The default training settings of `kind` for a catalogue of `n_items` (when known), with `overrides`
    (None values ignored)."""
    base = dict(registry.get(kind).train_defaults)
    if kind == "additive" and n_items is not None and n_items > ADDITIVE_FULL_SOFTMAX_ITEMS:
        base.update(ADDITIVE_SAMPLED)
    return replace(TrainConfig(**base), **{k: v for k, v in overrides.items() if v is not None})
