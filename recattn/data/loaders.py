"""Files on disk to a Dataset: detect the layout of a folder (or take the one asked for), read it with the
layout's reader, and finish it the same way for every layout."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from recattn.data.dataset import Dataset
from recattn.data.formats.finish import Raw, finish
from recattn.data.formats.mind import read_mind
from recattn.data.formats.movielens import read_1m, read_100k, read_latest
from recattn.data.formats.plain import read_csv_layout
from recattn.data.formats.recbole import read_recbole
from recattn.errors import DataError, RecAttnError
from recattn.i18n import N_, _

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
    ("recbole", N_("one *.inter file (+ *.item)")),
    ("csv", N_("interactions.csv (+ items.csv), or a single .csv file")),
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
    fmt = _layout_of({p.name for p in path.iterdir()})
    if fmt is not None:
        return fmt
    # an archive unpacked into a folder of its own name (ml-1m/ml-1m/…): name the subfolder to use instead
    inner = sorted(p.name for p in _first(path.iterdir(), _SUBFOLDERS_LOOKED_AT)
                   if p.is_dir() and _layout_of({q.name for q in _first(p.iterdir(), _NAMES_LOOKED_AT)}))
    raise DataError(
        _("no known data layout here; {layouts}").format(layouts="; ".join(f"{fmt}: {_(sign)}" for fmt, sign in SIGNS)),
        path=str(path), hint=(_("the subfolder {name} holds one: point at it").format(name=repr(_shown(inner[0])))
                              if inner else _("add the files of one layout, or name the layout with --format")),
    )


_SUBFOLDERS_LOOKED_AT = 100
_NAMES_LOOKED_AT = 1000


def _first(entries, n: int) -> list:
    """At most n entries of an iterator (a folder of a million files is not listed in full for a hint)."""
    return [entry for _, entry in zip(range(n), entries)]


def _layout_of(names: set[str]) -> str | None:
    """The layout a folder's file names show, in SIGNS order; None when none."""
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
    return None


def load_path(source: str, format: str | None = None, **options) -> Dataset:
    """Read a folder or file; `format` forces a layout (see FORMATS); options: min_rating, kcore."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise RecAttnError(_("unknown option(s) {names}; use {options}").format(
            names=", ".join(unknown), options=", ".join(OPTIONS)))
    path = Path(source)
    if not _exists(path):
        raise DataError(_("no such file or folder"), path=_shown(source),
                        hint=_("check the path, or fetch a dataset with `python -m recattn data download NAME`"))
    if format is not None and format not in READERS:
        raise RecAttnError(_("unknown format {format}; choose one of {formats}").format(
            format=repr(format), formats=", ".join(FORMATS)))
    try:
        fmt = format or detect(path)
        return finish(READERS[fmt](path), name=source, format=fmt, **_typed(options))
    except RecAttnError as e:
        raise _printable(e) from None
    except OSError as e:  # unreadable (permissions), a name too long, a folder where a file should be, …
        raise DataError(_("cannot read it: {error}").format(error=e.strerror or e), path=_shown(e.filename or source),
                        hint=_("check the file's permissions and that it is a plain file")) from None
    except MemoryError:
        raise DataError(_("the data does not fit in this machine's memory"), path=_shown(source),
                        hint=_("use a smaller sample, or a machine with more memory through the CLI")) from None


def _shown(text) -> str:
    """A path as text that can be printed and sent to a browser: bytes that are not UTF-8 in a file name
    (kept by Python as surrogates) become \\xNN escapes."""
    return os.fsencode(str(text)).decode("utf-8", "backslashreplace")


def _printable(error: RecAttnError) -> RecAttnError:
    """The same error with a message that survives printing and the browser (see `_shown`)."""
    text = str(error)
    if _shown(text) == text:
        return error
    clean = type(error).__new__(type(error))
    Exception.__init__(clean, _shown(text))
    clean.__dict__.update({k: _shown(v) if isinstance(v, str) else v for k, v in error.__dict__.items()})
    return clean


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long for the file system, or a path through a file
        return False


def signature(source: str) -> tuple:
    """What changes when the files behind `source` change: name, size and mtime of each file in its folder
    (a file's folder too: a .inter file is read with the .item beside it). Part of the load cache's key."""
    path = Path(source)
    if not _exists(path):
        return ()
    folder = path if path.is_dir() else path.parent
    try:
        files = sorted(p for p in folder.iterdir() if p.is_file())
        return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    except OSError:  # unreadable: load_path says so; nothing to cache
        return (object(),)


def _typed(options: dict) -> dict:
    out = {}
    try:
        if options.get("min_rating") is not None:
            out["min_rating"] = float(options["min_rating"])
        if options.get("kcore") is not None:
            out["kcore"] = int(options["kcore"])
    except (TypeError, ValueError):
        raise RecAttnError(_("min_rating must be a number and kcore an integer, not {options}").format(
            options=options)) from None
    return out
