"""Small helpers the layout readers share: finding a layout's files, years, id columns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from recattn.errors import DataError
from recattn.i18n import _

_TITLE_YEAR = r"\((\d{4})(?:\s*[-–]\s*\d{4})?\)\s*$"


def folder_of(path: Path) -> Path:
    """The folder a layout's files live in (a file path stands for its folder)."""
    return path if path.is_dir() else path.parent


def need(folder: Path, name: str, layout: str) -> Path:
    """`folder / name`, or a DataError saying which files the layout expects."""
    path = folder / name
    if path.is_dir():
        raise DataError(_("{name} here is a folder; the {layout} layout needs it to be a file").format(
                            name=name, layout=layout), path=str(folder),
                        hint=_("put the file {name} itself in this folder").format(name=name))
    if not path.is_file():
        present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        raise DataError(
            _("the {layout} layout needs {name} here; found {found}").format(
                layout=layout, name=name, found=", ".join(present[:12]) or _("nothing")),
            path=str(folder), hint=_("point --data at the folder that holds it, or pick another --format"),
        )
    return path


def optional(folder: Path, name: str) -> Path | None:
    path = folder / name
    return path if path.is_file() else None


def year_from_title(titles: pd.Series) -> pd.Series:
    """The year in a trailing "(1995)" (or the first of "(2006–2007)"); NA where there is none."""
    return to_year(titles.str.extract(_TITLE_YEAR, expand=False))


def to_year(values: pd.Series) -> pd.Series:
    """Numbers as Int64 years; anything that is not a number becomes NA (years are descriptive only)."""
    return pd.to_numeric(values, errors="coerce").round().astype("Int64")


def as_ids(values: pd.Series) -> pd.Series:
    """Ids as strings, whatever they were read as (MovieLens ids are read as integers, for speed)."""
    return values.astype("str")
