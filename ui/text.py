"""User text (titles, genres, ids from any file) made safe for Streamlit's markdown."""

from __future__ import annotations

import pandas as pd

_SPECIAL = set("\\`*_[]<>#|$~:&")  # "&": "&lt;" stays as typed, not "<"


def md(text: object) -> str:
    """`text` shown literally inside st.markdown: "*batteries not included", "$9.99", "<b>" or a
    "[link](javascript:…)" stay as typed, never formatting, a link or HTML."""
    return "".join("\\" + c if c in _SPECIAL else c for c in str(text))


def describe(row: pd.Series) -> str:
    """ "Genre · genre — year" for one catalogue row (missing parts left out), as markdown: genres come from user
    files and go through `md`."""
    genres = md(str(row.get("genres") or "").replace("|", " · "))
    year = row.get("year")
    year = "" if year is None or pd.isna(year) else str(int(year))
    return " — ".join(p for p in (genres, year) if p)
