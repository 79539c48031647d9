"""The built-in film world: a catalogue and users generated from planted rules, offline and deterministic.

Every interaction carries the rule that produced it (`cause`) and, where one earlier film of the same user was
behind it, that film's item_id (`cause_item`, "" otherwise), so explanations can be checked against it:
- franchise: the next part of a franchise the user watched earlier; the user queues it on watching the previous
  part (`cause_item`) and comes back to it at the franchise's `pace`: 1 to MAX_DELAY films later, the same for all
  users (sagas spaced out, short series back to back), so the most recent film is often not the cause;
- genre: a film sharing a genre with one of the user's last RECENT films (`cause_item`: the film whose genre it was);
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

CONTINUE = 0.95  # share of watched franchise parts whose next part the user queues
MAX_DELAY = 20  # a queued part comes at most this many films later (a film more if another part is due then)
RECENT = 3  # the genre rule looks at this many last films
TRIES = 8  # popularity draws before a pick falls back to listing the unseen films

# The rule behind each interaction and what it means, in the words the app shows.
CAUSES = ("franchise", "genre", "taste", "popular")  # the planted rules; what each means: recattn.data.info.MEANINGS


def _delay_weights(right_away: float, hazard: float, longest: int = MAX_DELAY) -> np.ndarray:
    """Weights of coming back to a queued item 1..longest items later (distance 1: next): `right_away` on 1, the
    rest geometric from 2 on (the same chance `hazard` at each longer delay), cut at `longest` and normalized."""
    later = hazard * (1 - hazard) ** np.arange(longest - 1)
    weights = np.concatenate([[right_away], (1 - right_away) * later / later.sum()])
    return weights / weights.sum()


def _draw(rng: np.random.Generator, cum: np.ndarray) -> int:
    """An index drawn with the weights whose cumulative sum is `cum` (faster than rng.choice(p=...) per draw)."""
    return int(np.searchsorted(cum, rng.random() * cum[-1], side="right"))


# a franchise's pace: how many films after a part the users come back to the next one (cumulative weights)
FILM_PACES = np.cumsum(_delay_weights(right_away=0.4, hazard=0.12))


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
    pace = np.zeros(n_films, dtype=int)  # drawn last, so the rest of the catalogue is what it was before paces
    for f in range(n_franchises):
        pace[franchise == f] = 1 + _draw(rng, FILM_PACES)

    return pd.DataFrame({
        "item_id": [str(i + 1) for i in range(n_films)],
        "title": titles,
        "genres": ["|".join(GENRES[g] for g in gs) for gs in genre_sets],
        "year": pd.array(years, dtype="Int64"),
        "franchise": franchise,
        "part": part,
        "pace": pace,
        "popularity": popularity.round(6),
    })


EVERYTHING = len(GENRES)  # the pool of all films, after one pool per genre


class _Films:
    """What a user's choices look up: next parts and their franchise's pace, genres, and the pools films are picked
    from (one per genre, then the whole catalogue: `EVERYTHING`) with their cumulative popularity."""

    def __init__(self, items: pd.DataFrame):
        genre_index = {g: k for k, g in enumerate(GENRES)}
        self.genres = [[genre_index[g] for g in s.split("|")] for s in items["genres"]]
        self.popularity = items["popularity"].to_numpy()
        franchise, part = items["franchise"].to_numpy(), items["part"].to_numpy()
        self.next_part = np.full(len(items), -1)
        self.pace = items["pace"].to_numpy()
        for f in np.unique(franchise[franchise >= 0]):
            members = np.flatnonzero(franchise == f)
            members = members[np.argsort(part[members])]
            self.next_part[members[:-1]] = members[1:]
        on_genre = np.zeros((len(items), len(GENRES)), dtype=bool)
        for film, gs in enumerate(self.genres):
            on_genre[film, gs] = True
        members = [np.flatnonzero(on_genre[:, g]) for g in range(len(GENRES))] + [np.arange(len(items))]
        self.pools = [(m, np.cumsum(self.popularity[m])) for m in members]

    def pick(self, rng: np.random.Generator, pool: int, seen: np.ndarray) -> int:
        """A film of pool `pool` (a genre's index, or EVERYTHING) not yet seen, weighted by popularity; -1 if none
        is left.

        Draws from the whole pool and rejects seen films (exact, and cheap while few are seen); after TRIES
        rejections it draws among the unseen ones directly."""
        pool, cum = self.pools[pool]
        for _ in range(TRIES):
            film = int(pool[_draw(rng, cum)])
            if not seen[film]:
                return film
        pool = pool[~seen[pool]]
        if len(pool) == 0:
            return -1
        return int(pool[_draw(rng, np.cumsum(self.popularity[pool]))])


def _histories(rng: np.random.Generator, items: pd.DataFrame, n_users: int) -> pd.DataFrame:
    world = _Films(items)
    ids = items["item_id"].to_numpy()
    users, films, times, causes, cause_items = [], [], [], [], []
    t0 = 1_577_836_800  # 2020-01-01
    for u in range(n_users):
        taste = rng.choice(len(GENRES), size=int(rng.integers(2, 4)), replace=False)
        length = int(np.clip(rng.lognormal(3.3, 0.5), 8, 120))
        seen = np.zeros(len(items), dtype=bool)
        history: list[int] = []
        queue: list[tuple[int, int, int]] = []  # (step it is due, next part, the part before it)
        t = t0 + int(rng.integers(0, 86_400 * 365))
        for step in range(length):
            film, cause, before = _next_film(rng, world, step, queue, history, seen, taste)
            seen[film] = True
            history.append(film)
            queue = [q for q in queue if q[1] != film]
            after = int(world.next_part[film])
            if after >= 0 and not seen[after] and rng.random() < CONTINUE:
                queue.append((step + int(world.pace[film]), after, film))
            t += int(rng.integers(3_600, 86_400 * 4))
            users.append(f"u{u + 1}")
            films.append(ids[film])
            times.append(t)
            causes.append(cause)
            cause_items.append(ids[before] if before >= 0 else "")
    frame = pd.DataFrame({"user_id": users, "item_id": films, "timestamp": np.array(times, dtype=np.int64),
                          "cause": causes, "cause_item": cause_items})
    return sort_interactions(frame)


def _next_film(rng, world: _Films, step: int, queue, history, seen, taste) -> tuple[int, str, int]:
    """The film at `step`, its cause, and the earlier film behind it (-1: none)."""
    due = [q for q in queue if q[0] <= step]
    if due:  # the part due first (two due at once: the other waits a film)
        _, film, before = min(due)
        return film, "franchise", before
    roll = rng.random()
    if history and roll < 0.45:
        recent = history[-RECENT:]
        before = recent[int(rng.integers(len(recent)))]
        gs = world.genres[before]
        film = world.pick(rng, gs[int(rng.integers(len(gs)))], seen)
        if film >= 0:
            return film, "genre", before
    if roll < 0.75:
        film = world.pick(rng, int(taste[int(rng.integers(len(taste)))]), seen)
        if film >= 0:
            return film, "taste", -1
    return world.pick(rng, EVERYTHING, seen), "popular", -1
