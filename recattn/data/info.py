"""A source in numbers: what `python -m recattn data info` prints and the app's Data page shows."""

from __future__ import annotations

from datetime import datetime, timezone

from recattn.data.dataset import Dataset


def summarize(dataset: Dataset) -> dict:
    """Format, counts, median interactions per user, and the first and last interaction time (ISO-8601
    UTC; None when there are no interactions). `items` counts items with at least one interaction."""
    inter = dataset.interactions
    lengths = inter.groupby("user_id", sort=False).size()
    times = inter["timestamp"]
    return {
        "format": dataset.format,
        "users": int(lengths.size),
        "items": int(inter["item_id"].nunique()),
        "interactions": int(len(inter)),
        "median_length": float(lengths.median()) if lengths.size else 0.0,
        "first_time": _iso(times.min()) if len(times) else None,
        "last_time": _iso(times.max()) if len(times) else None,
    }


def _iso(seconds) -> str:
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc).isoformat().replace("+00:00", "Z")
