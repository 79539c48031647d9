"""benchmarks/search.py: the search space starts at the neutral recipe and holds today's defaults, the paired tests
on known vectors, Holm's correction and the seed-level test, and one tiny run (two kinds, two configurations, two
seeds) in which test figures are computed only for the winners."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from benchmarks import search
from recattn import defaults
from recattn.results import measured
from recattn.data.builtin import generate_films

KINDS = ("sasrec", "gru", "additive")  # sasrec and additive also chain into a two-stage row
SEEDS = (0, 1)


@pytest.mark.parametrize("kind", sorted(search.SPACE))
def test_the_first_configuration_is_the_neutral_recipe_and_the_rest_are_fixed_draws(kind):
    space = search.configurations(kind, 8)
    model, train = search.configs_for(kind, space[0], 500, 3.0, 0, "cpu")
    assert model == defaults.model_config(kind, n_items=500)  # the declared architecture
    recipe = {k: v for k, v in search.NEUTRAL.items() if k in search.SPACE[kind]}
    assert {k: getattr(train, k) for k in recipe} == recipe  # with nothing beyond plain training
    declared = defaults.train_config(kind, n_items=500, max_minutes=3.0, seed=0, device="cpu")
    assert train == search.configs_for(kind, search.default_settings(kind), 500, 3.0, 0, "cpu")[1].__class__(
        **{**declared.__dict__, **recipe})
    assert space == search.configurations(kind, 8)  # drawn with a fixed seed: a rerun tries the same ones
    assert len({json.dumps(s, sort_keys=True) for s in space}) == 8
    for settings in (*space, search.default_settings(kind)):
        assert settings.keys() == search.SPACE[kind].keys()
        assert all(v in search.SPACE[kind][k] for k, v in settings.items())  # today's defaults lie on the grid too
    assert search.configurations(kind, 3) == space[:3]


def test_every_neural_kind_with_one_hidden_state_per_position_searches_the_same_recipe():
    for kind in ("sasrec", "sasrec-additive", "bert4rec", "gru", "narm"):
        assert search.RECIPE.items() <= search.SPACE[kind].items(), kind
    # the window stride only for the next-item kinds: a masked-item kind's windows never overlap
    assert [k for k in search.SPACE if "window_stride" in search.SPACE[k]] == ["sasrec", "bert4rec"][:1] + [
        "sasrec-additive", "gru", "narm"]


def test_holms_correction_by_hand():
    # sorted 0.01, 0.02, 0.04 (m = 3): 0.03, 0.04, 0.04 (kept monotone); back in the given order
    assert search.holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert search.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert search.holm([]) == []


def test_a_gap_the_seeds_spread_explains_is_within_noise_and_the_verdict_says_which_test_decided():
    assert search.seed_test([0.06, 0.061, 0.059], [0.03, 0.031, 0.029]) < 0.001
    assert search.seed_test([0.0565, 0.0537, 0.0595], [0.054, 0.056, 0.058]) > 0.5  # three searches' SASRec
    assert search.seed_test([0.05], [0.04]) == 1.0 and search.seed_test([0.05, 0.05], [0.05, 0.05]) == 1.0
    assert search.seed_test([0.05, 0.05], [0.04, 0.04]) == 0.0
    # against a counted baseline (one figure, nothing to vary): the seeds against that figure
    assert search.seed_test([0.06, 0.061, 0.059], [0.05]) < 0.01 and search.seed_test([0.04], [0.05, 0.03, 0.04]) > 0.9
    base = np.random.default_rng(1).uniform(0, 0.5, 300)
    users_say_yes = search.paired(base + 0.2, base)
    pairs = [{"a": "x", "b": "y", **users_say_yes, "seed_p": 0.3},  # the seeds disagree
             {"a": "x", "b": "z", **users_say_yes, "seed_p": 0.001},  # both agree
             {"a": "y", "b": "z", **search.paired(base, base.copy()), "seed_p": 1.0}]
    out = search.verdicts(pairs)
    assert [(p["verdict"], p["decided_by"]) for p in out] == [
        ("within noise", "seed test"), ("beyond noise", "both tests"), ("no difference", "identical per-user figures")]
    assert out[1]["seed_p_holm"] == pytest.approx(0.003) and out[0]["user_verdict"] == "beyond noise"


def test_a_space_too_small_for_the_budget_is_refused():
    with pytest.raises(ValueError, match="fewer than"):
        search.configurations("gru", 10**6)


def test_per_user_ndcg_averages_the_seeds():
    got = search.user_ndcg([np.array([0.0, 1.0, 10.0]), np.array([1.0, math.inf, 9.0])])
    assert got == pytest.approx([(1 + 1 / math.log2(3)) / 2, 1 / math.log2(3) / 2, 1 / math.log2(11) / 2])


def test_sign_test_on_known_counts():
    assert search.sign_test(0, 0) == 1.0
    assert search.sign_test(3, 3) == 1.0
    assert search.sign_test(5, 0) == pytest.approx(2 / 32)
    assert search.sign_test(1, 9) == pytest.approx(2 * 11 / 1024)


def test_paired_comparison_tells_noise_from_a_real_difference():
    base = np.random.default_rng(1).uniform(0, 0.5, 300)
    same = search.paired(base, base.copy())
    assert same["verdict"] == "no difference" and same["ci95"] == [0.0, 0.0] and same["sign_p"] == 1.0
    assert same["ties"] == 300
    better = search.paired(base + 0.2, base)
    assert better["verdict"] == "beyond noise" and better["wins"] == 300 and better["sign_p"] < 1e-80
    assert better["mean_diff"] == pytest.approx(0.2) and better["ci95"][0] > 0
    worse = search.paired(base, base + 0.2)
    assert worse["verdict"] == "beyond noise" and worse["ci95"][1] < 0
    swings = search.paired(base + np.where(np.arange(300) % 2, 0.1, -0.1), base)  # as many up as down
    assert swings["verdict"] == "within noise" and swings["ci95"][0] < 0 < swings["ci95"][1]
    assert swings["sign_p"] == 1.0


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One search on a tiny film world with spies on training and on the test evaluation."""
    world = generate_films(seed=3, n_films=60, n_users=80, n_franchises=10)
    events = []
    fit, test_figures, model_scorer = search.fit, search.test_figures, search.model_scorer

    def spy_fit(model, split, cfg, *args, **kwargs):
        events.append(("fit", model.config.kind, len(split.test_targets)))
        return fit(model, split, cfg, *args, **kwargs)

    def spy_scorer(model, device):  # tags each scorer with its model, for spy_test
        scorer = model_scorer(model, device)
        scorer.model = model
        return scorer

    def spy_test(scorer, split):
        model = getattr(scorer, "model", None)  # None: the two-stage scorer
        events.append(("test", model.config.kind if model else "two-stage", model))
        return test_figures(scorer, split)

    out = tmp_path_factory.mktemp("search") / "search-tiny"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(search, "load", lambda source: world)
        mp.setattr(search, "fit", spy_fit)
        mp.setattr(search, "test_figures", spy_test)
        mp.setattr(search, "model_scorer", spy_scorer)
        search.main(["--data", "tiny", "--models", ",".join(KINDS), "--configs", "2", "--minutes", "0.03",
                     "--top", "1", "--seeds", ",".join(map(str, SEEDS)), "--out", str(out)])
    table, report = out.with_name("search-tiny.md").read_text(), out.with_name("search-tiny.json").read_text()
    return events, table, json.loads(report)


def test_the_test_set_is_read_only_for_the_winners_after_selection(tiny_run):
    events, _, report = tiny_run
    expected = []
    for kind in KINDS:  # 2 configurations, then the top 1 with each seed; then the winner's seeds are tested
        expected += [("fit", kind)] * (2 + len(SEEDS)) + [("test", kind)] * len(SEEDS)
    expected += [("test", "two-stage")] * len(SEEDS)  # SASRec → additive: the winners chained, seed by seed
    expected += [("fit", "pop"), ("test", "pop"), ("fit", "itemknn"), ("test", "itemknn")]
    assert [e[:2] for e in events] == expected
    assert all(e[2] == 0 for e in events if e[0] == "fit")  # training and selection saw no test user
    for kind in KINDS:
        chosen = report["models"][kind]["settings"]
        tested = [e[2] for e in events if e[:2] == ("test", kind)]
        assert len({id(m) for m in tested}) == len(SEEDS)  # one model per seed
        architecture = {k: v for k, v in chosen.items() if k in search._MODEL_FIELDS}  # the recipe is training's
        for model in tested:
            assert {k: getattr(model.config, k) for k in architecture} == architecture


def test_the_json_records_every_try_and_how_it_was_made(tiny_run):
    _, _, report = tiny_run
    for kind in KINDS:
        row = report["models"][kind]
        assert [t["settings"] for t in row["tries"]] == search.configurations(kind, 2)
        assert [(t["seed"], t["stage"]) for t in row["tries"]] == [(0, "search")] * 2
        assert [(t["seed"], t["stage"]) for t in row["seed_runs"]] == [(s, "seeds") for s in SEEDS]
        assert all(t["settings"] == row["settings"] for t in row["seed_runs"])
        assert all(t["seconds"] > 0 and t["epochs"] >= 1 and 0 <= t["valid"]["ndcg@10"] <= 1
                   and "ndcg@10" in t["valid"]["seen_kept"] for t in row["tries"] + row["seed_runs"])
        assert row["valid_ndcg"]["values"] == [t["valid"]["ndcg@10"] for t in row["seed_runs"]]
        for t in row["tries"] + row["seed_runs"]:  # the curve at equal time: one point per validated epoch
            seconds, ndcg = zip(*t["curve"])
            assert list(seconds) == sorted(seconds) and seconds[-1] <= t["seconds"] + 1e-6
            assert max(ndcg) == pytest.approx(t["valid"]["ndcg@10"])
        assert row["valid_ndcg"]["mean"] == pytest.approx(np.mean(row["valid_ndcg"]["values"]))
        assert row["test_ndcg"]["sd"] == pytest.approx(np.std(row["test_ndcg"]["values"], ddof=1))
        assert len(row["test_hr"]["values"]) == len(SEEDS)
    assert report["models"]["pop"]["test_ndcg"]["sd"] is None  # counted once: no spread to give
    chained = report["models"]["sasrec>additive"]
    assert chained["two_stage"] and chained["tries"] == [] and len(chained["test_ndcg"]["values"]) == len(SEEDS)
    assert all(0 <= v <= 1 for v in chained["valid_ndcg"]["values"] + chained["test_ndcg"]["values"])
    assert len(report["commit"]) == 40 and isinstance(report["dirty"], bool)
    assert report["seeds"] == list(SEEDS) and report["budget"]["configs"] == 2 and report["budget"]["minutes"] == 0.03
    assert report["threads"] >= 1 and report["machine"]["nproc"] >= 1 and len(report["load_average"]["before"]) == 3
    assert "--configs 2" in report["command"] and report["users"] == 80
    assert report["estimate_minutes"] == pytest.approx(len(KINDS) * (2 + 1 * 2) * 0.03)


def test_the_table_has_every_model_and_the_paired_test(tiny_run):
    _, table, report = tiny_run
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert [r.split(" | ")[0] for r in rows[1:7]] == ["| SASRec", "| GRU4Rec", "| Additive attention",
                                                      "| SASRec → Additive attention (top 200)", "| Popularity",
                                                      "| ItemKNN"]
    assert "| SASRec − GRU4Rec | 80 |" in table
    assert [(p["a"], p["b"]) for p in report["paired"]] == [("sasrec", "gru"), ("sasrec>additive", "sasrec"),
                                                            ("sasrec>additive", "itemknn")]


@pytest.fixture(scope="module")
def rerank_run(tmp_path_factory):
    """A search with target attention searched as SASRec's re-ranker (`--rerank sasrec`), spying on training, on
    the first stages the re-ranker's validation was handed, and on the test evaluation."""
    world = generate_films(seed=3, n_films=60, n_users=80, n_franchises=10)
    fits, firsts, tests = [], [], []
    fit, validator, test_figures, model_scorer = (search.fit, search.two_stage_validator, search.test_figures,
                                                  search.model_scorer)

    def spy_fit(model, split, cfg, *args, **kwargs):
        result = fit(model, split, cfg, *args, **kwargs)
        fits.append((model.config.kind, kwargs.get("validator"), result))
        return result

    def spy_validator(first, split, device):
        firsts.append(first)
        return validator(first, split, device)

    def spy_scorer(model, device):
        scorer = model_scorer(model, device)
        scorer.model = model
        return scorer

    def spy_test(scorer, split):
        tests.append(getattr(scorer, "model", None))  # None: a two-stage scorer
        return test_figures(scorer, split)

    out = tmp_path_factory.mktemp("search") / "search-rerank"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(search, "load", lambda source: world)
        for name, spy in (("fit", spy_fit), ("two_stage_validator", spy_validator), ("test_figures", spy_test),
                          ("model_scorer", spy_scorer)):
            mp.setattr(search, name, spy)
        search.main(["--data", "tiny", "--models", "sasrec,additive", "--rerank", "sasrec", "--configs", "2",
                     "--minutes", "0.03", "--top", "1", "--seeds", ",".join(map(str, SEEDS)), "--references", "",
                     "--out", str(out)])
    return fits, firsts, tests, json.loads(out.with_name("search-rerank.json").read_text())


def test_a_re_ranker_is_chosen_and_tested_as_the_two_stages(rerank_run):
    fits, firsts, tests, report = rerank_run
    assert list(report["models"]) == ["sasrec", "sasrec>additive"]  # no full-ranking row of target attention
    row = report["models"]["sasrec>additive"]
    assert row["two_stage"] and len(row["tries"]) == 2 and row["settings"] in search.configurations("additive", 2)
    sasrec_tested = [m for m in tests if m is not None]  # SASRec's winners, one per seed, in seed order
    assert len(sasrec_tested) == len(SEEDS) and tests[len(SEEDS):] == [None] * len(SEEDS)
    # the search's tries are judged after SASRec's seed-0 winner, each seed run after its own seed's
    assert [id(f) for f in firsts] == [id(sasrec_tested[0])] * 2 + [id(m) for m in sasrec_tested]
    reranks = [(validate, result) for kind, validate, result in fits if kind == "additive"]
    assert all(validate is None for kind, validate, _ in fits if kind == "sasrec") and len(reranks) == 2 + len(SEEDS)
    for (validate, result), tried in zip(reranks, row["tries"] + row["seed_runs"]):
        # what each try recorded is the two stages' validation of the weights it kept
        assert validate(result.model)["ndcg@10"] == pytest.approx(tried["valid"]["ndcg@10"])
    assert row["valid_ndcg"]["values"] == [t["valid"]["ndcg@10"] for t in row["seed_runs"]]
    assert [(p["a"], p["b"]) for p in report["paired"]] == [("sasrec>additive", "sasrec")]
    assert measured.settings_text(row).startswith("re-ranker: lr ")  # searched: its settings, named as the re-ranker's


def test_rerank_needs_its_first_stage_searched_before_target_attention():
    for models in ("additive", "additive,sasrec"):
        with pytest.raises(SystemExit):
            search.parse_args(["--models", models, "--rerank", "sasrec"])
    with pytest.raises(SystemExit):
        search.parse_args(["--models", "sasrec,additive", "--rerank", "sasrec", "--seeds", "1,2"])
