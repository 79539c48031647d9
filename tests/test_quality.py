"""The shipped SASRec must find the planted rules: at least twice popularity's NDCG@10 on the same split; and a quality
results file says how it was made."""

from pathlib import Path

from recattn import checkpoint
from recattn.config import ModelConfig, TrainConfig
from recattn.data import load, prepare
from recattn.models import build_model
from recattn.training.fit import fit, model_scorer
from recattn.results.evaluate import evaluate

SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "models" / "films-sasrec"


def test_shipped_sasrec_beats_popularity_twice_over():
    films = load("builtin:films")
    vocab, split = prepare(films)
    pop = fit(build_model(ModelConfig(kind="pop", n_items=vocab.size)), split, TrainConfig(device="cpu")).model
    pop_test = evaluate(model_scorer(pop, "cpu"), split.test_inputs, split.test_targets, split.n_items)
    sasrec = checkpoint.load(SHIPPED)
    sas_test = evaluate(model_scorer(sasrec.model, "cpu"), split.test_inputs, split.test_targets, split.n_items)
    assert pop_test["ndcg@10"] > 0  # popularity is a real baseline, not a zero
    assert sas_test["ndcg@10"] >= 2 * pop_test["ndcg@10"], (sas_test["ndcg@10"], pop_test["ndcg@10"])


def test_a_quality_file_says_how_it_was_made():
    import argparse
    import re

    from benchmarks import quality

    line = quality.provenance(argparse.Namespace(max_minutes=2.5))
    assert re.search(r"at commit [0-9a-f]{12} \((clean tree|uncommitted changes)\)", line)
    assert "seed 0, 2.5 minutes a model at most" in line and re.search(r"\d+ torch threads on \S+", line)
