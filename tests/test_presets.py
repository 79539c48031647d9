"""Story presets: built from the planted causes of the built-in worlds, every id in the catalogue."""

from __future__ import annotations

import pytest

from recattn import data
from recattn.data.dataset import Dataset
from recattn.data.presets import presets


@pytest.fixture(scope="module")
def films() -> Dataset:
    return data.load("builtin:films")


@pytest.fixture(scope="module")
def news() -> Dataset:
    return data.load("builtin:news")


def _by_name(dataset: Dataset) -> dict:
    return {p.name: p for p in presets(dataset)}


@pytest.mark.parametrize("world", ["films", "news"])
def test_every_preset_is_a_history_of_known_ids(world, request):
    dataset = request.getfixturevalue(world)
    found = presets(dataset)
    assert len(found) == {"films": 4, "news": 2}[world]
    known = set(dataset.items["item_id"].astype(str))
    for preset in found:
        assert len(preset.item_ids) >= 3 and set(preset.item_ids) <= known, preset.name
        assert len(set(preset.item_ids)) == len(preset.item_ids)  # nothing twice
        assert preset.story.endswith(".")
    assert presets(dataset) == found  # deterministic


def test_trilogy_ends_on_part_one_of_a_franchise_with_a_part_two(films):
    items = films.items.set_index("item_id")
    preset = _by_name(films)["Finished part 1 of a trilogy"]
    last = items.loc[preset.item_ids[-1]]
    assert last["part"] == 1 and last["franchise"] >= 0 and last["pace"] == 1  # part 2 comes right after
    parts = items[items["franchise"] == last["franchise"]]
    assert parts["part"].max() >= 3
    second = parts[parts["part"] == 2]
    assert len(second) == 1 and second["title"].iloc[0] in preset.story
    # The films before it are of other genres and outside any franchise.
    genres = set(last["genres"].split("|"))
    for item_id in preset.item_ids[:-1]:
        assert items.loc[item_id, "franchise"] < 0 and not genres & set(items.loc[item_id, "genres"].split("|"))


def test_come_back_ends_where_part_two_is_due(films):
    items = films.items.set_index("item_id")
    preset = _by_name(films)["Part 1 a few films back"]
    first = items.loc[preset.item_ids[0]]
    assert first["part"] == 1 and 4 <= first["pace"] <= 8 and len(preset.item_ids) == first["pace"]
    second = items[(items["franchise"] == first["franchise"]) & (items["part"] == 2)]["title"].iloc[0]
    assert second in preset.story and f"came {first['pace']} films ago" in preset.story
    genres = set(first["genres"].split("|"))
    for item_id in preset.item_ids[1:]:
        assert items.loc[item_id, "franchise"] < 0 and not genres & set(items.loc[item_id, "genres"].split("|"))


def test_genre_presets_follow_their_genres(films):
    items = films.items.set_index("item_id")
    binge = _by_name(films)["A sci-fi binge, then children's films"]
    genres = [set(items.loc[i, "genres"].split("|")) for i in binge.item_ids]
    assert all(g == {"Sci-Fi"} for g in genres[:4]) and all(g <= {"Family", "Animation"} for g in genres[4:])
    assert all(items.loc[i, "genres"] == "Noir" for i in _by_name(films)["A noir fan"].item_ids)


def test_news_presets_follow_a_story_and_switch_topics(news):
    items = news.items.set_index("item_id")
    found = _by_name(news)
    story = items.loc[list(found["Following one news story"].item_ids)]
    assert story["story"].nunique() == 1 and list(story["part"]) == [1, 2, 3]
    assert story["published"].is_monotonic_increasing
    switch = items.loc[list(found["A sports reader who switches to politics"].item_ids)]
    assert list(switch["genres"]) == ["Sports"] * 4 + ["Politics"] * 2
    assert switch["published"].is_monotonic_increasing


def test_other_data_has_no_presets(films):
    plain = Dataset("plain", "csv", films.items[["item_id", "title", "genres", "year"]], films.interactions)
    assert presets(plain) == []
    assert presets(Dataset("empty", "csv", films.items.head(0), films.interactions.head(0))) == []
