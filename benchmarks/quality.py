"""Quality benchmark: every model on the built-in worlds and ml-latest-small, full and sampled protocols.

    python benchmarks/quality.py [--sources builtin:films,builtin:news,../shared/data/ml-latest-small]
                                 [--models sasrec,...] [--max-minutes 5] [--out benchmarks/results/quality.md]

Prints one table per source and writes them as markdown (the README quotes them). Sampled protocols rank
the true item against 100 negatives; their numbers are inflated and may order models differently.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recattn.compare import compare  # noqa: E402
from recattn.data import load  # noqa: E402

SHARED_ML = ROOT.parent / "shared" / "data" / "ml-latest-small"
PROTOCOLS = ("full", "uniform100", "popular100")


def markdown(report: dict, keep_seen: bool) -> str:
    head = "| model | " + " | ".join(f"{p} NDCG@10 | {p} HR@10" for p in PROTOCOLS) + " | coverage@10 | train s |"
    rows = [head, "|" + "---|" * (2 + 2 * len(PROTOCOLS) + 1)]
    for kind, row in report["models"].items():
        cells = []
        for p in PROTOCOLS:
            m = row["protocols"][p]
            cells += [f"{m['ndcg@10']:.4f}", f"{m['hr@10']:.4f}"]
        cov = row["protocols"]["full"]["coverage@10"]
        rows.append(f"| {kind} | " + " | ".join(cells) + f" | {cov:.3f} | {row['train_seconds']:.0f} |")
    seen = "seen items kept (ranked too)" if keep_seen else "seen items excluded"
    return f"**{report['source']}** — {report['users']} test users, full ranking with {seen}\n\n" + "\n".join(rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sources", default=f"builtin:films,builtin:news,{SHARED_ML}")
    p.add_argument("--models", default="sasrec,bert4rec,additive,gru,pop,itemknn")
    p.add_argument("--max-minutes", type=float, default=5.0)
    p.add_argument("--keep-seen", action="store_true")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "quality.md"))
    args = p.parse_args()
    sections = []
    for source in args.sources.split(","):
        if not source.startswith("builtin:") and not Path(source).exists():
            print(f"skip {source}: not found", file=sys.stderr)
            continue
        t0 = time.perf_counter()
        report = compare(load(source), args.models.split(","), PROTOCOLS, not args.keep_seen,
                         {"max_minutes": args.max_minutes, "device": "cpu"},
                         on_model=lambda k, n, total: print(f"  [{n + 1}/{total}] {k}", file=sys.stderr, flush=True))
        report["source"] = Path(source).name if not source.startswith("builtin:") else source
        text = markdown(report, args.keep_seen)
        print(text + f"\n\n({time.perf_counter() - t0:.0f} s)\n", flush=True)
        print(json.dumps(report), file=sys.stderr)
        sections.append(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
