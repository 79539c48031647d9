"""The built-in news world: deterministic, and every click explained by its planted cause."""

import hashlib

import numpy as np
import pytest

from recattn.data import BUILTIN, load
from recattn.data.info import cause_distances
from tests.conftest import assert_cause_items
from recattn.data.news import CAUSES, TOPICS, generate_news


@pytest.fixture(scope="module")
def news():
    return load("builtin:news")


def digest(d):
    return hashlib.sha256(d.items.to_csv().encode() + d.interactions.to_csv().encode()).hexdigest()


def test_same_seed_same_bytes_other_seed_other_world():
    small = dict(n_articles=200, n_readers=80, n_stories=20, n_days=30)
    assert digest(generate_news(seed=3, **small)) == digest(generate_news(seed=3, **small))
    assert digest(generate_news(seed=4, **small)) != digest(generate_news(seed=3, **small))


def test_size_and_contract(news):
    assert "builtin:news" in BUILTIN and news.name == "builtin:news"
    items, inter = news.items, news.interactions
    assert len(items) == 1500 and items["item_id"].is_unique and items["title"].is_unique
    assert list(items.columns[:4]) == ["item_id", "title", "genres", "year"]
    assert {"story", "part", "published"} <= set(items.columns)
    assert str(items["year"].dtype) == "Int64" and items["published"].dtype == "int64"
    assert all(set(g.split("|")) <= set(TOPICS) for g in items["genres"])
    assert list(inter.columns) == ["user_id", "item_id", "timestamp", "cause", "cause_item"]
    assert inter["timestamp"].dtype == "int64"
    lengths = inter.groupby("user_id").size()
    assert len(lengths) == 3000 and lengths.between(20, 30).all()
    assert set(inter["item_id"]) <= set(items["item_id"])
    assert not inter.duplicated(["user_id", "item_id"]).any()
    assert set(inter["cause"]) == set(CAUSES)
    assert inter["cause"].value_counts(normalize=True).min() > 0.1


def test_readers_click_only_published_and_mostly_fresh_articles(news):
    joined = news.interactions.join(news.items.set_index("item_id")[["published"]], on="item_id")
    age = joined["timestamp"] - joined["published"]
    assert (age >= 0).all()
    assert age.median() < 2 * 86_400


def test_story_clicks_follow_a_story_the_reader_started(news):
    items = news.items.set_index("item_id")
    inter = news.interactions.join(items[["story", "part"]], on="item_id")
    for _, clicks in inter.groupby("user_id", sort=False):
        read = set()
        for story, part, cause in zip(clicks["story"], clicks["part"], clicks["cause"]):
            if cause == "story":
                assert story >= 0 and (story, part - 1) in read
            read.add((story, part))


def test_topic_clicks_share_a_topic_with_the_last_three(news):
    topics = dict(zip(news.items["item_id"], news.items["genres"].str.split("|").map(set)))
    for _, clicks in news.interactions.groupby("user_id", sort=False):
        ids, causes = clicks["item_id"].tolist(), clicks["cause"].tolist()
        for k in np.flatnonzero(np.array(causes) == "topic"):
            recent = set().union(*(topics[i] for i in ids[max(0, k - 3):k]))
            assert topics[ids[k]] & recent


def test_cause_item_is_the_earlier_click_behind_each_click(news):
    items = news.items.set_index("item_id")
    topics = items["genres"].str.split("|").map(set)
    inter = news.interactions
    distance = assert_cause_items(inter, ["taste", "recent"])
    story = inter[inter["cause"] == "story"]
    clicked, before = items.loc[story["item_id"]], items.loc[story["cause_item"]]
    assert len(story) > 1000 and (clicked["story"].to_numpy() == before["story"].to_numpy()).all()
    assert (clicked["part"].to_numpy() == before["part"].to_numpy() + 1).all()
    topic = inter["cause"] == "topic"
    assert distance[topic].min() == 1 and distance[topic].max() == 3
    assert all(topics[i] & topics[b] for i, b in zip(inter.loc[topic, "item_id"], inter.loc[topic, "cause_item"]))


def test_story_parts_come_right_after_or_many_clicks_later(news):
    inter = news.interactions
    story = (inter["cause"] == "story").to_numpy()
    distance = cause_distances(inter)[story]
    # test cases (each reader's last click) in each distance bin, for benchmarks of explanations
    last = (inter.groupby("user_id").cumcount(ascending=False) == 0).to_numpy()[story]
    bins = np.digitize(distance[last], [2, 6])  # 0: distance 1, 1: 2-5, 2: 6 and more
    assert (np.bincount(bins, minlength=3) >= 200).all()


def test_sorted_per_user_in_time(news):
    inter = news.interactions
    assert inter["user_id"].is_monotonic_increasing
    assert (inter.groupby("user_id")["timestamp"].diff().dropna() >= 0).all()
