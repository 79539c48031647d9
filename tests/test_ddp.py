"""torchrun with two CPU processes (gloo) trains the same model as one process with twice the batch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist

from recattn import checkpoint
from recattn.training import distributed
from recattn.cli import main

ROOT = Path(__file__).resolve().parents[1]
USERS, LENGTH, ITEMS = 64, 12, 40
# the flags both runs share: no dropout, plain float32 and the raw weights kept (no moving average), so that the
# only differences are the split of each batch over two processes and the order of the sums
COMMON = ["--model", "sasrec", "--epochs", "2", "--max-len", "16", "--hidden", "16", "--layers", "1", "--heads", "2",
          "--dropout", "0", "--ema-decay", "0", "--lr", "0.003", "--precision", "fp32", "--device", "cpu",
          "--seed", "4", "--json"]
# Each Adam step moves a weight by about the learning rate (3e-3). Summing the same gradients in another order
# differs by ~1e-7 relative; a missing gradient average, a wrong shard or a rank one step behind moves some
# weight by a whole step. 1e-4 lies between the two.
TOLERANCE = 1e-4

gloo = pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()), reason="no gloo backend")


def _world(folder: Path) -> Path:
    """64 users of 12 interactions each, item k mostly followed by k + 1: every user's training sequence is one
    window with the same number of targets, so two ranks' mean losses average to the one process's mean."""
    rng = np.random.default_rng(0)
    rows = ["user,item,timestamp"]
    for u in range(USERS):
        item = int(rng.integers(ITEMS))
        for t in range(LENGTH):
            rows.append(f"u{u},i{item},{1000 + t}")
            item = (item + 1) % ITEMS if rng.random() < 0.8 else int(rng.integers(ITEMS))
    folder.mkdir()
    (folder / "interactions.csv").write_text("\n".join(rows) + "\n")
    return folder


@gloo
def test_two_processes_match_one_process_with_twice_the_batch(tmp_path, capsys):
    data = _world(tmp_path / "data")
    alone, shared = tmp_path / "alone", tmp_path / "shared"
    assert main(["train", "--data", str(data), "--out", str(alone), "--batch-size", "16", *COMMON]) == 0
    one = json.loads(capsys.readouterr().out)

    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "recattn",
         "train", "--data", str(data), "--out", str(shared), "--batch-size", "8", *COMMON],
        cwd=ROOT, env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(printed) == 1  # rank 0 alone reports
    two = json.loads(printed[0])

    assert two["best_epoch"] == one["best_epoch"] and two["epochs_run"] == one["epochs_run"] == 2
    assert two["valid"]["ndcg@10"] == pytest.approx(one["valid"]["ndcg@10"], abs=1e-6)
    a, b = checkpoint.load(alone).model.state_dict(), checkpoint.load(shared).model.state_dict()
    assert a.keys() == b.keys()
    for name in a:
        x, y = a[name], b[name]
        if name.endswith("attn.qkv.bias"):  # the key bias shifts a softmax row by a constant: its gradient is 0 up to
            keep = torch.ones_like(x, dtype=torch.bool)  # rounding, which Adam scales to whole steps; leave it out
            keep[16:32] = False
            x, y = x[keep], y[keep]
        assert torch.allclose(x, y, atol=TOLERANCE, rtol=0), (name, (x - y).abs().max())
    initial = _initial_weights()  # training moved the weights far beyond the tolerance: the comparison can fail
    assert max((a[n] - initial[n]).abs().max().item() for n in initial) > 100 * TOLERANCE


def _initial_weights() -> dict[str, torch.Tensor]:
    from recattn import defaults
    from recattn.config import replace
    from recattn.models import build_model

    cfg = defaults.model_config("sasrec", max_len=16, hidden=16, layers=1, heads=2, dropout=0.0)
    return build_model(replace(cfg, n_items=ITEMS), seed=4).state_dict()


def test_shards_are_equal_and_interleave_one_big_batch(monkeypatch):
    order = np.arange(11)
    monkeypatch.setattr(distributed, "world_size", lambda: 2)
    shards = []
    for r in (0, 1):
        monkeypatch.setattr(distributed, "rank", lambda r=r: r)
        shards.append(distributed.shard(order))
    assert [s.tolist() for s in shards] == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]  # the odd one left out
    # step k of batch 2 on both ranks covers exactly step k of batch 4 on one process
    assert sorted(shards[0][2:4].tolist() + shards[1][2:4].tolist()) == order[4:8].tolist()


def test_without_torchrun_nothing_is_distributed():
    assert distributed.from_env({}) is None
    assert distributed.from_env({"WORLD_SIZE": "1", "RANK": "0"}) is None
    assert distributed.from_env({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"}) == distributed.Launch(3, 4, 1)
    assert not distributed.active() and distributed.is_main() and distributed.world_size() == 1
