"""The models. Kinds are declared in `registry` (no torch needed to list them); `build_model` and `expected_state`
(from `build`) import torch on first use, so `from recattn.models import registry` stays light."""

from __future__ import annotations


def __getattr__(name: str):
    if name in ("build_model", "expected_state"):
        from recattn.models import build

        return getattr(build, name)
    raise AttributeError(f"module 'recattn.models' has no attribute {name!r}")
