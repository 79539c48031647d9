"""Typed, frozen configs. One config object flows from the CLI or the app to `fit` and into the checkpoint."""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

from recattn.errors import RecAttnError
from recattn.i18n import N_, _

T = TypeVar("T")

OBJECTIVES = ("ce", "bce", "sampled_softmax")
# two-stage ranking (recattn.results.rerank): the first stage's top RERANK_N per history go to the re-ranker; here, with
# no torch to import, because the results the app states name it too
RERANK_N = 200


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
    # Where a Transformer layer normalises: "pre" (x + f(LN(x)), a final LN) or "post", the seed's and RecBole's
    # (LN(x + f(x)), and an LN on the embeddings instead of a final one). Pre stays the default: SASRec's defaults,
    # 2 minutes, 3 seeds, validation NDCG@10 pre/post: films 0.2233 ± 0.0018 / 0.2199 ± 0.0007, ml-latest-small
    # 0.0794 ± 0.0006 / 0.0815 ± 0.0022, both gaps within twice the seeds' sd (benchmarks/norm_placement.py)
    norm: str = "pre"
    norm_eps: float = 1e-5
    activation: str = "gelu"  # the feed-forward net's: "gelu" or "relu"
    inner: int | None = None  # the feed-forward net's width; None: 4 × hidden
    # Learned positions count back from the latest item ("last": the item just seen is always the same position)
    # or forward from the oldest item read ("first", RecBole's).
    position_from: str = "last"
    scale_embeddings: bool = True  # item vectors × √hidden before positions are added (RecBole does not scale)
    # BERT4Rec's output head as RecBole has it: dense → activation → LayerNorm before scoring, and a bias per item
    output_head: bool = False
    # The width of the item vectors when it is not `hidden` (RecBole's GRU4Rec: a dense layer maps the state to it)
    item_dim: int | None = None
    # Where BERT4Rec's mask slot goes when scoring: "append" (after the latest max_len - 1 items) or "replace-oldest"
    # (RecBole 1.2.1's test input: the window of the latest max_len items loses its oldest item to make room)
    mask_slot: str = "append"

    def __post_init__(self) -> None:
        # the kind, and what it implies (heads dividing hidden), is checked by recattn.models.registry.check: kinds
        # are declared above this module
        for name, allowed in (("position", ("learned", "sinusoidal")), ("norm", ("pre", "post")),
                              ("activation", ("gelu", "relu")), ("position_from", ("last", "first")),
                              ("mask_slot", ("append", "replace-oldest"))):
            if getattr(self, name) not in allowed:
                raise ValueError(_("{field} must be {one} or {other}, not {value}").format(
                    field=name, one=repr(allowed[0]), other=repr(allowed[1]), value=repr(getattr(self, name))))


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
        # ValueErrors, yet shown to people: `validate` turns them into the RecAttnError of a damaged config.json
        if self.objective not in OBJECTIVES:
            raise ValueError(_("unknown objective {value}; choose one of {choices}").format(
                value=repr(self.objective), choices=", ".join(OBJECTIVES)))
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(_("label_smoothing must be in [0, 1), not {value}").format(value=self.label_smoothing))
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(_("schedule must be constant or cosine, not {value}").format(value=repr(self.schedule)))
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ValueError(_("precision must be auto, fp32 or bf16, not {value}").format(value=repr(self.precision)))
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(_("device must be auto, cpu or cuda, not {value}").format(value=repr(self.device)))


def to_dict(config: Any) -> dict[str, Any]:
    """A config as a plain JSON-ready dict."""
    return dataclasses.asdict(config)


def from_dict(cls: type[T], values: dict[str, Any]) -> T:
    """Rebuild a config, ignoring keys this version does not know (older or newer checkpoints)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in values.items() if k in names})


# What a saved config may hold beyond its type (checked when a checkpoint is read: a config file is untrusted).
_AT_LEAST_ONE = {"n_items", "max_len", "hidden", "layers", "heads", "epochs", "batch_size", "negatives", "eval_every",
                 "window_stride", "inner", "item_dim"}
_NOT_NEGATIVE = {"weight_decay", "patience", "warmup_steps", "seed"}
_ABOVE_ZERO = {"lr", "max_minutes", "norm_eps"}
_FRACTIONS = {"dropout", "mask_prob", "ema_decay"}  # in [0, 1)


_TYPE_NAMES = {bool: N_("true/false"), int: N_("a whole number"), float: N_("a number"), str: N_("text"),
               type(None): N_("null"), list: N_("a list"), dict: N_("an object")}


def _type_name(value: Any) -> str:
    name = _TYPE_NAMES.get(type(value))
    return _(name) if name else type(value).__name__


# The problems below are whole sentences with {field} (`section.field`) and {value} (what was found, as JSON),
# translated and filled in by `validate`.
def _type_error(hint: Any, value: Any) -> str | None:
    """Why `value` (from JSON) does not fit the annotation `hint` (a message), or None when it does."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    if value is None:
        return None if type(None) in options else N_("{field} must not be null, found {value}")
    if bool in options:
        return None if isinstance(value, bool) else N_("{field} must be true or false, found {value}")
    if int in options:  # JSON true is not a number here, though Python's bool is an int
        return None if isinstance(value, int) and not isinstance(value, bool) else N_(
            "{field} must be a whole number, found {value}")
    if float in options:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return N_("{field} must be a number, found {value}")
        return None if math.isfinite(value) else N_("{field} must be a finite number, found {value}")
    return None if isinstance(value, str) else N_("{field} must be text, found {value}")


def _range_error(name: str, value: Any) -> str | None:
    """Why a well-typed `value` of field `name` is out of range (a message), or None."""
    if value is None:
        return None
    if name in _AT_LEAST_ONE and value < 1:
        return N_("{field} must be at least 1, found {value}")
    if name in _NOT_NEGATIVE and value < 0:
        return N_("{field} must not be negative, found {value}")
    if name in _ABOVE_ZERO and value <= 0:
        return N_("{field} must be above 0, found {value}")
    if name in _FRACTIONS and not 0 <= value < 1:
        return N_("{field} must be in [0, 1), found {value}")
    return None


def validate(cls: type[T], values: Any, section: str) -> T:
    """Rebuild a config from untrusted JSON `values`, checking each field's type, range and allowed values.

    A RecAttnError names the field as `section.field`, says what it must be and what was found. Keys this version
    does not know are ignored and missing ones take their defaults, as in `from_dict` (older or newer files).
    """
    if not isinstance(values, dict):
        raise RecAttnError(_("{section} must be an object of settings, found {type}").format(
            section=section, type=_type_name(values)))
    hints = typing.get_type_hints(cls)
    known = {f.name: values[f.name] for f in dataclasses.fields(cls) if f.name in values}  # type: ignore[arg-type]
    for name, value in known.items():
        problem = _type_error(hints[name], value) or _range_error(name, value)
        if problem:
            raise RecAttnError(_(problem).format(field=f"{section}.{name}", value=json.dumps(value)))
    try:
        return cls(**known)
    except ValueError as e:  # the allowed values and cross-field rules of __post_init__
        raise RecAttnError(_("{section}: {problem}").format(section=section, problem=e)) from e


def replace(config: T, **changes: Any) -> T:
    """A copy of a frozen config with some fields changed."""
    return dataclasses.replace(config, **changes)  # type: ignore[type-var]


__all__ = ["ModelConfig", "TrainConfig", "OBJECTIVES", "to_dict", "from_dict",
           "validate", "replace"]
