"""The one step every file layout ends with: check the two tables against each other, filter, sort, and
build the Dataset."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recattn.data.dataset import Dataset, sort_interactions
from recattn.data.formats.table import Table, shown_value
from recattn.errors import DataError, RecAttnError


_INT64_LIMIT = 2.0**63
# (below this absolute value, unit name, units per second)
_UNITS = ((1e11, "seconds", 1), (1e14, "milliseconds", 10**3), (1e17, "microseconds", 10**6),
          (float("inf"), "nanoseconds", 10**9))
_YEAR_1 = -62_135_596_800  # 0001-01-01T00:00:00Z in seconds: the earliest time datetime can show


@dataclass(frozen=True)
class Raw:
    """What a reader hands over.

    interactions: user_id (str), item_id (str), timestamp (numbers since 1970 in any unit; `finish` turns
        them into int64 seconds), optionally rating (float);
        its index is the record number in its file, so that errors can name the line.
    items: the catalogue file read as item_id (str), title, genres ("|"-joined), year (Int64) and any
        extra columns; None where the layout has no items file.
    """

    interactions: Table
    items: Table | None


def finish(raw: Raw, *, name: str, format: str, min_rating: float | None = None,
           kcore: int | None = None) -> Dataset:
    """Validate ids across the files, convert timestamps to seconds (see `timestamps_in_seconds`), drop
    duplicated rows (same user, item and time: the first is kept), keep ratings >= min_rating, apply the
    k-core, sort per user in time order (ties keep file order) and build the catalogue. What was changed
    goes into `Dataset.notes`. Users with fewer than 3 interactions are kept (see sequences.leave_one_out)."""
    inter = raw.interactions.frame
    if raw.items is not None:
        _check_catalogue(raw.items, raw.interactions)
        items = raw.items.frame
    else:
        items = _catalogue_from(inter)
    seconds, notes = timestamps_in_seconds(raw.interactions)
    inter = inter.assign(timestamp=seconds)
    duplicated = inter.duplicated(["user_id", "item_id", "timestamp"], keep="first")
    if duplicated.any():
        inter = inter[~duplicated]
        notes.append(f"{int(duplicated.sum()):,} duplicated row(s) (same user, item and time) were dropped; "
                     "the first of each is kept")
    if min_rating is not None:
        if "rating" not in inter.columns:
            raise RecAttnError(f"{format} interactions have no ratings, so min_rating cannot apply; drop it")
        inter = inter[inter["rating"] >= min_rating]
    if kcore is not None:
        inter = k_core(inter, kcore)
    if inter.empty:
        raise DataError("no interactions are left" + (" after filtering" if min_rating or kcore else ""),
                        path=str(raw.interactions.path),
                        hint="lower min_rating or kcore" if min_rating or kcore else "the file has a header only")
    # planted causes (a simulated world's) travel with the interactions, so explanations can be scored on them
    columns = ["user_id", "item_id", "timestamp"] + [c for c in ("cause", "cause_item") if c in inter.columns]
    inter = inter[columns].reset_index(drop=True).astype({"user_id": "str", "item_id": "str",
                                                           "timestamp": "int64"})
    return Dataset(name=name, format=format, items=_tidy(items), interactions=sort_interactions(inter),
                   notes=tuple(notes))


def timestamps_in_seconds(interactions: Table) -> tuple[pd.Series, list[str]]:
    """The `timestamp` column as int64 seconds, and notes on what was done to it.

    The unit is chosen for the whole column from its largest absolute value: below 1e11 seconds (up to the
    year 5138), below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds; fractions of a second
    are dropped. Negative values (before 1970) are kept: they only order a history. A value that is no time
    at all (beyond int64, or before the year 1 once in seconds) raises DataError at its line.
    """
    values = interactions.frame["timestamp"]
    numbers = values.to_numpy(dtype=np.float64)
    beyond = ~(np.abs(numbers) < _INT64_LIMIT)
    if beyond.any():
        pos = int(np.argmax(beyond))
        raise interactions.error(interactions.frame.index[pos], f"timestamp {shown_value(values.iloc[pos])!r} is too large "
                                 "to be a time", "timestamps are seconds (or ms, µs, ns) since 1970-01-01 UTC")
    largest = float(np.abs(numbers).max(initial=0.0))
    unit, per_second = next((u, p) for limit, u, p in _UNITS if largest < limit)
    if pd.api.types.is_integer_dtype(values.dtype):
        seconds = values.astype("int64") // per_second
    else:
        seconds = np.floor(values.astype("float64") / per_second).astype("int64")
    early = (seconds < _YEAR_1).to_numpy()
    if early.any():
        pos = int(np.argmax(early))
        raise interactions.error(interactions.frame.index[pos],
                                 f"timestamp {shown_value(values.iloc[pos])!r} is before the year 1 (read as {unit})",
                                 "timestamps are seconds (or ms, µs, ns) since 1970-01-01 UTC")
    notes = []
    if per_second > 1:
        notes.append(f"timestamps are in {unit} (the largest is {largest:.0f}); they were converted to seconds")
    negative = int((seconds < 0).sum())
    if negative:
        notes.append(f"{negative:,} interaction(s) have negative timestamps (before 1970); they are kept and "
                     "only order each user's history")
    return seconds, notes


def k_core(interactions: pd.DataFrame, k: int) -> pd.DataFrame:
    """Drop users and items with fewer than k interactions, again and again until none is left."""
    if k < 1:
        raise RecAttnError(f"kcore must be a positive integer, not {k}")
    users = interactions["user_id"].factorize()[0]
    items = interactions["item_id"].factorize()[0]
    keep = np.ones(len(interactions), dtype=bool)
    while True:
        user_counts = np.bincount(users[keep], minlength=users.max(initial=-1) + 1)
        item_counts = np.bincount(items[keep], minlength=items.max(initial=-1) + 1)
        still = keep & (user_counts[users] >= k) & (item_counts[items] >= k)
        if (still == keep).all():
            return interactions[keep]
        keep = still


def _check_catalogue(items: Table, interactions: Table) -> None:
    ids = items.frame["item_id"]
    dupes = ids.duplicated()
    if dupes.any():
        pos = int(np.argmax(dupes.to_numpy()))
        raise items.error(items.frame.index[pos], f"item id {ids.iloc[pos]!r} appears twice in the catalogue",
                          "remove the duplicated line")
    used = interactions.frame["item_id"]
    unknown = ~used.isin(ids)
    if unknown.any():
        pos = int(np.argmax(unknown.to_numpy()))
        n_missing = used[unknown].nunique()
        raise interactions.error(
            interactions.frame.index[pos],
            f"item {used.iloc[pos]!r} is not in the items file {items.path.name} "
            f"({n_missing} item id(s) used here are missing from it)",
            f"use the items file that belongs to these interactions, or add the missing items to {items.path}",
        )


def _catalogue_from(interactions: pd.DataFrame) -> pd.DataFrame:
    """Without an items file, the catalogue is the items seen, in order of first appearance."""
    ids = pd.unique(interactions["item_id"])
    return pd.DataFrame({"item_id": ids, "title": ids, "genres": "", "year": pd.array([pd.NA] * len(ids),
                                                                                      dtype="Int64")})


def _tidy(items: pd.DataFrame) -> pd.DataFrame:
    """The catalogue's fixed columns first, with the contract's dtypes; extra columns after them."""
    out = items.reset_index(drop=True)
    out = out.assign(
        item_id=out["item_id"].astype("str"),
        title=out["title"].fillna("").astype("str"),
        genres=out["genres"].fillna("").astype("str"),
        year=out["year"].astype("Int64"),
    )
    fixed = ["item_id", "title", "genres", "year"]
    return out[fixed + [c for c in out.columns if c not in fixed]]
