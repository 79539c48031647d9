"""How often each explanation method ranks the planted cause first: the built-in worlds record, for every
interaction, the one earlier item behind it (`cause_item`), so a method's top-weighted history item can be checked.

A case is a held-out TEST interaction (each user's last item, the split `recattn.data.prepare` gives training and
evaluation) whose cause is one earlier item inside the model's window; the explained item is that true next item
and the history is everything before it. A method scores 1 when the cause holds its largest weight among the
history items in the window (for signed methods, occlusion's score drop and the gradients, the largest positive
value); n positions tied for the largest share the credit (1/n each); a largest weight that is not positive scores 0.
Distance is how many items back the cause lies (1: the newest history item); "far" cases are at distance 2 or more.
Baselines: "random", the exact expectation 1/(history items in the window), and "most_recent", 1 at distance 1.
The best single attention head is chosen on VALIDATION interactions (each user's second-to-last item after its own
history) and scored on test as "attention_best_head".

Public API:
    Case(user, history (T,), item, distance); Case.cause -> int              position of the cause in `history`
    planted_cases(dataset, held_out="test") -> tuple[Case, ...]              "test" or "valid"; RecAttnError when
                                                                             the source records no causes
    window(model) -> int                                                     history items the model reads
    top1_hit(weights (T,), case, window) -> float                            1, 1/n on ties, or 0
    agreement(hits, distances) -> dict                                       {"top1", "cases", "top1_far",
                                                                             "cases_far", "by_distance"}
    best_head(model, cases) -> dict | None                                   {"head", "valid_top1", "valid_cases"}
    benchmark(model, test, valid=(), users=None, explainer=None, on_case=None) -> dict   one model's object
    shipped_checkpoints(world) -> list[Path]                                 assets/models/<world>-<kind>
    run(dataset, checkpoints, users=None, on_case=None) -> list[dict]        one object per checkpoint
    table(results) -> str                                                    what the CLI prints without --json
    write_results(path, results, command, data) -> dict                      with commit, date, threads
    load_results(world) -> dict | None                                       benchmarks/results/explain-<world>.json
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import torch
from torch import nn

from recattn import checkpoint, paths
from recattn.data import prepare
from recattn.data.dataset import Dataset
from recattn.data.info import cause_distances
from recattn.data.sequences import MIN_SPLIT_LENGTH
from recattn.errors import RecAttnError
from recattn.models import registry
from recattn.analysis.explain import attention_rows, explain_all
from recattn.results.provenance import commit, read_results

# the shipped models a world's benchmark explains by default, in this order (those present)
DISTANCE_BINS = (("1", 1, 1), ("2-5", 2, 5), ("6+", 6, np.inf))  # name, nearest, farthest
RANDOM, MOST_RECENT = "random", "most_recent"
BEST_HEAD = "attention_best_head"
# Target attention scores every candidate with its own row: ~1 s an explanation on the shipped films-additive,
# so its cases are a seeded sample of this many unless a cap is given.
TARGET_CASES = 300
SEED = 0  # of the sample of cases when they are capped


@dataclass(frozen=True)
class Case:
    """One interaction whose cause is one earlier item of the same user."""

    user: str
    history: np.ndarray  # (T,) item indices, oldest first: everything the user had before `item`
    item: int  # the explained item: the interaction itself
    distance: int  # how many items back the cause lies: 1 = history[-1]
    rule: str = ""  # the planted rule (`cause`): a continuation names its cause exactly, a genre rule less so

    @property
    def cause(self) -> int:
        """The cause's position in `history`."""
        return len(self.history) - self.distance


def planted_cases(dataset: Dataset, held_out: str = "test") -> tuple[Case, ...]:
    """The held-out interactions ("test": each user's last, "valid": the one before) whose `cause_item` is one
    earlier item, with the histories of the leave-one-out split. RecAttnError for a source without `cause_item`."""
    if held_out not in ("test", "valid"):
        raise ValueError(f"held_out is 'test' or 'valid', not {held_out!r}")
    inter = dataset.interactions
    if "cause_item" not in inter:
        raise RecAttnError(f"{dataset.name} records no planted causes (no cause_item column): the explanation "
                           "benchmark runs on the built-in worlds, builtin:films and builtin:news")
    _, split = prepare(dataset)
    histories = split.test_inputs if held_out == "test" else split.valid_inputs
    targets = split.test_targets if held_out == "test" else split.valid_targets
    distance = cause_distances(inter)
    users = inter["user_id"].to_numpy()
    rules = inter["cause"].astype(str).to_numpy() if "cause" in inter else np.full(len(inter), "")
    # one contiguous run per user, in the order the split lists them (users too short to split are skipped there)
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    ends = np.r_[starts[1:], len(users)]
    ends = ends[ends - starts >= MIN_SPLIT_LENGTH]
    rows = ends - (1 if held_out == "test" else 2)
    return tuple(Case(str(users[row]), np.asarray(histories[j]), int(targets[j]), int(distance[row]), str(rules[row]))
                 for j, row in enumerate(rows) if distance[row] > 0)


def window(model: nn.Module) -> int:
    """How many of the latest history items the model reads: max_len, less BERT4Rec's mask slot."""
    return model.config.max_len - (model.attention_kind == "bidirectional")


def top1_hit(weights: np.ndarray, case: Case, window: int) -> float:
    """Credit for weighting the cause highest among the last `window` history items: 1, 1/n when n positions share
    the largest weight, 0 when the cause does not hold it or when that weight is not positive (a signed method
    that finds nothing pushing the item up points at no cause)."""
    T = len(case.history)
    if len(weights) != T or not 1 <= case.distance <= min(window, T):
        raise ValueError(f"weights ({len(weights)}) align with the history ({T}) and the cause ({case.distance} "
                         f"back) lies within the window ({window})")
    w = np.asarray(weights, dtype=np.float64)[T - min(window, T):]  # (W,)
    best = w.max()
    if not best > 0:  # also NaN
        return 0.0
    hits = w == best
    return float(hits[len(w) - case.distance]) / int(hits.sum())


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def agreement(hits: Sequence[float], distances: Sequence[int], rules: Sequence[str] | None = None) -> dict:
    """The share of cases credited (`hits` per case), over all, the far ones (distance ≥ 2) and per distance bin;
    with `rules`, the same per planted rule (`by_cause`). None where there are no cases."""
    hits, d = np.asarray(hits, dtype=np.float64), np.asarray(distances)
    far = d >= 2
    out = {
        "top1": _mean(hits), "cases": len(hits), "top1_far": _mean(hits[far]), "cases_far": int(far.sum()),
        "by_distance": {name: _mean(hits[(d >= lo) & (d <= hi)]) for name, lo, hi in DISTANCE_BINS},
    }
    if rules is not None:
        r = np.asarray(rules)
        out["by_cause"] = {rule: {"top1": _mean(hits[r == rule]), "cases": int((r == rule).sum()),
                                  "top1_far": _mean(hits[(r == rule) & far]), "cases_far": int(((r == rule) & far).sum())}
                           for rule in sorted(set(r.tolist()))}
    return out


def _select(cases: Sequence[Case], size: int, limit: int | None) -> list[Case]:
    """The cases whose cause lies within `size` items, a seeded sample of `limit` of them (None: all), in order."""
    inside = [c for c in cases if c.distance <= size]
    if limit is None or limit >= len(inside):
        return inside
    keep = np.sort(np.random.default_rng(SEED).permutation(len(inside))[:limit])
    return [inside[i] for i in keep]


def best_head(model: nn.Module, cases: Sequence[Case]) -> dict | None:
    """The single attention head that ranks the cause first most often on `cases` (meant: validation cases in the
    model's window), first in layer then head order on ties; None for a model with fewer than two heads."""
    if model.attention_kind == "none" or not cases:
        return None
    size = window(model)
    layers, heads = attention_rows(model, cases[0].history, cases[0].item).shape[:2]
    if layers * heads < 2:  # asked first: a single head's rows would cost as much as the benchmark itself
        return None
    rows = [attention_rows(model, c.history, c.item) for c in cases]  # each (layers, heads, T)
    hits = np.array([[top1_hit(w, c, size) for w in r.reshape(layers * heads, -1)] for r, c in zip(rows, cases)])
    j = int(hits.mean(0).argmax())
    return {"head": f"attention_L{j // heads + 1}H{j % heads + 1}", "valid_top1": float(hits[:, j].mean()),
            "valid_cases": len(cases)}


def benchmark(model: nn.Module, test: Sequence[Case], valid: Sequence[Case] = (), users: int | None = None,
              explainer: Callable[[Case], dict[str, np.ndarray]] | None = None,
              on_case: Callable[[int, int], None] | None = None) -> dict:
    """One model's agreement with the planted causes: every method `explainer` gives (default: explain_all of
    recattn.analysis.explain, one weight vector (T,) per method aligned with the case's history) and the baselines, on the
    `test` cases inside the model's window, `users` of them at most (a seeded sample; default all, TARGET_CASES for
    target attention). The best head is chosen on as many `valid` cases. on_case(done, total) after each case."""
    size = window(model)
    limit = users if users is not None else TARGET_CASES if model.attention_kind == "target" else None
    cases = _select(test, size, limit)
    head = best_head(model, _select(valid, size, limit))
    explainer = explainer or (lambda c: explain_all(model, c.history, c.item))
    started = time.perf_counter()
    hits: dict[str, list[float]] = {}
    for n, case in enumerate(cases):
        for name, weights in explainer(case).items():
            hits.setdefault(name, []).append(top1_hit(weights, case, size))
        if on_case:
            on_case(n + 1, len(cases))
    seconds = time.perf_counter() - started
    if head is not None and head["head"] in hits:
        hits[BEST_HEAD] = hits[head["head"]]
    distances, rules = [c.distance for c in cases], [c.rule for c in cases]
    return {
        "model": model.config.kind,
        "window": size,
        "cases": len(cases),
        "cases_available": sum(c.distance <= size for c in test),
        "methods": {name: agreement(h, distances, rules) for name, h in hits.items()},
        "baselines": {
            RANDOM: agreement([1 / min(size, len(c.history)) for c in cases], distances, rules),
            MOST_RECENT: agreement([float(c.distance == 1) for c in cases], distances, rules),
        },
        "best_head": head,
        "seconds_per_case": seconds / len(cases) if cases else None,
    }


def shipped_checkpoints(world: str) -> list[Path]:
    """The shipped models of a built-in world ("films" or "builtin:films") that the benchmark explains by default:
    assets/models/<world>-<kind> for each kind that learns (not counted) and is there."""
    world = world.removeprefix("builtin:")
    return [p for p in (paths.SHIPPED_MODELS / f"{world}-{kind}" for kind in registry.names(lambda k: not k.counted))
            if (p / checkpoint.CONFIG).is_file()]


def _shown_path(path: str | Path) -> str:
    """A checkpoint's path relative to the repository when it lies inside (results files travel with it)."""
    path = Path(path).resolve()
    return str(path.relative_to(paths.ROOT)) if path.is_relative_to(paths.ROOT) else str(path)


def run(dataset: Dataset, checkpoints: Sequence[str | Path], users: int | None = None,
        on_case: Callable[[str, int, int], None] | None = None) -> list[dict]:
    """The benchmark of each checkpoint on `dataset`'s planted causes (see `benchmark`); on_case(model, done,
    total). RecAttnError for a checkpoint of another catalogue or a source without causes."""
    test, valid = planted_cases(dataset, "test"), planted_cases(dataset, "valid")
    results = []
    for path in checkpoints:
        ckpt = checkpoint.load(path)
        checkpoint.check_catalogue(ckpt, dataset.fingerprint, dataset.name)
        label = Path(path).name
        report = benchmark(ckpt.model, test, valid, users,
                           on_case=None if on_case is None else lambda d, t, label=label: on_case(label, d, t))
        results.append({"model": report.pop("model"), "checkpoint": _shown_path(path), **report})
    return results


def _cell(value: float | None) -> str:
    return "   -" if value is None else f"{value:4.2f}"


def table(results: Sequence[dict]) -> str:
    """The results as text: per model a line of what was measured, then a row per method and baseline."""
    lines = []
    for r in results:
        head = r["best_head"]
        chosen = f"; best head {head['head']} (validation top-1 {head['valid_top1']:.2f})" if head else ""
        title = (f"{r['model']} ({r['checkpoint']}): {r['cases']} of {r['cases_available']} cases in its window "
                 f"of {r['window']}{chosen}")
        lines += ["", title, f"  {'method':<28} {'top1':>5} {'far':>5} {'d=1':>5} {'2-5':>5} {'6+':>5}"]
        rows = [(name, a) for name, a in r["methods"].items()] + [
            (f"{name} (baseline)", a) for name, a in r["baselines"].items()]
        for name, a in rows:
            d = a["by_distance"]
            rules = "".join(f"  {rule} far {_cell(c['top1_far'])}" for rule, c in a.get("by_cause", {}).items()
                            if c["cases_far"])
            lines.append(f"  {name:<28} {_cell(a['top1']):>5} {_cell(a['top1_far']):>5} {_cell(d['1']):>5} "
                         f"{_cell(d['2-5']):>5} {_cell(d['6+']):>5}{rules}")
        if r["cases"]:
            a = r["baselines"][RANDOM]
            lines.append(f"  cases: {a['cases']}, far (distance ≥ 2): {a['cases_far']}")
    return "\n".join(lines[1:])


def write_results(path: str | Path, results: Sequence[dict], command: str, data: str) -> dict:
    """Write the results file that `load_results` reads: the per-model objects with the command, commit, date,
    torch threads and the cases per model. Returns what was written."""
    report = {"command": command, **commit(), "date": date.today().isoformat(), "threads": torch.get_num_threads(),
              "data": data, "cases": {r["checkpoint"]: r["cases"] for r in results}, "models": list(results)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    return report


def load_results(world: str) -> dict | None:
    """The committed benchmark of a built-in world ("films", "news", or "builtin:films" …) as `write_results`
    wrote it; None when it has not been run. RecAttnError when the file is unreadable."""
    world = world.removeprefix("builtin:")
    path = paths.RESULTS / f"explain-{world}.json"
    again = f"run python -m recattn explain-benchmark --data builtin:{world} --out {_shown_path(path)} again"
    return read_results(path, "explanation benchmark", again, list, "models")
