"""Checkpoints: a folder with config.json (configs, source, catalogue fingerprint), model.safetensors and
metrics.json. Never pickle: weights load with safetensors, configs with json. A checkpoint folder is untrusted
input (it may come from anywhere): every config field is checked, and the weights' header is checked against the
shapes the config implies before any tensor is read."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from safetensors import SafetensorError, safe_open

from recattn import __version__
from recattn.config import ModelConfig, TrainConfig, to_dict, validate
from recattn.errors import RecAttnError
from recattn.models import registry

# torch is imported where weights are read or written: listing checkpoints (the app's first page) needs only their
# JSON, and importing torch takes seconds.
if TYPE_CHECKING:
    import torch

CONFIG, WEIGHTS, METRICS = "config.json", "model.safetensors", "metrics.json"
IMPORTERS = {"recbole": "RecBole"}  # what people read for the program that trained an imported model


@dataclass
class Checkpoint:
    model: torch.nn.Module
    model_config: ModelConfig
    train_config: TrainConfig
    source: str
    fingerprint: str
    metrics: dict = field(default_factory=dict)


def save(path: str | Path, model: torch.nn.Module, train_config: TrainConfig, source: str, fingerprint: str,
         metrics: dict | None = None, imported: dict | None = None) -> Path:
    """Write the checkpoint atomically: a half-written folder never replaces a good one. `imported`: where a model
    trained elsewhere came from (file, format, its settings, how ids were mapped), kept in config.json."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _recover(path)
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
        if imported is not None:
            config["imported"] = imported
        (tmp / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
        (tmp / METRICS).write_text(json.dumps(metrics or {}, indent=2, sort_keys=True) + "\n")
        for f in tmp.iterdir():
            f.chmod(0o644)
        old = None
        if path.exists():
            old = _old(path)
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


def save_file(tensors: dict[str, torch.Tensor], filename: str) -> None:
    """safetensors.torch.save_file, imported on first use (it imports torch)."""
    from safetensors.torch import save_file as save

    save(tensors, filename)


def _old(path: Path) -> Path:
    """Where `save` parks the previous checkpoint for the instant between its two renames."""
    return path.with_name(f".{path.name}.old")


def _recover(path: Path) -> None:
    """Put back the previous checkpoint of a save killed between its two renames (folder gone, `.old` there)."""
    old = _old(path)
    if not path.exists() and (old / CONFIG).is_file():
        try:
            os.replace(old, path)
        except OSError:  # someone else recovered it, or is saving into `path` right now
            pass


def read_config(path: str | Path) -> dict:
    """config.json of a checkpoint folder as a dict, with a clear error when it is not one (fields not checked:
    `load` checks them; a listing only reads what it shows)."""
    path = Path(path)
    _recover(path)
    file = path / CONFIG
    if not file.is_file() or not (path / WEIGHTS).is_file():
        raise RecAttnError(f"{path} is not a recattn checkpoint: it needs {CONFIG} and {WEIGHTS}. "
                           "Train one with `python -m recattn train --out DIR`.")
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, OSError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise RecAttnError(f"{file} is not valid JSON ({e}); the checkpoint is damaged, train it again") from e
    if not isinstance(config, dict):
        raise RecAttnError(f"{file} must hold a JSON object, not a {type(config).__name__}; the checkpoint is "
                           "damaged, train it again")
    return config


def checkpoint_key(path: str | Path) -> str:
    """What names a checkpoint's content in every cache: its folder, its catalogue's fingerprint and its weights file's
    version (modification time and size: a retrain into the same folder changes it). RecAttnError when the folder is
    not a checkpoint."""
    path = Path(path).resolve()
    config = read_config(path)
    weights = (path / WEIGHTS).stat()
    return f"{path}|{config.get('catalogue_fingerprint', '')}|{weights.st_mtime_ns}-{weights.st_size}"


def key_folder(key: str) -> str:
    """The folder a `checkpoint_key` names."""
    return key.rsplit("|", 2)[0]


def read_metrics(path: str | Path) -> dict:
    """metrics.json of a checkpoint folder; {} when it has none or a damaged one (the model is usable all the same)."""
    try:
        metrics = json.loads((Path(path) / METRICS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return metrics if isinstance(metrics, dict) else {}


def parse_config(config: dict, where: str = CONFIG) -> tuple[ModelConfig, TrainConfig, str, str]:
    """Check a config.json field by field: (model config, train config, source, catalogue fingerprint).
    A RecAttnError names the field (`model.hidden`, `train.lr`, `source`, ...) and what it must be."""
    try:
        for name in ("recattn_version", "source", "catalogue_fingerprint"):
            if not isinstance(config.get(name), str) or not config[name]:
                raise RecAttnError(f"{name} must be non-empty text, found {json.dumps(config.get(name))}")
        if "model" not in config:
            raise RecAttnError("model is missing: the model's settings are needed to rebuild it")
        model_cfg = validate(ModelConfig, config["model"], "model")
        try:
            registry.check(model_cfg)
        except ValueError as e:
            raise RecAttnError(f"model: {e}") from e
        train_cfg = validate(TrainConfig, config.get("train", {}), "train")
    except RecAttnError as e:
        raise RecAttnError(f"{where}: {e}. The checkpoint is damaged or was not written by recattn: "
                           "train it again with `python -m recattn train --out DIR`.") from e
    return model_cfg, train_cfg, config["source"], config["catalogue_fingerprint"]


def _unreadable(file: Path, error: Exception) -> RecAttnError:
    """The error for a weights file safetensors refuses; says when it looks like a pickle (never opened)."""
    with open(file, "rb") as f:
        head = f.read(4)
    if head.startswith(b"\x80") or head == b"PK\x03\x04":  # pickle protocol 2+, or torch.save's zip of pickles
        what = ("is a pickle (Python's torch.save/pickle format), not safetensors. recattn never opens pickles: "
                "they can run code. Convert it with safetensors or train the model again")
    else:
        what = f"is truncated or damaged ({error}); train the model again"
    return RecAttnError(f"{file} {what}.")


def check_weights(file: Path, expected: dict[str, torch.Tensor]) -> None:
    """Compare the tensors a safetensors file declares (its header only: no tensor is read) with those a model
    built from the config has: same names, same shapes. A dimension that is 0 in `expected` is sized by fitting
    (ItemKNN's sparse matrix) and may hold any length. RecAttnError names the tensor, expected and found shape."""
    try:
        with safe_open(str(file), "pt") as f:
            found = {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}
    except SafetensorError as e:
        raise _unreadable(file, e) from e
    for problem, names in (("lacks", expected.keys() - found.keys()), ("has unexpected", found.keys() - expected)):
        if names:
            raise RecAttnError(f"{file} {problem} tensor(s) {', '.join(sorted(names)[:5])}: it was not saved "
                               "from a model with this config.json. Train the model again.")
    for name, tensor in expected.items():
        want = tuple(tensor.shape)
        if len(found[name]) != len(want) or any(w and w != g for w, g in zip(want, found[name])):
            raise RecAttnError(f"{file}: tensor {name} has shape {list(found[name])}, but config.json implies "
                               f"{list(want)}. The weights and the config do not belong together: train again.")


def _check_values(file: Path, state: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    """Same dtypes as the model's, and finite floats (a flipped byte can make a NaN that would rank nothing)."""
    import torch

    for name, tensor in state.items():
        if tensor.dtype != expected[name].dtype:
            raise RecAttnError(f"{file}: tensor {name} is {tensor.dtype}, the model needs {expected[name].dtype}. "
                               "Train the model again.")
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise RecAttnError(f"{file}: tensor {name} holds NaN or infinite values; the file is damaged, train "
                               "the model again.")


def load(path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Load a checkpoint folder into a model in eval mode; a RecAttnError says what is wrong with a bad one."""
    import torch
    from safetensors.torch import load_file

    from recattn.models import build_model, expected_state

    path = Path(path)
    model_cfg, train_cfg, source, fingerprint = parse_config(read_config(path), str(path / CONFIG))
    expected = expected_state(model_cfg)  # the shapes the config implies, without allocating them
    file = path / WEIGHTS
    check_weights(file, expected)
    try:
        state = load_file(str(file))
    except SafetensorError as e:  # damaged after its header
        raise _unreadable(file, e) from e
    _check_values(file, state, expected)
    model = build_model(model_cfg)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:  # not expected after the checks above; still the user's file, not a bug
        raise RecAttnError(f"cannot load the checkpoint in {path}: {e}") from e
    model.to(device).eval()
    return Checkpoint(model, model_cfg, train_cfg, source, fingerprint, read_metrics(path))


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
    imported: str = ""  # what wrote a model trained elsewhere ("recbole"), "" for recattn's own

    @property
    def name(self) -> str:
        """ "SASRec", "GRU4Rec", "SASRec (RecBole)" ... """
        label = registry.label(self.kind)
        return f"{label} ({IMPORTERS.get(self.imported, self.imported)})" if self.imported else label

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
        kind = registry.get(self.kind) if self.kind in registry.names() else None
        if kind is not None and kind.counted:
            return kind.description[0].lower() + kind.description[1:].rstrip(".")
        reads = f"reads the last {self.model.get('max_len')} items"
        if kind is not None and kind.layered:
            return f"{self.model.get('layers')} layers × {self.model.get('heads')} heads · {reads}"
        return reads


def info(path: str | Path, shipped: bool = False) -> CheckpointInfo:
    """A CheckpointInfo for one folder (RecAttnError when it is not a checkpoint)."""
    path = Path(path)
    config = read_config(path)
    model = config.get("model", {}) if isinstance(config.get("model"), dict) else {}
    imported = config.get("imported") if isinstance(config.get("imported"), dict) else {}
    return CheckpointInfo(str(path), str(model.get("kind", "?")), shipped, path.stat().st_mtime, model,
                          str(config.get("source", "?")), read_metrics(path), str(imported.get("format", "")))


def find(fingerprint: str, shipped: Sequence[Path] = (), trained: Sequence[Path] = ()) -> list[CheckpointInfo]:
    """The checkpoints for the catalogue with `fingerprint` in the immediate subfolders of some folders: the
    shipped ones first (in the registry's order, SASRec first), then the trained ones, newest first. Folders being
    written (their names start with ".", see `save`) and folders that are not checkpoints are skipped."""
    found = []
    for is_shipped, folders in ((True, shipped), (False, trained)):
        for folder in folders:
            for old in Path(folder).glob(".*.old"):
                _recover(old.with_name(old.name[1:-len(".old")]))
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
    rank = {kind: i for i, kind in enumerate(registry.names())}
    return sorted(found, key=lambda c: (0, rank.get(c.kind, len(rank)), Path(c.path).name) if c.shipped
                  else (1, -c.modified, Path(c.path).name))
