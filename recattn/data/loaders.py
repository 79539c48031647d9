"""Files on disk to a Dataset: detect the layout of a folder (or take the one asked for), read it with the
layout's reader, and finish it the same way for every layout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from recattn.data.dataset import Dataset
from recattn.data.formats.finish import Raw, finish
from recattn.data.formats.mind import read_mind
from recattn.data.formats.movielens import read_1m, read_100k, read_latest
from recattn.data.formats.plain import read_csv_layout
from recattn.data.formats.recbole import read_recbole
from recattn.errors import DataError, RecAttnError

READERS: dict[str, Callable[[Path], Raw]] = {
    "ml-100k": read_100k,
    "ml-1m": read_1m,
    "ml-latest": read_latest,
    "recbole": read_recbole,
    "mind": read_mind,
    "csv": read_csv_layout,
}
FORMATS = tuple(READERS)
OPTIONS = ("min_rating", "kcore")
# What each layout is recognised by, in the order detection tries them (also the error's advice).
SIGNS = (
    ("ml-100k", "u.data + u.item"),
    ("ml-1m", "ratings.dat + movies.dat"),
    ("ml-latest", "ratings.csv + movies.csv"),
    ("mind", "behaviors.tsv + news.tsv"),
    ("recbole", "one *.inter file (+ *.item)"),
    ("csv", "interactions.csv (+ items.csv), or a single .csv file"),
)


def detect(path: Path) -> str:
    """The layout of a folder (or file), from the names of the files in it."""
    if path.is_file():
        # a file of a known folder layout (say ml-latest's ratings.csv) stands for its folder
        movielens_csv = path.name == "ratings.csv" and (path.parent / "movies.csv").is_file()
        if path.suffix.lower() == ".csv" and not movielens_csv:
            return "csv"
        if path.suffix == ".inter":
            return "recbole"
        path = path.parent
    names = {p.name for p in path.iterdir()}
    if "u.data" in names:
        return "ml-100k"
    if "ratings.dat" in names:
        return "ml-1m"
    if {"ratings.csv", "movies.csv"} <= names:
        return "ml-latest"
    if "behaviors.tsv" in names:
        return "mind"
    if any(n.endswith(".inter") for n in names):
        return "recbole"
    if "interactions.csv" in names:
        return "csv"
    raise DataError(
        "no known data layout here; " + "; ".join(f"{fmt}: {sign}" for fmt, sign in SIGNS),
        path=str(path), hint="add the files of one layout, or name the layout with --format",
    )


def load_path(source: str, format: str | None = None, **options) -> Dataset:
    """Read a folder or file; `format` forces a layout (see FORMATS); options: min_rating, kcore."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise RecAttnError(f"unknown option(s) {', '.join(unknown)}; use {', '.join(OPTIONS)}")
    path = Path(source)
    if not path.exists():
        raise DataError("no such file or folder", path=source,
                        hint="check the path, or fetch a dataset with `python -m recattn data download NAME`")
    if format is not None and format not in READERS:
        raise RecAttnError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    fmt = format or detect(path)
    return finish(READERS[fmt](path), name=source, format=fmt, **_typed(options))


def signature(source: str) -> tuple:
    """What changes when the files behind `source` change: name, size and mtime of each file in its folder
    (a file's folder too: a .inter file is read with the .item beside it). Part of the load cache's key."""
    path = Path(source)
    if not path.exists():
        return ()
    folder = path if path.is_dir() else path.parent
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def _typed(options: dict) -> dict:
    out = {}
    try:
        if options.get("min_rating") is not None:
            out["min_rating"] = float(options["min_rating"])
        if options.get("kcore") is not None:
            out["kcore"] = int(options["kcore"])
    except (TypeError, ValueError):
        raise RecAttnError(f"min_rating must be a number and kcore an integer, not {options}") from None
    return out
