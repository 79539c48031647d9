"""Checkpoints round-trip, refuse the wrong catalogue, and the shipped one matches its data and metrics."""

import json
from pathlib import Path

import pytest
import torch

from recattn import checkpoint
from recattn.config import ModelConfig, TrainConfig
from recattn.data import load
from recattn.errors import RecAttnError
from recattn.models import build_model
from recattn.training.workflow import evaluate_checkpoint

SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "models" / "films-sasrec"


def test_round_trip_gives_identical_scores(tmp_path):
    cfg = ModelConfig(kind="sasrec", n_items=40, max_len=10, hidden=16, layers=2, heads=2)
    model = build_model(cfg, seed=1).eval()
    path = checkpoint.save(tmp_path / "ck", model, TrainConfig(epochs=3), "test:src", "abc123", {"x": 1})
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "metrics.json", "model.safetensors"]
    ck = checkpoint.load(path)
    seqs = torch.tensor([[0, 3, 4, 5, 6, 7, 8, 9, 10, 11]])
    assert torch.equal(model.score(seqs).scores, ck.model.score(seqs).scores)
    assert ck.model_config == cfg and ck.train_config.epochs == 3
    assert ck.fingerprint == "abc123" and ck.metrics == {"x": 1}


def test_saving_over_a_checkpoint_replaces_it_whole(tmp_path):
    cfg = ModelConfig(kind="sasrec", n_items=40, max_len=10, hidden=16, layers=1, heads=2)
    path = tmp_path / "ck"
    checkpoint.save(path, build_model(cfg, seed=1), TrainConfig(), "a", "f1", {"v": 1})
    checkpoint.save(path, build_model(cfg, seed=2), TrainConfig(), "a", "f1", {"v": 2})
    assert json.loads((path / "metrics.json").read_text()) == {"v": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]  # no temporary folders left behind


def test_a_failed_save_leaves_the_old_checkpoint(tmp_path, monkeypatch):
    cfg = ModelConfig(kind="sasrec", n_items=40, max_len=10, hidden=16, layers=1, heads=2)
    path = tmp_path / "ck"
    checkpoint.save(path, build_model(cfg, seed=1), TrainConfig(), "a", "f1", {"v": 1})

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint, "save_file", boom)
    with pytest.raises(OSError):
        checkpoint.save(path, build_model(cfg, seed=2), TrainConfig(), "a", "f1", {"v": 2})
    assert json.loads((path / "metrics.json").read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["ck"]


def test_not_a_checkpoint_and_wrong_catalogue_are_clear_errors(tmp_path):
    with pytest.raises(RecAttnError, match="not a recattn checkpoint"):
        checkpoint.load(tmp_path)
    ck = checkpoint.load(SHIPPED)
    with pytest.raises(RecAttnError, match="trained on builtin:films"):
        checkpoint.check_catalogue(ck, "0000", "other")


def test_shipped_model_matches_the_generator_and_its_metrics():
    ck = checkpoint.load(SHIPPED)
    films = load("builtin:films")
    assert ck.source == "builtin:films"
    assert ck.fingerprint == films.fingerprint
    again = evaluate_checkpoint(ck, films)
    assert again["ndcg@10"] == pytest.approx(ck.metrics["test"]["ndcg@10"], abs=1e-6)
    assert again["hr@10"] == pytest.approx(ck.metrics["test"]["hr@10"], abs=1e-6)


@pytest.mark.parametrize("kind", ["sasrec", "bert4rec", "additive", "narm", "gru", "pop", "itemknn"])
def test_the_expected_state_is_the_models_own_without_allocating_it(kind):
    from recattn.models import expected_state

    cfg = ModelConfig(kind=kind, n_items=40, max_len=10, hidden=16, layers=2, heads=2, repeat_bias=True)
    expected = expected_state(cfg)
    real = build_model(cfg, seed=0).state_dict()
    assert {k: (v.shape, v.dtype) for k, v in expected.items()} == {k: (v.shape, v.dtype) for k, v in real.items()}
    assert all(v.is_meta for v in expected.values())


def test_loading_a_checkpoint_does_not_import_the_compiler():
    """The meta build that checks a file's shapes skips random initialisation, which would import torch._dynamo
    (seconds of CPU, on the app's first model page)."""
    import subprocess
    import sys

    code = ("import sys; from recattn import checkpoint; checkpoint.load(sys.argv[1]); "
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(SHIPPED)], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"
