"""The Data page's altair charts in recattn.viz: chart types, encodings, tooltips on every mark, data kept small."""

import altair as alt
import numpy as np
import pandas as pd
import pytest

from recattn import viz


def _layers(chart) -> list[dict]:
    spec = chart.to_dict()
    return spec.get("layer", [spec])


def _tooltips(layer: dict) -> list[str]:
    return [t["field"] for t in layer["encoding"].get("tooltip", [])]


def _data(chart, layer: dict) -> list[dict]:
    """The rows a layer draws (altair moves inline data into the top-level datasets)."""
    spec = chart.to_dict()
    name = layer.get("data", spec.get("data", {})).get("name")
    return spec["datasets"][name]


def test_history_lengths_is_a_binned_histogram_with_the_median():
    lengths = np.r_[np.full(20, 5), np.full(30, 12), np.full(10, 40)]
    chart = viz.history_length_chart(lengths, noun="films")
    assert isinstance(chart, alt.LayerChart)
    bars, rule, text = _layers(chart)
    assert bars["mark"]["type"] == "bar" and rule["mark"]["type"] == "rule" and text["mark"]["type"] == "text"
    assert bars["encoding"]["x"]["field"] == "start" and bars["encoding"]["x2"]["field"] == "end"
    assert bars["encoding"]["y"]["field"] == "users"
    assert _tooltips(bars) == ["range", "users", "share"] and _tooltips(rule) == ["median"]
    rows = _data(chart, bars)
    assert sum(r["users"] for r in rows) == lengths.size  # every user in exactly one bin
    assert _data(chart, rule)[0]["median"] == 12.0
    assert "type" not in bars["encoding"]["x"].get("scale", {})  # narrow spread: a linear axis


def test_history_lengths_switch_to_log_bins_for_heavy_tails():
    lengths = np.r_[np.full(500, 20), np.arange(21, 3000, 7)]
    chart = viz.history_length_chart(lengths)
    bars = _layers(chart)[0]
    assert bars["encoding"]["x"]["scale"]["type"] == "log"
    assert "log scale" in bars["encoding"]["x"]["title"]
    rows = _data(chart, bars)
    assert sum(r["users"] for r in rows) == lengths.size and len(rows) <= 30
    with pytest.raises(ValueError):
        viz.history_length_chart([])


def test_popularity_ranks_items_on_a_log_axis_and_thins_the_tail():
    counts = np.arange(1, 5001)[::-1] ** 2
    titles = [f"Film {i}" for i in range(counts.size)]
    chart = viz.popularity_chart(titles, counts, max_points=400)
    (area,) = _layers(chart)
    assert area["mark"]["type"] == "area"
    assert area["encoding"]["y"]["scale"]["type"] == "log" and area["encoding"]["x"]["field"] == "rank"
    assert area["encoding"]["y"]["axis"]["values"] == [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]
    assert area["encoding"]["y2"] == {"datum": 1}  # a log axis has no 0 to start the area from
    assert _tooltips(area) == ["rank", "title", "interactions", "cumulative"]
    rows = _data(chart, area)
    assert len(rows) <= 400 and rows[0] == {"rank": 1, "title": "Film 0", "interactions": 5000.0 ** 2,
                                             "cumulative": pytest.approx(5000 ** 2 / (counts.sum()))}
    assert rows[-1]["rank"] == 5000 and rows[-1]["cumulative"] == pytest.approx(1.0)
    assert [r["rank"] for r in rows[:10]] == list(range(1, 11))  # the head is drawn in full
    with pytest.raises(ValueError):
        viz.popularity_chart(["one"], [1, 2])


def test_popularity_sorts_unsorted_counts():
    chart = viz.popularity_chart(["b", "a", "c"], [2, 9, 5])
    assert [r["title"] for r in _data(chart, _layers(chart)[0])] == ["a", "c", "b"]


def test_genre_chart_is_horizontal_bars_of_the_top_genres():
    table = pd.DataFrame({"genre": [f"G{i}" for i in range(20)], "interactions": np.arange(20) * 10,
                          "items": np.arange(20)})
    chart = viz.genre_chart(table, total_interactions=1000, top=5, noun="category")
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["y"]["field"] == "genre" and spec["encoding"]["y"]["sort"] == "-x"
    assert spec["encoding"]["x"]["field"] == "interactions"
    assert _tooltips(spec) == ["genre", "interactions", "share", "items"]
    assert spec["encoding"]["tooltip"][0]["title"] == "category"
    rows = _data(chart, spec)
    assert [r["genre"] for r in rows] == ["G19", "G18", "G17", "G16", "G15"]
    assert rows[0]["share"] == pytest.approx(0.19)
    with pytest.raises(ValueError, match="items"):
        viz.genre_chart(table.drop(columns="items"), 1000)


def test_cause_chart_shows_shares_and_meanings():
    chart = viz.cause_chart({"genre": 30, "taste": 20, "franchise": 50}, {"genre": "same genre"})
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "bar" and spec["encoding"]["x"]["field"] == "share"
    assert spec["encoding"]["color"]["field"] == "cause" and spec["encoding"]["color"]["legend"] is None
    assert _tooltips(spec) == ["cause", "meaning", "interactions", "share"]
    rows = {r["cause"]: r for r in _data(chart, spec)}
    assert rows["franchise"]["share"] == pytest.approx(0.5) and rows["genre"]["meaning"] == "same genre"
    assert rows["taste"]["meaning"] == ""
    with pytest.raises(ValueError):
        viz.cause_chart({})
