"""Quality benchmark: every model on the built-in worlds and ml-latest-small, full and sampled protocols.

    python benchmarks/quality.py [--sources builtin:films,builtin:news,../shared/data/ml-latest-small]
                                 [--models sasrec,...] [--max-minutes 5] [--as-100k]
                                 [--out benchmarks/results/quality.md]

--as-100k also rewrites each MovieLens folder in the ML-100K layout (u.data, u.item, u.genre) and runs it
through that reader: the same ratings in the same file order, so the figures must match the original's.

Prints one table per source and writes them as markdown (the README quotes them). Sampled protocols rank
the true item against 100 negatives; their numbers are inflated and may order models differently.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recattn.training.compare import compare  # noqa: E402
from recattn.data import load  # noqa: E402
from recattn.results.provenance import commit  # noqa: E402

SHARED_ML = ROOT.parent / "shared" / "data" / "ml-latest-small"
PROTOCOLS = ("full", "uniform100", "popular100")
COLUMNS = ("full", "full_keep_seen", "uniform100", "popular100")  # full: seen items excluded


def as_100k_layout(folder: Path, dest: Path) -> Path:
    """Write a MovieLens latest-layout folder (ratings.csv, movies.csv) in the ML-100K layout under `dest`."""
    ratings = pd.read_csv(folder / "ratings.csv")
    movies = pd.read_csv(folder / "movies.csv")
    genres = sorted({g for gs in movies["genres"] for g in gs.split("|")})
    dest.mkdir(parents=True, exist_ok=True)
    ratings[["userId", "movieId", "rating", "timestamp"]].to_csv(dest / "u.data", sep="\t", header=False, index=False)
    flags = pd.DataFrame({g: movies["genres"].str.split("|").map(lambda gs, g=g: int(g in gs)) for g in genres})
    u_item = pd.concat([movies[["movieId"]], movies["title"].str.replace("|", "/"),
                        pd.DataFrame({"date": "", "video": "", "url": ""}, index=movies.index), flags], axis=1)
    (dest / "u.item").write_bytes(u_item.to_csv(sep="|", header=False, index=False).encode("latin-1", "replace"))
    (dest / "u.genre").write_text("".join(f"{g}|{k}\n" for k, g in enumerate(genres)), encoding="latin-1")
    return dest


def markdown(report: dict) -> str:
    head = "| model | " + " | ".join(f"{p} NDCG@10 | {p} HR@10" for p in COLUMNS) + " | coverage@10 | train s |"
    rows = [head, "|" + "---|" * (2 + 2 * len(COLUMNS) + 1)]
    for kind, row in report["models"].items():
        cells = []
        for p in COLUMNS:
            m = row["protocols"][p]
            cells += [f"{m['ndcg@10']:.4f}", f"{m['hr@10']:.4f}"]
        cov = row["protocols"]["full"]["coverage@10"]
        rows.append(f"| {kind} | " + " | ".join(cells) + f" | {cov:.3f} | {row['train_seconds']:.0f} |")
    return (f"**{report['source']}** — {report['users']} test users; full: seen items excluded, full_keep_seen: "
            f"ranked too; sampled: the true item against 100 negatives\n\n" + "\n".join(rows))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sources", default=f"builtin:films,builtin:news,{SHARED_ML}")
    p.add_argument("--models", default="sasrec,bert4rec,additive,gru,pop,itemknn")
    p.add_argument("--max-minutes", type=float, default=5.0)
    p.add_argument("--as-100k", action="store_true", help="also run each MovieLens folder in the ML-100K layout")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "quality.md"))
    args = p.parse_args()
    sources = args.sources.split(",")
    with tempfile.TemporaryDirectory() as scratch:
        if args.as_100k:
            sources += [str(as_100k_layout(Path(s), Path(scratch) / f"{Path(s).name}-as-ml-100k"))
                        for s in sources if (Path(s) / "ratings.csv").exists()]
        sections = [run(source, args) for source in sources]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n\n".join(t for t in sections if t) + "\n\n" + provenance(args) + "\n")


def provenance(args) -> str:
    """How the file was made, so that anyone can re-run it: command, commit and whether the tree was clean, seed,
    budget, threads and machine."""
    import torch

    from benchmarks.run_all import machine

    made, host = commit(), machine()
    return (f"Made by `python benchmarks/quality.py {' '.join(sys.argv[1:])}` at commit {made['commit'][:12] or '?'} "
            f"({'uncommitted changes' if made['dirty'] else 'clean tree'}), {date.today().isoformat()}: seed 0, "
            f"{args.max_minutes:g} minutes a model at most, {torch.get_num_threads()} torch threads on {host['host']} "
            f"({host['cpu']}, {host['cores']} cores).")


def run(source: str, args) -> str | None:
    """Compare every model on one source; print and return its markdown table (None when it is absent)."""
    if not source.startswith("builtin:") and not Path(source).exists():
        print(f"skip {source}: not found", file=sys.stderr)
        return None
    t0 = time.perf_counter()
    report = compare(load(source), args.models.split(","), PROTOCOLS, True,
                     {"max_minutes": args.max_minutes, "device": "cpu"}, seen_kept_too=True,
                     on_model=lambda k, n, total: print(f"  [{n + 1}/{total}] {k}", file=sys.stderr, flush=True))
    report["source"] = Path(source).name if not source.startswith("builtin:") else source
    text = markdown(report)
    print(text + f"\n\n({time.perf_counter() - t0:.0f} s)\n", flush=True)
    print(json.dumps(report), file=sys.stderr)
    return text


if __name__ == "__main__":
    main()
