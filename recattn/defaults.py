"""Default settings per model kind: the starting point of the CLI, the app and `compare`.

Tuned on ml-latest-small and the built-in worlds; what was tried is recorded in benchmarks/TUNING.md, and the equal
search of every neural model (benchmarks/search.py, chosen on validation alone) in benchmarks/results/search-*.md.
"""

from __future__ import annotations

from recattn.config import ModelConfig, TrainConfig, replace

_MODEL: dict[str, dict] = {
    "sasrec": {"max_len": 50, "hidden": 64, "layers": 2, "heads": 2, "dropout": 0.2, "repeat_bias": True},
    # the equal search's winner on all three data sets, each time ahead of the two-layer setting it replaces
    # (validation NDCG@10 of the seed-0 tries: ml-latest-small 0.040 against 0.037, films 0.144 against 0.086,
    # news 0.241 against 0.128); so the Attention page shows it as one map (the Train page's form sets more)
    "bert4rec": {"max_len": 25, "hidden": 32, "layers": 1, "heads": 1, "dropout": 0.0, "repeat_bias": True},
    "additive": {"max_len": 50, "hidden": 64, "dropout": 0.2},
    # SASRec with the seed's additive score in every head: SASRec's settings, so that the score is the one change
    # (its equal search chose one layer and one head on all three data sets; README says why that is not kept)
    "sasrec-additive": {"max_len": 50, "hidden": 64, "layers": 2, "heads": 2, "dropout": 0.2, "repeat_bias": True},
    # the recurrent models have the Transformers' repeat offset too (an axis of their search), on for NARM like
    # theirs, which its search kept on all three data sets. On ml-latest-small (seed 0, 2.5 minutes) its effect on
    # validation NDCG@10 is within run-to-run noise (NARM 0.0426 without, 0.0387-0.0509 in three runs with it;
    # benchmarks/TUNING.md); with seen items kept it is the filter of seen items it is for SASRec (NARM test
    # 0.0291 -> 0.0390)
    "narm": {"max_len": 50, "hidden": 64, "layers": 1, "dropout": 0.1, "repeat_bias": True},
    # the equal search's winner on ml-latest-small, twice (validation NDCG@10 0.040 and 0.043 against 0.024 for the
    # setting it replaces: hidden 64, dropout 0.2, max_len 50, lr 3e-3, the repeat offset on); on the built-in
    # worlds the same try scored 0.209 against 0.207 (films) and 0.263 against 0.284 (news)
    "gru": {"max_len": 100, "hidden": 128, "layers": 1, "dropout": 0.0, "repeat_bias": False},
    "pop": {},
    "itemknn": {},
}
_TRAIN: dict[str, dict] = {
    # windows every 25 items: each target is predicted from 26+ items of context, as at recommendation time;
    # validation and the kept weights use a moving average of the weights, a steadier early-stopping signal;
    # label smoothing: ml-latest-small's mean validation NDCG@10 over 3 seeds (patience 12) went 0.080 (0.3),
    # 0.082 (0.5), 0.085 (0.7); with it the curve rises slowly for 30+ epochs, so patience 6 stopped too soon
    "sasrec": {"lr": 1e-2, "batch_size": 64, "patience": 12, "window_stride": 25, "ema_decay": 0.99,
               "label_smoothing": 0.7},
    "sasrec-additive": {"lr": 1e-2, "batch_size": 64, "patience": 12, "window_stride": 25, "ema_decay": 0.99,
                        "label_smoothing": 0.7},
    # its validation curve is jagged (an early bump, then a dip that outlasted patience 8 in one run): the weight
    # average and a longer patience let it reach its second rise
    "bert4rec": {"lr": 1e-3, "batch_size": 64, "patience": 12, "mask_prob": 0.2, "ema_decay": 0.99},
    # every candidate reads the history with its own weights, so an epoch costs far more than SASRec's;
    # sampled objectives are cheaper but learned much worse here (see benchmarks/TUNING.md)
    "additive": {"lr": 1e-2, "batch_size": 64, "patience": 4},
    # ml-latest-small, seed 0, 3 minutes on a loaded machine (2-4 epochs), validation NDCG@10: lr 3e-3 0.007,
    # lr 1e-2 0.019, lr 1e-2 with dropout 0.1 0.034 (this one); the equal search kept it on all three data sets
    "narm": {"lr": 1e-2, "batch_size": 64, "patience": 6},
    "gru": {"lr": 1e-2, "batch_size": 64, "patience": 6},  # with its architecture above: the search's winner
}


def model_config(kind: str, **overrides) -> ModelConfig:
    """The default architecture of `kind`, with `overrides` (None values ignored)."""
    if kind not in _MODEL:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(_MODEL)}")
    return replace(ModelConfig(kind=kind, **_MODEL[kind]), **{k: v for k, v in overrides.items() if v is not None})


# The additive model scores every candidate against the whole history, so full softmax costs
# n_items × max_len × hidden per position: about 40 minutes an epoch on ml-latest-small's 9,742 films on
# 2 CPU cores. Above this many items it trains on shared sampled negatives instead.
ADDITIVE_FULL_SOFTMAX_ITEMS = 2_000
ADDITIVE_SAMPLED = {"objective": "bce", "negatives": 256}


def train_config(kind: str, n_items: int | None = None, **overrides) -> TrainConfig:
    """The default training settings of `kind` for a catalogue of `n_items` (when known), with `overrides`
    (None values ignored)."""
    base = dict(_TRAIN.get(kind, {}))
    if kind == "additive" and n_items is not None and n_items > ADDITIVE_FULL_SOFTMAX_ITEMS:
        base.update(ADDITIVE_SAMPLED)
    return replace(TrainConfig(**base), **{k: v for k, v in overrides.items() if v is not None})
