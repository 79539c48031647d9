"""RecBole atomic files: `<name>.inter` (and an optional `<name>.item`), tab-separated, with typed headers
such as `user_id:token	item_id:token	rating:float	timestamp:float`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from recattn.data.formats.common import to_year
from recattn.data.formats.finish import Raw
from recattn.data.formats.table import Layout, Table, header_fields, read_table
from recattn.errors import DataError
from recattn.i18n import N_, _

TYPES = ("token", "token_seq", "float", "float_seq")
INTER_WHAT = N_("a RecBole .inter file: tab-separated, header like user_id:token<TAB>item_id:token<TAB>timestamp:float")
ITEM_WHAT = N_("a RecBole .item file: tab-separated, header like item_id:token<TAB>movie_title:token_seq")
TITLE_FIELDS = ("movie_title", "title", "name")
GENRE_FIELDS = ("genre", "genres", "class", "categories", "category")
YEAR_FIELDS = ("release_year", "year")


def read_recbole(path: Path) -> Raw:
    """A folder holding one .inter file (or the .inter file itself) and, if present, the .item beside it."""
    inter_path = inter_file(path)
    fields = _typed_header(inter_path, INTER_WHAT)
    for name in ("user_id", "item_id", "timestamp"):
        if name not in fields:
            raise DataError(_("the header has no {name} column").format(name=name), path=str(inter_path), line=1,
                            hint=_("expected {what}").format(what=_(INTER_WHAT)))
    optional = (("rating", "float"),) if "rating" in fields else ()
    table = read_table(inter_path, Layout(
        sep="\t", what=INTER_WHAT,
        columns=((fields["user_id"], "required"), (fields["item_id"], "required"), (fields["timestamp"], "float")),
        optional=tuple((fields[n], k) for n, k in optional),
    ))
    f = table.frame
    frame = pd.DataFrame({"user_id": f[fields["user_id"]], "item_id": f[fields["item_id"]],
                          "timestamp": f[fields["timestamp"]]}, index=f.index)
    if optional:
        frame["rating"] = f[fields["rating"]]
    item_path = inter_path.with_suffix(".item")
    return Raw(replace(table, frame=frame), _items(item_path) if item_path.is_file() else None)


def inter_file(path: Path) -> Path:
    """The .inter file of a folder of atomic files (or `path` itself when it is the file)."""
    if path.is_file():
        return path
    found = sorted(path.glob("*.inter"))
    if len(found) != 1:
        what = _("no .inter file here") if not found else _("several .inter files ({files}) here").format(
            files=", ".join(p.name for p in found))
        raise DataError(what, path=str(path), hint=_("pass the .inter file to load as the source"))
    return found[0]


def _typed_header(path: Path, what: str) -> dict[str, str]:
    """name -> the header field as written ('name:type'), after checking every field has a known type."""
    out = {}
    for field in header_fields(path, Layout(sep="\t", columns=(), what=what)):
        name, colon, kind = field.rpartition(":")
        if not colon or kind not in TYPES:
            raise DataError(_("header field {field} has no RecBole type").format(field=repr(field)), path=str(path),
                            line=1, hint=_("write fields as name:type with a type among {types}").format(
                                types=", ".join(TYPES)))
        out[name] = field
    return out


def _items(path: Path) -> Table:
    fields = _typed_header(path, ITEM_WHAT)
    if "item_id" not in fields:
        raise DataError(_("the header has no {name} column").format(name="item_id"), path=str(path), line=1,
                        hint=_("expected {what}").format(what=_(ITEM_WHAT)))
    table = read_table(path, Layout(sep="\t", columns=((fields["item_id"], "required"),), what=ITEM_WHAT))
    f = table.frame
    title = _first(fields, TITLE_FIELDS)
    genre = _first(fields, GENRE_FIELDS)
    year = _first(fields, YEAR_FIELDS)
    frame = pd.DataFrame({
        "item_id": f[fields["item_id"]],
        "title": f[title] if title else f[fields["item_id"]],
        # token_seq values are space-separated tokens; the catalogue joins genres with "|"
        "genres": f[genre].str.split().str.join("|") if genre and genre.endswith("_seq") else
                  (f[genre] if genre else ""),
        "year": to_year(f[year]) if year else pd.array([pd.NA] * len(f), dtype="Int64"),
    }, index=f.index)
    return replace(table, frame=frame)


def _first(fields: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((fields[n] for n in names if n in fields), None)
