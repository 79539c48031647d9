"""Latency of recommend + attention trace: a 50-item history over a 10,000-item catalogue.

    python benchmarks/speed.py [--items 10000] [--history 50] [--repeats 200]

Prints the median and 95th percentile in milliseconds and the ratio to the 5 ms target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recattn import defaults  # noqa: E402
from recattn.models import build_model  # noqa: E402
from recattn.recommend import Recommender  # noqa: E402

TARGET_MS = 5.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--items", type=int, default=10_000)
    p.add_argument("--history", type=int, default=50)
    p.add_argument("--repeats", type=int, default=200)
    p.add_argument("--model", default="sasrec")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    items = pd.DataFrame({"item_id": [str(i) for i in range(1, args.items + 1)],
                          "title": [f"Item {i}" for i in range(1, args.items + 1)], "genres": "", "year": None})
    model = build_model(defaults.model_config(args.model, n_items=args.items), seed=0)
    rec = Recommender(model, items)
    history = [str(i) for i in range(1, args.history + 1)]
    for _ in range(10):
        rec.recommend(history, k=10)
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        out = rec.recommend(history, k=10)
        times.append(1000 * (time.perf_counter() - t))
    med = statistics.median(times)
    p95 = sorted(times)[int(0.95 * len(times)) - 1]
    shape = out.trace.shape if out.trace is not None else None
    print(f"{args.model}: recommend + trace, history {args.history}, catalogue {args.items}: "
          f"median {med:.2f} ms, p95 {p95:.2f} ms, trace {shape}, threads {torch.get_num_threads()}; "
          f"median / target {TARGET_MS} ms = {med / TARGET_MS:.2f}")


if __name__ == "__main__":
    main()
