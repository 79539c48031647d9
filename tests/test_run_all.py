"""benchmarks/run_all.py: its arguments, the headline figures it derives, one tiny run whose last line is the JSON
object with every headline key, and one training job's figures on a tiny data set."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import recattn.training.fit
from benchmarks import run_all


def test_arguments():
    args = run_all.parse_args([])
    assert args.plan is run_all.FULL and args.sections == run_all.SECTIONS and not args.json
    assert run_all.parse_args(["--quick", "--json"]).plan is run_all.QUICK
    assert run_all.parse_args(["--sections", "inference,cold"]).sections == ("inference", "cold")
    for wrong in (["--quick", "--smoke"], ["--sections", "inference,speed"]):
        with pytest.raises(SystemExit):
            run_all.parse_args(wrong)


def test_headline_figures_and_targets():
    results = {
        "inference": {"rows": [
            {"kind": "sasrec", "items": 10_000, "history": 50, "median_ms": 1.2, "p95_ms": 6.0},
            {"kind": "sasrec", "items": 60_000, "history": 50, "median_ms": 4.0, "p95_ms": 9.0},
            {"kind": "gru", "items": 10_000, "history": 50, "median_ms": 0.5, "p95_ms": 0.7}]},
        "app": {"pages": {"pages/attention.py": {"median_ms": 80.0}, "pages/learn.py": {"median_ms": 200.0}}},
        "cold": {"first": {"median_s": 9.0}, "warm": {"median_s": 2.5}},
        "train": {"runs": [{"kind": "sasrec", "source": "ml-latest-small", "seconds_to_95pct": 50.0},
                           {"kind": "sasrec", "source": "builtin:films", "wall_seconds": 70.0}]},
    }
    figures = run_all.headline(results)
    assert figures == {"recommend_p50_ms": 1.2, "recommend_p95_ms": 6.0, "recommend_60k_p50_ms": 4.0,
                       "page_rerun_p50_ms": 80.0, "page_rerun_worst_p50_ms": 200.0, "cold_start_s": 2.5,
                       "cold_start_first_s": 9.0, "train_seconds_to_95pct": 50.0, "train_seconds_builtin_films": 70.0}
    met = {key: t["met"] for key, t in run_all.targets_met(figures).items()}
    assert met == {"recommend_p50_ms": True, "recommend_p95_ms": False, "recommend_60k_p50_ms": True,
                   "page_rerun_worst_p50_ms": False, "cold_start_s": True, "train_seconds_to_95pct": True,
                   "train_seconds_builtin_films": False}
    assert all(v is None for v in run_all.headline({}).values())


def test_a_smoke_run_ends_with_the_json_object(tmp_path, capsys):
    out = tmp_path / "results.json"
    run_all.main(["--smoke", "--json", "--sections", "inference", "--out", str(out)])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    report = json.loads(last)
    assert set(run_all.HEADLINE) <= set(report)
    assert report["recommend_p50_ms"] is None  # the smoke grid has no 10k catalogue
    assert [(r["kind"], r["items"], r["history"]) for r in report["inference"]["rows"]] == [("sasrec", 200, 5),
                                                                                           ("pop", 200, 5)]
    assert report["inference"]["rows"][0]["trace_shape"] == [2, 2, 5, 5]
    assert len(report["commit"]) == 40 and report["machine"]["cores"] >= 1 and "--smoke" in report["command"]
    assert json.loads(out.read_text()) == report


def test_a_training_job_measures_the_run(tmp_path):
    rng = np.random.default_rng(0)
    rows = [f"u{u},i{rng.integers(1, 30)},{t}" for u in range(40) for t in range(12)]
    (tmp_path / "interactions.csv").write_text("user,item,timestamp\n" + "\n".join(rows) + "\n")
    validate = recattn.training.fit.validate
    run = run_all.train_job("sasrec", str(tmp_path), minutes=0.1)
    assert recattn.training.fit.validate is validate  # the timing wrapper is taken off again
    assert run["epochs"] >= 1 and run["windows"] == 40 and run["stopped"] in ("time", "early", "epochs")
    assert 0 < run["seconds_to_95pct"] <= run["wall_seconds"] + 0.5
    assert run["sequences_per_second"] > 0 and run["seconds_per_epoch"] > 0 and run["peak_rss_mb"] > 50
    assert not math.isnan(run["best_valid_ndcg10"])
