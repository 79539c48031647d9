"""Checkpoints: a folder with config.json (configs, source, catalogue fingerprint), model.safetensors and
metrics.json. Never pickle: weights load with safetensors, configs with json."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Sequence

import torch
from safetensors.torch import load_file, save_file

from recattn import __version__
from recattn.config import MODEL_KINDS, MODEL_NAMES, ModelConfig, TrainConfig, from_dict, to_dict
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


def read_metrics(path: str | Path) -> dict:
    """metrics.json of a checkpoint folder; {} when it has none or a damaged one (the model is usable all the same)."""
    try:
        metrics = json.loads((Path(path) / METRICS).read_text())
    except (OSError, ValueError):
        return {}
    return metrics if isinstance(metrics, dict) else {}


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
    metrics = read_metrics(path)
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


@dataclass(frozen=True)
class CheckpointInfo:
    """What a listing tells about a checkpoint without reading its weights: config.json and metrics.json."""

    path: str
    kind: str
    shipped: bool  # found in a folder of shipped models rather than trained here
    modified: float  # the folder's mtime (seconds since the epoch)
    model: dict  # the model config as saved
    source: str
    metrics: dict

    @property
    def name(self) -> str:
        """ "SASRec", "GRU4Rec", ... """
        return MODEL_NAMES.get(self.kind, self.kind)

    @property
    def origin(self) -> str:
        """ "shipped", or when it was trained: "27 Nov 14:02" (local time)."""
        return "shipped" if self.shipped else f"{datetime.fromtimestamp(self.modified):%d %b %H:%M}"

    @property
    def label(self) -> str:
        """ "SASRec · shipped", "SASRec · 27 Nov 14:02". """
        return f"{self.name} · {self.origin}"

    @property
    def test(self) -> dict:
        """The test metrics saved at training time ({} when not evaluated)."""
        return self.metrics.get("test", {}) if isinstance(self.metrics.get("test"), dict) else {}

    @property
    def score(self) -> str:
        """ "test NDCG@10 0.303", or "not evaluated". """
        ndcg = self.test.get("ndcg@10")
        return f"test NDCG@10 {ndcg:.3f}" if isinstance(ndcg, (int, float)) else "not evaluated"

    @property
    def shape(self) -> str:
        """One line on how the model reads a history."""
        if self.kind == "pop":
            return "ranks items by popularity, whatever the history"
        if self.kind == "itemknn":
            return "suggests what followed the last few items in other histories"
        reads = f"reads the last {self.model.get('max_len')} items"
        if self.kind in ("sasrec", "bert4rec"):
            return f"{self.model.get('layers')} layers × {self.model.get('heads')} heads · {reads}"
        return reads


def info(path: str | Path, shipped: bool = False) -> CheckpointInfo:
    """A CheckpointInfo for one folder (RecAttnError when it is not a checkpoint)."""
    path = Path(path)
    config = read_config(path)
    model = config.get("model", {}) if isinstance(config.get("model"), dict) else {}
    return CheckpointInfo(str(path), str(model.get("kind", "?")), shipped, path.stat().st_mtime, model,
                          str(config.get("source", "?")), read_metrics(path))


def find(fingerprint: str, shipped: Sequence[Path] = (), trained: Sequence[Path] = ()) -> list[CheckpointInfo]:
    """The checkpoints for the catalogue with `fingerprint` in the immediate subfolders of some folders: the
    shipped ones first (in MODEL_KINDS order, SASRec first), then the trained ones, newest first. Folders being
    written (their names start with ".", see `save`) and folders that are not checkpoints are skipped."""
    found = []
    for is_shipped, folders in ((True, shipped), (False, trained)):
        for folder in folders:
            for config_file in Path(folder).glob("*/config.json"):
                path = config_file.parent
                if path.name.startswith("."):
                    continue
                try:
                    if read_config(path).get("catalogue_fingerprint") != fingerprint:
                        continue
                    found.append(info(path, is_shipped))
                except (RecAttnError, OSError):
                    continue
    rank = {kind: i for i, kind in enumerate(MODEL_KINDS)}
    return sorted(found, key=lambda c: (0, rank.get(c.kind, len(rank)), Path(c.path).name) if c.shipped
                  else (1, -c.modified, Path(c.path).name))
