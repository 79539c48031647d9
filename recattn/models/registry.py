"""Every model kind, declared once: what people call it, how to build it, what attention it has, what it can show,
how it trains, its defaults and one line on what it is. Every list of kinds (the CLI's choices, the pages, the
benchmarks, `compare`) derives from here.

Adding a kind is one file holding its model (a class with `config`, `attention_kind` and `score`, see `Model`) and
one `register(ModelKind(...))`. The registry itself imports no torch: listing checkpoints and drawing the app's first
page need only names, and a builder is a "module:attribute" string imported on the first build (or a callable).

The defaults below are the starting point of the CLI, the app and `compare`; each comment gives the validation
figure behind the choice (benchmarks/TUNING.md has what was tried, benchmarks/results/search-*.md the equal
searches, chosen on validation alone).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from recattn.i18n import N_, _

if TYPE_CHECKING:
    import torch

    from recattn.models.output import ModelOutput

AttentionKind = Literal["causal", "bidirectional", "target", "none"]
# how a kind learns: from next items at every position (one hidden state per position, recattn.training.objectives),
# from masked items (BERT4Rec), with a loss of its own (a model that scores each candidate differently), or by
# counting in one pass (no gradients, no epochs)
Training = Literal["next-item", "masked-item", "own-loss", "counts"]


@runtime_checkable
class Model(Protocol):
    """What every model does: map left-padded histories (batch, T) of item indices (0 is padding) to next-item
    scores over the catalogue, with its attention maps when asked and it has some (see ModelOutput)."""

    config: Any  # its recattn.config.ModelConfig (not imported: the config module validates kinds through here)
    attention_kind: AttentionKind

    def score(self, seqs: torch.Tensor, return_attention: bool = False) -> ModelOutput: ...


@dataclass(frozen=True)
class ModelKind:
    """One kind of model. `builder` makes an untrained model from a ModelConfig: a callable, or "module:attribute"
    imported on first use. `layered`: layers × heads of self-attention (the Train page asks for both). `item_vectors`:
    it learns a vector per item (the Embeddings page can map them)."""

    name: str  # what configs and checkpoints record
    label: str  # what people read (marked with N_: shown through recattn.i18n._, kept in English where it is data)
    builder: str | Callable[[Any], Any]  # ModelConfig -> model
    attention: AttentionKind
    training: Training
    description: str  # marked with N_, like `label`
    layered: bool = False
    item_vectors: bool = True
    model_defaults: Mapping[str, Any] = field(default_factory=dict)
    train_defaults: Mapping[str, Any] = field(default_factory=dict)
    # (n, settings): above n catalogue items these training settings replace the defaults' (e.g. a sampled loss)
    large_catalogue: tuple[int, Mapping[str, Any]] | None = None

    @property
    def counted(self) -> bool:
        """Fitted by counting in one pass: no epochs, no size to choose."""
        return self.training == "counts"

    @property
    def has_attention(self) -> bool:
        return self.attention != "none"

    @property
    def causal(self) -> bool:
        """Reads a history one way and learns from next items (every kind but a masked-item one, BERT4Rec)."""
        return self.training != "masked-item"

    def build(self, cfg: Any) -> Any:
        """A fresh model of this kind."""
        builder = self.builder
        if isinstance(builder, str):
            module, _, attribute = builder.partition(":")
            builder = getattr(importlib.import_module(module), attribute)
        return builder(cfg)


_KINDS: dict[str, ModelKind] = {}


def register(kind: ModelKind, replace: bool = False) -> ModelKind:
    """Declare a kind; every list of kinds shows it from now on. A name is declared once unless `replace`."""
    if kind.name in _KINDS and not replace:
        raise ValueError(f"model kind {kind.name!r} is already registered")
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Forget a kind (a test's toy kind, after the test)."""
    _KINDS.pop(name, None)


def get(name: str) -> ModelKind:
    """The kind called `name`; ValueError naming the known ones otherwise."""
    try:
        return _KINDS[name]
    except KeyError:
        raise ValueError(f"unknown model kind {name!r}; choose one of {', '.join(_KINDS)}") from None


def check(cfg: Any) -> ModelKind:
    """A model config's kind, after checking what the kind implies of it (ValueError: an unknown kind, or heads that
    do not divide a layered kind's hidden size)."""
    kind = get(cfg.kind)
    if kind.layered and cfg.hidden % cfg.heads:
        # shown to people (the Train page, a damaged config.json), hence translated
        raise ValueError(_("hidden ({hidden}) must be divisible by heads ({heads})").format(
            hidden=cfg.hidden, heads=cfg.heads))
    return kind


def names(where: Callable[[ModelKind], bool] | None = None) -> tuple[str, ...]:
    """The registered kinds' names in declaration order (SASRec first), those satisfying `where` if given."""
    return tuple(k.name for k in _KINDS.values() if where is None or where(k))


def label(name: str) -> str:
    """What people read for a kind ("SASRec"), in English: show it through `recattn.i18n._`; the name itself for a
    kind this version does not know."""
    kind = _KINDS.get(name)
    return kind.label if kind else name


_TRANSFORMER = "recattn.models.transformer:SequentialTransformer"

# SASRec's settings, shared by SASRec (additive) so that the score is the one change between them
_SASREC_MODEL = {"max_len": 50, "hidden": 64, "layers": 2, "heads": 2, "dropout": 0.2, "repeat_bias": True}
# The recipe search on ml-latest-small (benchmarks/results/search-ml-latest-small-recipe.json; 6 configurations ×
# 1.5 minutes, chosen on validation alone) kept the neutral recipe: no label smoothing, no weight average,
# non-overlapping windows, patience 12; mean validation NDCG@10 over 3 seeds 0.0701 (its best other try, seed 0:
# 0.0389). It replaces the window stride and weight average that rounds reading test figures had kept
# (benchmarks/TUNING.md)
_SASREC_TRAIN = {"lr": 1e-2, "batch_size": 64, "patience": 12}

register(ModelKind(
    "sasrec", "SASRec", _TRANSFORMER, "causal", "next-item",
    N_("Self-attention over the history, each position looking back only (Kang & McAuley, 2018)."), layered=True,
    model_defaults=_SASREC_MODEL, train_defaults=_SASREC_TRAIN,
))
register(ModelKind(
    "bert4rec", "BERT4Rec", _TRANSFORMER, "bidirectional", "masked-item",
    N_("Self-attention that sees the whole history and fills a masked slot (Sun et al., 2019)."), layered=True,
    # the equal search's winner on all three data sets, each time ahead of the two-layer setting it replaces
    # (validation NDCG@10 of the seed-0 tries: ml-latest-small 0.040 against 0.037, films 0.144 against 0.086,
    # news 0.241 against 0.128); so the Attention page shows it as one map (the Train page's form sets more)
    model_defaults={"max_len": 25, "hidden": 32, "layers": 1, "heads": 1, "dropout": 0.0, "repeat_bias": True},
    # the recipe search on ml-latest-small kept the neutral recipe (no weight average, no smoothing, patience 12):
    # mean validation NDCG@10 over 3 seeds 0.0439, its best other try 0.0335 (seed 0); the weight average it drops
    # had been kept in a round that read test figures
    train_defaults={"lr": 1e-3, "batch_size": 64, "patience": 12, "mask_prob": 0.2},
))
register(ModelKind(
    "sasrec-additive", N_("SASRec (additive)"), _TRANSFORMER, "causal", "next-item",
    N_("SASRec with the seed's additive score w_o · tanh(W1 x + W2 y + b) in every head."), layered=True,
    # SASRec's settings, so that the score is the one change (its equal search chose one layer and one head on all
    # three data sets; README says why that is not kept)
    model_defaults=_SASREC_MODEL, train_defaults=_SASREC_TRAIN,
))
register(ModelKind(
    "additive", N_("Additive attention"), "recattn.models.additive:AdditiveAttention", "target", "own-loss",
    N_("Target attention: each candidate reads the history with its own weights (as DIN)."),
    model_defaults={"max_len": 50, "hidden": 64, "dropout": 0.2},
    # every candidate reads the history with its own weights, so an epoch costs far more than SASRec's;
    # sampled objectives are cheaper but learned much worse here (see benchmarks/TUNING.md)
    train_defaults={"lr": 1e-2, "batch_size": 64, "patience": 4},
    # full softmax costs n_items × max_len × hidden per position: about 40 minutes an epoch on ml-latest-small's
    # 9,742 films on 2 CPU cores; above 2,000 items it trains on 256 shared sampled negatives instead
    large_catalogue=(2_000, {"objective": "bce", "negatives": 256}),
))
register(ModelKind(
    "narm", N_("NARM (additive)"), "recattn.models.narm:NARM", "causal", "next-item",
    N_("A GRU whose last state attends back over its states with the seed's additive score (Li et al., 2017)."),
    # the recipe search's winner on ml-latest-small (benchmarks/results/search-ml-latest-small-recipe.json, chosen on
    # validation alone): mean validation NDCG@10 over 3 seeds 0.0585; seed 0's tries: this one 0.0634, the neutral
    # start (hidden 64, one layer, max_len 50, dropout 0.1, no smoothing, no average) 0.0486, the best other below
    # that. The films search chose the same setting (its validation 0.2365 over 3 seeds)
    model_defaults={"max_len": 25, "hidden": 128, "layers": 2, "dropout": 0.0, "repeat_bias": True},
    train_defaults={"lr": 1e-2, "batch_size": 64, "patience": 12, "label_smoothing": 0.3, "ema_decay": 0.99,
                    "window_stride": 25},
))
register(ModelKind(
    "gru", "GRU4Rec", "recattn.models.gru:GRU4Rec", "none", "next-item",
    N_("A recurrent network over the history, the RNN contrast (Hidasi et al., 2016)."),
    # the recipe search's winner on ml-latest-small (benchmarks/results/search-ml-latest-small-recipe.json, chosen on
    # validation alone): mean validation NDCG@10 over 3 seeds 0.0569; seed 0's tries: this one 0.0542, the neutral
    # start (hidden 128, no dropout, no offset, no smoothing) 0.0458, the best other 0.0487. The films search chose
    # the same setting (its validation 0.2325 over 3 seeds)
    model_defaults={"max_len": 100, "hidden": 64, "layers": 1, "dropout": 0.1, "repeat_bias": True},
    train_defaults={"lr": 1e-2, "batch_size": 64, "patience": 12, "label_smoothing": 0.3},
))
register(ModelKind(
    "pop", N_("Popularity"), "recattn.models.baselines:Popularity", "none", "counts",
    N_("Ranks items by popularity, whatever the history."), item_vectors=False,
))
register(ModelKind(
    "itemknn", "ItemKNN", "recattn.models.baselines:ItemKNN", "none", "counts",
    N_("Suggests what followed the last few items in other histories."), item_vectors=False,
))
