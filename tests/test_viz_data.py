"""The Data page's plotly charts in recattn.viz: trace types, axes, hover on every mark, data kept small, and the
conventions of the other builders (one title kept in downloads, transparent backgrounds, automargin)."""

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from recattn import viz
from recattn.i18n import language
from recattn.viz.attention import HIGHLIGHT
from recattn.viz.data_charts import BAR_COLOR, CAUSE_COLORS


def spec(fig: go.Figure) -> dict:
    """The figure as Streamlit sends it (plotly's JSON)."""
    return json.loads(fig.to_json())


def assert_conventions(s: dict, title: str) -> None:
    """Every mark answers a hover (or is a baseline that skips it), the title is the figure's own, backgrounds are
    transparent and the axes make room for their labels."""
    layout = s["layout"]
    for trace in s["data"]:
        assert trace.get("hovertemplate") or trace.get("hoverinfo") == "skip", trace["type"]
    assert layout["title"]["text"] == title
    assert layout["plot_bgcolor"] == layout["paper_bgcolor"] == "rgba(0,0,0,0)"
    assert layout["xaxis"]["automargin"] and layout["yaxis"]["automargin"]


def test_history_lengths_is_a_binned_histogram_with_the_median():
    lengths = np.r_[np.full(20, 5), np.full(30, 12), np.full(10, 40)]
    s = spec(viz.history_length_chart(lengths, noun="films"))
    assert_conventions(s, "History lengths")
    bars, rule = s["data"]
    assert bars["type"] == "bar" and bars["offset"] == 0 and bars["marker"]["color"] == BAR_COLOR
    # each bar spans its bin: from its first length to the next bin's first (whole numbers, 2 wide here)
    assert bars["x"] == [5, 11, 39] and bars["width"] == [2, 2, 2] and bars["y"] == [20, 30, 10]
    assert sum(bars["y"]) == lengths.size  # every user in exactly one bin
    assert [c[0] for c in bars["customdata"]] == ["5–6", "11–12", "39–40"]
    assert [c[1] for c in bars["customdata"]] == pytest.approx([20 / 60, 30 / 60, 10 / 60])
    assert bars["hovertemplate"].split("<br>") == ["films per user: <b>%{customdata[0]}</b>", "users: <b>%{y:,}</b>",
                                                   "share of users: %{customdata[1]:.1%}<extra></extra>"]
    # the median: a dashed orange line over the plot's whole height, its value on hover and written above the plot
    assert rule["type"] == "scatter" and set(rule["x"]) == {12.0} and rule["line"]["color"] == HIGHLIGHT
    assert rule["line"]["dash"] and min(rule["y"]) == 0 and max(rule["y"]) == s["layout"]["yaxis"]["range"][1]
    assert rule["hovertemplate"] == "median films per user: <b>%{x:,.1f}</b><extra></extra>"
    (label,) = s["layout"]["annotations"]
    assert label["text"] == "median 12" and label["x"] == 12.0 and label["font"]["color"] == HIGHLIGHT
    assert label["yref"] == "paper" and label["y"] == 1 and label["yanchor"] == "bottom"
    x_axis = s["layout"]["xaxis"]
    assert x_axis.get("type") != "log" and x_axis["title"]["text"] == "films per user"  # narrow spread: linear
    assert s["layout"]["yaxis"]["title"]["text"] == "users"


def test_history_lengths_switch_to_log_bins_for_heavy_tails():
    lengths = np.r_[np.full(500, 20), np.arange(21, 3000, 7)]
    s = spec(viz.history_length_chart(lengths))
    bars, rule = s["data"]
    x_axis = s["layout"]["xaxis"]
    assert x_axis["type"] == "log" and "log scale" in x_axis["title"]["text"]
    assert sum(bars["y"]) == lengths.size and len(bars["x"]) <= 30
    ends = np.add(bars["x"], bars["width"])
    assert np.all(ends[:-1] <= np.asarray(bars["x"][1:])) and ends[-1] == lengths.max() + 1  # bins in order
    assert x_axis["range"] == pytest.approx([np.log10(20), np.log10(lengths.max() + 1)])  # a log range is in log10
    assert rule["x"][0] == 20.0 and s["layout"]["annotations"][0]["x"] == pytest.approx(np.log10(20))
    with pytest.raises(ValueError):
        viz.history_length_chart([])


def test_popularity_ranks_items_on_a_log_axis_and_thins_the_tail():
    counts = np.arange(1, 5001)[::-1] ** 2
    titles = [f"Film {i}" for i in range(counts.size)]
    s = spec(viz.popularity_chart(titles, counts, max_points=400))
    assert_conventions(s, "The long tail of popularity")
    baseline, area = s["data"]
    # a log axis has no 0 to start the area from: it fills down to a baseline at 1
    assert baseline["y"] == [1, 1] and baseline["hoverinfo"] == "skip"
    assert area["type"] == "scatter" and area["fill"] == "tonexty" and area["line"]["color"] == BAR_COLOR
    y_axis = s["layout"]["yaxis"]
    assert y_axis["type"] == "log" and y_axis["title"]["text"] == "interactions (log scale)"
    assert y_axis["tickvals"] == [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]
    assert s["layout"]["xaxis"]["title"]["text"] == "items, most popular first"
    assert area["hovertemplate"].split("<br>") == [
        "rank: %{x:,}", "item: <b>%{customdata[0]}</b>", "interactions: <b>%{y:,}</b>",
        "share of all interactions up to here: %{customdata[1]:.1%}<extra></extra>"]
    assert len(area["x"]) <= 400
    assert (area["x"][0], area["customdata"][0][0], area["y"][0]) == (1, "Film 0", 5000.0 ** 2)
    assert area["customdata"][0][1] == pytest.approx(5000 ** 2 / counts.sum())
    assert area["x"][-1] == 5000 and area["customdata"][-1][1] == pytest.approx(1.0)
    assert area["x"][:10] == list(range(1, 11))  # the head is drawn in full
    with pytest.raises(ValueError):
        viz.popularity_chart(["one"], [1, 2])


def test_popularity_sorts_unsorted_counts():
    area = spec(viz.popularity_chart(["b", "a", "c"], [2, 9, 5]))["data"][1]
    assert [c[0] for c in area["customdata"]] == ["a", "c", "b"] and area["y"] == [9, 5, 2]


def test_genre_chart_is_horizontal_bars_of_the_top_genres():
    table = pd.DataFrame({"genre": [f"G{i}" for i in range(20)], "interactions": np.arange(20) * 10,
                          "items": np.arange(20)})
    s = spec(viz.genre_chart(table, total_interactions=1000, top=5, noun="category"))
    assert_conventions(s, "Top genres")
    (bars,) = s["data"]
    assert bars["type"] == "bar" and bars["orientation"] == "h" and bars["x"] == [190, 180, 170, 160, 150]
    y_axis = s["layout"]["yaxis"]
    assert y_axis["ticktext"] == ["G19", "G18", "G17", "G16", "G15"] and bars["y"] == y_axis["tickvals"]
    assert y_axis["range"] == [4.5, -0.5]  # the largest on top
    assert s["layout"]["xaxis"]["title"]["text"] == "interactions"
    assert bars["hovertemplate"].split("<br>") == [
        "category: <b>%{customdata[0]}</b>", "interactions: <b>%{x:,}</b>",
        "share of interactions: %{customdata[1]:.1%}",
        "items in the catalogue: %{customdata[2]:,}<extra></extra>"]
    assert bars["customdata"][0] == ["G19", pytest.approx(0.19), 19]
    with pytest.raises(ValueError, match="items"):
        viz.genre_chart(table.drop(columns="items"), 1000)


def test_genre_chart_cuts_long_genres_on_the_axis_only():
    long = "Documentary about the history of very long genre names"
    s = spec(viz.genre_chart(pd.DataFrame({"genre": [long], "interactions": [3], "items": [1]}), 3))
    assert len(s["layout"]["yaxis"]["ticktext"][0]) <= 24 and s["data"][0]["customdata"][0][0] == long


def test_cause_chart_shows_shares_and_meanings():
    s = spec(viz.cause_chart({"genre": 30, "taste": 20, "franchise": 50}, {"genre": "same genre"}))
    assert_conventions(s, "Why the simulated users picked what they picked")
    (bars,) = s["data"]
    assert bars["orientation"] == "h" and bars["x"] == pytest.approx([0.5, 0.3, 0.2])  # the largest on top
    assert s["layout"]["yaxis"]["ticktext"] == ["franchise", "genre", "taste"]
    assert s["layout"]["yaxis"]["range"] == [2.5, -0.5] and s["layout"]["xaxis"]["tickformat"] == ".0%"
    assert s["layout"]["showlegend"] is False
    # each cause keeps the colour its English name gets in the sorted names: franchise, genre, taste
    assert bars["marker"]["color"] == list(CAUSE_COLORS[:3])
    rows = {c[0]: c for c in bars["customdata"]}
    assert rows["franchise"][2] == 50 and rows["genre"][1] == "same genre" and rows["taste"][1] == ""
    franchise, genre, taste = bars["hovertemplate"]
    assert genre.split("<br>") == ["cause: <b>%{customdata[0]}</b>", "what it is: %{customdata[1]}",
                                   "interactions: %{customdata[2]:,}", "share: <b>%{x:.1%}</b><extra></extra>"]
    assert "what it is" not in taste and "share: " in taste  # no meaning, no empty line
    with pytest.raises(ValueError):
        viz.cause_chart({})


def test_cause_colours_follow_the_english_names_in_every_language():
    with language("zh"):
        s = spec(viz.cause_chart({"taste": 10, "genre": 30, "franchise": 20}))
    (bars,) = s["data"]
    # genre, franchise, taste by share; colours of franchise, genre, taste in that order as in English
    assert bars["marker"]["color"] == [CAUSE_COLORS[1], CAUSE_COLORS[0], CAUSE_COLORS[2]]
    assert s["layout"]["title"]["text"] == "模拟用户为什么选了这些"
    assert bars["hovertemplate"][0].startswith("原因：")


def test_every_word_is_in_the_session_language():
    with language("zh"):
        lengths = spec(viz.history_length_chart([1, 2, 2, 3, 9]))
        tail = spec(viz.popularity_chart(["a", "b"], [3, 1]))
    assert lengths["layout"]["title"]["text"] == "历史长度"
    assert lengths["layout"]["yaxis"]["title"]["text"] == "用户数"
    assert lengths["layout"]["annotations"][0]["text"] == "中位数 2"
    assert tail["layout"]["title"]["text"] == "热门度的长尾"
    assert tail["data"][1]["hovertemplate"].startswith("排名：")
