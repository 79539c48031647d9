"""Typed, frozen configs. One config object flows from the CLI or the app to `fit` and into the checkpoint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

MODEL_KINDS = ("sasrec", "bert4rec", "additive", "gru", "pop", "itemknn")
MODEL_NAMES = {"sasrec": "SASRec", "bert4rec": "BERT4Rec", "additive": "Additive attention", "gru": "GRU4Rec",
               "pop": "Popularity", "itemknn": "ItemKNN"}  # what people read
OBJECTIVES = ("ce", "bce", "sampled_softmax")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture. `n_items` counts catalogue items; index 0 is padding (and n_items + 1 BERT4Rec's mask)."""

    kind: str = "sasrec"
    n_items: int = 0
    max_len: int = 50
    hidden: int = 64
    layers: int = 2
    heads: int = 2
    dropout: float = 0.2
    position: str = "learned"  # "learned" or "sinusoidal"
    # A learned score offset for items already in the history (Transformer models): lets the model learn from
    # the data whether people come back to what they saw (news re-reads) or never do (films rated once).
    repeat_bias: bool = False

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ValueError(f"unknown model kind {self.kind!r}; choose one of {', '.join(MODEL_KINDS)}")
        if self.position not in ("learned", "sinusoidal"):
            raise ValueError(f"position must be 'learned' or 'sinusoidal', not {self.position!r}")
        if self.kind in ("sasrec", "bert4rec") and self.hidden % self.heads:
            raise ValueError(f"hidden ({self.hidden}) must be divisible by heads ({self.heads})")

    @property
    def causal(self) -> bool:
        return self.kind != "bert4rec"


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation and stopping. `objective`: ce (full softmax), bce (sampled negatives), sampled_softmax."""

    epochs: int = 200
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 10
    seed: int = 0
    device: str = "auto"
    max_minutes: float | None = None
    objective: str = "ce"
    negatives: int = 100
    mask_prob: float = 0.2
    eval_every: int = 1
    window_stride: int | None = None
    ema_decay: float | None = None
    # share of the full-softmax (ce) target spread evenly over the catalogue
    label_smoothing: float = 0.0
    # "cosine": the learning rate warms up over `warmup_steps`, then decays to 0 over the run, which ends at
    # `epochs` or at `max_minutes`, whichever comes first; "constant" keeps `lr` throughout
    schedule: str = "constant"
    warmup_steps: int = 0
    # "auto": bfloat16 autocast on CUDA and on CPUs with native bfloat16 (AVX512-BF16 or AMX); "fp32" never
    precision: str = "auto"

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ValueError(f"unknown objective {self.objective!r}; choose one of {', '.join(OBJECTIVES)}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), not {self.label_smoothing}")
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"schedule must be constant or cosine, not {self.schedule!r}")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f"precision must be auto, fp32 or bf16, not {self.precision!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, not {self.device!r}")


def to_dict(config: Any) -> dict[str, Any]:
    """A config as a plain JSON-ready dict."""
    return dataclasses.asdict(config)


def from_dict(cls: type[T], values: dict[str, Any]) -> T:
    """Rebuild a config, ignoring keys this version does not know (older or newer checkpoints)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in values.items() if k in names})


def replace(config: T, **changes: Any) -> T:
    """A copy of a frozen config with some fields changed."""
    return dataclasses.replace(config, **changes)  # type: ignore[type-var]


__all__ = ["ModelConfig", "TrainConfig", "MODEL_KINDS", "OBJECTIVES", "to_dict", "from_dict", "replace"]
