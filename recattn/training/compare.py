"""Train and evaluate several models on one leave-one-out split, under one or more protocols."""

from __future__ import annotations

from typing import Callable, Sequence

from recattn import defaults
from recattn.data import Dataset, prepare
from recattn.results.evaluate import evaluate
from recattn.models import build_model
from recattn.training.fit import EpochReport, fit, model_scorer, resolve_device


def compare(dataset: Dataset, kinds: Sequence[str], protocols: Sequence[str] = ("full",), exclude_seen: bool = True,
            train_overrides: dict | None = None,
            on_model: Callable[[str, int, int], None] | None = None,
            on_epoch_end: Callable[[EpochReport], bool | None] | None = None, *, seen_kept_too: bool = False,
            model_overrides: dict | None = None) -> dict:
    """{"models": {kind: {"ndcg@10", "hr@10", "train_seconds", "protocols": {protocol: metrics}}}}.

    The first protocol's NDCG@10 and HR@10 are the headline figures. Every model sees the same split,
    the same seed and the same sampled negatives (the evaluation seed is fixed). `seen_kept_too` adds
    "full_keep_seen": full ranking with the history's items ranked too (RecBole's sequential protocol).
    `model_overrides` change every model's architecture defaults (None values ignored).
    """
    vocab, split = prepare(dataset)
    counts = split.item_counts()
    out: dict[str, dict] = {}
    for n, kind in enumerate(kinds):
        if on_model is not None:
            on_model(kind, n, len(kinds))
        model_cfg = defaults.model_config(kind, n_items=vocab.size, **(model_overrides or {}))
        train_cfg = defaults.train_config(kind, n_items=vocab.size, **(train_overrides or {}))
        result = fit(build_model(model_cfg, seed=train_cfg.seed), split, train_cfg, on_epoch_end)
        scorer = model_scorer(result.model, resolve_device(train_cfg.device))
        by_protocol = {
            p: evaluate(scorer, split.test_inputs, split.test_targets, split.n_items, protocol=p,
                        exclude_seen=exclude_seen, item_counts=counts)
            for p in protocols
        }
        if seen_kept_too:
            by_protocol["full_keep_seen"] = evaluate(scorer, split.test_inputs, split.test_targets, split.n_items,
                                                     exclude_seen=False, item_counts=counts)
        head = by_protocol[protocols[0]]
        out[kind] = {"ndcg@10": head["ndcg@10"], "hr@10": head["hr@10"], "train_seconds": round(result.seconds, 2),
                     "best_epoch": result.best_epoch, "protocols": by_protocol}
    return {"source": dataset.name, "users": int(len(split.test_targets)), "exclude_seen": exclude_seen,
            "models": out}


def table(report: dict) -> str:
    """A plain-text table of a compare() report: one row per model and protocol."""
    lines = [f"{'model':<10} {'protocol':<11} {'NDCG@10':>8} {'HR@10':>7} {'MRR@10':>7} {'cov@10':>7} {'train s':>8}"]
    for kind, row in report["models"].items():
        for protocol, m in row["protocols"].items():
            cov = f"{m['coverage@10']:.3f}" if "coverage@10" in m else "-"
            lines.append(f"{kind:<10} {protocol:<11} {m['ndcg@10']:>8.4f} {m['hr@10']:>7.4f} {m['mrr@10']:>7.4f} "
                         f"{cov:>7} {row['train_seconds']:>8.1f}")
    return "\n".join(lines)
