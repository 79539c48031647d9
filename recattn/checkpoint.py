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
from recattn.i18n import _
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
        raise RecAttnError(_("{path} is not a recattn checkpoint: it needs {config} and {weights}. Train one with "
                             "`python -m recattn train --out DIR`.").format(path=path, config=CONFIG, weights=WEIGHTS))
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, OSError) as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise RecAttnError(_("{file} is not valid JSON ({error}); the checkpoint is damaged, train it again").format(
            file=file, error=e)) from e
    if not isinstance(config, dict):
        raise RecAttnError(_("{file} must hold a JSON object, not a {type}; the checkpoint is damaged, train it "
                             "again").format(file=file, type=type(config).__name__))
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
                raise RecAttnError(_("{field} must be non-empty text, found {value}").format(
                    field=name, value=json.dumps(config.get(name))))
        if "model" not in config:
            raise RecAttnError(_("model is missing: the model's settings are needed to rebuild it"))
        model_cfg = validate(ModelConfig, config["model"], "model")
        try:
            registry.check(model_cfg)
        except ValueError as e:
            raise RecAttnError(_("{section}: {problem}").format(section="model", problem=e)) from e
        train_cfg = validate(TrainConfig, config.get("train", {}), "train")
    except RecAttnError as e:
        raise RecAttnError(_("{file}: {problem}. The checkpoint is damaged or was not written by recattn: train it "
                             "again with `python -m recattn train --out DIR`.").format(file=where, problem=e)) from e
    return model_cfg, train_cfg, config["source"], config["catalogue_fingerprint"]


def _unreadable(file: Path, error: Exception) -> RecAttnError:
    """The error for a weights file safetensors refuses; says when it looks like a pickle (never opened)."""
    with open(file, "rb") as f:
        head = f.read(4)
    if head.startswith(b"\x80") or head == b"PK\x03\x04":  # pickle protocol 2+, or torch.save's zip of pickles
        return RecAttnError(_("{file} is a pickle (Python's torch.save/pickle format), not safetensors. recattn never "
                              "opens pickles: they can run code. Convert it with safetensors or train the model "
                              "again.").format(file=file))
    return RecAttnError(_("{file} is truncated or damaged ({error}); train the model again.").format(
        file=file, error=error))


def check_weights(file: Path, expected: dict[str, torch.Tensor]) -> None:
    """Compare the tensors a safetensors file declares (its header only: no tensor is read) with those a model
    built from the config has: same names, same shapes. A dimension that is 0 in `expected` is sized by fitting
    (ItemKNN's sparse matrix) and may hold any length. RecAttnError names the tensor, expected and found shape."""
    try:
        with safe_open(str(file), "pt") as f:
            found = {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}
    except SafetensorError as e:
        raise _unreadable(file, e) from e
    for problem, names in ((_("{file} lacks tensor(s) {names}: it was not saved from a model with this config.json. "
                              "Train the model again."), expected.keys() - found.keys()),
                           (_("{file} has unexpected tensor(s) {names}: it was not saved from a model with this "
                              "config.json. Train the model again."), found.keys() - expected)):
        if names:
            raise RecAttnError(problem.format(file=file, names=", ".join(sorted(names)[:5])))
    for name, tensor in expected.items():
        want = tuple(tensor.shape)
        if len(found[name]) != len(want) or any(w and w != g for w, g in zip(want, found[name])):
            raise RecAttnError(_("{file}: tensor {name} has shape {found}, but config.json implies {want}. The "
                                 "weights and the config do not belong together: train again.").format(
                file=file, name=name, found=list(found[name]), want=list(want)))


def _check_values(file: Path, state: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]) -> None:
    """Same dtypes as the model's, and finite floats (a flipped byte can make a NaN that would rank nothing)."""
    import torch

    for name, tensor in state.items():
        if tensor.dtype != expected[name].dtype:
            raise RecAttnError(_("{file}: tensor {name} is {dtype}, the model needs {expected}. Train the model "
                                 "again.").format(file=file, name=name, dtype=tensor.dtype,
                                                  expected=expected[name].dtype))
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise RecAttnError(_("{file}: tensor {name} holds NaN or infinite values; the file is damaged, train the "
                                 "model again.").format(file=file, name=name))


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
        raise RecAttnError(_("cannot load the checkpoint in {path}: {error}").format(path=path, error=e)) from e
    model.to(device).eval()
    return Checkpoint(model, model_cfg, train_cfg, source, fingerprint, read_metrics(path))


def check_catalogue(checkpoint: Checkpoint, fingerprint: str, source: str = "") -> None:
    """Refuse to pair a model with a catalogue it was not trained on (indices would mean other items)."""
    if checkpoint.fingerprint != fingerprint:
        raise RecAttnError(_(
            "this checkpoint was trained on {trained_on} (fingerprint {fingerprint}), not on {data} "
            "({data_fingerprint}). Load the matching data or train a model on this one.").format(
            trained_on=checkpoint.source or _("another catalogue"), fingerprint=checkpoint.fingerprint,
            data=source or _("this catalogue"), data_fingerprint=fingerprint))


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
        label = _(registry.label(self.kind))
        if not self.imported:
            return label
        return _("{model} ({program})").format(model=label, program=IMPORTERS.get(self.imported, self.imported))

    @property
    def origin(self) -> str:
        """ "shipped", or when it was trained: "27 Nov 14:02" (local time)."""
        if self.shipped:
            return _("shipped")
        # TRANSLATORS: a strftime format: day, month's short name, time ("27 Nov 14:02")
        return datetime.fromtimestamp(self.modified).strftime(_("%d %b %H:%M"))

    @property
    def label(self) -> str:
        """ "SASRec · shipped", "SASRec · 27 Nov 14:02". """
        return _("{model} · {origin}").format(model=self.name, origin=self.origin)

    @property
    def test(self) -> dict:
        """The test metrics saved at training time ({} when not evaluated)."""
        return self.metrics.get("test", {}) if isinstance(self.metrics.get("test"), dict) else {}

    @property
    def score(self) -> str:
        """ "test NDCG@10 0.303", or "not evaluated". """
        ndcg = self.test.get("ndcg@10")
        return _("test NDCG@10 {score:.3f}").format(score=ndcg) if isinstance(ndcg, (int, float)) else _(
            "not evaluated")

    @property
    def shape(self) -> str:
        """One line on how the model reads a history."""
        kind = registry.get(self.kind) if self.kind in registry.names() else None
        if kind is not None and kind.counted:
            description = _(kind.description)
            return description[0].lower() + description[1:].rstrip(".。")
        reads = _("reads the last {n} items").format(n=self.model.get("max_len"))
        if kind is not None and kind.layered:
            return _("{layers} layers × {heads} heads · {reads}").format(
                layers=self.model.get("layers"), heads=self.model.get("heads"), reads=reads)
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
