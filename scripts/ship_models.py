"""Retrain the shipped checkpoints of a built-in world: every kind with its registry defaults and seed 0, to early stop
on validation under a generous time cap, into assets/models/<world>-<kind>. Each metrics.json records how it was made
(command, commit, threads, cap), so docs/shipped-models.md is generated from the files, not typed.

    OMP_NUM_THREADS=1 python scripts/ship_models.py --world films --threads 1 --max-minutes 30
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recattn import defaults, paths  # noqa: E402
from recattn.data import load  # noqa: E402
from recattn.models import registry  # noqa: E402
from recattn.results import provenance  # noqa: E402
from recattn.training.workflow import train_and_save  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--world", required=True, choices=["films", "news"])
    p.add_argument("--kinds", default=",".join(registry.names()), help="comma-separated kinds (default: all)")
    p.add_argument("--max-minutes", type=float, default=30.0, help="the cap per model; early stop usually comes first")
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    dataset = load(f"builtin:{args.world}")
    made = {"command": "python scripts/ship_models.py " + " ".join(sys.argv[1:] if argv is None else argv),
            **provenance.commit(), "date": datetime.date.today().isoformat(), "threads": args.threads,
            "max_minutes": args.max_minutes, "seed": 0}
    started = time.perf_counter()
    for kind in [k.strip() for k in args.kinds.split(",") if k.strip()]:
        out = paths.SHIPPED_MODELS / f"{args.world}-{kind}"
        train_cfg = defaults.train_config(kind, n_items=len(dataset.items), seed=0, device="cpu",
                                          max_minutes=args.max_minutes)
        _, metrics = train_and_save(dataset, defaults.model_config(kind), train_cfg, out)
        (out / "metrics.json").write_text(json.dumps({**metrics, "made": made}, indent=2, sort_keys=True) + "\n")
        print(f"[{time.perf_counter() - started:6.0f} s] {out.name}: test ndcg@10 {metrics['test']['ndcg@10']:.4f}, "
              f"best epoch {metrics['best_epoch']} of {metrics['epochs_run']}, stopped {metrics['stopped']}, "
              f"{metrics['train_seconds']:.0f} s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
