"""Building models: a fresh one of a config's kind, or the state dict it would have, without allocating it."""

from __future__ import annotations

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from recattn.config import ModelConfig
from recattn.models import registry


def build_model(cfg: ModelConfig, seed: int | None = None) -> nn.Module:
    """A fresh, untrained model for `cfg.kind` (as its registration builds it); with `seed`, its initial weights are
    repeatable."""
    if seed is not None:
        torch.manual_seed(seed)
    return registry.check(cfg).build(cfg)


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
