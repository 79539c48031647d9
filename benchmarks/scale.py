"""MovieLens-25M-sized data: write a synthetic ratings.csv/movies.csv of any size, then measure loading, peak
memory, ItemKNN fitting and SASRec training speed on it.

    python benchmarks/scale.py [--sizes 1000000 25000000] [--items 60000] [--max-minutes 2] [--json]

Each size is generated into a temporary folder (or --keep DIR) and measured in a fresh process, so that each
peak RSS is that size's own. SASRec trains for one epoch or --max-minutes, whichever ends first; a time-boxed
epoch is extrapolated from the windows it trained (marked "extrapolated"). Validation during that epoch runs on
VALID_USERS users only: the figure is training speed, not a full evaluation.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# MovieLens-25M: 25,000,095 ratings by 162,541 users (at least 20 each) of 59,047 films.
USERS_PER_INTERACTION = 162_541 / 25_000_095
MIN_PER_USER = 20
ZIPF_EXPONENT = 1.0  # film popularity: the k-th most rated film gets about 1 / (k + ZIPF_OFFSET) of the ratings
ZIPF_OFFSET = 10
GENRES = ("Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
          "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western")
VALID_USERS = 2_000
MIB = 2**20


def write_movielens(folder: str | Path, n_interactions: int, n_items: int = 60_000, seed: int = 0) -> Path:
    """Write `folder`/ratings.csv (userId,movieId,rating,timestamp, users in order, each in time order) and
    movies.csv (movieId,title,genres) in MovieLens-25M's layout: n_interactions ratings of n_items films with
    Zipf popularity, by users with at least MIN_PER_USER ratings and a long-tailed number of them. Vectorised:
    25M rows take well under a minute."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_users = max(1, min(round(n_interactions * USERS_PER_INTERACTION), n_interactions // MIN_PER_USER))
    # per-user counts: MIN_PER_USER each, the rest shared out in proportion to a lognormal activity
    activity = rng.lognormal(0.0, 1.2, n_users)
    spare = n_interactions - MIN_PER_USER * n_users
    lengths = MIN_PER_USER + np.floor(activity / activity.sum() * spare).astype(np.int64)
    lengths[: n_interactions - lengths.sum()] += 1  # the rounding's remainder, one each
    user = np.repeat(np.arange(1, n_users + 1, dtype=np.int64), lengths)  # (n,)
    popularity = 1.0 / (np.arange(n_items) + ZIPF_OFFSET) ** ZIPF_EXPONENT
    film_of_rank = rng.permutation(n_items) + 1  # ids carry no popularity order
    movie = film_of_rank[rng.choice(n_items, size=n_interactions, p=popularity / popularity.sum())]
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    position = np.arange(n_interactions) - starts  # 0, 1, … within each user
    first = rng.integers(946_684_800, 1_546_300_800, n_users)  # 2000 to 2019
    timestamp = np.repeat(first, lengths) + 60 * position + rng.integers(0, 60, n_interactions)
    rating = rng.integers(1, 11, n_interactions) / 2.0  # 0.5 … 5.0 in halves
    options = pa_csv.WriteOptions(quoting_header="none")
    pa_csv.write_csv(pa.table({"userId": user, "movieId": movie, "rating": rating, "timestamp": timestamp}),
                     folder / "ratings.csv", options)
    ids = np.arange(1, n_items + 1)
    years = rng.integers(1920, 2020, n_items)
    picks = rng.random((n_items, len(GENRES))) < 0.15
    genres = ["|".join(g for g, on in zip(GENRES, row) if on) or "(no genres listed)" for row in picks]
    movies = pd.DataFrame({"movieId": ids, "title": [f"Film {i} ({y})" for i, y in zip(ids, years)],
                           "genres": genres})
    pa_csv.write_csv(pa.Table.from_pandas(movies, preserve_index=False), folder / "movies.csv", options)
    return folder


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(folder: Path, max_minutes: float) -> dict:
    """Load, prepare, fit ItemKNN and train SASRec for one (time-boxed) epoch on the data in `folder`."""
    import torch

    from recattn import defaults
    from recattn.training import objectives
    from recattn.config import replace
    from recattn.data import load, prepare
    from recattn.models import build_model, registry
    from recattn.training.fit import fit, validate

    out: dict = {"baseline_rss_mib": round(peak_rss_mib())}
    t = time.perf_counter()
    dataset = load(str(folder))
    out["load_s"] = round(time.perf_counter() - t, 1)
    out["rss_after_load_mib"] = round(peak_rss_mib())
    out["interactions"], out["items"] = len(dataset.interactions), len(dataset.items)
    t = time.perf_counter()
    vocab, split = prepare(dataset)
    out["prepare_s"] = round(time.perf_counter() - t, 1)
    out["users"] = len(split.train)
    out["rss_after_prepare_mib"] = round(peak_rss_mib())
    # validation on a sample: the figures are about speed and memory, not quality
    sample = dataclasses.replace(split, valid_inputs=split.valid_inputs[:VALID_USERS],
                                 valid_targets=split.valid_targets[:VALID_USERS])

    knn = build_model(defaults.model_config("itemknn", n_items=vocab.size))
    t = time.perf_counter()
    knn.fit_counts(split)
    out["itemknn_fit_s"] = round(time.perf_counter() - t, 1)
    out["itemknn_pairs"] = int(knn.col.numel())
    t = time.perf_counter()
    validate(knn, sample, torch.device("cpu"))
    out["itemknn_score_ms_per_user"] = round(1000 * (time.perf_counter() - t) / len(sample.valid_targets), 2)
    out["rss_after_itemknn_mib"] = round(peak_rss_mib())
    del knn

    model_cfg = defaults.model_config("sasrec", n_items=vocab.size)
    train_cfg = defaults.train_config("sasrec", n_items=vocab.size, epochs=1, max_minutes=max_minutes, device="cpu")
    windows = len(objectives.training_windows(split.train, model_cfg.max_len, registry.get(model_cfg.kind).causal,
                                              train_cfg.window_stride))
    model = build_model(replace(model_cfg, n_items=vocab.size), seed=0)
    starts = []  # when each training step's forward began (validation runs in eval mode and is not counted)
    model.register_forward_pre_hook(lambda module, args: starts.append(time.perf_counter()) if module.training
                                    else None)
    t = time.perf_counter()
    fit(model, sample, train_cfg)
    out["sasrec_fit_s"] = round(time.perf_counter() - t, 1)
    # the rate between the first and the last step's start: setup and validation left out
    rate = (len(starts) - 1) * train_cfg.batch_size / (starts[-1] - starts[0]) if len(starts) > 1 else float("nan")
    trained = min(len(starts) * train_cfg.batch_size, windows)
    out["sasrec_windows"], out["sasrec_windows_trained"] = windows, trained
    out["sasrec_windows_per_s"] = round(rate, 1)
    out["sasrec_epoch_s"] = round(windows / rate, 1)
    out["sasrec_epoch"] = "measured" if trained == windows else "extrapolated"
    out["peak_rss_mib"] = round(peak_rss_mib())
    out["torch_threads"] = torch.get_num_threads()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 25_000_000], help="interactions per data set")
    p.add_argument("--items", type=int, default=60_000)
    p.add_argument("--max-minutes", type=float, default=2.0, help="time box of the SASRec epoch")
    p.add_argument("--keep", help="generate into this folder (one subfolder a size) and leave the files there")
    p.add_argument("--json", action="store_true", help="print one JSON object a size")
    p.add_argument("--measure", help=argparse.SUPPRESS)  # internal: measure this folder in this process
    args = p.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(Path(args.measure), args.max_minutes)))
        return 0
    with tempfile.TemporaryDirectory(prefix="recattn-scale-") as tmp:
        for size in args.sizes:
            folder = Path(args.keep or tmp) / f"synthetic-{size}"
            t = time.perf_counter()
            write_movielens(folder, size, args.items)
            generated = round(time.perf_counter() - t, 1)
            mib = round((folder / "ratings.csv").stat().st_size / MIB)
            done = subprocess.run([sys.executable, __file__, "--measure", str(folder),
                                   "--max-minutes", str(args.max_minutes)], capture_output=True, text=True,
                                  check=False)
            if done.returncode:
                print(done.stderr[-3000:], file=sys.stderr)
                return done.returncode
            row = {"size": size, "generate_s": generated, "ratings_csv_mib": mib, **json.loads(done.stdout)}
            print(json.dumps(row) if args.json else "\n".join(f"{k:>28}: {v}" for k, v in row.items()) + "\n",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
