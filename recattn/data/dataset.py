"""The two tables every source becomes: a catalogue of items and a log of interactions."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

ITEM_COLUMNS = ("item_id", "title", "genres", "year")
INTERACTION_COLUMNS = ("user_id", "item_id", "timestamp")


@dataclass(frozen=True)
class Dataset:
    """A loaded source.

    items: one row per catalogue item — item_id (str), title (str), genres ("|"-joined str, may be ""),
        year (Int64, may be NA); sources may add columns (e.g. franchise, part, published).
    interactions: user_id (str), item_id (str), timestamp (int64 seconds), optionally cause (str) and cause_item
        (str: the earlier item behind the interaction, "" when none);
        sorted by user, then time, with a stable tie-break on the original order.
    notes: what loading changed or what a person should know about the data (duplicated rows dropped,
        timestamps converted from milliseconds, users too short to validate on), in words; `data info` and
        the Data page show them (the page in the reader's language: see recattn.data.formats.finish.Note).
    """

    name: str
    format: str
    items: pd.DataFrame
    interactions: pd.DataFrame
    notes: tuple[str, ...] = ()

    @property
    def fingerprint(self) -> str:
        """Identifies the catalogue a model was trained on: a hash of item ids and titles, in order."""
        return catalogue_fingerprint(self.items)


def catalogue_fingerprint(items: pd.DataFrame) -> str:
    """sha256 over the items' ids and titles in catalogue order (first 16 hex digits)."""
    h = hashlib.sha256()
    for item_id, title in zip(items["item_id"], items["title"]):
        h.update(str(item_id).encode("utf-8") + b"\x1f" + str(title).encode("utf-8") + b"\x1e")
    return h.hexdigest()[:16]


def sort_interactions(interactions: pd.DataFrame) -> pd.DataFrame:
    """Per-user time order; equal timestamps keep their file order (stable sort)."""
    out = interactions.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)
    return out


def number_repeats(labels: Sequence[str]) -> list[str]:
    """Labels made unique by numbering the repeats: ["A", "B", "A"] → ["A", "B", "A (2)"]."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out
