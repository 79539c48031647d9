"""How often each explanation method points at a planted cause: the built-in worlds record, for every interaction,
the rule that fired and the earlier item behind it (`cause_item`); the rule admits a set of earlier items (the earlier
parts of a franchise or story, every one of the last few items sharing the genre or topic: `recattn.data.info.
cause_sets`), and a method's top-weighted history item scores when it is in that set.

A case is a held-out TEST interaction (each user's last item, the split `recattn.data.prepare` gives training and
evaluation) with a cause set inside the model's window; the explained item is that true next item and the history is
everything before it. Top-k credit: 1 when one of the k largest positive weights among the window's items is a cause;
ties at the k-th value share the credit as a random tie-break would. The chance rate of a case is what a random pick
of k items from the window would score. Distance bins and "far" go by the NEAREST cause (far: 2 or more back).
"Right" cases are those whose item is in the model's top-10 (seen items excluded): an explanation of a prediction
the model gets wrong measures the model, not the method. "Uses the cause": removing the whole cause set from the
history drops the item out of the top-10 (reported over the right cases, never used to filter).
Baselines: "random" (the chance rate) and "most_recent" (the newest item). The best single attention head is chosen
on VALIDATION interactions (each user's second-to-last item after its own history) and scored on test as
"attention_best_head".

Public API:
    Case(user, history (T,), item, distance, rule, causes); Case.cause (position of the recorded cause),
        Case.nearest (distance of the nearest cause)
    planted_cases(dataset, held_out="test") -> tuple[Case, ...]              "test" or "valid"; RecAttnError when
                                                                             the source records no causes
    window(model) -> int                                                     history items the model reads
    hit(weights (T,), case, window, k=1) -> float                            top-k credit, ties shared
    chance(case, window, k=1) -> float                                       a random pick's credit
    agreement(hits, cases, window, right=None) -> dict                       see `agreement`
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
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import torch
from torch import nn

from recattn import checkpoint, paths
from recattn.i18n import N_, _
from recattn.data import prepare
from recattn.data.dataset import Dataset
from recattn.data.info import cause_distances, cause_sets
from recattn.data.sequences import MIN_SPLIT_LENGTH, left_pad
from recattn.errors import RecAttnError
from recattn.models import registry
from recattn.analysis.explain import attention_rows, explain_all, ranks, score_batch
from recattn.results.provenance import commit, read_results

# the shipped models a world's benchmark explains by default, in this order (those present)
DISTANCE_BINS = (("1", 1, 1), ("2-5", 2, 5), ("6+", 6, np.inf))  # name, nearest, farthest
RANDOM, MOST_RECENT = "random", "most_recent"
BEST_HEAD = "attention_best_head"
# Target attention scores every candidate with its own row: ~1 s an explanation on the shipped films-additive,
# so its cases are a seeded sample of this many unless a cap is given.
TARGET_CASES = 300
SEED = 0  # of the sample of cases when they are capped
TOP_K = 10  # a case is "right" when the model's top-10 holds its item


@dataclass(frozen=True)
class Case:
    """One interaction whose cause is one or more earlier items of the same user."""

    user: str
    history: np.ndarray  # (T,) item indices, oldest first: everything the user had before `item`
    item: int  # the explained item: the interaction itself
    distance: int  # how many items back the recorded cause lies: 1 = history[-1]
    rule: str = ""  # the planted rule (`cause`)
    causes: tuple[int, ...] = ()  # distances back of every item the rule admits (the recorded one among them)

    def __post_init__(self):
        if not self.causes:
            object.__setattr__(self, "causes", (self.distance,))

    @property
    def cause(self) -> int:
        """The recorded cause's position in `history`."""
        return len(self.history) - self.distance

    @property
    def nearest(self) -> int:
        """How many items back the nearest cause lies."""
        return min(self.causes)


def planted_cases(dataset: Dataset, held_out: str = "test") -> tuple[Case, ...]:
    """The held-out interactions ("test": each user's last, "valid": the one before) caused by earlier items, with
    the histories of the leave-one-out split and their cause sets. RecAttnError for a source without `cause_item`."""
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
    sets = cause_sets(inter, dataset.items)
    users = inter["user_id"].to_numpy()
    rules = inter["cause"].astype(str).to_numpy() if "cause" in inter else np.full(len(inter), "")
    # one contiguous run per user, in the order the split lists them (users too short to split are skipped there)
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    ends = np.r_[starts[1:], len(users)]
    ends = ends[ends - starts >= MIN_SPLIT_LENGTH]
    rows = ends - (1 if held_out == "test" else 2)
    return tuple(Case(str(users[row]), np.asarray(histories[j]), int(targets[j]), int(distance[row]), str(rules[row]),
                      sets[row]) for j, row in enumerate(rows) if distance[row] > 0)


def window(model: nn.Module) -> int:
    """How many of the latest history items the model reads: max_len, less BERT4Rec's mask slot."""
    return model.config.max_len - (model.attention_kind == "bidirectional")


def _in_window(case: Case, window: int) -> tuple[int, np.ndarray]:
    """The window's size W over this history and which of its W positions are causes."""
    W = min(window, len(case.history))
    causes = np.zeros(W, dtype=bool)
    causes[[W - d for d in case.causes if d <= W]] = True
    return W, causes


def hit(weights: np.ndarray, case: Case, window: int, k: int = 1) -> float:
    """Top-k credit among the last `window` history items: 1 when one of the k largest positive weights is a cause;
    when positions tie at the k-th value, the chance that a random tie-break keeps a cause among the k; 0 when no
    weight is positive (a signed method that finds nothing pushing the item up points at no cause)."""
    T = len(case.history)
    if len(weights) != T or not 1 <= case.nearest <= min(window, T):
        raise ValueError(f"weights ({len(weights)}) align with the history ({T}) and a cause ({case.nearest} back) "
                         f"lies within the window ({window})")
    W, causes = _in_window(case, window)
    w = np.asarray(weights, dtype=np.float64)[T - W:]
    positive = w > 0  # NaN is not
    if not positive.any():
        return 0.0
    values = np.sort(w[positive])[::-1]
    if len(values) <= k:
        return float((causes & positive).any())
    threshold = values[k - 1]
    above, at = positive & (w > threshold), positive & (w == threshold)
    if (causes & above).any():
        return 1.0
    slots, tied, tied_causes = k - int(above.sum()), int(at.sum()), int((causes & at).sum())
    return 1.0 - math.comb(tied - tied_causes, slots) / math.comb(tied, slots)


def chance(case: Case, window: int, k: int = 1) -> float:
    """What k items picked at random from the window would score: 1 − C(W − c, k) / C(W, k), c causes among W."""
    W, causes = _in_window(case, window)
    k = min(k, W)
    return 1.0 - math.comb(W - int(causes.sum()), k) / math.comb(W, k)


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def agreement(hits: Sequence[float], cases: Sequence[Case], window: int, right: Sequence[bool] | None = None,
              hits3: Sequence[float] | None = None) -> dict:
    """One method's credit: top-1 (and top-3 with `hits3`) over all cases and the far ones (nearest cause ≥ 2 back),
    with the chance rate beside each; with `right` (the model's top-10 holds the item), the same over the right
    cases; per distance bin of the nearest cause (`by_distance`) and per planted rule (`by_cause`). None where there
    are no cases."""
    hits = np.asarray(hits, dtype=np.float64)
    hits3 = np.asarray(hits3, dtype=np.float64) if hits3 is not None else None
    d = np.array([c.nearest for c in cases])
    ok = np.asarray(right, dtype=bool) if right is not None else np.ones(len(cases), dtype=bool)
    luck1 = np.array([chance(c, window, 1) for c in cases])
    luck3 = np.array([chance(c, window, 3) for c in cases])

    def part(where: np.ndarray, suffix: str) -> dict:
        out = {f"top1{suffix}": _mean(hits[where]), f"cases{suffix}": int(where.sum()),
               f"chance{suffix}": _mean(luck1[where]), f"chance3{suffix}": _mean(luck3[where])}
        if hits3 is not None:
            out[f"top3{suffix}"] = _mean(hits3[where])
        return out

    everything, far = np.ones(len(cases), dtype=bool), d >= 2
    out = {**part(everything, ""), **part(far, "_far")}
    if right is not None:
        out.update({**part(ok, "_right"), **part(far & ok, "_far_right")})
    out["by_distance"] = {name: {**part((d >= lo) & (d <= hi), ""),
                                 **(part((d >= lo) & (d <= hi) & ok, "_right") if right is not None else {})}
                          for name, lo, hi in DISTANCE_BINS}
    rules = np.array([c.rule for c in cases])
    out["by_cause"] = {rule: {**part(rules == rule, ""), **part((rules == rule) & far, "_far")}
                       for rule in sorted(set(rules.tolist()))}
    return out


def _select(cases: Sequence[Case], size: int, limit: int | None) -> list[Case]:
    """The cases with a cause within `size` items, a seeded sample of `limit` of them (None: all), in order."""
    inside = [c for c in cases if c.nearest <= size]
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
    hits = np.array([[hit(w, c, size) for w in r.reshape(layers * heads, -1)] for r, c in zip(rows, cases)])
    j = int(hits.mean(0).argmax())
    return {"head": f"attention_L{j // heads + 1}H{j % heads + 1}", "valid_top1": float(hits[:, j].mean()),
            "valid_cases": len(cases)}


def right_and_used(model: nn.Module, case: Case, k: int = TOP_K) -> tuple[bool, bool]:
    """Whether the model's top-k (seen items excluded) holds the case's item, and whether removing the whole cause
    set from the history then drops it out of the top-k (False when it was not there to begin with). One forward."""
    seq = np.asarray(case.history)
    keep = np.ones(len(seq), dtype=bool)
    keep[[len(seq) - d for d in case.causes]] = False
    rows = left_pad([seq, seq[keep] if keep.any() else np.zeros(1, dtype=np.int64)], len(seq))
    before, after = (int(r) for r in ranks(score_batch(model, rows).scores, rows, case.item))
    return before <= k, before <= k < after


def benchmark(model: nn.Module, test: Sequence[Case], valid: Sequence[Case] = (), users: int | None = None,
              explainer: Callable[[Case], dict[str, np.ndarray]] | None = None,
              on_case: Callable[[int, int], None] | None = None) -> dict:
    """One model's agreement with the planted causes: every method `explainer` gives (default: explain_all of
    recattn.analysis.explain, one weight vector (T,) per method aligned with the case's history) and the baselines, on the
    `test` cases inside the model's window, `users` of them at most (a seeded sample; default all, TARGET_CASES for
    target attention), over all cases and over those the model gets right, with how often it uses the cause. The
    best head is chosen on as many `valid` cases. on_case(done, total) after each case."""
    size = window(model)
    limit = users if users is not None else TARGET_CASES if model.attention_kind == "target" else None
    cases = _select(test, size, limit)
    head = best_head(model, _select(valid, size, limit))
    explainer = explainer or (lambda c: explain_all(model, c.history, c.item))
    started = time.perf_counter()
    hits: dict[str, list[tuple[float, float]]] = {}
    right, used = [], []
    for n, case in enumerate(cases):
        for name, weights in explainer(case).items():
            hits.setdefault(name, []).append((hit(weights, case, size, 1), hit(weights, case, size, 3)))
        ok, needed = right_and_used(model, case)
        right.append(ok)
        used.append(needed)
        if on_case:
            on_case(n + 1, len(cases))
    seconds = time.perf_counter() - started
    if head is not None and head["head"] in hits:
        hits[BEST_HEAD] = hits[head["head"]]

    def scored(pairs: Sequence[tuple[float, float]]) -> dict:
        return agreement([a for a, _ in pairs], cases, size, right, [b for _, b in pairs])

    far = np.array([c.nearest >= 2 for c in cases], dtype=bool)
    ok, needed = np.array(right, dtype=bool), np.array(used, dtype=bool)
    return {
        "model": model.config.kind,
        "window": size,
        "cases": len(cases),
        "cases_available": sum(c.nearest <= size for c in test),
        "methods": {name: scored(h) for name, h in hits.items()},
        "baselines": {
            RANDOM: scored([(chance(c, size, 1), chance(c, size, 3)) for c in cases]),
            MOST_RECENT: scored([(float(1 in c.causes), float(min(c.causes) <= 3)) for c in cases]),
        },
        "usage": {"right": int(ok.sum()), "used": int(needed.sum()),
                  "share": float(needed.sum() / ok.sum()) if ok.any() else None,
                  "right_far": int((ok & far).sum()), "used_far": int((needed & far).sum()),
                  "share_far": float((needed & far).sum() / (ok & far).sum()) if (ok & far).any() else None},
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
    """The results as text: per model a line of what was measured, then a row per method and baseline: top-1 over
    all cases and the far ones, then over the far cases the model gets right top-1 and top-3 with the chance rates,
    and top-1 per distance bin of the nearest cause; last how often the model uses the cause."""
    lines = []
    for r in results:
        head = r["best_head"]
        chosen = f"; best head {head['head']} (validation top-1 {head['valid_top1']:.2f})" if head else ""
        title = (f"{r['model']} ({r['checkpoint']}): {r['cases']} of {r['cases_available']} cases in its window "
                 f"of {r['window']}{chosen}")
        lines += ["", title, f"  {'method':<28} {'top1':>5} {'far':>5} | far, right: {'top1':>5} {'top3':>5} | "
                             f"{'d=1':>5} {'2-5':>5} {'6+':>5}"]
        rows = [(name, a) for name, a in r["methods"].items()] + [
            (f"{name} (baseline)", a) for name, a in r["baselines"].items()]
        for name, a in rows:
            d = a["by_distance"]
            lines.append(f"  {name:<28} {_cell(a['top1']):>5} {_cell(a['top1_far']):>5} |             "
                         f"{_cell(a.get('top1_far_right')):>5} {_cell(a.get('top3_far_right')):>5} | "
                         f"{_cell(d['1']['top1']):>5} {_cell(d['2-5']['top1']):>5} {_cell(d['6+']['top1']):>5}")
        if r["cases"]:
            a, u = r["baselines"][RANDOM], r["usage"]
            lines.append(f"  cases: {a['cases']}, far (nearest cause ≥ 2 back): {a['cases_far']}, far and right "
                         f"(item in the top {TOP_K}): {a['cases_far_right']}; chance top-1 far "
                         f"{_cell(a['chance_far'])}, "
                         f"far right {_cell(a['chance_far_right'])}, top-3 far right {_cell(a['chance3_far_right'])}")
            lines.append(f"  uses the cause (removing the cause set drops the item out of the top {TOP_K}): "
                         f"{u['used']} of {u['right']} right cases ({_cell(u['share'])}), {u['used_far']} of "
                         f"{u['right_far']} far ({_cell(u['share_far'])})")
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
    again = _("run {command} again").format(
        command=f"python -m recattn explain-benchmark --data builtin:{world} --out {_shown_path(path)}")
    return read_results(path, N_("explanation benchmark"), again, list, "models")
