"""The one step every file layout ends with: check the two tables against each other, filter, sort, and
build the Dataset."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recattn.data.dataset import Dataset, sort_interactions
from recattn.data.formats.table import Table, shown_value
from recattn.errors import DataError, RecAttnError
from recattn.i18n import N_, _


_INT64_LIMIT = 2.0**63
# (below this absolute value, unit name, units per second)
_UNITS = ((1e11, N_("seconds"), 1), (1e14, N_("milliseconds"), 10**3), (1e17, N_("microseconds"), 10**6),
          (float("inf"), N_("nanoseconds"), 10**9))
_TIME_HINT = N_("timestamps are seconds (or ms, µs, ns) since 1970-01-01 UTC")
_YEAR_1 = -62_135_596_800  # 0001-01-01T00:00:00Z in seconds: the earliest time datetime can show


class Note(str):
    """A sentence about the data for `Dataset.notes`: English as a str (what the CLI prints, JSON and the caches
    hold, what tests compare), and in the reader's language through `shown_note`. A loaded Dataset is shared by
    every session, so its notes are kept as a message (marked with N_) and its values, translated where shown."""

    message: str
    values: dict

    def __new__(cls, message: str, **values) -> "Note":
        note = super().__new__(cls, message.format(**values))
        note.message, note.values = message, values
        return note

    def __reduce__(self):  # pickled (st.cache_data) and copied with its message, not as the English text alone
        return _note, (self.message, self.values)


def _note(message: str, values: dict) -> Note:
    return Note(message, **values)


def shown_note(note: str) -> str:
    """A note of `Dataset.notes` in the current language (a plain str, as a disk cache gives back, as it is)."""
    return _(note.message).format(**note.values) if isinstance(note, Note) else note


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
        notes.append(Note(N_("{count:,} duplicated row(s) (same user, item and time) were dropped; the first of "
                             "each is kept"), count=int(duplicated.sum())))
    if min_rating is not None:
        if "rating" not in inter.columns:
            raise RecAttnError(_("{format} interactions have no ratings, so min_rating cannot apply; drop it").format(
                format=format))
        inter = inter[inter["rating"] >= min_rating]
    if kcore is not None:
        inter = k_core(inter, kcore)
    if inter.empty:
        filtered = bool(min_rating or kcore)
        raise DataError(_("no interactions are left after filtering") if filtered else _("no interactions are left"),
                        path=str(raw.interactions.path),
                        hint=_("lower min_rating or kcore") if filtered else _("the file has a header only"))
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
        raise interactions.error(interactions.frame.index[pos], _("timestamp {value} is too large to be a time").format(
            value=repr(shown_value(values.iloc[pos]))), _(_TIME_HINT))
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
                                 _("timestamp {value} is before the year 1 (read as {unit})").format(
                                     value=repr(shown_value(values.iloc[pos])), unit=_(unit)),
                                 _(_TIME_HINT))
    notes: list[str] = []
    if per_second > 1:
        # the unit is one of three words: one message each, so that a translation needs no word in between
        notes.append(Note({"milliseconds": N_("timestamps are in milliseconds (the largest is {largest:.0f}); they "
                                              "were converted to seconds"),
                           "microseconds": N_("timestamps are in microseconds (the largest is {largest:.0f}); they "
                                              "were converted to seconds"),
                           "nanoseconds": N_("timestamps are in nanoseconds (the largest is {largest:.0f}); they were "
                                             "converted to seconds")}[unit], largest=largest))
    negative = int((seconds < 0).sum())
    if negative:
        notes.append(Note(N_("{count:,} interaction(s) have negative timestamps (before 1970); they are kept and only "
                             "order each user's history"), count=negative))
    return seconds, notes


def k_core(interactions: pd.DataFrame, k: int) -> pd.DataFrame:
    """Drop users and items with fewer than k interactions, again and again until none is left."""
    if k < 1:
        raise RecAttnError(_("kcore must be a positive integer, not {value}").format(value=k))
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
        raise items.error(items.frame.index[pos], _("item id {id} appears twice in the catalogue").format(
            id=repr(ids.iloc[pos])), _("remove the duplicated line"))
    used = interactions.frame["item_id"]
    unknown = ~used.isin(ids)
    if unknown.any():
        pos = int(np.argmax(unknown.to_numpy()))
        n_missing = used[unknown].nunique()
        raise interactions.error(
            interactions.frame.index[pos],
            _("item {id} is not in the items file {file} ({count} item id(s) used here are missing from it)").format(
                id=repr(used.iloc[pos]), file=items.path.name, count=n_missing),
            _("use the items file that belongs to these interactions, or add the missing items to {path}").format(
                path=items.path),
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
