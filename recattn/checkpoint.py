"""Checkpoints: a folder with config.json (configs, source, catalogue fingerprint), model.safetensors and
metrics.json. Never pickle: weights load with safetensors, configs with json."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from recattn import __version__
from recattn.config import ModelConfig, TrainConfig, from_dict, to_dict
from recattn.errors import RecAttnError
from recattn.models import build_model

CONFIG, WEIGHTS, METRICS = "config.json", "model.safetensors", "metrics.json"


@dataclass
class Checkpoint:
    model: torch.nn.Module
    model_config: ModelConfig
    train_config: TrainConfig
    source: str
    fingerprint: str
    metrics: dict = field(default_factory=dict)


def save(path: str | Path, model: torch.nn.Module, train_config: TrainConfig, source: str, fingerprint: str,
         metrics: dict | None = None) -> Path:
    """Write the checkpoint atomically: a half-written folder never replaces a good one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; a checkpoint is meant to be shared
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / WEIGHTS))
        config = {
            "recattn_version": __version__,
            "source": source,
            "catalogue_fingerprint": fingerprint,
            "model": to_dict(model.config),
            "train": to_dict(train_config),
        }
        (tmp / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
        (tmp / METRICS).write_text(json.dumps(metrics or {}, indent=2, sort_keys=True) + "\n")
        for f in tmp.iterdir():
            f.chmod(0o644)
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def read_config(path: str | Path) -> dict:
    """config.json of a checkpoint folder, with a clear error when it is not one."""
    path = Path(path)
    file = path / CONFIG
    if not file.is_file() or not (path / WEIGHTS).is_file():
        raise RecAttnError(f"{path} is not a recattn checkpoint: it needs {CONFIG} and {WEIGHTS}. "
                           "Train one with `python -m recattn train --out DIR`.")
    try:
        return json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RecAttnError(f"{file} is not valid JSON ({e}); the checkpoint is damaged, train it again") from e


def load(path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Load a checkpoint folder into a model in eval mode."""
    path = Path(path)
    config = read_config(path)
    try:
        model_cfg = from_dict(ModelConfig, config["model"])
        train_cfg = from_dict(TrainConfig, config.get("train", {}))
        model = build_model(model_cfg)
        state = load_file(str(path / WEIGHTS))
        model.load_state_dict(state, strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise RecAttnError(f"cannot load the checkpoint in {path}: {e}") from e
    metrics = {}
    if (path / METRICS).is_file():
        metrics = json.loads((path / METRICS).read_text())
    model.to(device).eval()
    return Checkpoint(model, model_cfg, train_cfg, config.get("source", ""), config.get("catalogue_fingerprint", ""),
                      metrics)


def check_catalogue(checkpoint: Checkpoint, fingerprint: str, source: str = "") -> None:
    """Refuse to pair a model with a catalogue it was not trained on (indices would mean other items)."""
    if checkpoint.fingerprint != fingerprint:
        raise RecAttnError(
            f"this checkpoint was trained on {checkpoint.source or 'another catalogue'} "
            f"(fingerprint {checkpoint.fingerprint}), not on {source or 'this catalogue'} ({fingerprint}). "
            "Load the matching data or train a model on this one."
        )
