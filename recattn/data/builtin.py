"""The built-in film world: a catalogue and users generated from planted rules, offline and deterministic.

Every interaction carries the rule that produced it (`cause`), so explanations can be checked against it:
- franchise: the next part of a franchise whose previous part the user just watched;
- genre: a film sharing a genre with one of the user's last few films;
- taste: a film from the user's long-term favourite genres;
- popular: a pick from the global long-tailed popularity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recattn.data.dataset import Dataset, sort_interactions

GENRES = (
    "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family", "Fantasy",
    "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western", "Noir",
)
ADJECTIVES = (
    "Silent", "Crimson", "Lost", "Golden", "Broken", "Hidden", "Last", "Burning", "Frozen", "Midnight",
    "Wild", "Hollow", "Distant", "Electric", "Paper", "Iron", "Velvet", "Secret", "Restless", "Bright",
    "Shattered", "Quiet", "Savage", "Gentle", "Endless", "Forgotten", "Scarlet", "Wandering", "Glass", "Stone",
)
NOUNS = (
    "River", "Empire", "Garden", "Harbor", "Signal", "Kingdom", "Orchard", "Lantern", "Frontier", "Mirror",
    "Voyage", "Station", "Citadel", "Horizon", "Island", "Tide", "Circus", "Forest", "Engine", "Crown",
    "Desert", "Parade", "Canyon", "Tower", "Echo", "Comet", "Labyrinth", "Meadow", "Storm", "Bridge",
)
PLACES = (
    "Avalon", "Brightwater", "Calder", "Dunmore", "Everfall", "Fenwick", "Galloway", "Harrow", "Ironvale",
    "Juniper", "Kestrel", "Lowmarsh", "Marrow", "Northgate", "Oakhaven", "Pellham", "Quillon", "Ravenholt",
    "Stormhold", "Thistledown", "Umber", "Valewood", "Westerly", "Yarrow", "Zephyr Bay",
)
ROMAN = ("", "II", "III", "IV", "V")

# The rule behind each interaction and what it means, in the words the app shows.
CAUSES = {
    "franchise": "the next part of a franchise the user just watched",
    "genre": "a film sharing a genre with one of the last few films",
    "taste": "a pick from the user's long-term favourite genres",
    "popular": "a pick from the global, long-tailed popularity",
}


def generate_films(
    seed: int = 7,
    n_films: int = 1000,
    n_users: int = 3000,
    n_franchises: int = 110,
) -> Dataset:
    """Generate the film world. The same arguments always give byte-identical tables."""
    rng = np.random.default_rng(seed)
    items = _catalogue(rng, n_films, n_franchises)
    interactions = _histories(rng, items, n_users)
    return Dataset(name="builtin:films", format="builtin", items=items, interactions=interactions)


def _catalogue(rng: np.random.Generator, n_films: int, n_franchises: int) -> pd.DataFrame:
    n_genres = len(GENRES)
    genre_sets: list[tuple[int, ...]] = []
    for _ in range(n_films):
        k = int(rng.choice([1, 2, 3], p=[0.35, 0.45, 0.20]))
        genre_sets.append(tuple(sorted(rng.choice(n_genres, size=k, replace=False).tolist())))
    years = rng.integers(1960, 2025, size=n_films)
    # Long-tailed popularity: Zipf-like weights over a random order of the films.
    ranks = rng.permutation(n_films) + 1
    popularity = 1.0 / ranks**0.9

    franchise = np.full(n_films, -1)
    part = np.zeros(n_films, dtype=int)
    order = rng.permutation(n_films)
    cursor = 0
    for f in range(n_franchises):
        size = int(rng.integers(2, 6))
        members = order[cursor: cursor + size]
        cursor += size
        # Parts share the first part's genres and come out in order, a few years apart.
        start = int(rng.integers(1965, 2010))
        for p, film in enumerate(members):
            franchise[film] = f
            part[film] = p + 1
            genre_sets[film] = genre_sets[members[0]]
            years[film] = start + 3 * p + int(rng.integers(0, 3))

    used: set[str] = set()
    titles = []
    franchise_names = [f"{PLACES[f % len(PLACES)]}" for f in range(n_franchises)]
    franchise_words: dict[int, str] = {}
    for i in range(n_films):
        if franchise[i] >= 0:
            f = int(franchise[i])
            if f not in franchise_words:
                franchise_words[f] = f"{franchise_names[f]}: {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
            base = franchise_words[f] + (f" {ROMAN[part[i] - 1]}" if part[i] > 1 else "")
        else:
            base = f"The {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
        title = f"{base} ({years[i]})"
        n = 2
        while title in used:  # two films of one year with the same words
            title = f"{base} {n} ({years[i]})"
            n += 1
        used.add(title)
        titles.append(title)

    return pd.DataFrame({
        "item_id": [str(i + 1) for i in range(n_films)],
        "title": titles,
        "genres": ["|".join(GENRES[g] for g in gs) for gs in genre_sets],
        "year": pd.array(years, dtype="Int64"),
        "franchise": franchise,
        "part": part,
        "popularity": popularity.round(6),
    })


def _histories(rng: np.random.Generator, items: pd.DataFrame, n_users: int) -> pd.DataFrame:
    n_films = len(items)
    genre_index = {g: k for k, g in enumerate(GENRES)}
    genres = [[genre_index[g] for g in s.split("|")] for s in items["genres"]]
    popularity = items["popularity"].to_numpy()
    pop_p = popularity / popularity.sum()
    franchise = items["franchise"].to_numpy()
    part = items["part"].to_numpy()
    next_part = np.full(n_films, -1)
    for f in np.unique(franchise[franchise >= 0]):
        members = np.flatnonzero(franchise == f)
        members = members[np.argsort(part[members])]
        for a, b in zip(members[:-1], members[1:]):
            next_part[a] = b
    by_genre = [np.flatnonzero([g in gs for gs in genres]) for g in range(len(GENRES))]

    users, films, times, causes = [], [], [], []
    t0 = 1_577_836_800  # 2020-01-01
    for u in range(n_users):
        taste = rng.choice(len(GENRES), size=int(rng.integers(2, 4)), replace=False)
        length = int(np.clip(rng.lognormal(3.3, 0.5), 8, 120))
        seen = np.zeros(n_films, dtype=bool)
        history: list[int] = []
        t = t0 + int(rng.integers(0, 86_400 * 365))
        for _ in range(length):
            film, cause = _next_film(rng, history, seen, taste, next_part, genres, by_genre, pop_p)
            seen[film] = True
            history.append(film)
            t += int(rng.integers(3_600, 86_400 * 4))
            users.append(f"u{u + 1}")
            films.append(str(film + 1))
            times.append(t)
            causes.append(cause)
    frame = pd.DataFrame({"user_id": users, "item_id": films, "timestamp": np.array(times, dtype=np.int64),
                          "cause": causes})
    return sort_interactions(frame)


def _pick(rng: np.random.Generator, pool: np.ndarray, seen: np.ndarray, pop_p: np.ndarray) -> int:
    """A film from `pool` not yet seen, weighted by popularity; -1 if none is left."""
    pool = pool[~seen[pool]]
    if len(pool) == 0:
        return -1
    w = pop_p[pool]
    return int(pool[rng.choice(len(pool), p=w / w.sum())])


def _next_film(rng, history, seen, taste, next_part, genres, by_genre, pop_p) -> tuple[int, str]:
    last = history[-1] if history else -1
    if last >= 0 and next_part[last] >= 0 and not seen[next_part[last]] and rng.random() < 0.8:
        return int(next_part[last]), "franchise"
    roll = rng.random()
    if history and roll < 0.45:
        recent = history[-3:]
        g = int(rng.choice(genres[int(rng.choice(recent))]))
        film = _pick(rng, by_genre[g], seen, pop_p)
        if film >= 0:
            return film, "genre"
    if roll < 0.75:
        g = int(rng.choice(taste))
        film = _pick(rng, by_genre[g], seen, pop_p)
        if film >= 0:
            return film, "taste"
    return _pick(rng, np.arange(len(pop_p)), seen, pop_p), "popular"
