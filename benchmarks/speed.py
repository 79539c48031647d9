"""Latency of recommend + attention trace: a 50-item history over a 10,000-item catalogue.

    python benchmarks/speed.py [--items 10000] [--history 50] [--repeats 200] [--model sasrec] [--threads N]

Prints the median and 95th percentile in milliseconds and the ratio to the 5 ms target. benchmarks/run_all.py
measures the whole grid (every model kind, catalogues of 1k to 60k, histories of 10 to 200) with `latency`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recattn import defaults  # noqa: E402
from recattn.models import build_model  # noqa: E402
from recattn.recommend import Recommender  # noqa: E402

TARGET_MS = 5.0


@dataclass(frozen=True)
class Latency:
    """Milliseconds of one `Recommender.recommend` call (top 10 and the full attention trace)."""

    kind: str
    items: int
    history: int
    median_ms: float
    p95_ms: float
    repeats: int
    trace_shape: tuple[int, ...] | None  # (layers, heads, queries, keys); None for a model without attention


def catalogue(n_items: int) -> pd.DataFrame:
    """A catalogue of `n_items` numbered items ("1".."n")."""
    ids = [str(i) for i in range(1, n_items + 1)]
    return pd.DataFrame({"item_id": ids, "title": [f"Item {i}" for i in ids], "genres": "", "year": None})


def recommender(kind: str, n_items: int) -> Recommender:
    """An untrained model of `kind` with its default settings over `catalogue(n_items)` (timing does not depend on
    the weights)."""
    return Recommender(build_model(defaults.model_config(kind, n_items=n_items), seed=0), catalogue(n_items))


def latency(rec: Recommender, history: int, repeats: int = 200, warmup: int = 10,
            max_seconds: float | None = None) -> Latency:
    """Time `repeats` calls of recommend(k=10) with the trace for a history of items 1..`history`, after `warmup`
    calls; `max_seconds` stops earlier (for slow models): the warm-up after a quarter of it (at least one call),
    the timed calls after all of it (at least 5)."""
    ids = [str(i) for i in range(1, history + 1)]
    started = time.perf_counter()
    for _ in range(max(warmup, 1)):
        out = rec.recommend(ids, k=10)
        if max_seconds is not None and time.perf_counter() - started > max_seconds / 4:
            break
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < repeats and (max_seconds is None or len(times) < 5
                                    or time.perf_counter() - started < max_seconds):
        t = time.perf_counter()
        out = rec.recommend(ids, k=10)
        times.append(1000 * (time.perf_counter() - t))
    shape = tuple(out.trace.weights.shape) if out.trace is not None else None
    return Latency(rec.kind, len(rec.items), history, statistics.median(times), float(np.percentile(times, 95)),
                   len(times), shape)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--items", type=int, default=10_000)
    p.add_argument("--history", type=int, default=50)
    p.add_argument("--repeats", type=int, default=200)
    p.add_argument("--model", default="sasrec")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    got = latency(recommender(args.model, args.items), args.history, args.repeats)
    print(f"{args.model}: recommend + trace, history {args.history}, catalogue {args.items}: "
          f"median {got.median_ms:.2f} ms, p95 {got.p95_ms:.2f} ms, trace {got.trace_shape}, "
          f"threads {torch.get_num_threads()}; median / target {TARGET_MS} ms = {got.median_ms / TARGET_MS:.2f}")


if __name__ == "__main__":
    main()
