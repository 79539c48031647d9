"""Default settings per model kind: the starting point of the CLI, the app and `compare`.

Tuned on ml-latest-small and the built-in worlds; what was tried is recorded in benchmarks/TUNING.md.
"""

from __future__ import annotations

from recattn.config import ModelConfig, TrainConfig, replace

_MODEL: dict[str, dict] = {
    "sasrec": {},
    "bert4rec": {},
    "additive": {},
    "gru": {},
    "pop": {},
    "itemknn": {},
}
_TRAIN: dict[str, dict] = {
    "sasrec": {},
    "bert4rec": {},
    "additive": {},
    "gru": {},
    "pop": {},
    "itemknn": {},
}


def model_config(kind: str, **overrides) -> ModelConfig:
    """The default architecture of `kind`, with `overrides` (None values ignored)."""
    if kind not in _MODEL:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(_MODEL)}")
    return replace(ModelConfig(kind=kind, **_MODEL[kind]), **{k: v for k, v in overrides.items() if v is not None})


def train_config(kind: str, **overrides) -> TrainConfig:
    """The default training settings of `kind`, with `overrides` (None values ignored)."""
    return replace(TrainConfig(**_TRAIN.get(kind, {})), **{k: v for k, v in overrides.items() if v is not None})
