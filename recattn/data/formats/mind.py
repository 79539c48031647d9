"""MIND (Microsoft News Dataset): behaviors.tsv and news.tsv, tab-separated, no header.

Interactions are each user's click history followed by the articles clicked in impressions (label -1).
The history has no times of its own: it happened before the user's first impression, so its items get
timestamps just before that one, one second apart, in history order. A (user, article) pair that
repeats keeps its first occurrence.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from recattn.data.formats.common import folder_of, need
from recattn.data.formats.finish import Raw
from recattn.data.formats.table import Layout, Table, read_table
from recattn.i18n import N_, _

BEHAVIORS = Layout(
    sep="\t", header=False,
    columns=(("impression_id", "required"), ("user_id", "required"), ("time", "required"), ("history", "text"),
             ("impressions", "text")),
    what=N_("MIND behaviors.tsv lines: impression id, user id, time, history, impressions, separated by tabs"),
)
NEWS = Layout(
    sep="\t", header=False,
    columns=(("news_id", "required"), ("category", "text"), ("subcategory", "text"), ("title", "text"),
             ("abstract", "text"), ("url", "text"), ("title_entities", "text"), ("abstract_entities", "text")),
    what=N_("MIND news.tsv lines: news id, category, subcategory, title, abstract, url, title entities, "
            "abstract entities, separated by tabs"),
)
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"  # 11/15/2019 10:22:32 AM
# impressions: space-separated news ids, each with -1 (clicked) or -0; unlabelled in the test split
_IMPRESSIONS = r"\s*(?:[^\s-]+(?:-[01])?\s*)*"
_CLICKED = r"([^\s-]+)-1(?!\S)"
_EPOCH = pd.Timestamp(0, tz="UTC")


def read_mind(path: Path) -> Raw:
    """A MIND split folder (e.g. MINDsmall_train unpacked)."""
    folder = folder_of(path)
    behaviors = read_table(need(folder, "behaviors.tsv", "mind"), BEHAVIORS)
    news = read_table(need(folder, "news.tsv", "mind"), NEWS)
    seconds = _seconds(behaviors)
    _check_impressions(behaviors)
    interactions = pd.concat([_history(behaviors.frame, seconds), _clicks(behaviors.frame, seconds)])
    interactions = (interactions.sort_values(["user_id", "timestamp"], kind="stable")
                    .drop_duplicates(["user_id", "item_id"], keep="first"))
    n = news.frame
    items = pd.DataFrame({
        "item_id": n["news_id"], "title": n["title"], "genres": n["category"],
        "year": pd.array([pd.NA] * len(n), dtype="Int64"),
        "subcategory": n["subcategory"], "abstract": n["abstract"],
    }, index=n.index)
    return Raw(replace(behaviors, frame=interactions), replace(news, frame=items))


def _seconds(behaviors: Table) -> pd.Series:
    times = pd.to_datetime(behaviors.frame["time"], format=TIME_FORMAT, errors="coerce", utc=True)
    bad = times.isna().to_numpy()
    if bad.any():
        pos = int(np.argmax(bad))
        raise behaviors.error(behaviors.frame.index[pos],
                              _("time {value} is not like 11/15/2019 10:22:32 AM").format(
                                  value=repr(behaviors.frame["time"].iloc[pos])),
                              _("fix or remove that line"))
    return ((times - _EPOCH) // pd.Timedelta(seconds=1)).astype("int64")


def _check_impressions(behaviors: Table) -> None:
    ok = behaviors.frame["impressions"].str.fullmatch(_IMPRESSIONS).to_numpy(dtype=bool)
    if not ok.all():
        pos = int(np.argmin(ok))
        raise behaviors.error(behaviors.frame.index[pos],
                              _("impressions {value} are not like 'N1-1 N2-0'").format(
                                  value=repr(behaviors.frame["impressions"].iloc[pos][:60])),
                              _("fix or remove that line"))


def _history(frame: pd.DataFrame, seconds: pd.Series) -> pd.DataFrame:
    """Each user's history as of their first impression, timed just before it."""
    first = (frame[["user_id", "history"]].assign(timestamp=seconds)
             .sort_values(["user_id", "timestamp"], kind="stable").drop_duplicates("user_id"))
    items = first["history"].str.split().explode().dropna()
    out = pd.DataFrame({"user_id": first["user_id"].loc[items.index], "item_id": items.astype("str"),
                        "start": first["timestamp"].loc[items.index]})
    position = out.groupby("user_id", sort=False).cumcount().to_numpy()
    length = out.groupby("user_id", sort=False)["item_id"].transform("size").to_numpy()
    return pd.DataFrame({"user_id": out["user_id"], "item_id": out["item_id"],
                         "timestamp": out["start"].to_numpy() - length + position}, index=out.index)


def _clicks(frame: pd.DataFrame, seconds: pd.Series) -> pd.DataFrame:
    clicked = frame["impressions"].str.findall(_CLICKED).explode().dropna()
    return pd.DataFrame({"user_id": frame["user_id"].loc[clicked.index], "item_id": clicked.astype("str"),
                         "timestamp": seconds.loc[clicked.index]}, index=clicked.index)
