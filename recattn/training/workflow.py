"""The steps the CLI and the app share: train a model on a source and save it; evaluate a checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from recattn import checkpoint
from recattn.config import ModelConfig, TrainConfig, replace
from recattn.data import Dataset, prepare
from recattn.results.evaluate import evaluate, evaluate_seen_both
from recattn.models import build_model
from recattn.training.fit import EpochReport, FitResult, fit, model_scorer, resolve_device


def train_and_save(dataset: Dataset, model_config: ModelConfig, train_config: TrainConfig, out: str | Path | None,
                   on_epoch_end: Callable[[EpochReport], bool | None] | None = None) -> tuple[FitResult, dict]:
    """Fit on the leave-one-out split, evaluate on the test items, and save the checkpoint with its metrics when
    `out` is given. "test" and "valid" hold full ranking with seen items excluded (the headline and selection
    figures), each with the seen-kept figures nested under "seen_kept"."""
    vocab, split = prepare(dataset)
    cfg = replace(model_config, n_items=vocab.size)
    result = fit(build_model(cfg, seed=train_config.seed), split, train_config, on_epoch_end)
    device = resolve_device(train_config.device)
    test = evaluate_seen_both(model_scorer(result.model, device), split.test_inputs, split.test_targets,
                              split.n_items, item_counts=split.item_counts())
    metrics = {
        "protocol": "full", "exclude_seen": True, "test": test, "valid": result.best_valid,
        "best_epoch": result.best_epoch, "epochs_run": len(result.history), "train_seconds": round(result.seconds, 2),
        "stopped": result.stopped,
    }
    if out is not None:
        checkpoint.save(out, result.model, train_config, dataset.name, dataset.fingerprint, metrics)
    return result, metrics


def evaluate_checkpoint(ckpt: checkpoint.Checkpoint, dataset: Dataset, protocol: str = "full",
                        exclude_seen: bool = True, split_name: str = "test", seed: int = 0) -> dict:
    """Re-evaluate a loaded checkpoint on `dataset`'s leave-one-out split."""
    checkpoint.check_catalogue(ckpt, dataset.fingerprint, dataset.name)
    _, split = prepare(dataset)
    inputs, targets = ((split.test_inputs, split.test_targets) if split_name == "test"
                       else (split.valid_inputs, split.valid_targets))
    device = next(ckpt.model.parameters(), None)
    device = device.device if device is not None else "cpu"
    return evaluate(model_scorer(ckpt.model, device), inputs, targets, split.n_items, protocol=protocol,
                    exclude_seen=exclude_seen, item_counts=split.item_counts(), seed=seed)
