"""The built-in film world: deterministic, labelled with its planted causes, and shaped as promised."""

import hashlib

import numpy as np

from recattn.data.builtin import CAUSES, generate_films


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
    # long tail: the top 10% of films hold far more than 10% of the popularity mass
    pop = np.sort(items["popularity"].to_numpy())[::-1]
    assert pop[:30].sum() / pop.sum() > 0.3


def test_interactions_are_time_ordered_and_labelled():
    ds = generate_films(seed=3, n_films=300, n_users=100, n_franchises=30)
    inter = ds.interactions
    assert set(inter["cause"]) == set(CAUSES)
    assert (inter.groupby("user_id")["timestamp"].diff().dropna() > 0).all()
    assert not inter.duplicated(["user_id", "item_id"]).any()  # nobody watches a film twice


def test_franchise_cause_means_the_next_part_of_the_previous_film():
    ds = generate_films(seed=3, n_films=300, n_users=100, n_franchises=30)
    items = ds.items.set_index("item_id")
    inter = ds.interactions
    prev = inter.groupby("user_id")["item_id"].shift()
    rows = inter[inter["cause"] == "franchise"].assign(prev=prev)
    assert len(rows) > 50
    for item, before in zip(rows["item_id"], rows["prev"]):
        assert items.loc[item, "franchise"] == items.loc[before, "franchise"]
        assert items.loc[item, "part"] == items.loc[before, "part"] + 1
