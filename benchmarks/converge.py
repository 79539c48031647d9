"""At convergence: each winner of an equal search trained to early stop, then tested once.

    python benchmarks/converge.py benchmarks/results/search-<name>.json [--models sasrec,gru] [--cap 15]
                                  [--seeds 0] [--threads N] [--out benchmarks/results/converge-<name>]

The search gives every model the same minutes, so its table compares how fast models learn as much as how well.
Here each neural model's chosen settings (the search's winner, nothing chosen anew) train with its own patience on
validation until validation stops improving, or until `--cap` minutes (a generous cap, not a budget); the curve of
validation NDCG@10 against seconds is recorded, then the kept weights are tested once (full ranking, seen items
excluded and kept), as the search tests. Training and validation never see a test user (`search.without_test`).

Writes <out>.json (the runs with their curves, how each stopped, the test figures; the command, commit, seeds, cap,
threads and machine) and <out>.md (the table).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import search  # noqa: E402
from benchmarks.run_all import machine  # noqa: E402
from recattn.data import load, prepare  # noqa: E402
from recattn.results.measured import label, shown  # noqa: E402
from recattn.results.provenance import commit  # noqa: E402
from recattn.training.fit import model_scorer, resolve_device  # noqa: E402

CAP_MINUTES = 15.0


def converge_kind(kind: str, settings: dict, split, seeds: list[int], cap: float, device: str, log) -> dict:
    """`settings` trained with each seed to early stop (or `cap` minutes), each tested once."""
    runs, tests = [], []
    for seed in seeds:
        done, result = search.train_try(kind, settings, seed, "converge", search.without_test(split), cap, device)
        tests.append(search.test_figures(model_scorer(result.model, resolve_device(device)), split))
        runs.append(done)
        log(f"{kind} seed {seed}: {done.stopped} after {done.epochs} epochs, {done.seconds:.0f} s; best valid "
            f"NDCG@10 {done.valid['ndcg@10']:.4f} (epoch {done.best_epoch}); test {tests[-1]['ndcg@10']:.4f}")
    figures = search._figures([t.valid for t in runs], tests)
    figures.pop("test_ranks")
    return {"settings": settings, "runs": [dataclasses.asdict(t) for t in runs],
            "seconds": search.spread([t.seconds for t in runs]), **figures}


def markdown(report: dict) -> str:
    """The table: each winner at the search's budget and trained to early stop."""
    lines = ["| model | settings (the search's winner) | stopped | minutes | valid NDCG@10 | test NDCG@10 | "
             "test NDCG@10 at the search's budget |", "|---|---|---|---:|---:|---:|---:|"]
    for kind, row in report["models"].items():
        stopped = ", ".join(sorted({r["stopped"] for r in row["runs"]}))
        minutes = "/".join(f"{r['seconds'] / 60:.1f}" for r in row["runs"])
        lines.append(f"| {label(kind)} | {shown(row['settings'])} | {stopped} | {minutes} | "
                     f"{search._pm(row['valid_ndcg'])} | {search._pm(row['test_ndcg'])} | "
                     f"{search._pm(row['at_budget'])} |")
    intro = (f"**{report['source']}** — each winner of `{report['search']}` trained to early stop (its own patience "
             f"on validation; cap {report['cap_minutes']:g} min), seeds {', '.join(map(str, report['seeds']))}; the "
             f"search's budget was {report['search_minutes']:g} min. Test computed once per run. Mean ± sd over "
             "seeds where there are several.")
    made = (f"`{report['command']}` — commit {report['commit'][:12]}{' (dirty tree)' if report['dirty'] else ''}, "
            f"{report['date']}, {report['threads']} torch threads on {report['machine']['nproc']} cores, "
            f"{report['seconds'] / 60:.1f} min.")
    return "\n".join([intro, "", *lines, "", made, ""])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("search", help="a results file of benchmarks/search.py")
    p.add_argument("--models", default=None, help="which of its neural models (default: all)")
    p.add_argument("--cap", type=float, default=CAP_MINUTES, help="minutes at most per run")
    p.add_argument("--seeds", default="0")
    p.add_argument("--data", default=None, help="the source, when not where the search found it")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    args.command = " ".join(["python benchmarks/converge.py", *(sys.argv[1:] if argv is None else argv)])
    args.seeds = [int(s) for s in args.seeds.split(",")]
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    started = time.perf_counter()
    log = search.stamped_log(args.threads)

    found = json.loads(Path(args.search).read_text())
    source = args.data or next(a for a in found["command"].split("--data ")[1:]).split()[0]
    neural = {k: row for k, row in found["models"].items() if row.get("configs") and not row.get("two_stage")}
    kinds = args.models.split(",") if args.models else list(neural)
    unknown = [k for k in kinds if k not in neural]
    if unknown:
        raise SystemExit(f"--models: {', '.join(unknown)} not searched in {args.search}; it has {', '.join(neural)}")
    made_from = commit()
    _, split = prepare(load(source))
    torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))])  # torch._dynamo's import is not the first run's time
    rows = {}
    for kind in kinds:
        row = converge_kind(kind, neural[kind]["settings"], split, args.seeds, args.cap, args.device, log)
        at_budget = neural[kind]["test_ndcg"]["values"]
        row["at_budget"] = search.spread([at_budget[found["seeds"].index(s)] for s in args.seeds])
        rows[kind] = row
    report = {"source": found["source"], "search": Path(args.search).name, "search_minutes": found["budget"]["minutes"],
              "cap_minutes": args.cap, "users": int(len(split.test_targets)), "models": rows,
              "command": args.command, **made_from, "date": date.today().isoformat(), "seeds": args.seeds,
              "threads": torch.get_num_threads(), "machine": {**machine(), "nproc": len(os.sched_getaffinity(0))},
              "seconds": round(time.perf_counter() - started, 1)}
    name = Path(args.search).stem.removeprefix("search-")
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / f"converge-{name}"
    out.with_name(out.name + ".json").write_text(json.dumps(report, indent=1) + "\n")
    out.with_name(out.name + ".md").write_text(markdown(report))
    print(markdown(report))
    log(f"written to {out}.md and {out}.json")
    return report


if __name__ == "__main__":
    main()
