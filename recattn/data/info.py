"""A source in numbers: what `python -m recattn data info` prints and the app's Data page shows."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd

from recattn.data.dataset import Dataset
from recattn.i18n import N_, _


def summarize(dataset: Dataset) -> dict:
    """Format, counts, median interactions per user, and the first and last interaction time (ISO-8601
    UTC; None when there are no interactions). `items` counts items with at least one interaction. `notes`
    (only when there are any) says what loading changed: duplicated rows dropped, timestamp units, short users."""
    inter = dataset.interactions
    lengths = inter.groupby("user_id", sort=False).size()
    times = inter["timestamp"]
    notes = {"notes": list(dataset.notes)} if dataset.notes else {}
    return {
        "format": dataset.format,
        "users": int(lengths.size),
        "items": int(inter["item_id"].nunique()),
        "interactions": int(len(inter)),
        "median_length": float(lengths.median()) if lengths.size else 0.0,
        "first_time": _iso(times.min()) if len(times) else None,
        "last_time": _iso(times.max()) if len(times) else None,
        **notes,
    }


def _iso(seconds) -> str:
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc).isoformat().replace("+00:00", "Z")


# What each planted cause of a built-in world means (the generators' CAUSES: recattn.data.builtin, recattn.data.news),
# as messages to translate, their numbers as placeholders. Kept here, not in the generators, so that the worlds' disk
# cache is not keyed on the translation code.
MEANINGS = {
    "builtin:films": {
        "franchise": N_("the next part of a franchise the user watched earlier: right before, or at the franchise's "
                        "own pace, up to about {max_delay} films back"),
        "genre": N_("a film sharing a genre with one of the last {recent} films"),
        "taste": N_("a pick from the user's long-term favourite genres"),
        "popular": N_("a pick from the global, long-tailed popularity"),
    },
    "builtin:news": {
        "story": N_("the next part of a story the reader follows, once it is out"),
        "topic": N_("an article on the topic of one of the last few clicks"),
        "taste": N_("an article on one of the reader's long-term favourite topics"),
        "recent": N_("whatever is fresh and popular right now"),
    },
}
# The causes' own names, as the Data page's chart shows them (through `_`)
CAUSE_NAMES = (N_("franchise"), N_("genre"), N_("taste"), N_("popular"), N_("story"), N_("topic"), N_("recent"))


def cause_meanings(source: str) -> dict[str, str]:
    """What each planted cause of a built-in world means, in the current language ({} for other sources: real data
    has no causes). Shown text: call it where it is shown, never inside a cache shared by readers of all languages."""
    if source == "builtin:films":
        from recattn.data.builtin import MAX_DELAY, RECENT
    elif source == "builtin:news":
        from recattn.data.news import RECENT
        MAX_DELAY = 0  # noqa: N806 (no such placeholder in the news sentences)
    else:
        return {}
    return {cause: _(text).format(max_delay=MAX_DELAY, recent=RECENT) for cause, text in MEANINGS[source].items()}


def cause_distances(interactions: pd.DataFrame) -> np.ndarray:
    """How many interactions back each row's `cause_item` lies in its user's history (1: the one just before), or 0
    where the row has none: no single earlier item caused it, or the source has no `cause_item` column (only the
    built-in worlds have one, and they never repeat an item in a history). Interactions sorted by user and time."""
    if "cause_item" not in interactions:
        return np.zeros(len(interactions), dtype=np.int64)
    rows = interactions[["user_id", "item_id", "cause_item"]].assign(
        position=interactions.groupby("user_id", sort=False).cumcount().to_numpy())
    earlier = rows[["user_id", "item_id", "position"]].rename(columns={"item_id": "cause_item", "position": "at"})
    joined = rows.merge(earlier, on=["user_id", "cause_item"], how="left")  # keeps the rows' order
    return (joined["position"] - joined["at"]).fillna(0).astype(np.int64).to_numpy()


# The rules whose cause is one earlier item, and which earlier items satisfy them: a continuation (the next part of a
# franchise or story) is caused by the earlier parts of its series (the catalogue column); a similarity rule (a genre
# or topic of one of the last few items) by every one of those last items that shares a genre or topic with it.
SERIES_RULES = {"franchise": "franchise", "story": "story"}


def _similar_windows() -> dict[str, int]:
    from recattn.data.builtin import RECENT as FILMS_RECENT
    from recattn.data.news import RECENT as NEWS_RECENT

    return {"genre": FILMS_RECENT, "topic": NEWS_RECENT}


def cause_sets(interactions: pd.DataFrame, items: pd.DataFrame) -> list[tuple[int, ...]]:
    """Per row, the distances back (1: the item just before) of every earlier item of the same user that satisfies
    the rule that fired, nearest first: the recorded `cause_item` and the others the rule admits (see SERIES_RULES
    and the similarity windows); () where no earlier item caused the row. A rule this function does not know, or a
    catalogue without the column it needs, admits the recorded item alone. Interactions sorted by user and time."""
    distance = cause_distances(interactions)
    if not distance.any():
        return [()] * len(interactions)
    ids = items["item_id"].astype(str)
    genres = dict(zip(ids, items["genres"].fillna("").astype(str).str.split("|").map(
        lambda gs: frozenset(g for g in gs if g and g != "(no genres listed)"))))
    series = {rule: dict(zip(ids, items[column].to_numpy())) for rule, column in SERIES_RULES.items()
              if column in items}
    windows = _similar_windows()
    users = interactions["user_id"].to_numpy()
    seen = interactions["item_id"].astype(str).to_numpy()
    rules = interactions["cause"].astype(str).to_numpy() if "cause" in interactions else np.full(len(users), "")
    out: list[tuple[int, ...]] = []
    start = 0
    for row in range(len(users)):
        if row and users[row] != users[row - 1]:
            start = row
        if distance[row] <= 0:
            out.append(())
            continue
        found = {int(distance[row])}
        rule, item = rules[row], seen[row]
        if rule in series and series[rule].get(item, -1) >= 0:
            group = series[rule][item]
            found |= {row - j for j in range(start, row) if series[rule].get(seen[j], -1) == group}
        elif rule in windows and genres.get(item):
            found |= {row - j for j in range(max(start, row - windows[rule]), row)
                      if genres.get(seen[j], frozenset()) & genres[item]}
        out.append(tuple(sorted(found)))
    return out


def profile(dataset: Dataset) -> dict:
    """What the Data page shows about a source: `summarize`'s counts plus the catalogue size and density, and the
    tables behind its charts (history lengths, item counts, genres, planted causes). Numbers only, no shown
    sentences, so that one cached profile serves every language: `cause_meanings` says what the causes mean."""
    inter, items = dataset.interactions, dataset.items
    summary = summarize(dataset)
    counts = inter["item_id"].astype(str).value_counts()
    title = dict(zip(items["item_id"].astype(str), items["title"].astype(str)))
    genres = pd.DataFrame({"item_id": items["item_id"].astype(str),
                           "genre": items["genres"].fillna("").astype(str).str.split("|")}).explode("genre")
    genres["genre"] = genres["genre"].str.strip()
    genres = genres[genres["genre"] != ""]  # items without genres (a CSV without items.csv has none at all)
    genres["interactions"] = genres["item_id"].map(counts).fillna(0).astype(int)
    head = max(1, len(counts) // 10)
    return {
        **summary,
        "catalogue": len(items),
        "density": summary["interactions"] / max(summary["users"] * summary["items"], 1),
        "top_decile_share": float(counts.iloc[:head].sum() / max(len(inter), 1)),
        "lengths": inter.groupby("user_id", sort=False).size().to_numpy(),
        "popular_titles": [title.get(i, i) for i in counts.index],
        "popular_counts": counts.to_numpy(),
        "genres": genres.groupby("genre", as_index=False).agg(interactions=("interactions", "sum"),
                                                              items=("item_id", "nunique")),
        "causes": inter["cause"].value_counts().to_dict() if "cause" in inter else {},
    }
