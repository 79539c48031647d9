"""How exactly recattn's imports reproduce RecBole: for each checkpoint in a folder (`<Model>.pth` and the
`expected-<Model>.json` that tests/fixtures/recbole/make_fixtures.py writes with RecBole's own full_sort_predict), the
imported model's top-10 among unseen items against RecBole's, for every test user, and the largest score difference.

    python benchmarks/recbole_match.py --checkpoints DIR --data ATOMIC_DIR [--out benchmarks/results/FILE.json]

With the fixtures (no RecBole needed): --checkpoints tests/fixtures/recbole --data tests/fixtures/recbole/tiny.
MovieLens 100K: make_fixtures.py --ml100k DIR in a RecBole environment writes DIR; --data is the wheel's
recbole/dataset_example/ml-100k. Prints one line per model; --out also writes them with the command and commit.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recattn import checkpoint  # noqa: E402
from recattn.data import load  # noqa: E402
from recattn.data.formats.recbole import inter_file  # noqa: E402
from recattn.importers import recbole  # noqa: E402
from recattn.recommend import Recommender  # noqa: E402
from recattn.results.provenance import commit  # noqa: E402


def match(pth: Path, expected: dict, dataset, inter: Path, out: Path) -> dict:
    """Import one checkpoint and compare it with RecBole's own answers, user by user."""
    started = time.perf_counter()
    report = recbole.import_checkpoint(pth, dataset, inter, out)
    seconds = time.perf_counter() - started
    r = Recommender(checkpoint.load(out).model, dataset.items)
    same, worst = 0, 0.0
    for user in expected["users"]:
        rec = r.recommend(user["history"], k=10, with_attention=False)
        same += [i.id for i in rec.items] == user["top10"]
        worst = max(worst, max(abs(i.score - s) for i, s in zip(rec.items, user["scores"])))
    return {"model": report.recbole_model, "kind": report.kind, "items": report.items, "users": len(expected["users"]),
            "identical_top10": same, "largest_score_difference": worst, "import_seconds": round(seconds, 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoints", required=True, type=Path)
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    dataset = load(str(args.data), format="recbole")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for expected_file in sorted(args.checkpoints.glob("expected-*.json")):
            expected = json.loads(expected_file.read_text())
            name = expected_file.stem.removeprefix("expected-")
            row = match(args.checkpoints / f"{name}.pth", expected, dataset, inter_file(args.data), Path(tmp) / name)
            rows.append({"checkpoint": name, **row})
            print(f"{name}: {row['identical_top10']}/{row['users']} users with RecBole's top-10, largest score "
                  f"difference {row['largest_score_difference']:.2e}, imported in {row['import_seconds']} s")
    if args.out:
        command = " ".join(["python benchmarks/recbole_match.py", *(argv or sys.argv[1:])])
        args.out.write_text(json.dumps({"command": command, **commit(), "data": args.data.name, "rows": rows},
                                       indent=2) + "\n")
    return 0 if all(r["identical_top10"] == r["users"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
