"""A speed change measured past the host's drift: recommend + trace at a base commit and at the working tree, in one
process, one call of each in turn.

    python benchmarks/ab.py [--base HEAD] [--model sasrec] [--items 10000] [--history 50] [--repeats 600]

On a shared machine the same code measures 1.2-1.8x apart from one minute or one process to the next
(benchmarks/README.md), more than most changes move it. Here both versions run side by side on the same weights:
the base commit's `recattn/` is read from git into a temporary folder as the package `recattn_base`, both
recommenders are built on one catalogue, and their calls alternate, so whatever the host does falls on both. It
prints both medians, their ratio, and whether the two gave the same items, scores and attention.
"""

from __future__ import annotations

import argparse
import importlib
import io
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.speed import recommender  # noqa: E402
from recattn.recommend import Recommendation  # noqa: E402

BASE_PACKAGE = "recattn_base"
_IMPORT = re.compile(r"\b(from|import)(\s+)recattn\b")


@dataclass(frozen=True)
class Comparison:
    """Milliseconds per recommend call of each version, and how far apart their answers were."""

    base_ms: float
    new_ms: float
    repeats: int
    same_items: bool
    max_score_diff: float
    max_weight_diff: float | None  # None: the model has no attention

    @property
    def ratio(self) -> float:
        return self.new_ms / self.base_ms


def import_base(rev: str, into: Path):
    """`recattn/` as it is at git revision `rev`, importable as `recattn_base` from `into` (which it joins
    sys.path, until `forget_base`); every import of recattn inside it is renamed, so the two versions never share
    a module. Returns its recommend, models and defaults modules."""
    forget_base()
    tar = subprocess.run(["git", "archive", rev, "recattn"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")
    (into / "recattn").rename(into / BASE_PACKAGE)
    for path in (into / BASE_PACKAGE).rglob("*.py"):
        path.write_text(_IMPORT.sub(rf"\1\2{BASE_PACKAGE}", path.read_text(encoding="utf-8")), encoding="utf-8")
    sys.path.insert(0, str(into))
    return (importlib.import_module(f"{BASE_PACKAGE}.recommend"), importlib.import_module(f"{BASE_PACKAGE}.models"),
            importlib.import_module(f"{BASE_PACKAGE}.defaults"))


def forget_base() -> None:
    """Drop an imported base from sys.modules and sys.path, so that the next import reads its revision afresh."""
    for name in [m for m in sys.modules if m == BASE_PACKAGE or m.startswith(BASE_PACKAGE + ".")]:
        del sys.modules[name]
    sys.path[:] = [p for p in sys.path if not (Path(p) / BASE_PACKAGE).is_dir()]


def _differences(a: Recommendation, b: Recommendation) -> tuple[bool, float, float | None]:
    same = [i.id for i in a.items] == [i.id for i in b.items]
    scores = max((abs(x.score - y.score) for x, y in zip(a.items, b.items)), default=0.0)
    if a.trace is None or b.trace is None:
        return same, scores, None
    if a.trace.weights.shape != b.trace.weights.shape:
        return same, scores, float("inf")
    return same, scores, float(np.abs(a.trace.weights - b.trace.weights).max())


def compare(rev: str, kind: str, n_items: int, history: int, repeats: int, warmup: int = 30) -> Comparison:
    """Time `repeats` calls of each version's recommend(k=10) for a history of items 1..`history`, alternating."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            return _compare(import_base(rev, Path(tmp)), kind, n_items, history, repeats, warmup)
        finally:
            forget_base()


def _compare(base_modules, kind: str, n_items: int, history: int, repeats: int, warmup: int) -> Comparison:
    base_recommend, base_models, base_defaults = base_modules
    new = recommender(kind, n_items)
    base_model = base_models.build_model(base_defaults.model_config(kind, n_items=n_items), seed=0)
    base_model.load_state_dict(new.model.state_dict())  # the same weights: a key mismatch stops here
    base = base_recommend.Recommender(base_model, new.items)
    ids = [str(i) for i in range(1, history + 1)]
    same, scores, weights = _differences(base.recommend(ids, k=10), new.recommend(ids, k=10))
    for _ in range(warmup):
        base.recommend(ids, k=10)
        new.recommend(ids, k=10)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for rec, out in ((base, times[0]), (new, times[1])):
            t = time.perf_counter()
            rec.recommend(ids, k=10)
            out.append(1000 * (time.perf_counter() - t))
    return Comparison(statistics.median(times[0]), statistics.median(times[1]), repeats, same, scores, weights)


def main(argv: list[str] | None = None) -> Comparison:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", default="HEAD", help="the git revision to compare the working tree with")
    p.add_argument("--model", default="sasrec")
    p.add_argument("--items", type=int, default=10_000)
    p.add_argument("--history", type=int, default=50)
    p.add_argument("--repeats", type=int, default=600)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    got = compare(args.base, args.model, args.items, args.history, args.repeats)
    answers = ("the same items" if got.same_items else "DIFFERENT items") + f", scores within {got.max_score_diff:.2g}"
    if got.max_weight_diff is not None:
        answers += f", attention within {got.max_weight_diff:.2g}"
    print(f"{args.model}, {args.items} items, {args.history}-item history, {got.repeats} calls each, "
          f"{torch.get_num_threads()} threads: {args.base} {got.base_ms:.3f} ms, working tree {got.new_ms:.3f} ms "
          f"(median), ratio {got.ratio:.3f}; {answers}")
    return got


if __name__ == "__main__":
    main()
