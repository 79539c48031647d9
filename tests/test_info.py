"""summarize() and `python -m recattn data info`."""

import json

import pandas as pd

from recattn.cli import main
from recattn.data.dataset import Dataset
from recattn.data.info import cause_distances, summarize


def dataset(users, items, times):
    inter = pd.DataFrame({"user_id": users, "item_id": items, "timestamp": pd.array(times, dtype="int64")})
    catalogue = pd.DataFrame({"item_id": ["a", "b", "c", "unused"], "title": ["A", "B", "C", "U"], "genres": "",
                              "year": pd.array([None] * 4, dtype="Int64")})
    return Dataset(name="t", format="csv", items=catalogue, interactions=inter)


def test_summarize_counts_median_and_utc_times():
    d = dataset(["u1", "u2", "u2", "u3", "u3", "u3", "u3"], ["a", "a", "b", "a", "b", "c", "a"],
                [0, 86_400, 86_401, 10, 20, 30, 1_700_000_000])
    assert summarize(d) == {
        "format": "csv", "users": 3, "items": 3, "interactions": 7, "median_length": 2.0,
        "first_time": "1970-01-01T00:00:00Z", "last_time": "2023-11-14T22:13:20Z",
    }


def test_summarize_empty():
    s = summarize(dataset([], [], []))
    assert s["users"] == 0 and s["interactions"] == 0 and s["first_time"] is None and s["last_time"] is None


def test_cli_info_json(tmp_path, capsys):
    (tmp_path / "log.csv").write_text("user,item,timestamp\nu1,a,1\nu1,b,2\nu2,a,3\n")
    assert main(["data", "info", str(tmp_path / "log.csv"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"format": "csv", "users": 2, "items": 2, "interactions": 3, "median_length": 1.5,
                   "first_time": "1970-01-01T00:00:01Z", "last_time": "1970-01-01T00:00:03Z"}
    assert main(["data", "info", str(tmp_path / "log.csv"), "--kcore", "2", "--json"]) == 2
    assert "no interactions are left" in capsys.readouterr().err


def test_cli_info_reports_bad_files_without_a_traceback(tmp_path, capsys):
    (tmp_path / "log.csv").write_text("user,item,timestamp\nu1,a,soon\n")
    assert main(["data", "info", str(tmp_path / "log.csv"), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "log.csv, line 2" in err and "Traceback" not in err


def test_cli_info_builtin(capsys):
    assert main(["data", "info", "builtin:films", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "builtin" and out["users"] == 3000


def test_cause_distances_count_back_within_each_user():
    inter = pd.DataFrame({"user_id": ["u1", "u1", "u1", "u1", "u2", "u2"],
                          "item_id": ["a", "b", "c", "d", "c", "a"],
                          "timestamp": pd.array([1, 2, 3, 4, 1, 2], dtype="int64"),
                          "cause_item": ["", "a", "a", "b", "", "c"]})
    assert cause_distances(inter).tolist() == [0, 1, 2, 2, 0, 1]
    assert cause_distances(inter.drop(columns="cause_item")).tolist() == [0] * 6  # real data: no causes


def test_every_planted_cause_has_its_meaning_and_no_other():
    from recattn.data import builtin, news
    from recattn.data.info import MEANINGS, cause_meanings

    assert set(MEANINGS["builtin:films"]) == set(builtin.CAUSES)
    assert set(MEANINGS["builtin:news"]) == set(news.CAUSES)
    assert str(builtin.MAX_DELAY) in cause_meanings("builtin:films")["franchise"]
