"""Plain CSV: `interactions.csv` (header user,item,timestamp; optional rating) and an optional `items.csv`
(header id,title,genres; optional year). A single .csv file is read as interactions without a catalogue."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from recattn.data.formats.common import need, optional, to_year
from recattn.data.formats.finish import Raw
from recattn.data.formats.table import Layout, read_table
from recattn.i18n import N_

INTERACTIONS = Layout(
    sep=",", quoted=True,
    columns=(("user", "required"), ("item", "required"), ("timestamp", "float")), optional=(("rating", "float"),),
    what=N_("a CSV file with the header user,item,timestamp (timestamp in seconds; optional rating)"),
)
ITEMS = Layout(
    sep=",", quoted=True, columns=(("id", "required"), ("title", "text"), ("genres", "text")),
    optional=(("year", "text"),),
    what=N_('a CSV file with the header id,title,genres (genres "|"-joined; optional year)'),
)


def read_csv_layout(path: Path) -> Raw:
    """A folder with interactions.csv (+ items.csv), or one .csv file of interactions."""
    if path.is_file():
        inter_path, items_path = path, None
    else:
        inter_path, items_path = need(path, "interactions.csv", "csv"), optional(path, "items.csv")
    table = read_table(inter_path, INTERACTIONS)
    f = table.frame
    frame = pd.DataFrame({"user_id": f["user"], "item_id": f["item"], "timestamp": f["timestamp"]},
                         index=f.index)
    if "rating" in f.columns:
        frame["rating"] = f["rating"]
    return Raw(replace(table, frame=frame), _items(items_path) if items_path else None)


def _items(path: Path):
    table = read_table(path, ITEMS)
    f = table.frame
    year = to_year(f["year"]) if "year" in f.columns else pd.array([pd.NA] * len(f), dtype="Int64")
    frame = pd.DataFrame({"item_id": f["id"], "title": f["title"], "genres": f["genres"], "year": year},
                         index=f.index)
    return replace(table, frame=frame)
