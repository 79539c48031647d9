"""Every speed figure of recattn from one command: inference, app reaction, cold start, training (and the GPU).

    python benchmarks/run_all.py [--json] [--quick | --smoke] [--sections inference,app,cold,train,gpu]
                                 [--out FILE]

- inference: recommend + full attention trace (benchmarks/speed.py's `latency`) for histories of 10, 50 and 200
  items over catalogues of 1k, 10k and 60k items, for every model kind `build_model` accepts (untrained weights,
  default settings: max_len 50, so a 200-item history is cut to its last 50); median and p95 ms.
- app: every page's rerun after an edit of the history (AppTest, warm caches): on the Attention page through its
  "Add an item" select, on the others by adding an item to the session's history; median and p95 ms.
- cold: `streamlit run app.py` to the Home page fully rendered in Debian's chromium (its last section on screen,
  no script running): starts with an empty world cache ("first") and with the cache filled by the start
  before ("warm"), alternating; median of each. The OS file cache stays warm in both.
- train: each neural kind on ml-latest-small and builtin:films with its defaults and a time budget, in a fresh
  process each (peak RSS is that process's): training windows per second, seconds per epoch (validation
  included), wall time until validation NDCG@10 first reaches 95% of the run's best, and the run's wall time.
- gpu (only where torch.cuda.is_available()): the train section on CUDA in bfloat16, with its speed-up per epoch.

--quick keeps the whole run under 10 minutes on 2 cores (SASRec alone is trained, with short budgets, so "best"
is the best within the budget); --smoke is seconds, for tests/test_run_all.py. Figures print as they come; with
--json the last line of stdout is one JSON object: the HEADLINE figures, the targets met, and every section.
The same object, with the command, commit, torch threads and machine, is written to --out (default
benchmarks/results/run_all-<date>.json).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.load import percentile  # noqa: E402
from benchmarks.quality import SHARED_ML  # noqa: E402
from recattn.models import registry  # noqa: E402
from recattn.results.provenance import commit  # noqa: E402

KINDS = registry.names()
NEURAL = registry.names(lambda kind: not kind.counted)
PAGES = ("pages/home.py", "pages/history.py", "pages/attention.py", "pages/explain.py", "pages/learn.py",
         "pages/compare.py", "pages/embeddings.py", "pages/data.py", "pages/train.py")
ATTENTION = "pages/attention.py"
FILMS = "builtin:films"
SECTIONS = ("inference", "app", "cold", "train", "gpu")
HEADLINE = ("recommend_p50_ms", "recommend_p95_ms", "recommend_60k_p50_ms", "page_rerun_p50_ms",
            "page_rerun_worst_p50_ms", "cold_start_s", "cold_start_first_s", "train_seconds_to_95pct",
            "train_seconds_builtin_films")
# The targets of issue 14 on the 2-core CPU machine: headline key → (bound, what is bounded)
TARGETS = {
    "recommend_p50_ms": 1.5, "recommend_p95_ms": 5.0, "recommend_60k_p50_ms": 5.0, "page_rerun_worst_p50_ms": 150.0,
    "cold_start_s": 3.0, "train_seconds_to_95pct": 60.0, "train_seconds_builtin_films": 60.0,
}


@dataclass(frozen=True)
class Plan:
    """How much each section measures."""

    name: str
    kinds: tuple[str, ...] = KINDS
    catalogues: tuple[int, ...] = (1_000, 10_000, 60_000)
    histories: tuple[int, ...] = (10, 50, 200)
    repeats: int = 200
    cell_seconds: float = 10.0  # a slow cell (additive over 60k items) stops after this, with at least 5 calls
    reruns: int = 20
    pages: tuple[str, ...] = PAGES
    starts: int = 3
    train_kinds: tuple[str, ...] = NEURAL
    train_sources: tuple[str, ...] = (str(SHARED_ML), FILMS)
    train_minutes: float = 10.0


FULL = Plan("full")
QUICK = Plan("quick", repeats=50, cell_seconds=1.5, reruns=5, train_kinds=("sasrec",), train_minutes=1.5)
SMOKE = Plan("smoke", kinds=("sasrec", "pop"), catalogues=(200,), histories=(5,), repeats=3, cell_seconds=1.0,
             reruns=1, pages=("pages/home.py",), starts=0, train_kinds=("sasrec",), train_sources=(FILMS,),
             train_minutes=0.15)


# ---------------------------------------------------------------- inference
def inference(plan: Plan) -> dict:
    """The latency grid: a row per (kind, catalogue, history); kinds `build_model` refuses are listed as skipped."""
    import torch

    from benchmarks.speed import latency, recommender

    rows, skipped = [], {}
    for kind in plan.kinds:
        for n_items in plan.catalogues:
            try:
                rec = recommender(kind, n_items)
            except Exception as e:  # noqa: BLE001 - a kind this checkout does not have (yet)
                skipped[kind] = f"{type(e).__name__}: {e}"
                break
            for history in plan.histories:
                got = latency(rec, history, plan.repeats, warmup=min(10, plan.repeats),
                              max_seconds=plan.cell_seconds)
                rows.append(asdict(got))
                print(f"  {kind:9s} {n_items:>6,} items  history {history:>3}: median {got.median_ms:8.2f} ms  "
                      f"p95 {got.p95_ms:8.2f} ms  ({got.repeats} calls, trace {got.trace_shape})", flush=True)
    for kind, why in skipped.items():
        print(f"  {kind}: skipped ({why})")
    return {"threads": torch.get_num_threads(), "rows": rows, "skipped": skipped}


def cell(grid: dict, kind: str, n_items: int, history: int) -> dict | None:
    return next((r for r in grid.get("rows", []) if (r["kind"], r["items"], r["history"]) == (kind, n_items, history)),
                None)


# ---------------------------------------------------------------- app reaction
def app_reaction(plan: Plan) -> dict:
    """Every page's rerun after an edit of the history, with warm caches (each page is visited twice first)."""
    from recattn.data import load

    ids = load(FILMS).items["item_id"].astype(str).tolist()
    base, fresh = ids[:5], iter(ids[5:])
    runs = tempfile.mkdtemp(prefix="run_all-runs-")
    before = os.environ.get("RECATTN_RUNS_DIR")
    os.environ["RECATTN_RUNS_DIR"] = runs  # the shipped models only, not what runs/ holds today
    try:
        return {"pages": _reruns(plan, base, fresh)}
    finally:
        os.environ.pop("RECATTN_RUNS_DIR") if before is None else os.environ.update(RECATTN_RUNS_DIR=before)
        shutil.rmtree(runs, ignore_errors=True)


@contextlib.contextmanager
def compiled_once():
    """AppTest compiles app.py and the page again (with Streamlit's magic rewrite of their syntax trees) on every run,
    as it makes a new ScriptCache per run; the server keeps one per process and compiles each script once. Within
    this block AppTest shares one too, so a rerun's time is the server's (about 50 ms less on the Explain page)."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    modules = (app_test, local_script_runner)
    try:
        for module in modules:
            module.ScriptCache = lambda: shared
        yield
    finally:
        for module in modules:
            module.ScriptCache = ScriptCache


def _reruns(plan: Plan, base: list[str], fresh) -> dict:
    import logging

    from streamlit.testing.v1 import AppTest

    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    with compiled_once():
        return _timed_reruns(AppTest.from_file(str(ROOT / "app.py"), default_timeout=300), plan, base, fresh)


def _timed_reruns(at, plan: Plan, base: list[str], fresh) -> dict:
    at.run()
    _check(at, "the first run")
    pages = {}
    for page in plan.pages:
        at.session_state["history"] = list(base)
        at.switch_page(page).run()
        at.run()
        _check(at, page)
        times = []
        for _ in range(plan.reruns):
            new = next(fresh)
            if page == ATTENTION:
                at.selectbox(key="attention_add").set_value(new)
            else:
                at.session_state["history"] = [*at.session_state["history"], new]
            t = time.perf_counter()
            at.run()
            times.append(1000 * (time.perf_counter() - t))
            _check(at, page)
        assert at.session_state["history"][-1] == new, f"{page}: the edit did not reach the history"
        pages[page] = {"median_ms": statistics.median(times), "p95_ms": percentile(times, 95), "reruns": len(times)}
        print(f"  {page:22s} rerun after an edit: median {pages[page]['median_ms']:7.1f} ms  "
              f"p95 {pages[page]['p95_ms']:7.1f} ms", flush=True)
    return pages


def _check(at, where: str) -> None:
    if at.exception:
        raise RuntimeError(f"{where}: {at.exception[0].message}")


# ---------------------------------------------------------------- cold start
def cold_start(plan: Plan) -> dict:
    """Seconds from spawning `streamlit run app.py` to the Home page fully rendered in chromium."""
    from playwright.sync_api import sync_playwright

    from tests.e2e import IDLE, launch, serve

    scratch = Path(tempfile.mkdtemp(prefix="run_all-cold-"))
    env = {"RECATTN_CACHE": str(scratch / "cache"), "RECATTN_RUNS_DIR": str(scratch / "runs")}
    times: dict[str, list[float]] = {"first": [], "warm": []}
    try:
        with sync_playwright() as p:
            browser = launch(p)
            for _ in range(plan.starts):
                for label in times:
                    if label == "first":
                        shutil.rmtree(scratch / "cache", ignore_errors=True)
                    started = time.perf_counter()
                    with serve(scratch / "server.log", env=env, timeout=120) as url:
                        page = browser.new_page()
                        page.goto(url)
                        page.get_by_text("Where to go next").wait_for(timeout=120_000)  # Home's last section
                        page.wait_for_selector(IDLE, timeout=120_000)
                        times[label].append(time.perf_counter() - started)
                        page.close()
                    print(f"  {label} start: {times[label][-1]:.2f} s", flush=True)
            browser.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {label: {"median_s": statistics.median(t), "runs_s": t} for label, t in times.items()}


# ---------------------------------------------------------------- training
def train_job(kind: str, source: str, minutes: float, device: str = "cpu", precision: str = "auto") -> dict:
    """Train `kind` with its defaults on `source` for at most `minutes` and return its speed figures. Meant for a
    fresh process (peak RSS is the process's)."""
    import recattn.training.fit as training
    from recattn import defaults
    from recattn.training import objectives
    from recattn.data import load, prepare
    from recattn.models import build_model

    t = time.perf_counter()
    dataset = load(source)
    vocab, split = prepare(dataset)
    load_seconds = time.perf_counter() - t
    model_cfg = defaults.model_config(kind, n_items=vocab.size)
    train_cfg = defaults.train_config(kind, n_items=vocab.size, max_minutes=minutes, device=device,
                                      precision=precision)
    windows = len(objectives.training_windows(split.train, model_cfg.max_len, registry.get(model_cfg.kind).causal,
                                              train_cfg.window_stride))
    # fit reports each epoch's seconds with its validation; time the validation apart to get the training rate
    validating, validate = [], training.validate

    def timed_validate(*args, **kwargs):
        v = time.perf_counter()
        out = validate(*args, **kwargs)
        validating.append(time.perf_counter() - v)
        return out

    curve = []  # (seconds since the start, epoch seconds, validation seconds, validation NDCG@10)

    def on_epoch_end(report) -> None:
        spent = validating.pop() if report.valid else 0.0
        curve.append((time.perf_counter() - started, report.seconds, spent, report.valid.get("ndcg@10")))

    training.validate = timed_validate
    try:
        started = time.perf_counter()
        result = training.fit(build_model(model_cfg, seed=train_cfg.seed), split, train_cfg, on_epoch_end)
    finally:
        training.validate = validate
    scores = [c[3] for c in curve if c[3] is not None]
    best = max(scores, default=math.nan)
    reached = next((c[0] for c in curve if c[3] is not None and c[3] >= 0.95 * best), math.nan)
    rates = [windows / (c[1] - c[2]) for c in curve if c[1] > c[2]]
    return {
        "kind": kind, "source": Path(source).name if not source.startswith("builtin:") else source,
        "device": str(training.resolve_device(device)), "precision": precision, "budget_minutes": minutes,
        "load_seconds": load_seconds, "windows": windows, "epochs": len(curve), "stopped": result.stopped,
        "wall_seconds": result.seconds, "seconds_to_95pct": reached, "best_valid_ndcg10": best,
        "seconds_per_epoch": statistics.median([c[1] for c in curve]) if curve else math.nan,
        "sequences_per_second": statistics.median(rates) if rates else math.nan,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def train(plan: Plan, device: str = "cpu", precision: str = "auto") -> dict:
    """`train_job` for every kind and source of the plan, each in a fresh process; absent sources are skipped."""
    runs, skipped = [], []
    for source in plan.train_sources:
        if not source.startswith("builtin:") and not Path(source).exists():
            skipped.append(source)
            print(f"  {source}: not found, skipped")
            continue
        for kind in plan.train_kinds:
            run = _in_fresh_process(kind, source, plan.train_minutes, device, precision)
            runs.append(run)
            print(f"  {kind:9s} {run['source']:16s} {run['device']}: {run['sequences_per_second']:7.0f} windows/s  "
                  f"{run['seconds_per_epoch']:6.1f} s/epoch  95% of best valid NDCG@10 "
                  f"({run['best_valid_ndcg10']:.4f}) after {run['seconds_to_95pct']:6.1f} s  "
                  f"{run['epochs']} epochs, {run['wall_seconds']:.0f} s ({run['stopped']})  "
                  f"peak RSS {run['peak_rss_mb']:.0f} MB", flush=True)
    return {"runs": runs, "skipped": skipped}


def _in_fresh_process(*args) -> dict:
    """`train_job(*args)` in a new Python process: its own peak RSS, no state left from the other sections."""
    code = ("import json, sys; from benchmarks.run_all import train_job; "
            "print(json.dumps(train_job(*json.loads(sys.argv[1]))))")
    done = subprocess.run([sys.executable, "-c", code, json.dumps(args)], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"train_job{args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def gpu(plan: Plan, cpu: dict | None) -> dict:
    """The train section on CUDA in bfloat16, with the speed-up per epoch over the CPU runs."""
    out = train(plan, device="cuda", precision="bf16")
    by_key = {(r["kind"], r["source"]): r for r in (cpu or {}).get("runs", [])}
    for run in out["runs"]:
        base = by_key.get((run["kind"], run["source"]))
        run["speedup_per_epoch"] = base["seconds_per_epoch"] / run["seconds_per_epoch"] if base else None
    return out


def find_run(section: dict | None, kind: str, source: str) -> dict | None:
    return next((r for r in (section or {}).get("runs", []) if (r["kind"], r["source"]) == (kind, source)), None)


# ---------------------------------------------------------------- the whole run
def headline(results: dict) -> dict:
    """The HEADLINE figures from the sections (None where a section did not run)."""
    grid = results.get("inference") or {}
    at10k, at60k = cell(grid, "sasrec", 10_000, 50), cell(grid, "sasrec", 60_000, 50)
    pages = (results.get("app") or {}).get("pages", {})
    cold = results.get("cold") or {}
    ml = find_run(results.get("train"), "sasrec", SHARED_ML.name)
    films = find_run(results.get("train"), "sasrec", FILMS)
    return {
        "recommend_p50_ms": at10k and at10k["median_ms"], "recommend_p95_ms": at10k and at10k["p95_ms"],
        "recommend_60k_p50_ms": at60k and at60k["median_ms"],
        "page_rerun_p50_ms": pages.get(ATTENTION, {}).get("median_ms"),
        "page_rerun_worst_p50_ms": max((p["median_ms"] for p in pages.values()), default=None),
        "cold_start_s": cold.get("warm", {}).get("median_s"),
        "cold_start_first_s": cold.get("first", {}).get("median_s"),
        "train_seconds_to_95pct": ml and ml["seconds_to_95pct"],
        "train_seconds_builtin_films": films and films["wall_seconds"],
    }


def targets_met(figures: dict) -> dict:
    """Per target: the figure, its bound and whether it is met (None when not measured)."""
    return {key: {"value": figures[key], "bound": bound,
                  "met": None if figures[key] is None or math.isnan(figures[key]) else figures[key] <= bound}
            for key, bound in TARGETS.items()}


def machine() -> dict:
    """What the figures were measured on."""
    import torch

    model = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"host": platform.node(), "cpu": model, "cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="end with one line holding every figure as JSON")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="under 10 minutes on 2 cores: SASRec alone is trained")
    size.add_argument("--smoke", action="store_true", help="tiny sizes, no browser: checks that the script works")
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"a comma-separated subset of {','.join(SECTIONS)}")
    p.add_argument("--threads", type=int, default=0, help="torch threads for the inference section (0: torch's "
                   "default, as the app runs)")
    p.add_argument("--out", default=None, help="the results file (default benchmarks/results/run_all-<date>.json)")
    args = p.parse_args(argv)
    args.command = " ".join(["python benchmarks/run_all.py", *(sys.argv[1:] if argv is None else argv)])
    args.sections = tuple(s for s in args.sections.split(",") if s)
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        p.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    args.plan = SMOKE if args.smoke else QUICK if args.quick else FULL
    return args


def run(args: argparse.Namespace) -> dict:
    """Run the asked sections under the plan; the results object (also written to the results file)."""
    import torch

    plan: Plan = args.plan
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    load_before = os.getloadavg()
    results: dict = {}
    steps = {"inference": lambda: inference(plan), "app": lambda: app_reaction(plan) if plan.pages else None,
             "cold": lambda: cold_start(plan) if plan.starts else None, "train": lambda: train(plan)}
    for name in SECTIONS:
        if name not in args.sections:
            continue
        if name == "gpu":
            if torch.cuda.is_available():
                print("gpu (CUDA, bfloat16)", flush=True)
                results["gpu"] = gpu(plan, results.get("train"))
            else:
                print("gpu: no CUDA device, skipped", flush=True)
            continue
        print(name, flush=True)
        t = time.perf_counter()
        results[name] = steps[name]()
        print(f"  ({time.perf_counter() - t:.0f} s)", flush=True)
    figures = headline(results)
    report = {
        **figures, "targets": targets_met(figures), "plan": asdict(plan), **results,
        "command": args.command, **commit(), "date": date.today().isoformat(),
        "machine": machine(), "load_average": {"before": load_before, "after": os.getloadavg()},
        "seconds": time.perf_counter() - started,
    }
    print("headline")
    for key in HEADLINE:
        target = report["targets"].get(key)
        verdict = "" if target is None or target["met"] is None else (
            f"  (target ≤ {target['bound']}: {'met' if target['met'] else 'NOT met'})")
        print(f"  {key}: {_shown(figures[key])}{verdict}")
    return report


def _shown(value) -> str:
    return "not measured" if value is None else f"{value:.2f}"


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    report = run(args)
    out = Path(args.out or ROOT / "benchmarks" / "results" / f"run_all-{report['date']}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    report = _plain(report)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"written to {out}")
    if args.json:
        print(json.dumps(report))
    return report


def _plain(value):
    """JSON-ready: tuples as lists, NaN (a figure that could not be measured) as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


if __name__ == "__main__":
    main()
