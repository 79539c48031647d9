"""The built-in news world: articles, stories told in parts, and readers, generated offline and
deterministically from planted rules.

Articles come out over two months; a reader can only click what is already published and prefers fresh
articles. Every click carries the rule that produced it (`cause`) and, where one earlier click of the same reader was
behind it, that article's item_id (`cause_item`, "" otherwise):
- story: the next part of a story the reader has been following, once it is out (`cause_item`: the previous part,
  often many clicks back, as parts come out hours or days apart);
- topic: an article on the topic of one of the reader's last few clicks (`cause_item`: the click whose topic it was);
- taste: an article on one of the reader's long-term favourite topics;
- recent: whatever is fresh and popular right now, whatever its topic.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from recattn.data.builtin import PLACES
from recattn.data.dataset import Dataset, number_repeats, sort_interactions

TOPIC_SUBJECTS = {
    "Politics": ("Senate", "Mayor", "Council", "Minister", "Parliament"),
    "Business": ("Retailer", "Bank", "Startup", "Shipping Firm", "Carmaker"),
    "Technology": ("Chipmaker", "App Maker", "Robot Lab", "Telecom", "Cloud Provider"),
    "Science": ("Researchers", "Observatory", "Geologists", "Biologists", "Physicists"),
    "Health": ("Hospital", "Clinic", "Nurses", "Health Board", "Vaccine Maker"),
    "Sports": ("Coach", "Striker", "Rowing Crew", "League", "Goalkeeper"),
    "Entertainment": ("Director", "Band", "Festival", "Studio", "Theatre"),
    "Travel": ("Airline", "Ferry Line", "Resort", "Rail Operator", "Tour Guide"),
    "Food": ("Bakery", "Chef", "Vineyard", "Market Stall", "Brewery"),
    "Weather": ("Forecasters", "Storm Watch", "Heatwave", "Coast Guard", "Snow Crews"),
    "World": ("Envoy", "Summit", "Aid Agency", "Border Town", "Embassy"),
    "Environment": ("Rangers", "Wetland Trust", "Recyclers", "Solar Farm", "River Board"),
    "Education": ("University", "School Board", "Teachers", "Students", "Library"),
    "Autos": ("Dealer", "Race Team", "Mechanics", "Battery Maker", "Motor Show"),
}
TOPICS = tuple(TOPIC_SUBJECTS)
VERBS = (
    "Unveils", "Faces", "Wins", "Rejects", "Plans", "Delays", "Backs", "Questions", "Launches", "Revisits",
    "Doubles", "Pauses", "Defends", "Expands", "Rethinks", "Celebrates",
)
OBJECTS = (
    "New Budget", "Record Season", "Surprise Deal", "Bold Plan", "Safety Review", "Quiet Reform", "Late Bid",
    "Costly Detour", "Fresh Start", "Big Bet", "Long Fight", "Final Vote", "Open Letter", "Lost Ground",
)
EVENTS = (
    "Bridge Inquiry", "Harbor Strike", "Flood Recovery", "Election Recount", "Stadium Deal", "Museum Heist",
    "Transit Overhaul", "Vaccine Trial", "Mine Rescue", "Wildfire Season", "Merger Talks", "Championship Run",
    "Data Breach", "Space Launch", "Drought Watch", "Festival Row",
)
RECENT = 3  # the topic rule looks at this many last clicks
# The rule behind each click and what it means, in the words the app shows.
CAUSES = ("story", "topic", "taste", "recent")  # the planted rules; what each means: recattn.data.info.MEANINGS

T0 = 1_709_251_200  # 2024-03-01 00:00 UTC
HOUR = 3_600
DAY = 86_400
WINDOW = 10 * DAY  # older articles are out of reach: too stale to be shown


def generate_news(
    seed: int = 11,
    n_articles: int = 1500,
    n_readers: int = 3000,
    n_stories: int = 160,
    n_days: int = 60,
) -> Dataset:
    """Generate the news world (n_days at least 20). The same arguments always give byte-identical tables."""
    rng = np.random.default_rng(seed)
    items = _catalogue(rng, n_articles, n_stories, n_days)
    interactions = _clicks(rng, items, n_readers, n_days)
    return Dataset(name="builtin:news", format="builtin", items=items, interactions=interactions)


def _catalogue(rng: np.random.Generator, n_articles: int, n_stories: int, n_days: int) -> pd.DataFrame:
    names = list(itertools.product(PLACES, EVENTS))
    chosen = rng.choice(len(names), size=n_stories, replace=False)
    rows = []  # (published, topics, story, part, title)
    for s in range(n_stories):
        place, event = names[int(chosen[s])]
        topics = _topics(rng)
        t = T0 + int(rng.integers(0, (n_days - 12) * DAY))
        for p in range(1, int(rng.integers(2, 7)) + 1):
            if len(rows) == n_articles:
                break
            rows.append((t, topics, s, p, f"{place} {event}, part {p}: {_headline(rng, topics)}"))
            t += int(rng.integers(8 * HOUR, 40 * HOUR))
    while len(rows) < n_articles:
        topics = _topics(rng)
        rows.append((T0 + int(rng.integers(0, n_days * DAY)), topics, -1, 0, _headline(rng, topics)))
    # ids follow publication order; equal times keep generation order
    rows.sort(key=lambda r: r[0])
    published = np.array([r[0] for r in rows], dtype=np.int64)
    titles = number_repeats([r[4] for r in rows])  # every title names one article
    # Long-tailed appeal: Zipf-like weights over a random order of the articles.
    appeal = 1.0 / (rng.permutation(n_articles) + 1) ** 0.8
    return pd.DataFrame({
        "item_id": [f"N{i + 1}" for i in range(n_articles)],
        "title": titles,
        "genres": ["|".join(TOPICS[g] for g in r[1]) for r in rows],
        "year": pd.array(pd.to_datetime(published, unit="s").year, dtype="Int64"),
        "story": np.array([r[2] for r in rows], dtype=np.int64),
        "part": np.array([r[3] for r in rows], dtype=np.int64),
        "published": published,
        "appeal": appeal.round(6),
    })


def _topics(rng: np.random.Generator) -> tuple[int, ...]:
    k = 1 if rng.random() < 0.7 else 2
    return tuple(sorted(rng.choice(len(TOPICS), size=k, replace=False).tolist()))


def _headline(rng: np.random.Generator, topics: tuple[int, ...]) -> str:
    subject = _one(rng, TOPIC_SUBJECTS[TOPICS[topics[0]]])
    return f"{subject} {_one(rng, VERBS)} {_one(rng, OBJECTS)}"


def _one(rng: np.random.Generator, options):
    """One element, uniformly (rng.choice is slow for the many small draws made here)."""
    return options[int(rng.integers(len(options)))]


class _World:
    """The arrays a reader's choices look up, over articles in publication order."""

    def __init__(self, items: pd.DataFrame):
        self.published = items["published"].to_numpy()
        self.appeal = items["appeal"].to_numpy()
        index = {t: k for k, t in enumerate(TOPICS)}
        self.topics = [[index[t] for t in g.split("|")] for g in items["genres"]]
        self.on_topic = np.zeros((len(items), len(TOPICS)), dtype=bool)
        for a, ts in enumerate(self.topics):
            self.on_topic[a, ts] = True
        story, part = items["story"].to_numpy(), items["part"].to_numpy()
        self.story = story
        self.next_part = np.full(len(items), -1)
        self.previous_part = np.full(len(items), -1)
        for s in np.unique(story[story >= 0]):
            members = np.flatnonzero(story == s)
            members = members[np.argsort(part[members], kind="stable")]
            self.next_part[members[:-1]] = members[1:]
            self.previous_part[members[1:]] = members[:-1]

    def pick(self, rng, t: int, seen: np.ndarray, topic: int | None, freshness: float) -> int:
        """An unseen article published in the last WINDOW before t (on `topic` if given), weighted by
        appeal times exp(-age / freshness); -1 if there is none."""
        lo = int(np.searchsorted(self.published, t - WINDOW))
        hi = int(np.searchsorted(self.published, t, side="right"))
        ok = ~seen[lo:hi]
        if topic is not None:
            ok &= self.on_topic[lo:hi, topic]
        if not ok.any():
            return -1
        w = np.where(ok, self.appeal[lo:hi] * np.exp((self.published[lo:hi] - t) / freshness), 0.0)
        cum = np.cumsum(w)
        return lo + int(np.searchsorted(cum, rng.random() * cum[-1], side="right"))


def _clicks(rng: np.random.Generator, items: pd.DataFrame, n_readers: int, n_days: int) -> pd.DataFrame:
    world = _World(items)
    ids = items["item_id"].to_numpy()
    users, articles, times, causes, cause_items = [], [], [], [], []
    for u in range(n_readers):
        taste = rng.choice(len(TOPICS), size=int(rng.integers(1, 4)), replace=False).tolist()
        seen = np.zeros(len(items), dtype=bool)
        following: list[int] = []  # next parts of stories the reader has started, waiting to come out
        history: list[int] = []
        t = T0 + int(rng.integers(4 * DAY, (n_days - 14) * DAY))
        for _ in range(int(rng.integers(20, 31))):
            # mostly a few minutes within a visit, sometimes the next visit hours or days later
            t += int(rng.integers(2 * 60, 40 * 60)) if rng.random() < 0.75 else int(rng.integers(6 * HOUR, 2 * DAY))
            article, cause, before = _next_article(rng, world, t, seen, history, following, taste)
            if article < 0:
                continue
            seen[article] = True
            history.append(article)
            following = [a for a in following if a != article]
            if world.next_part[article] >= 0 and not seen[world.next_part[article]]:
                following.append(int(world.next_part[article]))
            users.append(f"r{u + 1}")
            articles.append(ids[article])
            times.append(t)
            causes.append(cause)
            cause_items.append(ids[before] if before >= 0 else "")
    frame = pd.DataFrame({"user_id": users, "item_id": articles, "timestamp": np.array(times, dtype=np.int64),
                          "cause": causes, "cause_item": cause_items})
    return sort_interactions(frame)


def _next_article(rng, world: _World, t: int, seen, history, following, taste) -> tuple[int, str, int]:
    """The article clicked at time t (-1: nothing to click), its cause, and the earlier click behind it (-1: none)."""
    out = [a for a in following if world.published[a] <= t]
    if out and rng.random() < 0.6:
        article = min(out, key=lambda a: world.published[a])
        return article, "story", int(world.previous_part[article])
    roll = rng.random()
    if history and roll < 0.4:
        before = _one(rng, history[-RECENT:])
        article = world.pick(rng, t, seen, _one(rng, world.topics[before]), freshness=1.5 * DAY)
        if article >= 0:
            return article, "topic", before
    if roll < 0.7:
        article = world.pick(rng, t, seen, _one(rng, taste), freshness=1.5 * DAY)
        if article >= 0:
            return article, "taste", -1
    return world.pick(rng, t, seen, None, freshness=0.3 * DAY), "recent", -1
