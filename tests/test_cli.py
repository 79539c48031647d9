"""python -m recattn: train, evaluate and recommend with --json."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from recattn.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = str(ROOT / "assets" / "models" / "films-sasrec")


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_train_then_evaluate_then_recommend(tmp_path, capsys):
    out = tmp_path / "m"
    trained = _json(capsys, ["train", "--data", "builtin:films", "--model", "sasrec", "--out", str(out),
                             "--epochs", "1", "--max-len", "10", "--hidden", "16", "--layers", "1", "--batch-size", "256",
                             "--seed", "3", "--device", "cpu", "--schedule", "cosine", "--warmup-steps", "3",
                             "--precision", "fp32", "--json"])
    assert (out / "model.safetensors").is_file()
    saved = json.loads((out / "config.json").read_text())["train"]
    assert (saved["schedule"], saved["warmup_steps"], saved["precision"]) == ("cosine", 3, "fp32")
    ev = _json(capsys, ["evaluate", "--checkpoint", str(out), "--data", "builtin:films", "--json"])
    assert set(ev) >= {"ndcg@10", "hr@10", "users"} and ev["users"] == 3000
    assert ev["ndcg@10"] == pytest.approx(trained["test"]["ndcg@10"], abs=1e-6)


def test_recommend_json_shape(capsys):
    rec = _json(capsys, ["recommend", "--checkpoint", SHIPPED, "--history", "2,10,11", "--k", "10", "--json"])
    assert len(rec["items"]) == 10
    assert set(rec["items"][0]) == {"id", "title", "score"}
    scores = [i["score"] for i in rec["items"]]
    assert scores == sorted(scores, reverse=True)
    assert not {"2", "10", "11"} & {i["id"] for i in rec["items"]}
    assert rec["attention_shape"] == [2, 2, 3, 3]


def test_unknown_id_is_an_error_that_names_it(capsys):
    assert main(["recommend", "--checkpoint", SHIPPED, "--history", "2,nope-42", "--json"]) == 2
    err = capsys.readouterr().err
    assert "nope-42" in err and "Traceback" not in err


def test_module_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "recattn", "recommend", "--checkpoint", SHIPPED,
                           "--history", "5", "--k", "3", "--json"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["items"]) == 3


def test_compare_json_has_a_row_per_model_and_protocol(capsys):
    got = _json(capsys, ["compare", "--data", "builtin:films", "--models", "pop,itemknn",
                         "--protocols", "full,uniform100", "--device", "cpu", "--json"])
    assert set(got["models"]) == {"pop", "itemknn"}
    for row in got["models"].values():
        assert set(row) >= {"ndcg@10", "hr@10", "train_seconds"}
        assert set(row["protocols"]) == {"full", "uniform100"}
        assert row["ndcg@10"] == row["protocols"]["full"]["ndcg@10"]  # the first protocol is the headline
    # the shipped checkpoints were counted on the same split: compare must reproduce their figures
    for kind in ("pop", "itemknn"):
        stored = json.loads((ROOT / "assets" / "models" / f"films-{kind}" / "metrics.json").read_text())["test"]
        assert got["models"][kind]["ndcg@10"] == pytest.approx(stored["ndcg@10"], abs=1e-9)
