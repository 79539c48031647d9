"""Pre-norm or post-norm: SASRec with its defaults and each norm placement, the same time budget and seeds, judged on
validation NDCG@10 alone (the default is chosen by this; no test figure is computed).

    python benchmarks/norm_placement.py [--sources builtin:films,../shared/data/ml-latest-small] [--minutes 2]
                                        [--seeds 0,1,2] [--out benchmarks/results/norm-placement.json]

Run it alone (a time budget on a shared 2-core machine measures the neighbours too). Prints a row per source and
placement (mean ± sd over the seeds) and whether the gap exceeds the seeds' spread; --out writes the runs with the
command, commit, seeds, budget and thread count.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from recattn import defaults  # noqa: E402
from recattn.data import load, prepare  # noqa: E402
from recattn.models import build_model  # noqa: E402
from recattn.results.provenance import commit  # noqa: E402
from recattn.training.fit import fit  # noqa: E402

PLACEMENTS = ("pre", "post")


def run(source: str, norm: str, seed: int, minutes: float) -> dict:
    """One SASRec with the defaults and `norm`, trained within `minutes`: its best validation figures."""
    vocab, split = prepare(load(source))
    model_cfg = defaults.model_config("sasrec", n_items=vocab.size, norm=norm)
    train_cfg = defaults.train_config("sasrec", n_items=vocab.size, seed=seed, max_minutes=minutes, device="cpu")
    started = time.perf_counter()
    result = fit(build_model(model_cfg, seed=seed), split, train_cfg)
    return {"source": source, "norm": norm, "seed": seed, "valid_ndcg@10": result.best_valid["ndcg@10"],
            "best_epoch": result.best_epoch, "epochs": len(result.history), "seconds": round(time.perf_counter() -
                                                                                            started, 1)}


def summary(rows: list[dict]) -> list[dict]:
    """Per source and placement: mean and sd of validation NDCG@10 over the seeds; per source, whether the gap
    between the placements exceeds the larger of their seed spreads (two sds)."""
    out = []
    for source in dict.fromkeys(r["source"] for r in rows):
        stats = {}
        for norm in PLACEMENTS:
            scores = [r["valid_ndcg@10"] for r in rows if r["source"] == source and r["norm"] == norm]
            stats[norm] = (statistics.mean(scores), statistics.stdev(scores) if len(scores) > 1 else 0.0)
        gap = stats["post"][0] - stats["pre"][0]
        noise = 2 * max(stats["pre"][1], stats["post"][1])
        out.append({"source": source, **{f"{n}_mean": stats[n][0] for n in PLACEMENTS},
                    **{f"{n}_sd": stats[n][1] for n in PLACEMENTS}, "post_minus_pre": gap,
                    "beyond_noise": abs(gap) > noise})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sources", default="builtin:films," + str(ROOT.parent / "shared" / "data" / "ml-latest-small"))
    p.add_argument("--minutes", type=float, default=2.0)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for source in args.sources.split(","):
        for seed in seeds:
            for norm in PLACEMENTS:  # alternated, so a slow spell of the machine touches both
                rows.append(run(source, norm, seed, args.minutes))
                print(json.dumps(rows[-1]), flush=True)
    table = summary(rows)
    for row in table:
        print(f"{Path(row['source']).name}: pre {row['pre_mean']:.4f} ± {row['pre_sd']:.4f}, post "
              f"{row['post_mean']:.4f} ± {row['post_sd']:.4f} (validation NDCG@10, {len(seeds)} seeds); post − pre "
              f"{row['post_minus_pre']:+.4f}, {'beyond' if row['beyond_noise'] else 'within'} twice the seeds' sd")
    if args.out:
        command = " ".join(["python benchmarks/norm_placement.py", *(argv if argv is not None else sys.argv[1:])])
        args.out.write_text(json.dumps({"command": command, **commit(), "seeds": seeds, "minutes": args.minutes,
                                        "threads": torch.get_num_threads(), "runs": rows, "summary": table},
                                       indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
