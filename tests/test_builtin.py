"""The built-in film world: deterministic, labelled with its planted causes and the films behind them, and shaped as
promised."""

import hashlib

import numpy as np

from recattn.data import load
from recattn.data.builtin import CAUSES, MAX_DELAY, RECENT, generate_films
from recattn.data.info import cause_distances
from tests.conftest import assert_cause_items


def _digest(ds) -> str:
    h = hashlib.sha256()
    h.update(ds.items.to_csv(index=False).encode())
    h.update(ds.interactions.to_csv(index=False).encode())
    return h.hexdigest()


def test_same_seed_gives_byte_identical_tables():
    a = generate_films(seed=3, n_films=200, n_users=150, n_franchises=20)
    b = generate_films(seed=3, n_films=200, n_users=150, n_franchises=20)
    c = generate_films(seed=4, n_films=200, n_users=150, n_franchises=20)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_catalogue_shape():
    ds = generate_films(seed=3, n_films=300, n_users=50, n_franchises=30)
    items = ds.items
    assert len(items) == 300 and items["title"].is_unique and items["item_id"].is_unique
    n_genres = items["genres"].str.split("|").map(len)
    assert n_genres.between(1, 3).all()
    sizes = items[items["franchise"] >= 0].groupby("franchise").size()
    assert len(sizes) == 30 and sizes.between(2, 5).all()
    paces = items[items["franchise"] >= 0].groupby("franchise")["pace"]
    assert (paces.nunique() == 1).all() and paces.first().between(1, MAX_DELAY).all()  # one pace a franchise
    assert (items.loc[items["franchise"] < 0, "pace"] == 0).all()
    # long tail: the top 10% of films hold far more than 10% of the popularity mass
    pop = np.sort(items["popularity"].to_numpy())[::-1]
    assert pop[:30].sum() / pop.sum() > 0.3


def test_interactions_are_time_ordered_and_labelled():
    ds = generate_films(seed=3, n_films=300, n_users=100, n_franchises=30)
    inter = ds.interactions
    assert list(inter.columns) == ["user_id", "item_id", "timestamp", "cause", "cause_item"]
    assert set(inter["cause"]) == set(CAUSES)
    assert (inter.groupby("user_id")["timestamp"].diff().dropna() > 0).all()
    assert not inter.duplicated(["user_id", "item_id"]).any()  # nobody watches a film twice


def test_cause_item_is_the_earlier_film_behind_each_interaction():
    ds = generate_films(seed=3, n_films=300, n_users=100, n_franchises=30)
    items = ds.items.set_index("item_id")
    genres = items["genres"].str.split("|").map(set)
    inter = ds.interactions
    distance = assert_cause_items(inter, ["taste", "popular"])
    franchise = inter[inter["cause"] == "franchise"]
    assert len(franchise) > 50
    for item, before in zip(franchise["item_id"], franchise["cause_item"]):
        assert items.loc[item, "franchise"] == items.loc[before, "franchise"] >= 0
        assert items.loc[item, "part"] == items.loc[before, "part"] + 1
    genre = inter["cause"] == "genre"
    assert distance[genre].min() == 1 and distance[genre].max() == RECENT
    assert all(genres[i] & genres[b] for i, b in zip(inter.loc[genre, "item_id"], inter.loc[genre, "cause_item"]))


def test_continuations_come_at_their_franchise_pace():
    films = load("builtin:films")
    inter = films.interactions
    franchise = (inter["cause"] == "franchise").to_numpy()
    assert 0.18 < franchise.mean() < 0.25  # the mix of causes as before delays came in
    distance = cause_distances(inter)[franchise]
    pace = films.items.set_index("item_id").loc[inter.loc[franchise, "cause_item"], "pace"].to_numpy()
    late = distance - pace  # a film more for each other part due at the same time
    assert late.min() == 0 and late.max() <= 5 and np.mean(late == 0) > 0.85
    # test cases (each user's last film) in each distance bin, for benchmarks of explanations
    last = (inter.groupby("user_id").cumcount(ascending=False) == 0).to_numpy()[franchise]
    bins = np.digitize(distance[last], [2, 6])  # 0: distance 1, 1: 2-5, 2: 6 and more
    assert (np.bincount(bins, minlength=3) >= 200).all()
