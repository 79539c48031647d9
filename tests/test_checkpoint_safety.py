"""Checkpoints that cannot hurt: every broken checkpoint gives a RecAttnError that names what is wrong (the
field, the tensor, the file), a pickle in place of the weights is refused without ever being unpickled, the
listing survives a missing or damaged metrics.json, and a training run killed while it saves leaves the previous
model intact."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from recattn import checkpoint
from recattn.config import ModelConfig, TrainConfig
from recattn.errors import RecAttnError
from recattn.models import build_model

ROOT = Path(__file__).resolve().parents[1]
CFG = ModelConfig(kind="sasrec", n_items=30, max_len=6, hidden=8, layers=1, heads=2)
SEQ = torch.tensor([[0, 0, 3, 4, 5, 6]])


@pytest.fixture
def good(tmp_path):
    """A small valid checkpoint folder."""
    return checkpoint.save(tmp_path / "ck", build_model(CFG, seed=1), TrainConfig(), "test:src", "fp1", {"v": 1})


def _edit_config(path: Path, change) -> None:
    config = json.loads((path / "config.json").read_text())
    change(config)
    (path / "config.json").write_text(json.dumps(config))


def _set(section, key, value):
    def change(config):
        (config[section] if section else config)[key] = value
    return change


# (what is broken, how to break it, words the message must contain)
CONFIG_CASES = [
    ("hidden as text", _set("model", "hidden", "8"), r"model\.hidden must be a whole number, found \"8\""),
    ("hidden as true", _set("model", "hidden", True), r"model\.hidden must be a whole number, found true"),
    ("zero layers", _set("model", "layers", 0), r"model\.layers must be at least 1, found 0"),
    ("negative n_items", _set("model", "n_items", -5), r"model\.n_items must be at least 1"),
    ("dropout 1.5", _set("model", "dropout", 1.5), r"model\.dropout must be in \[0, 1\)"),
    ("unknown kind", _set("model", "kind", "resnet"), r"unknown model kind 'resnet'"),
    ("unknown position", _set("model", "position", "rotary"), r"position must be 'learned' or 'sinusoidal'"),
    ("heads not dividing hidden", _set("model", "heads", 3), r"hidden \(8\) must be divisible by heads \(3\)"),
    ("model not an object", _set(None, "model", [1, 2]), r"model must be an object of settings, found a list"),
    ("model missing", lambda c: c.pop("model"), r"model is missing"),
    ("lr NaN", _set("train", "lr", float("nan")), r"train\.lr must be a finite number, found NaN"),
    ("lr negative", _set("train", "lr", -0.1), r"train\.lr must be above 0"),
    ("epochs as float", _set("train", "epochs", 2.5), r"train\.epochs must be a whole number, found 2\.5"),
    ("max_minutes as text", _set("train", "max_minutes", "ten"), r"train\.max_minutes must be a number"),
    ("unknown objective", _set("train", "objective", "mse"), r"unknown objective 'mse'"),
    ("fingerprint a number", _set(None, "catalogue_fingerprint", 123), r"catalogue_fingerprint must be non-empty"),
    ("source missing", lambda c: c.pop("source"), r"source must be non-empty text, found null"),
    ("version empty", _set(None, "recattn_version", ""), r"recattn_version must be non-empty text"),
]


@pytest.mark.parametrize("what, change, message", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_a_config_with_a_bad_field_names_the_field(good, what, change, message):
    _edit_config(good, change)
    with pytest.raises(RecAttnError, match=message) as error:
        checkpoint.load(good)
    assert "config.json" in str(error.value) and "train it again" in str(error.value)


def test_unknown_and_missing_optional_fields_still_load(good):
    """Other versions add or drop settings: unknown keys are ignored, a missing train section takes defaults."""
    _edit_config(good, lambda c: (c["model"].update(future_knob=3), c.pop("train")))
    assert checkpoint.load(good).model_config == CFG


@pytest.mark.parametrize("text, message", [
    ("{not json", "is not valid JSON"),
    ("[1, 2, 3]", "must hold a JSON object, not a list"),
    (b"\xff\xfe\x00garbage", "is not valid JSON"),
])
def test_a_config_that_is_not_a_json_object(good, text, message):
    file = good / "config.json"
    file.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(RecAttnError, match=message):
        checkpoint.load(good)
    assert checkpoint.find("fp1", trained=[good.parent]) == []  # the listing skips it, and does not raise


def _weights(good: Path, **tensors) -> None:
    """Rewrite model.safetensors with some tensors changed (None: dropped)."""
    state = {k: v for k, v in build_model(CFG, seed=1).state_dict().items()}
    for name, value in tensors.items():
        if value is None:
            state.pop(name.replace("__", "."))
        else:
            state[name.replace("__", ".")] = value
    save_file({k: v.contiguous() for k, v in state.items()}, str(good / "model.safetensors"))


@pytest.mark.parametrize("tensors, message", [
    ({"item_emb__weight": torch.zeros(99, 8)}, r"tensor item_emb\.weight has shape \[99, 8\], but config\.json "
                                                r"implies \[32, 8\]"),
    ({"pos_emb": torch.zeros(6, 8, 1)}, r"tensor pos_emb has shape \[6, 8, 1\], but config\.json implies \[6, 8\]"),
    ({"ln_f__bias": None}, r"lacks tensor\(s\) ln_f\.bias"),
    ({"extra": torch.zeros(2)}, r"has unexpected tensor\(s\) extra"),
    ({"ln_f__bias": torch.zeros(8, dtype=torch.float64)}, r"tensor ln_f\.bias is torch\.float64, the model needs "
                                                          r"torch\.float32"),
    ({"ln_f__bias": torch.full((8,), float("nan"))}, r"tensor ln_f\.bias holds NaN or infinite values"),
])
def test_weights_that_do_not_fit_the_config_name_the_tensor(good, tensors, message):
    _weights(good, **tensors)
    with pytest.raises(RecAttnError, match=message):
        checkpoint.load(good)


def test_a_config_that_does_not_fit_the_weights(good):
    """A config edited to a bigger model than the weights: refused from the header, before anything is built."""
    _edit_config(good, _set("model", "n_items", 10**9))
    with pytest.raises(RecAttnError, match=r"item_emb\.weight has shape \[32, 8\], but config\.json implies "
                                           r"\[1000000002, 8\]"):
        checkpoint.load(good)


@pytest.mark.parametrize("cut", ["empty", "header", "half", "last byte"])
def test_a_truncated_weights_file(good, cut):
    file = good / "model.safetensors"
    data = file.read_bytes()
    keep = {"empty": 0, "header": 6, "half": len(data) // 2, "last byte": len(data) - 1}[cut]
    file.write_bytes(data[:keep])
    with pytest.raises(RecAttnError, match=r"model\.safetensors is truncated or damaged \(.+\); train the model "
                                           r"again"):
        checkpoint.load(good)


def test_a_corrupted_header(good):
    file = good / "model.safetensors"
    data = bytearray(file.read_bytes())
    data[10:30] = b"\x00" * 20  # inside the JSON header
    file.write_bytes(bytes(data))
    with pytest.raises(RecAttnError, match="is truncated or damaged"):
        checkpoint.load(good)


class _Booby:
    """Unpickling this creates a file: proof that something unpickled it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("writer", ["pickle.dumps", "torch.save"])
def test_a_pickle_in_place_of_safetensors_is_refused_and_never_unpickled(good, tmp_path, writer):
    marker = tmp_path / "unpickled"
    booby = {"item_emb.weight": _Booby(marker)}
    file = good / "model.safetensors"
    if writer == "torch.save":
        torch.save(booby, file)
    else:
        file.write_bytes(pickle.dumps(booby))
    pickle.loads(file.read_bytes()) if writer == "pickle.dumps" else None  # the trap works ...
    assert marker.exists() == (writer == "pickle.dumps")
    marker.unlink(missing_ok=True)
    with pytest.raises(RecAttnError, match=r"is a pickle .* recattn never opens pickles"):
        checkpoint.load(good)
    found = checkpoint.find("fp1", trained=[good.parent])  # the listing reads only the JSON files
    assert [c.path for c in found] == [str(good)]
    assert not marker.exists()  # ... and nothing in recattn sprang it


def test_no_code_path_can_unpickle():
    """Never torch.load or pickle.load in the project's code (grep): safetensors and json only. The one reader of
    other programs' pickles is recattn/importers/torch_file.py, whose allow-list tests/test_import_recbole.py tries
    with a pickle that would run a command."""
    offenders = []
    unpickler = ROOT / "recattn" / "importers" / "torch_file.py"
    for folder in ("recattn", "ui", "pages", "scripts"):
        for file in (ROOT / folder).rglob("*.py"):
            if file == unpickler:
                continue
            text = file.read_text()
            for banned in ("torch.load(", "pickle.load", "import pickle", "joblib", "weights_only"):
                if banned in text:
                    offenders.append(f"{file.relative_to(ROOT)}: {banned}")
    assert "torch.load(" not in (ROOT / "app.py").read_text()
    assert offenders == []


@pytest.mark.parametrize("metrics", [None, "{broken", "[1, 2]", b"\xff\xfe"])
def test_missing_or_damaged_metrics_still_list_and_load(good, metrics):
    file = good / "metrics.json"
    if metrics is None:
        file.unlink()
    else:
        file.write_bytes(metrics if isinstance(metrics, bytes) else metrics.encode())
    [found] = checkpoint.find("fp1", trained=[good.parent])
    assert found.metrics == {} and found.score == "not evaluated"
    assert checkpoint.load(good).metrics == {}


def test_a_save_killed_between_its_renames_is_recovered(good):
    """The one instant a save has no folder at `path`: the previous checkpoint waits in `.ck.old`."""
    scores = checkpoint.load(good).model.score(SEQ).scores
    os.replace(good, good.with_name(".ck.old"))  # what a kill between the two renames leaves
    assert [c.path for c in checkpoint.find("fp1", trained=[good.parent])] == [str(good)]
    assert torch.equal(checkpoint.load(good).model.score(SEQ).scores, scores)


# A real `python -m recattn train` whose save is made slow at one point, so a kill -9 lands there for sure.
_SLOW_SAVE = """
import os, sys, time, runpy
import recattn.checkpoint as c
stage = os.environ["STAGE"]
if stage == "weights":  # after the new weights are written into the staging folder
    write = c.save_file
    c.save_file = lambda *a, **k: (write(*a, **k), print("SAVING", flush=True), time.sleep(60))
else:  # after the old folder is parked, before the new one takes its place
    replace = os.replace
    def slow(src, dst):
        replace(src, dst)
        if str(dst).endswith(".old"):
            print("SAVING", flush=True)
            time.sleep(60)
    c.os.replace = slow
sys.argv = ["recattn"] + sys.argv[1:]
runpy.run_module("recattn", run_name="__main__")
"""


def _previous(out: Path) -> torch.Tensor:
    """A good checkpoint in `out`; its scores."""
    checkpoint.save(out, build_model(ModelConfig(kind="pop", n_items=1000), seed=0), TrainConfig(), "builtin:films",
                    "previous", {"v": "previous"})
    return checkpoint.load(out).model.score(SEQ).scores


def test_a_training_run_killed_while_saving_leaves_the_previous_model(tmp_path):
    """Two runs at once (to keep the test short), each killed at one stage of its save."""
    runs = {}
    for stage in ("weights", "renames"):
        out = tmp_path / stage / "model"
        scores = _previous(out)
        proc = subprocess.Popen(
            [sys.executable, "-c", _SLOW_SAVE, "train", "--model", "pop", "--out", str(out), "--device", "cpu",
             "--json"], cwd=ROOT, env={**os.environ, "STAGE": stage}, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True)
        runs[stage] = (out, scores, proc)
    try:
        for stage, (out, scores, proc) in runs.items():
            deadline, line = time.monotonic() + 60, ""
            while "SAVING" not in line and time.monotonic() < deadline and proc.poll() is None:
                line = proc.stdout.readline()
            assert "SAVING" in line, f"the training run ({stage}) never reached its save"
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(10) == -signal.SIGKILL
    finally:
        for _, _, proc in runs.values():
            proc.kill()
            proc.stdout.close()
    for stage, (out, scores, _) in runs.items():
        ck = checkpoint.load(out)
        assert ck.fingerprint == "previous" and ck.metrics == {"v": "previous"}, stage
        assert torch.equal(ck.model.score(SEQ).scores, scores), stage
        # what the killed save left (a hidden staging folder) is never listed; the next save works as usual
        assert [Path(c.path).name for c in checkpoint.find("previous", trained=[out.parent])] == ["model"]
        checkpoint.save(out, ck.model, TrainConfig(), "builtin:films", "previous", {"v": "again"})
        assert checkpoint.load(out).metrics == {"v": "again"}
