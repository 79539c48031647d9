"""Default settings of a model kind, as its registration declares them (recattn.models.registry, with the figures
behind each choice): the starting point of the CLI, the app and `compare`."""

from __future__ import annotations

from recattn.config import ModelConfig, TrainConfig, replace
from recattn.models import registry


def model_config(kind: str, **overrides) -> ModelConfig:
    """The default architecture of `kind`, with `overrides` (None values ignored)."""
    declared = registry.get(kind).model_defaults
    cfg = replace(ModelConfig(kind=kind, **declared), **{k: v for k, v in overrides.items() if v is not None})
    registry.check(cfg)
    return cfg


def train_config(kind: str, n_items: int | None = None, **overrides) -> TrainConfig:
    """The default training settings of `kind` for a catalogue of `n_items` (when known; a kind may declare others
    for large catalogues), with `overrides` (None values ignored)."""
    declared = registry.get(kind)
    base = dict(declared.train_defaults)
    if declared.large_catalogue is not None and n_items is not None and n_items > declared.large_catalogue[0]:
        base.update(declared.large_catalogue[1])
    return replace(TrainConfig(**base), **{k: v for k, v in overrides.items() if v is not None})
