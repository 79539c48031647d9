"""The history operations, as pure functions on a list of catalogue ids (oldest first): each returns a new list
and leaves its argument alone; a position out of range changes nothing (a stale button from an earlier run must
not raise, nor drop the wrong item)."""

from __future__ import annotations

from collections.abc import Sequence


def add(ids: Sequence[str], item_id: str) -> list[str]:
    """`ids` with `item_id` appended (repeats are allowed: a film can be watched twice)."""
    return [*map(str, ids), str(item_id)]


def remove_at(ids: Sequence[str], position: int) -> list[str]:
    """`ids` without the entry at `position` (0 = oldest); unchanged when there is no such entry."""
    ids = [str(i) for i in ids]
    if 0 <= position < len(ids):
        del ids[position]
    return ids


def move(ids: Sequence[str], position: int, step: int) -> list[str]:
    """`ids` with the entry at `position` swapped `step` places (-1: earlier, +1: later); unchanged when either
    place is outside the list."""
    ids = [str(i) for i in ids]
    target = position + step
    if 0 <= position < len(ids) and 0 <= target < len(ids):
        ids[position], ids[target] = ids[target], ids[position]
    return ids


def window(ids: Sequence[str], max_len: int) -> list[str]:
    """The last `max_len` entries: the part of the history a model reads ([] when max_len < 1)."""
    return [str(i) for i in ids][-max_len:] if max_len > 0 else []
