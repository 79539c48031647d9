"""benchmarks/converge.py: a search's winners trained to early stop with the settings the search chose, tested once,
with their curves and how the file was made."""

from __future__ import annotations

import json

import pytest

from benchmarks import converge, search
from recattn.data.builtin import generate_films

KINDS = ("sasrec", "gru")


@pytest.fixture(scope="module")
def converged(tmp_path_factory):
    world = generate_films(seed=3, n_films=60, n_users=80, n_franchises=10)
    folder = tmp_path_factory.mktemp("converge")
    settings = {kind: search.configurations(kind, 1)[0] for kind in KINDS}
    found = {"source": "builtin:films", "command": "python benchmarks/search.py --data builtin:films --minutes 0.02",
             "seeds": [0, 1, 2], "budget": {"minutes": 0.02},
             "models": {**{k: {"configs": 2, "settings": settings[k], "test_ndcg": {"values": [0.1, 0.2, 0.3]}}
                           for k in KINDS},
                        "pop": {"configs": 0, "settings": {}}}}
    (folder / "search-films.json").write_text(json.dumps(found))
    seen = []
    fit = search.fit

    def spy_fit(model, split, cfg, *args, **kwargs):
        seen.append((model.config.kind, len(split.test_targets), cfg.max_minutes))
        return fit(model, split, cfg, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(converge, "load", lambda source: world)
        mp.setattr(search, "fit", spy_fit)
        converge.main([str(folder / "search-films.json"), "--cap", "0.05", "--seeds", "0,2",
                       "--out", str(folder / "converge-films")])
    return seen, settings, json.loads((folder / "converge-films.json").read_text()), \
        (folder / "converge-films.md").read_text()


def test_each_winner_trains_with_its_settings_to_a_stop_without_test_users(converged):
    seen, settings, report, _ = converged
    assert seen == [(kind, 0, 0.05) for kind in KINDS for _ in (0, 2)]  # no test user, the cap as the only budget
    for kind in KINDS:
        row = report["models"][kind]
        assert row["settings"] == settings[kind]
        assert [r["seed"] for r in row["runs"]] == [0, 2] and {r["stage"] for r in row["runs"]} == {"converge"}
        for run in row["runs"]:
            assert run["stopped"] in ("early", "time", "epochs") and run["curve"]
            assert max(v for _, v in run["curve"]) == pytest.approx(run["valid"]["ndcg@10"])
        assert row["at_budget"]["values"] == [0.1, 0.3]  # the search's test figures of the same seeds
        assert len(row["test_ndcg"]["values"]) == 2 and all(0 <= v <= 1 for v in row["test_ndcg"]["values"])
    assert set(report["models"]) == set(KINDS)  # the counted baseline has nothing to converge


def test_the_file_says_how_it_was_made(converged):
    _, _, report, table = converged
    assert len(report["commit"]) == 40 and isinstance(report["dirty"], bool)
    assert report["seeds"] == [0, 2] and report["cap_minutes"] == 0.05 and report["search_minutes"] == 0.02
    assert report["threads"] >= 1 and report["machine"]["nproc"] >= 1 and "--cap 0.05" in report["command"]
    assert report["users"] == 80 and report["search"] == "search-films.json"
    assert "| SASRec |" in table and "| GRU4Rec |" in table and "cap 0.05 min" in table


def test_a_model_the_search_did_not_tune_is_refused(tmp_path):
    (tmp_path / "search-films.json").write_text(json.dumps({"command": "x --data builtin:films", "models": {}}))
    with pytest.raises(SystemExit, match="narm not searched"):
        converge.main([str(tmp_path / "search-films.json"), "--models", "narm"])
