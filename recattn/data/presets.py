"""Story presets: short histories built from the planted causes of the built-in worlds, each with one sentence on
what a model that learned those causes should pick up. Built from the catalogue alone, so always the same.

The film world marks franchises with `franchise` (-1: none), `part` (1, 2, …) and `pace` (how many films after a part
users come back to the next one); the news world marks stories with
`story` (-1: none), `part` and `published`. Both join genres (topics) with "|". Other catalogues get no presets:
their causes are unknown.

A preset's name and story are messages (recattn.i18n) with their values (titles and genres of the data, numbers):
`name` and `story` read them in the language of whoever asks, so one cached list serves every reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

import pandas as pd

from recattn.data.dataset import Dataset
from recattn.data.news import WINDOW
from recattn.i18n import N_, _

LEAD_IN = 3  # films of other genres before the first part of a trilogy
PACES = range(4, 9)  # franchise paces for a history that ends where part 2 is due, a few films after part 1


@dataclass(frozen=True)
class Preset:
    """A history that tells a story: a name for its button, what the model should pick up, and the ids.

    `title` and `text` are the English messages (marked N_), `values` the (placeholder, value) pairs they are
    formatted with; a tuple value is a list of names ("Family and Animation")."""

    title: str
    text: str
    item_ids: tuple[str, ...]
    values: tuple[tuple[str, object], ...] = ()

    @property
    def name(self) -> str:
        """The name of its button, in the current language."""
        return _(self.title).format(**self._shown())

    @property
    def story(self) -> str:
        """What the model should pick up, in the current language."""
        return _(self.text).format(**self._shown())

    def _shown(self) -> dict[str, object]:
        return {key: reduce(lambda a, b: _("{a} and {b}").format(a=a, b=b), value) if isinstance(value, tuple)
                else value for key, value in self.values}


def presets(dataset: Dataset) -> list[Preset]:
    """The story presets of a data set: the film or news world's planted causes, or [] for other data."""
    items = dataset.items
    if {"franchise", "part"} <= set(items.columns):
        found = (trilogy(items),
                 binge(items, "Sci-Fi", ("Family", "Animation"), N_("A sci-fi binge, then children's films")),
                 fan(items, "Noir", N_("A noir fan")), come_back(items))
        return [p for p in found if p is not None]
    if {"story", "part", "published"} <= set(items.columns):
        return [p for p in (following_story(items),
                            switch_topic(items, "Sports", "Politics", N_("A sports reader who switches to politics")))
                if p is not None]
    return []


def _has(items: pd.DataFrame, genres: tuple[str, ...]) -> pd.Series:
    """Rows with at least one of `genres` (bool even when empty: pandas reads an empty object Series as labels)."""
    return items["genres"].astype(str).str.split("|").map(lambda gs: any(g in gs for g in genres)).astype(bool)


def _only(items: pd.DataFrame, genres: tuple[str, ...]) -> pd.Series:
    """Rows whose genres are all among `genres`: a clear signal, not blurred by a second genre."""
    return items["genres"].astype(str).str.split("|").map(lambda gs: set(gs) <= set(genres)).astype(bool)


def _by_appeal(items: pd.DataFrame, column: str) -> pd.DataFrame:
    """Most popular first; ids break ties (stable)."""
    return items.sort_values(column, ascending=False, kind="stable")


def _ids(rows: pd.DataFrame) -> tuple[str, ...]:
    return tuple(rows["item_id"].astype(str))


# ---------------------------------------------------------------- films
def _opening(items: pd.DataFrame, paces: range, n_parts: int) -> tuple[pd.Series, pd.DataFrame] | None:
    """Part 1 of the most popular franchise with at least `n_parts` parts whose pace is in `paces` (any pace where
    the catalogue has none), and the films outside franchises sharing no genre with it, most popular first."""
    members = items[items["franchise"] >= 0]
    parts = members.groupby("franchise")["part"].max()
    keep = parts[parts >= n_parts].index
    if "pace" in items:
        paced = members.groupby("franchise")["pace"].first()
        keep = keep.intersection(paced[paced.isin(paces)].index)
    firsts = items[(items["part"] == 1) & items["franchise"].isin(keep)]
    if firsts.empty:
        return None
    first = _by_appeal(firsts, "popularity").iloc[0]
    genres = tuple(str(first["genres"]).split("|"))
    return first, _by_appeal(items[(items["franchise"] < 0) & ~_has(items, genres)], "popularity")


def _part_two(items: pd.DataFrame, first: pd.Series) -> str:
    return items[(items["franchise"] == first["franchise"]) & (items["part"] == 2)]["title"].iloc[0]


def trilogy(items: pd.DataFrame) -> Preset | None:
    """A few films of other genres, then part 1 of the most popular franchise with at least three parts that
    users watch back to back (pace 1)."""
    found = _opening(items, range(1, 2), 3)
    if found is None:
        return None
    first, others = found
    n_parts = int(items.loc[items["franchise"] == first["franchise"], "part"].max())
    return Preset(
        N_("Finished part 1 of a trilogy"),
        N_("The last film opens a franchise of {parts} parts that people watch back to back: the model should put "
           "part 2, {title}, at the top, and attend to that last film most."),
        _ids(others.head(LEAD_IN)) + (str(first["item_id"]),),
        (("parts", n_parts), ("title", _part_two(items, first))),
    )


def come_back(items: pd.DataFrame) -> Preset | None:
    """Part 1 of the most popular franchise with a pace of PACES, then films of other genres until part 2 is due."""
    found = _opening(items, PACES, 2)
    if found is None or "pace" not in items:
        return None
    first, others = found
    pace = int(first["pace"])
    return Preset(
        N_("Part 1 a few films back"),
        N_("Part 1 of a franchise came {pace} films ago, and people come back to this franchise {pace} films after a "
           "part: part 2, {title}, should top the list, and attention should reach back to part 1 rather than stay on "
           "the last films."),
        (str(first["item_id"]),) + _ids(others.head(pace - 1)),
        (("pace", pace), ("title", _part_two(items, first))),
    )


def binge(items: pd.DataFrame, first: str, then: tuple[str, ...], name: str, n_first: int = 4,
          n_then: int = 2) -> Preset | None:
    """Several films of one genre only, then a few of other genres only (outside franchises, most popular first);
    `name`: the preset's name, a message marked N_."""
    loose = items[items["franchise"] < 0]
    old = _by_appeal(loose[_only(loose, (first,))], "popularity").head(n_first)
    new = _by_appeal(loose[_only(loose, then)], "popularity").head(n_then)
    if len(old) < n_first or len(new) < n_then:
        return None
    return Preset(
        name,
        N_("The genre rule follows the last few films: {then} films should rise although most of the history is "
           "{first}."),
        _ids(old) + _ids(new),
        (("then", tuple(then)), ("first", first)),
    )


def fan(items: pd.DataFrame, genre: str, name: str, n: int = 5) -> Preset | None:
    """The most popular films of one genre only, outside franchises; `name`: the preset's name, a message marked
    N_."""
    loose = items[items["franchise"] < 0]
    picked = _by_appeal(loose[_only(loose, (genre,))], "popularity").head(n)
    if len(picked) < n:
        return None
    return Preset(name, N_("Every film is {genre}: the recommendations should be {genre} too, and attention spread "
                           "over the whole history rather than on one film."), _ids(picked), (("genre", genre),))


# ---------------------------------------------------------------- news
def following_story(items: pd.DataFrame, n: int = 3) -> Preset | None:
    """The first `n` parts of the longest story, in publication order."""
    parts = items[items["story"] >= 0].groupby("story")["part"].max()
    longest = parts[parts > n]
    if longest.empty:
        return None
    story = int(longest.sort_values(ascending=False, kind="stable").index[0])
    told = items[items["story"] == story].sort_values("part")
    nxt = told.iloc[n]["title"]
    return Preset(N_("Following one news story"), N_("These are the first {n} parts of one story: the model should "
                                                      "pick part {next}, {title}, once it is out."),
                  _ids(told.head(n).sort_values("published", kind="stable")),
                  (("n", n), ("next", n + 1), ("title", nxt)))


def switch_topic(items: pd.DataFrame, first: str, then: str, name: str, n_first: int = 4,
                 n_then: int = 2) -> Preset | None:
    """`n_first` articles on one topic only, then `n_then` on another, outside stories, in publication order;
    `name`: the preset's name, a message marked N_.

    Of every run of `n_first` consecutive articles on the first topic, the most appealing one that has `n_then`
    articles on the other topic within WINDOW after it (what a reader could still click) is taken."""
    loose = items[items["story"] < 0].sort_values("published", kind="stable")
    old_pool, new_pool = loose[loose["genres"] == first], loose[loose["genres"] == then]
    best = None
    for start in range(len(old_pool) - n_first + 1):
        old = old_pool.iloc[start:start + n_first]
        end = old["published"].iloc[-1]
        new = new_pool[(new_pool["published"] > end) & (new_pool["published"] <= end + WINDOW)]
        new = _by_appeal(new, "appeal").head(n_then).sort_values("published", kind="stable")
        appeal = old["appeal"].sum() + new["appeal"].sum()
        if len(new) == n_then and (best is None or appeal > best[0]):
            best = (appeal, _ids(old) + _ids(new))
    if best is None:
        return None
    return Preset(name, N_("Readers follow the topic of their last few clicks: {then} articles should take over the "
                           "top of the list."), best[1], (("then", then),))
