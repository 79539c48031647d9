"""Model construction by kind. Every model maps left-padded histories to next-item scores via `score`."""

from __future__ import annotations

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from recattn.config import TRANSFORMER_KINDS, ModelConfig


def build_model(cfg: ModelConfig, seed: int | None = None) -> nn.Module:
    """A fresh, untrained model for `cfg.kind`; with `seed`, its initial weights are repeatable."""
    if seed is not None:
        torch.manual_seed(seed)
    if cfg.kind in TRANSFORMER_KINDS:
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


class _NoRandomInit(TorchFunctionMode):
    """Leaves meta tensors unfilled by `normal_`: they have no values, and a meta `normal_` runs through
    torch._refs, whose first use imports torch._dynamo (about 2 s of CPU on the app's first model load)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is nn.init.normal_ or func is torch.Tensor.normal_:
            tensor = args[0] if args else kwargs["tensor"]
            if tensor.is_meta:
                return tensor
        return func(*args, **kwargs)


def expected_state(cfg: ModelConfig) -> dict[str, torch.Tensor]:
    """The state dict a model of `cfg` has, as meta tensors: every name, shape and dtype, nothing allocated (a
    checkpoint's config is untrusted, and may claim any size)."""
    with torch.device("meta"), _NoRandomInit():
        return build_model(cfg).state_dict()
