"""Equal search: every neural model gets the same number of configurations and minutes, chosen on validation only.

    python benchmarks/search.py --data SOURCE [--models sasrec,bert4rec,gru,narm,additive] [--configs 8]
                                [--minutes 3] [--top 2] [--seeds 0,1,2] [--references pop,itemknn]
                                [--rerank sasrec] [--threads N] [--device auto]
                                [--out benchmarks/results/search-<name>]

For each kind:
1. `--configs` configurations from its fixed search space (SPACE below), which holds the training recipe (label
   smoothing, the weight average, the window stride of next-item kinds, patience) as axes beside the architecture,
   for every kind alike: the first is the kind's declared architecture (recattn/models/registry.py) with the neutral
   recipe (NEUTRAL: no smoothing, no average, non-overlapping windows, patience 12), not today's defaults; the rest
   are drawn without repeats from the space with a seed of their own (SEARCH_SEED and the kind's name), so a rerun
   tries the same ones. Each trains with seed 0 for `--minutes` (early stopping as usual) and is judged by its best
   validation NDCG@10 (seen items excluded), nothing else.
2. The best `--top` are retrained with every seed of `--seeds`, seed 0 included (reusing the search's seed-0 run
   would favour the configuration that got lucky there); the winner has the best MEAN validation NDCG@10.
3. Only then are test figures computed, for the winner's seeds alone (full ranking, seen items excluded and
   kept): mean ± sd over seeds. Selection runs on a copy of the split without its test users (`without_test`),
   so no choice can read them.
Popularity and item-to-item (`--references`) are counted once on the same split, untuned, as reference rows.
Target attention ("additive") scores each candidate against the whole history, so on a large catalogue one
full-ranking validation can outlast a try's budget. `--rerank FIRST` searches it in the role it has in practice:
every try is judged by the validation NDCG@10 of the two stages, FIRST's winner (seed 0's in the search, the
same seed's in the seed runs) picking its top RERANK_N unseen items and target attention re-scoring them; its row
is then the two-stage one ("FIRST>additive"), and it has no full-ranking row of its own.
PAIRS are then compared twice: over the test users (each user's NDCG@10 averaged over the seeds: a paired sign test
and a paired bootstrap 95% CI of the mean difference, BOOTSTRAP resamples, a fixed seed) and over the seeds (Welch's
t-test on the seeds' test NDCG@10 of each model: a gap the seeds' spread explains is no finding). The p-values of
each test are corrected over the table's comparisons by Holm's method; "beyond noise" needs both corrected p below
ALPHA and the bootstrap CI clear of 0, and the table says which test decided.

Writes <out>.md (the table and the paired tests) and <out>.json (every try with its settings, validation
figures, seconds and epochs; the command, commit, date, seeds, budget, threads and machine). Progress goes to
stderr. A run costs about kinds × (configs + top × seeds) × minutes, printed before it starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import os
import statistics
import sys
import time
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load import percentile  # noqa: E402
from benchmarks.quality import SHARED_ML  # noqa: E402
from benchmarks.run_all import machine  # noqa: E402
from recattn import defaults  # noqa: E402
from recattn.config import ModelConfig, TrainConfig, replace  # noqa: E402
from recattn.data import Dataset, load, prepare  # noqa: E402
from recattn.data.sequences import Split  # noqa: E402
from recattn.results.evaluate import Scorer, evaluate_seen_both, metrics_from_ranks, ranks  # noqa: E402
from recattn.results.measured import label, settings_text, shown  # noqa: E402
from recattn.models import build_model, registry  # noqa: E402
from recattn.results.provenance import commit  # noqa: E402
from recattn.results.rerank import rerank_scorer  # noqa: E402
from recattn.training.fit import FitResult, fit, model_scorer, resolve_device  # noqa: E402

REFERENCES = registry.names(lambda kind: kind.counted)
# The search space of each kind, one grid for every axis a kind has: lr is TrainConfig's, the rest ModelConfig's.
# Every default declared in recattn/models/registry.py lies on its kind's grid.
LR = (1e-3, 3e-3, 1e-2)
HIDDEN = (32, 64, 128)
DROPOUT = (0.0, 0.1, 0.2, 0.3, 0.5)
MAX_LEN = (25, 50, 100, 200)
# The training recipe, an axis of every kind with one hidden state per position alike: label smoothing of the
# full-softmax target, a moving average of the weights for validation and the kept model, patience; and for the
# next-item kinds the window stride (None: non-overlapping windows, every target once; 25: windows every 25 items,
# each target seen from 26+ items of context). A masked-item kind (BERT4Rec) has no stride to choose.
RECIPE = {"label_smoothing": (0.0, 0.3, 0.7), "ema_decay": (None, 0.99), "patience": (6, 12)}
STRIDE = {"window_stride": (None, 25)}
# The first configuration's recipe: nothing beyond plain training (a stride of 1 would train each target from a
# full window but costs max_len times the windows of an epoch, so the neutral point is the non-overlapping one)
NEUTRAL = {"label_smoothing": 0.0, "ema_decay": None, "patience": 12, "window_stride": None}
# the repeat offset is an axis of every kind with one hidden state per position (not of target attention)
_TRANSFORMER = {"lr": LR, "hidden": HIDDEN, "dropout": DROPOUT, "max_len": MAX_LEN, "layers": (1, 2, 3),
                "heads": (1, 2, 4), "repeat_bias": (True, False), **RECIPE}
_RNN = {"lr": LR, "hidden": HIDDEN, "dropout": DROPOUT, "max_len": MAX_LEN, "layers": (1, 2),
        "repeat_bias": (True, False), **RECIPE, **STRIDE}
SPACE: dict[str, dict[str, tuple]] = {
    "sasrec": {**_TRANSFORMER, **STRIDE}, "bert4rec": _TRANSFORMER, "sasrec-additive": {**_TRANSFORMER, **STRIDE},
    "gru": _RNN, "narm": _RNN, "additive": {"lr": LR, "hidden": HIDDEN, "dropout": DROPOUT, "max_len": MAX_LEN},
}
NEURAL = tuple(SPACE)  # the kinds with a search space (a newly registered kind needs its grid here)
SEARCH_SEED = 12
# (a, b): is a better than b beyond noise?
PAIRS = (("sasrec", "gru"), ("sasrec", "bert4rec"), ("narm", "gru"), ("narm", "itemknn"), ("sasrec", "sasrec-additive"),
         ("sasrec-additive", "gru"), ("sasrec-additive", "itemknn"), ("sasrec>additive", "sasrec"),
         ("sasrec>additive", "itemknn"))
# (first stage, re-ranker): target attention scores only the first stage's top RERANK_N, as it is used
TWO_STAGE = (("sasrec", "additive"), ("narm", "additive"))
BOOTSTRAP = 2_000
BOOTSTRAP_SEED = 0
ALPHA = 0.05  # a corrected p-value below this is a finding
K = 10
_MODEL_FIELDS = {f.name for f in dataclasses.fields(ModelConfig)}


@dataclass(frozen=True)
class Budget:
    """What every neural kind gets: `configs` tries of `minutes` each, then its best `top` once per seed."""

    configs: int = 8
    minutes: float = 3.0
    top: int = 2
    seeds: tuple[int, ...] = (0, 1, 2)
    device: str = "auto"


@dataclass
class Try:
    """One training run: its settings, seed, stage ("search", "seeds" or "counted") and what validation made of it."""

    kind: str
    settings: dict
    seed: int
    stage: str
    valid: dict
    seconds: float
    epochs: int
    best_epoch: int
    stopped: str
    # (wall-clock seconds since training began, validation NDCG@10) after each validated epoch: the curve at
    # equal time that the Learn and Compare pages draw
    curve: list[tuple[float, float]] = dataclasses.field(default_factory=list)


def curve(history: list) -> list[tuple[float, float]]:
    """Validation NDCG@10 against the seconds spent so far (training and validation), one point per validated
    epoch of `fit`'s history."""
    points, spent = [], 0.0
    for report in history:
        spent += report.seconds
        if report.valid:
            points.append((round(spent, 2), report.valid["ndcg@10"]))
    return points


# ---------------------------------------------------------------- the search space
def default_settings(kind: str) -> dict:
    """Today's defaults of `kind` on the axes of its search space."""
    model, train = defaults.model_config(kind), defaults.train_config(kind)
    return {k: getattr(model if k in _MODEL_FIELDS else train, k) for k in SPACE[kind]}


def neutral_settings(kind: str) -> dict:
    """The first configuration of `kind`: its declared architecture with the neutral recipe on the axes it has."""
    return {k: NEUTRAL.get(k, v) for k, v in default_settings(kind).items()}


def configurations(kind: str, n: int) -> list[dict]:
    """`n` distinct settings of `kind`: the neutral one first, then points of SPACE[kind] in a seeded random order."""
    axes = SPACE[kind]
    first = neutral_settings(kind)
    points = [dict(zip(axes, values)) for values in itertools.product(*axes.values())]
    if n > len(points):
        raise ValueError(f"{kind}'s search space holds {len(points)} configurations, fewer than the {n} asked")
    rng = np.random.default_rng([SEARCH_SEED, zlib.crc32(kind.encode())])  # not hash(): stable across runs
    drawn = (points[i] for i in rng.permutation(len(points)) if points[i] != first)
    return [first, *itertools.islice(drawn, n - 1)]


def configs_for(kind: str, settings: dict, n_items: int, minutes: float | None, seed: int,
                device: str) -> tuple[ModelConfig, TrainConfig]:
    """The model and training configs of one try: the kind's defaults with `settings` on top (a None in `settings`
    is a setting too: no weight average, non-overlapping windows; the defaults' helpers would skip it)."""
    model = replace(defaults.model_config(kind, n_items=n_items),
                    **{k: v for k, v in settings.items() if k in _MODEL_FIELDS})
    train = replace(defaults.train_config(kind, n_items=n_items, seed=seed, device=device, max_minutes=minutes),
                    **{k: v for k, v in settings.items() if k not in _MODEL_FIELDS})
    return model, train


# ---------------------------------------------------------------- training and figures
def without_test(split: Split) -> Split:
    """The split with no test users: what selection sees, so that no choice can read a test figure."""
    return dataclasses.replace(split, test_inputs=(), test_targets=np.empty(0, dtype=np.int64))


def _valid_figures(valid: dict) -> dict:
    kept = valid["seen_kept"]
    return {"ndcg@10": valid["ndcg@10"], "hr@10": valid["hr@10"],
            "seen_kept": {"ndcg@10": kept["ndcg@10"], "hr@10": kept["hr@10"]}}


def train_try(kind: str, settings: dict, seed: int, stage: str, split: Split, minutes: float | None,
              device: str, validator: Callable[[torch.nn.Module], dict] | None = None) -> tuple[Try, FitResult]:
    """Train one configuration with one seed; its Try and the fitted model (best validation weights, judged by
    `validator` when given, see `fit`)."""
    model_cfg, train_cfg = configs_for(kind, settings, split.n_items, minutes, seed, device)
    result = fit(build_model(model_cfg, seed=seed), split, train_cfg, validator=validator)
    if not result.best_valid:
        raise ValueError(f"{kind} ({shown(settings)}) used its {minutes} min before one epoch was validated; "
                         "give it more --minutes")
    done = Try(kind, settings, seed, stage, _valid_figures(result.best_valid), round(result.seconds, 2),
               len(result.history), result.best_epoch, result.stopped, curve(result.history))
    return done, result


def test_figures(scorer: Scorer, split: Split) -> dict:
    """The test figures of a frozen scorer: full ranking with seen items excluded (and its per-user ranks, for the
    paired tests) and with them kept. The only place the test users are read."""
    excluded = ranks(scorer, split.test_inputs, split.test_targets, split.n_items)
    kept = metrics_from_ranks(ranks(scorer, split.test_inputs, split.test_targets, split.n_items,
                                    exclude_seen=False), (K,))
    m = metrics_from_ranks(excluded, (K,))
    return {"ndcg@10": m["ndcg@10"], "hr@10": m["hr@10"],
            "seen_kept": {"ndcg@10": kept["ndcg@10"], "hr@10": kept["hr@10"]}, "ranks": excluded}


def spread(values: list[float]) -> dict:
    """Mean and sample standard deviation (None for one value), with the values."""
    return {"mean": statistics.fmean(values), "sd": statistics.stdev(values) if len(values) > 1 else None,
            "values": values}


# ---------------------------------------------------------------- one kind
Log = Callable[[str], None]


def two_stage_scorer(first: torch.nn.Module, reranker: torch.nn.Module, device: str) -> Scorer:
    """`first` picks each history's top RERANK_N unseen items and `reranker` re-scores them."""
    dev = resolve_device(device)
    return rerank_scorer(model_scorer(first.to(dev), dev), reranker.to(dev), exclude_seen=True)


def two_stage_validator(first: torch.nn.Module, split: Split, device: str) -> Callable[[torch.nn.Module], dict]:
    """What `fit` judges a re-ranker by: the validation figures of `first` followed by it (both protocols)."""
    def figures(reranker: torch.nn.Module) -> dict:
        return evaluate_seen_both(two_stage_scorer(first, reranker, device), split.valid_inputs,
                                  split.valid_targets, split.n_items)
    return figures


def select(kind: str, split: Split, budget: Budget, log: Log, first: list[torch.nn.Module] | None = None) -> dict:
    """Stages 1 and 2 on validation alone: every try, the top configurations, their seed runs and the winner,
    with the winner's fitted models (one per seed) under "models". With `first` (a first stage's models, one per
    seed of the budget, 0 among them) every try is judged as its re-ranker: the search's with seed 0's, each seed
    run with its own seed's."""
    def judged_by(seed: int):
        return None if first is None else two_stage_validator(first[budget.seeds.index(seed)], split, budget.device)

    space = configurations(kind, budget.configs)
    tries = []
    for n, settings in enumerate(space):
        done, _ = train_try(kind, settings, 0, "search", split, budget.minutes, budget.device, judged_by(0))
        tries.append(done)
        log(f"{kind} config {n + 1}/{len(space)}: {shown(settings)} -> valid NDCG@10 {done.valid['ndcg@10']:.4f} "
            f"({done.epochs} epochs, {done.seconds:.0f} s, {done.stopped})")
    top = sorted(range(len(tries)), key=lambda i: -tries[i].valid["ndcg@10"])[:budget.top]  # ties: the earlier
    runs: dict[int, list[tuple[Try, FitResult]]] = {}
    for i in top:
        runs[i] = []
        for seed in budget.seeds:
            done, result = train_try(kind, space[i], seed, "seeds", split, budget.minutes, budget.device,
                                     judged_by(seed))
            runs[i].append((done, result))
            log(f"{kind} config {i + 1} seed {seed} -> valid NDCG@10 {done.valid['ndcg@10']:.4f} "
                f"({done.epochs} epochs, {done.seconds:.0f} s)")
    mean_valid = {i: statistics.fmean(t.valid["ndcg@10"] for t, _ in runs[i]) for i in top}
    winner = max(top, key=lambda i: mean_valid[i])  # max keeps the first of equals: the better search score
    return {"tries": tries, "top": top, "seed_runs": [t for i in top for t, _ in runs[i]],
            "mean_valid": mean_valid, "winner": winner, "settings": space[winner],
            "models": [r.model for _, r in runs[winner]]}


def run_kind(kind: str, split: Split, budget: Budget, log: Log, first: list[torch.nn.Module] | None = None) -> dict:
    """Select on validation, then test the winner's seeds once each; with `first`, as its re-ranker (`select`),
    tested as the two stages seed by seed."""
    chosen = select(kind, without_test(split), budget, log, first)
    device = resolve_device(budget.device)
    scorers = ([model_scorer(model, device) for model in chosen["models"]] if first is None else
               [two_stage_scorer(f, r, budget.device) for f, r in zip(first, chosen["models"])])
    tests = [test_figures(scorer, split) for scorer in scorers]
    winner_runs = [t for t in chosen["seed_runs"] if t.settings == chosen["settings"]]
    log(f"{kind}: chose config {chosen['winner'] + 1} ({shown(chosen['settings'])}), mean valid NDCG@10 "
        f"{chosen['mean_valid'][chosen['winner']]:.4f}; test NDCG@10 "
        f"{statistics.fmean(t['ndcg@10'] for t in tests):.4f}")
    return {**chosen, "is_default": chosen["settings"] == default_settings(kind), "is_neutral": chosen["winner"] == 0,
            "configs": budget.configs, "minutes": budget.minutes,
            **({} if first is None else {"two_stage": True}), **_figures([t.valid for t in winner_runs], tests)}


def run_reference(kind: str, split: Split, device: str, log: Log) -> dict:
    """A counted baseline: one pass over the training data, no settings to tune, one test."""
    done, result = train_try(kind, {}, 0, "counted", without_test(split), None, device)
    log(f"{kind}: counted, valid NDCG@10 {done.valid['ndcg@10']:.4f}")
    return {"tries": [done], "settings": {}, "configs": 0, "minutes": None,
            **_figures([done.valid], [test_figures(model_scorer(result.model, resolve_device(device)), split)])}


def run_two_stage(first: list[torch.nn.Module], reranker: list[torch.nn.Module], split: Split, device: str) -> dict:
    """Two winners chained seed by seed (first stage of seed s, re-ranker of seed s): nothing is chosen here, so
    validation and test are both just counted. The re-ranker is handed the first stage's top RERANK_N unseen items."""
    valid = [_valid_figures(two_stage_validator(f, split, device)(r)) for f, r in zip(first, reranker)]
    tests = [test_figures(two_stage_scorer(f, r, device), split) for f, r in zip(first, reranker)]
    return {"tries": [], "settings": {}, "configs": 0, "minutes": None, "two_stage": True, **_figures(valid, tests)}


def _figures(valids: list[dict], tests: list[dict]) -> dict:
    return {"valid_ndcg": spread([v["ndcg@10"] for v in valids]),
            "test_ndcg": spread([t["ndcg@10"] for t in tests]), "test_hr": spread([t["hr@10"] for t in tests]),
            "test_ndcg_seen_kept": spread([t["seen_kept"]["ndcg@10"] for t in tests]),
            "test_ranks": [t["ranks"] for t in tests]}


# ---------------------------------------------------------------- paired comparison
def user_ndcg(rank_runs: list[np.ndarray], k: int = K) -> np.ndarray:
    """(users,) NDCG@k of each user, averaged over the runs (seeds) of one model."""
    r = np.asarray(rank_runs, dtype=np.float64)  # (runs, users)
    return np.where(r < k, 1.0 / np.log2(r + 2.0), 0.0).mean(0)


def seed_test(a: list[float], b: list[float]) -> float:
    """Two-sided p-value of a test over seeds: Welch's t-test on two models' per-seed figures; against a model counted
    once (a baseline with no seed to vary, one figure), the one-sample t-test of the other's seeds against it. 1.0
    when it cannot tell (one figure a side); with no spread at all, 0.0 for different figures and 1.0 for the same."""
    from scipy import stats

    if len(a) < 2 and len(b) < 2:
        return 1.0
    if len(a) < 2 or len(b) < 2:
        seeds, fixed = (b, a[0]) if len(a) < 2 else (a, b[0])
        if len(set(seeds)) == 1:
            return 1.0 if seeds[0] == fixed else 0.0
        return float(stats.ttest_1samp(seeds, fixed).pvalue)
    if len(set(a)) == 1 and len(set(b)) == 1:  # no spread at all: the gap is the whole story
        return 1.0 if a[0] == b[0] else 0.0
    p = stats.ttest_ind(a, b, equal_var=False).pvalue
    return 1.0 if math.isnan(p) else float(p)


def holm(pvalues: list[float]) -> list[float]:
    """Holm's step-down correction of a family of p-values, in their order: the k-th smallest is multiplied by
    (m - k + 1), and the adjusted values are kept monotone and at most 1."""
    m = len(pvalues)
    adjusted, running = [0.0] * m, 0.0
    for k, i in enumerate(sorted(range(m), key=lambda i: pvalues[i])):
        running = max(running, min(1.0, (m - k) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def verdicts(pairs: list[dict], alpha: float = ALPHA) -> list[dict]:
    """Each pair (with `sign_p`, `seed_p`, `ci95` and the user-level verdict) with both tests corrected by Holm over
    the table's pairs, the final verdict and which test decided: "beyond noise" needs the bootstrap CI clear of 0
    and both corrected p-values below `alpha`."""
    user, seed = holm([p["sign_p"] for p in pairs]), holm([p["seed_p"] for p in pairs])
    out = []
    for p, u, s in zip(pairs, user, seed):
        if p["verdict"] == "no difference":
            verdict, decided = "no difference", "identical per-user figures"
        else:
            failed = [name for name, ok in (("user test", p["verdict"] == "beyond noise" and u < alpha),
                                            ("seed test", s < alpha)) if not ok]
            verdict = "within noise" if failed else "beyond noise"
            decided = " and ".join(failed) if failed else "both tests"
        out.append({**p, "user_verdict": p["verdict"], "sign_p_holm": u, "seed_p_holm": s, "verdict": verdict,
                    "decided_by": decided})
    return out


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact binomial p-value of `wins` against `losses` (ties dropped) under a fair coin."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, j) for j in range(min(wins, losses) + 1))
    return min(1.0, 2 * tail / 2**n)


def paired(a: np.ndarray, b: np.ndarray, resamples: int = BOOTSTRAP, seed: int = BOOTSTRAP_SEED) -> dict:
    """Paired comparison of per-user figures `a` and `b` (same users, same order): the mean difference a - b, a
    bootstrap 95% CI over users, the sign test, and the verdict: "no difference" (identical), "beyond noise"
    (the CI excludes 0) or "within noise"."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    means = d[np.random.default_rng(seed).integers(0, len(d), size=(resamples, len(d)))].mean(1)
    low, high = percentile(means, 2.5), percentile(means, 97.5)
    wins, losses = int((d > 0).sum()), int((d < 0).sum())
    verdict = "no difference" if not d.any() else "beyond noise" if low > 0 or high < 0 else "within noise"
    return {"users": int(len(d)), "mean_diff": float(d.mean()), "ci95": [low, high], "wins": wins,
            "losses": losses, "ties": int(len(d) - wins - losses), "sign_p": sign_test(wins, losses),
            "verdict": verdict}


# ---------------------------------------------------------------- the whole run
def estimate_minutes(n_kinds: int, budget: Budget) -> float:
    """Training minutes of a run (validation inside; early stopping can only shorten it)."""
    return n_kinds * (budget.configs + min(budget.top, budget.configs) * len(budget.seeds)) * budget.minutes


def search(dataset: Dataset, kinds: list[str], references: list[str], budget: Budget, log: Log,
           rerank: str | None = None) -> dict:
    """The whole search on one dataset: rows per model (neural kinds, then references) and the paired tests;
    `rerank`: target attention searched as that kind's re-ranker (its row "rerank>additive")."""
    _, split = prepare(dataset)
    # a process's first optimiser imports torch._dynamo (seconds on a loaded machine): not the first try's budget
    torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))])
    rows = {}
    for kind in kinds:
        if kind == "additive" and rerank:
            rows[f"{rerank}>{kind}"] = run_kind(kind, split, budget, log, rows[rerank]["models"])
        else:
            rows[kind] = run_kind(kind, split, budget, log)
    for first, second in TWO_STAGE:
        if first in rows and second in rows:
            rows[f"{first}>{second}"] = row = run_two_stage(rows[first]["models"], rows[second]["models"], split,
                                                           budget.device)
            log(f"{label(f'{first}>{second}')}: test NDCG@10 {row['test_ndcg']['mean']:.4f}")
    for row in rows.values():
        row.pop("models", None)
    rows.update({kind: run_reference(kind, split, budget.device, log) for kind in references})
    pairs = verdicts([{"a": a, "b": b, **paired(user_ndcg(rows[a]["test_ranks"]), user_ndcg(rows[b]["test_ranks"])),
                       "seed_p": seed_test(rows[a]["test_ndcg"]["values"], rows[b]["test_ndcg"]["values"])}
                      for a, b in PAIRS if a in rows and b in rows])
    source = dataset.name if dataset.name.startswith("builtin:") else Path(dataset.name).name
    return {"source": source, "users": int(len(split.test_targets)), "models": rows, "paired": pairs}


def _pm(s: dict) -> str:
    return f"{s['mean']:.4f} ± {s['sd']:.4f}" if s["sd"] is not None else f"{s['mean']:.4f} (one run)"


def markdown(report: dict) -> str:
    """The results table, the paired tests and how they were made."""
    head = ("| model | configs tried | minutes each | chosen settings | valid NDCG@10 | test NDCG@10 | test HR@10 | "
            "test NDCG@10 seen kept |")
    lines = [head, "|---|---:|---:|---|---:|---:|---:|---:|"]
    for kind, row in report["models"].items():
        minutes = f"{row['minutes']:g}" if row["minutes"] else "—"
        lines.append(f"| {label(kind)} | {row['configs'] or '—'} | {minutes} | {settings_text(row)} | "
                     f"{_pm(row['valid_ndcg'])} | {_pm(row['test_ndcg'])} | {_pm(row['test_hr'])} | "
                     f"{_pm(row['test_ndcg_seen_kept'])} |")
    pairs = ["| comparison | users | mean Δ NDCG@10 | bootstrap 95% CI | better / worse / tied users | sign test p "
             "(Holm) | seeds' Welch p (Holm) | verdict |",
             "|---|---:|---:|---|---|---:|---:|---|"]
    for p in report["paired"]:
        # a search made before the seed test and Holm's correction (2026-12-05) has neither: "—", and its verdict is
        # the bootstrap's alone
        holm = f" ({p['sign_p_holm']:.3g})" if "sign_p_holm" in p else ""
        seeds = f"{p['seed_p']:.3g} ({p['seed_p_holm']:.3g})" if "seed_p" in p else "—"
        decided = f" ({p['decided_by']})" if "decided_by" in p else " (bootstrap CI only)"
        pairs.append(f"| {label(p['a'])} − {label(p['b'])} | {p['users']} | {p['mean_diff']:+.4f} | "
                     f"[{p['ci95'][0]:+.4f}, {p['ci95'][1]:+.4f}] | {p['wins']} / {p['losses']} / {p['ties']} | "
                     f"{p['sign_p']:.3g}{holm} | {seeds} | {p['verdict']}{decided} |")
    b, load_avg = report["budget"], report["load_average"]
    intro = (f"**{report['source']}** — {report['users']} test users; full ranking, seen items excluded unless said; "
             f"settings chosen by mean validation NDCG@10 over seeds {', '.join(map(str, b['seeds']))} after "
             f"{b['configs']} configurations × {b['minutes']:g} min (seed 0) per neural model; test computed once "
             "per winning seed. Mean ± sd over seeds.")
    paired_intro = (f"Each gap tested over the test users (each user's NDCG@10 averaged over seeds; sign test, and a "
                    f"bootstrap of the mean, {BOOTSTRAP:,} resamples, seed {BOOTSTRAP_SEED}) and over the seeds "
                    f"(Welch's t-test on their test NDCG@10); p-values corrected by Holm over the {len(report['paired'])} "
                    f"comparisons; beyond noise when both corrected p < {ALPHA} and the CI excludes 0:"
                    if all("seed_p" in p for p in report["paired"]) else
                    f"Paired over test users (each user's NDCG@10 averaged over seeds; bootstrap {BOOTSTRAP:,} "
                    f"resamples, seed {BOOTSTRAP_SEED}; beyond noise when the CI excludes 0; no test over seeds):")
    made = (f"`{report['command']}` — commit {report['commit'][:12]}{' (dirty tree)' if report['dirty'] else ''}, "
            f"{report['date']}, {report['threads']} torch threads on {report['machine']['nproc']} cores "
            f"(load {load_avg['before'][0]:.1f} → {load_avg['after'][0]:.1f}), {report['seconds'] / 60:.1f} min "
            f"(estimated {report['estimate_minutes']:.1f}).")
    paired_lines = pairs if report["paired"] else ["(no pair in this run)"]
    return "\n".join([intro, "", *lines, "", paired_intro, "", *paired_lines, "", made, ""])


def _json_ready(report: dict) -> dict:
    """The report as JSON holds it: every try as a dict, the per-user test ranks (arrays) left out."""
    out = {**report, "models": {}}
    for kind, row in report["models"].items():
        row = {k: v for k, v in row.items() if k != "test_ranks"}
        row["tries"] = [dataclasses.asdict(t) for t in row["tries"]]
        if "seed_runs" in row:
            row["seed_runs"] = [dataclasses.asdict(t) for t in row["seed_runs"]]
        out["models"][kind] = row
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=str(SHARED_ML), help="a source as the CLI names it (a folder, builtin:films)")
    p.add_argument("--models", default=",".join(NEURAL))
    p.add_argument("--references", default=",".join(REFERENCES), help="counted baselines ('' for none)")
    p.add_argument("--configs", type=int, default=8)
    p.add_argument("--minutes", type=float, default=3.0)
    p.add_argument("--top", type=int, default=2)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--rerank", default=None, choices=[first for first, _ in TWO_STAGE],
                   help="search target attention as this kind's re-ranker (see above)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--out", default=None, help="path without suffix (default benchmarks/results/search-<name>)")
    args = p.parse_args(argv)
    args.command = " ".join(["python benchmarks/search.py", *(sys.argv[1:] if argv is None else argv)])
    args.models = [k for k in args.models.split(",") if k]
    args.references = [k for k in args.references.split(",") if k]
    for kind in args.models:
        if kind not in SPACE:
            p.error(f"--models: {kind!r} has no search space; choose from {', '.join(SPACE)}")
    for kind in args.references:
        if kind not in REFERENCES:
            p.error(f"--references: {kind!r} is not a counted baseline; choose from {', '.join(REFERENCES)}")
    args.budget = Budget(args.configs, args.minutes, args.top, tuple(int(s) for s in args.seeds.split(",")),
                         args.device)
    if args.rerank and not (args.rerank in args.models and "additive" in args.models[args.models.index(args.rerank):]
                            and 0 in args.budget.seeds):
        p.error(f"--rerank {args.rerank}: --models must name {args.rerank} before additive, and --seeds hold 0")
    return args


def stamped_log(threads: int) -> Log:
    """Set torch's threads (0: its default) and return a log to stderr that stamps each line with the seconds since
    this call (the benchmark scripts' progress)."""
    if threads:
        torch.set_num_threads(threads)
    started = time.perf_counter()

    def log(line: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {line}", file=sys.stderr, flush=True)
    return log


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    started = time.perf_counter()
    log = stamped_log(args.threads)
    budget: Budget = args.budget
    estimate = estimate_minutes(len(args.models), budget)
    log(f"estimate: {len(args.models)} kinds × ({budget.configs} configs + {min(budget.top, budget.configs)} × "
        f"{len(budget.seeds)} seeds) × {budget.minutes:g} min = {estimate:.1f} min of training")
    load_before = os.getloadavg()
    made_from = commit()  # the code this run starts with; the checkout may move on while it runs
    dataset = load(args.data)
    report = search(dataset, args.models, args.references, budget, log, args.rerank)
    report.update({
        "command": args.command, **made_from, "date": date.today().isoformat(), "seeds": list(budget.seeds),
        "budget": dataclasses.asdict(budget), "estimate_minutes": estimate, "threads": torch.get_num_threads(),
        "machine": {**machine(), "nproc": len(os.sched_getaffinity(0))},
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "seconds": round(time.perf_counter() - started, 1), "space": {k: SPACE[k] for k in args.models},
    })
    name = args.data.removeprefix("builtin:") if args.data.startswith("builtin:") else Path(args.data).name
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / f"search-{name}"
    out = out.with_suffix("") if out.suffix in (".md", ".json") else out
    out.parent.mkdir(parents=True, exist_ok=True)
    text = markdown(report)
    out.with_name(out.name + ".md").write_text(text)
    out.with_name(out.name + ".json").write_text(json.dumps(_json_ready(report), indent=1) + "\n")
    print(text)
    log(f"written to {out}.md and {out}.json")
    return report


if __name__ == "__main__":
    main()
