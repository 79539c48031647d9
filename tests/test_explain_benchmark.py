"""The explanation benchmark: cases and distances from the planted causes, the top-1 credit, the baselines, the
head chosen on validation, the JSON shape, the results file and the CLI, on tiny hand-made data and models."""

import json

import numpy as np
import pandas as pd
import pytest

import recattn.data
from recattn import checkpoint, paths
from recattn.analysis import explain
from recattn.analysis import explain_benchmark as eb
from recattn.cli import main
from recattn.config import ModelConfig, TrainConfig
from recattn.data import prepare
from recattn.data.dataset import Dataset
from recattn.data.info import cause_sets
from recattn.errors import RecAttnError
from recattn.models import build_model

AGREEMENT_KEYS = {f"{m}{part}" for m in ("top1", "top3", "cases", "chance", "chance3")
                  for part in ("", "_far", "_right", "_far_right")} | {"by_distance", "by_cause"}
BINS = {"1", "2-5", "6+"}


def _dataset() -> Dataset:
    """Items "1".."12" (model indices 1..12) and four users; the causes are written per interaction."""
    items = pd.DataFrame({"item_id": [str(i) for i in range(1, 13)], "title": [f"t{i}" for i in range(1, 13)],
                          "genres": "", "year": pd.array([pd.NA] * 12, dtype="Int64")})
    rows = [  # user, item, cause_item
        ("u1", "1", ""), ("u1", "2", ""), ("u1", "3", "1"), ("u1", "4", ""), ("u1", "5", "2"),  # test: 3 back
        ("u2", "6", ""), ("u2", "7", "6"), ("u2", "8", "7"),  # valid and test: 1 back
        ("u3", "9", ""), ("u3", "10", "9"),  # too short to split: never a case
        ("u4", "11", ""), ("u4", "12", ""), ("u4", "1", "12"), ("u4", "3", "11"),  # valid: 1 back, test: 3 back
    ]
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "cause_item"])
    inter.insert(2, "timestamp", np.arange(len(inter), dtype=np.int64))
    inter["cause"] = np.where(inter["cause_item"] == "", "taste", "genre")
    inter.loc[7, "cause"] = "franchise"  # u2's test item continues the one before it
    return Dataset("builtin:films", "builtin", items, inter)


def _model(kind="sasrec", max_len=3, n_items=12):
    cfg = ModelConfig(kind=kind, n_items=n_items, max_len=max_len, hidden=8, layers=2, heads=2, dropout=0.0)
    return build_model(cfg, seed=0).eval()


def test_cases_come_from_the_split_with_the_right_distances():
    test = eb.planted_cases(_dataset(), "test")
    assert [(c.user, c.item, c.distance) for c in test] == [("u1", 5, 3), ("u2", 8, 1), ("u4", 3, 3)]
    assert [c.history.tolist() for c in test] == [[1, 2, 3, 4], [6, 7], [11, 12, 1]]
    assert [int(c.history[c.cause]) for c in test] == [2, 7, 11]  # the cause_item itself
    valid = eb.planted_cases(_dataset(), "valid")
    assert [(c.user, c.item, c.distance, c.history.tolist()) for c in valid] == [
        ("u2", 7, 1, [6]), ("u4", 1, 1, [11, 12])]


def test_cases_of_a_generated_world_point_at_its_cause_items(small_world):
    vocab, _ = prepare(small_world)
    last = small_world.interactions.groupby("user_id", sort=False).tail(1).set_index("user_id")["cause_item"]
    cases = eb.planted_cases(small_world)
    assert len(cases) > 50 and {c.distance for c in cases} >= {1, 2}  # the world plants causes further back
    for c in cases:
        assert vocab.id_of(int(c.history[c.cause])) == last[c.user]
    assert len(cases) == (last != "").sum()  # every single-item cause is found, none made up


def test_a_source_without_causes_is_refused():
    data = _dataset()
    bare = Dataset(data.name, data.format, data.items, data.interactions.drop(columns="cause_item"))
    with pytest.raises(RecAttnError, match="no planted causes"):
        eb.planted_cases(bare)


def test_window_is_what_the_model_reads():
    assert eb.window(_model("sasrec", max_len=5)) == 5
    assert eb.window(_model("bert4rec", max_len=5)) == 4  # the mask slot takes one position


def test_top1_credit_ties_signs_and_the_window():
    case = eb.Case("u", np.array([1, 2, 3, 4]), 9, distance=2)  # the cause is position 2
    assert eb.hit(np.array([0, 0.1, 0.5, 0.2]), case, 4) == 1.0
    assert eb.hit(np.array([0, 0.1, 0.2, 0.5]), case, 4) == 0.0
    assert eb.hit(np.array([0.5, 0.1, 0.5, 0.5]), case, 4) == pytest.approx(1 / 3)
    assert eb.hit(np.array([0.5, 0.1, 0.5, 0.5]), case, 3) == pytest.approx(1 / 2)  # position 0 is outside
    assert eb.hit(np.array([-3.0, -0.1, -0.2, -0.5]), case, 4) == 0.0  # nothing pushes the item up
    assert eb.hit(np.array([0.0, 0.0, 0.0, 0.0]), case, 4) == 0.0
    with pytest.raises(ValueError):  # the cause outside the window is no case
        eb.hit(np.array([0, 0.1, 0.5, 0.2]), case, 1)


def test_a_cause_set_credits_any_of_its_items_top3_and_chance():
    # causes 1 and 3 back (positions 4 and 2 of 5)
    case = eb.Case("u", np.array([1, 2, 3, 4, 5]), 9, distance=3, causes=(1, 3))
    assert case.nearest == 1 and case.cause == 2
    assert eb.hit(np.array([0, 0, 0.9, 0.1, 0.2]), case, 5) == 1.0  # the recorded one
    assert eb.hit(np.array([0, 0, 0.1, 0.1, 0.9]), case, 5) == 1.0  # another item the rule admits
    assert eb.hit(np.array([0.9, 0.8, 0.1, 0.7, 0.2]), case, 5, k=3) == 0.0  # top 3: positions 0, 1, 3
    assert eb.hit(np.array([0.9, 0.8, 0.7, 0.1, 0.2]), case, 5, k=3) == 1.0
    # three tie for the last two slots of the top 3, one of them a cause: 1 − C(2, 2) / C(3, 2)
    assert eb.hit(np.array([0.9, 0.5, 0.5, 0.5, 0.1]), case, 5, k=3) == pytest.approx(1 - 1 / 3)
    assert eb.chance(case, 5) == pytest.approx(2 / 5)
    assert eb.chance(case, 5, 3) == pytest.approx(1 - 1 / 10)  # C(3, 3) / C(5, 3)
    assert eb.chance(case, 2) == pytest.approx(1 / 2)  # in a window of 2 only the newest is a cause


def test_cause_sets_hold_every_item_the_rule_admits():
    items = pd.DataFrame({"item_id": list("abcdefg"), "title": list("abcdefg"),
                          "genres": ["X", "Y", "X|Z", "Y", "Z", "X", "Q"], "franchise": [1, -1, 1, -1, -1, 1, -1]})
    rows = [("u", "a", "", "taste"), ("u", "b", "", "taste"), ("u", "c", "a", "franchise"),
            ("u", "d", "", "taste"), ("u", "f", "c", "franchise"),  # parts a and c came before f: both admitted
            ("u", "e", "c", "genre"),  # Z, as c; among the last 3 (d, f, c... f has X only): c alone
            ("u", "g", "e", "genre"),  # Q: no recent item shares it, the recorded one stays
            ("v", "b", "", "taste"), ("v", "d", "b", "genre")]
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "cause_item", "cause"])
    inter.insert(2, "timestamp", np.arange(len(inter)))
    assert cause_sets(inter, items) == [(), (), (2,), (), (2, 4), (3,), (1,), (), (1,)]


def test_oracle_scores_one_and_the_baselines_are_exact():
    model = _model(max_len=3)
    cases = eb.planted_cases(_dataset())  # distances 3 (history 4), 1 (history 2), 3 (history 3)

    def explainer(case):
        onehot = np.zeros(len(case.history))
        onehot[case.cause] = 1.0
        return {"oracle": onehot, "flat": np.ones(len(case.history)), "negated": -onehot}

    r = eb.benchmark(model, cases, explainer=explainer)
    assert (r["window"], r["cases"], r["cases_available"]) == (3, 3, 3)
    m, b = r["methods"], r["baselines"]
    assert m["oracle"]["top1"] == 1.0 and m["oracle"]["top1_far"] == 1.0 and m["oracle"]["top3"] == 1.0
    assert m["negated"]["top1"] == 0.0
    assert m["flat"]["top1"] == pytest.approx((1 / 3 + 1 / 2 + 1 / 3) / 3)  # ties share: the random expectation
    assert b["random"]["top1"] == pytest.approx((1 / 3 + 1 / 2 + 1 / 3) / 3)  # 1 / items in the window
    assert b["random"]["top1"] == pytest.approx(b["random"]["chance"])  # the random row is the chance rate
    assert b["random"]["top1_far"] == pytest.approx(1 / 3) and b["random"]["top3_far"] == 1.0  # 3 of a window of 3
    assert (b["most_recent"]["by_distance"]["1"]["top1"], b["most_recent"]["top1_far"]) == (1.0, 0.0)
    assert b["most_recent"]["top1"] == pytest.approx(1 / 3)
    assert (b["most_recent"]["cases"], b["most_recent"]["cases_far"]) == (3, 2)
    assert b["most_recent"]["by_distance"]["6+"]["top1"] is None  # no case 6+ back
    by_cause = b["most_recent"]["by_cause"]  # per planted rule: u2's continuation is 1 back, the genre picks 3
    assert (by_cause["franchise"]["top1"], by_cause["franchise"]["cases"], by_cause["franchise"]["cases_far"]) == (
        1.0, 1, 0)
    assert (by_cause["genre"]["top1"], by_cause["genre"]["top1_far"], by_cause["genre"]["cases_far"]) == (0.0, 0.0, 2)
    assert m["oracle"]["by_cause"]["genre"]["top1_far"] == 1.0
    # right cases: those whose item the model's top 10 holds (of 12 items, an untrained model's)
    right = [eb.right_and_used(model, c)[0] for c in cases]
    assert m["oracle"]["cases_right"] == sum(right) and r["usage"]["right"] == sum(right)
    assert 0 <= r["usage"]["used"] <= r["usage"]["right"]
    # a window of 2 keeps only the case whose cause is 1 back
    short = eb.benchmark(_model(max_len=2), cases, explainer=explainer)
    assert (short["cases"], short["baselines"]["random"]["top1"]) == (1, 0.5)
    assert eb.benchmark(model, cases, users=2, explainer=explainer)["cases"] == 2


def test_right_and_used_by_hand():
    model = _model(max_len=3)
    case = eb.Case("u", np.array([1, 2, 3]), 4, distance=1, causes=(1, 2))
    scores = explain.score_batch(model, np.array([[1, 2, 3], [0, 0, 1]])).scores
    before, after = (int(x) for x in explain.ranks(scores, np.array([[1, 2, 3], [0, 0, 1]]), 4))
    assert eb.right_and_used(model, case) == (before <= 10, before <= 10 < after)
    assert eb.right_and_used(model, case, k=1) == (before <= 1, before <= 1 < after)


def test_the_best_head_is_chosen_on_validation(monkeypatch):
    model = _model(max_len=3)
    valid = eb.planted_cases(_dataset(), "valid")

    def rows(model, history, item):  # (layers, heads, T): only L2H1 puts its weight on the newest item
        out = np.full((2, 2, len(history)), 0.5)
        out[0, 1, 0] = 1.0  # L1H2: the oldest
        out[1, 0, -1] = 1.0
        return out

    monkeypatch.setattr(eb, "attention_rows", rows)
    assert eb.best_head(model, valid) == {"head": "attention_L2H1", "valid_top1": 1.0, "valid_cases": 2}
    assert eb.best_head(model, ()) is None


def test_a_real_model_gets_every_method_and_its_best_head_as_json():
    data = _dataset()
    r = eb.benchmark(_model(max_len=3), eb.planted_cases(data), eb.planted_cases(data, "valid"))
    assert {"attention", "rollout", "occlusion", "grad_x_input", "integrated_gradients", "attention_L2H1",
            eb.BEST_HEAD} <= set(r["methods"])
    assert r["methods"][eb.BEST_HEAD] == r["methods"][r["best_head"]["head"]]
    for a in (*r["methods"].values(), *r["baselines"].values()):
        assert set(a) == AGREEMENT_KEYS and set(a["by_distance"]) == BINS and a["cases"] == 3
    assert set(r["baselines"]) == {"random", "most_recent"}
    assert json.loads(json.dumps(r)) == r  # plain JSON types only
    # a GRU has no attention: the gradient methods and occlusion, no head
    gru = eb.benchmark(_model("gru", max_len=3), eb.planted_cases(data), eb.planted_cases(data, "valid"))
    assert set(gru["methods"]) == {"occlusion", "grad_x_input", "integrated_gradients"} and gru["best_head"] is None


def test_cli_json_table_results_file_and_load_results(tmp_path, monkeypatch, capsys):
    data = _dataset()
    monkeypatch.setattr(recattn.data, "load", lambda source, **kw: data)
    monkeypatch.setattr(paths, "RESULTS", tmp_path)
    ckpt = checkpoint.save(tmp_path / "m", _model(max_len=3), TrainConfig(), data.name, data.fingerprint)
    out = tmp_path / "explain-films.json"
    assert main(["explain-benchmark", "--data", "builtin:films", "--checkpoint", str(ckpt), "--json",
                 "--out", str(out)]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    assert {"model", "checkpoint", "methods", "baselines", "usage"} <= set(result) and result["model"] == "sasrec"
    for method in result["methods"].values():  # what a reviewer reads first, for every method
        assert {"top1_far", "cases_far", "top1_far_right", "cases_far_right", "top3_far_right", "chance_far"} <= set(
            method)
    assert result["cases"] == 3 and result["checkpoint"] == str(ckpt.resolve())
    saved = eb.load_results("builtin:films")
    assert {"command", "commit", "date", "threads", "cases", "models"} <= set(saved)
    assert saved["models"] == [result] and saved["cases"] == {str(ckpt.resolve()): 3}
    assert saved["command"].startswith("python -m recattn explain-benchmark --data builtin:films --checkpoint")
    assert eb.load_results("news") is None
    assert main(["explain-benchmark", "--data", "builtin:films", "--checkpoint", str(ckpt)]) == 0
    text = capsys.readouterr().out
    assert "most_recent (baseline)" in text and "3 of 3 cases" in text
    out.write_text("{not json")
    with pytest.raises(RecAttnError, match="cannot be read"):
        eb.load_results("films")


def test_shipped_checkpoints_are_the_worlds_attention_models():
    names = [p.name for p in eb.shipped_checkpoints("builtin:films")]
    assert names[:4] == ["films-sasrec", "films-bert4rec", "films-sasrec-additive", "films-additive"]
    assert "films-pop" not in names
