"""MovieLens folders as GroupLens publishes them: 100K (u.data, u.item), 1M (ratings.dat, movies.dat) and
latest/20M/25M/32M (ratings.csv, movies.csv)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from recattn.data.formats.common import as_ids, folder_of, need, optional, to_year, year_from_title
from recattn.data.formats.finish import Raw
from recattn.data.formats.table import Layout, Table, check_columns, read_lines, read_table, then
from recattn.errors import DataError
from recattn.i18n import N_, _

_RATING_COLUMNS = (("user_id", "int"), ("item_id", "int"), ("rating", "float"), ("timestamp", "int"))

RATINGS_CSV = Layout(
    sep=",", quoted=True,
    columns=(("userId", "int"), ("movieId", "int"), ("rating", "float"), ("timestamp", "int")),
    what=N_("MovieLens ratings.csv with the header userId,movieId,rating,timestamp"),
)
MOVIES_CSV = Layout(
    sep=",", quoted=True, columns=(("movieId", "int"), ("title", "text"), ("genres", "required")),
    what=N_("MovieLens movies.csv with the header movieId,title,genres"),
)
U_DATA = Layout(sep="\t", header=False, encoding="latin-1", columns=_RATING_COLUMNS,
                what=N_("u.data lines: user id, item id, rating, timestamp, separated by tabs"))
RATINGS_DAT = Layout(sep="::", header=False, encoding="latin-1", columns=_RATING_COLUMNS,
                     what=N_("ratings.dat lines UserID::MovieID::Rating::Timestamp"))
MOVIES_DAT_WHAT = N_("movies.dat lines MovieID::Title::Genres (latin-1)")

# u.genre's content, for 100K folders that lack it.
GENRES_100K = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)


def read_latest(path: Path) -> Raw:
    """ml-latest(-small), 20M, 25M, 32M: ratings.csv and movies.csv (UTF-8, quoted titles)."""
    folder = folder_of(path)
    ratings = read_table(need(folder, "ratings.csv", "ml-latest"), RATINGS_CSV)
    movies = read_table(need(folder, "movies.csv", "ml-latest"), MOVIES_CSV)
    m = movies.frame
    items = pd.DataFrame({
        "item_id": as_ids(m["movieId"]),
        "title": m["title"],
        "genres": m["genres"].replace("(no genres listed)", ""),
        "year": year_from_title(m["title"]),
    }, index=m.index)
    return Raw(_ratings(ratings, "userId", "movieId"), replace(movies, frame=items))


def read_1m(path: Path) -> Raw:
    """ml-1m: ratings.dat and movies.dat, '::'-separated, latin-1."""
    folder = folder_of(path)
    ratings = read_table(need(folder, "ratings.dat", "ml-1m"), RATINGS_DAT)
    movies = _movies_dat(need(folder, "movies.dat", "ml-1m"))
    return Raw(_ratings(ratings, "user_id", "item_id"), movies)


def read_100k(path: Path) -> Raw:
    """ml-100k: u.data (tabs) and u.item ('|', latin-1, one 0/1 column per genre; names from u.genre)."""
    folder = folder_of(path)
    ratings = read_table(need(folder, "u.data", "ml-100k"), U_DATA)
    genre_file = optional(folder, "u.genre")
    genres = _genre_names(genre_file) if genre_file else GENRES_100K
    flags = tuple((f"genre_{k}", "int") for k in range(len(genres)))
    u_item = Layout(
        sep="|", header=False, encoding="latin-1",
        columns=(("item_id", "int"), ("title", "text"), ("release_date", "text"), ("video_release_date", "text"),
                 ("imdb_url", "text")) + flags,
        what=_("u.item lines: id|title|release date|video release date|IMDb URL|{count} genre flags").format(
            count=len(genres)),
    )
    movies = read_table(need(folder, "u.item", "ml-100k"), u_item)
    m = movies.frame
    on = m[[name for name, _ in flags]].to_numpy() == 1
    # the title's "(1995)" first; the release date "01-Jan-1995" where the title has none
    year = year_from_title(m["title"]).fillna(to_year(m["release_date"].str[-4:]))
    items = pd.DataFrame({
        "item_id": as_ids(m["item_id"]),
        "title": m["title"],
        "genres": ["|".join(g for g, f in zip(genres, row) if f) for row in on],
        "year": year,
    }, index=m.index)
    return Raw(_ratings(ratings, "user_id", "item_id"), replace(movies, frame=items))


def _ratings(table: Table, user: str, item: str) -> Table:
    f = table.frame
    frame = pd.DataFrame({"user_id": as_ids(f[user]), "item_id": as_ids(f[item]),
                          "timestamp": f["timestamp"], "rating": f["rating"]}, index=f.index)
    return replace(table, frame=frame)


def _movies_dat(path: Path) -> Table:
    """movies.dat split by hand: the id ends at the first '::' and the genres start after the last, so a
    title may itself hold '::'."""
    lines = pd.Series(read_lines(path, "latin-1", MOVIES_DAT_WHAT), dtype="str")
    lines = lines[lines.str.strip() != ""]
    head = lines.str.partition("::")
    tail = head[2].str.rpartition("::")
    table = Table(path, pd.DataFrame({"item_id": head[0], "title": tail[0], "genres": tail[2]}),
                  lambda row: row + 1)
    malformed = (head[1] == "") | (tail[1] == "")
    if malformed.any():
        row = lines.index[int(np.argmax(malformed.to_numpy()))]
        raise DataError(_("expected MovieID::Title::Genres"), path=str(path), line=row + 1,
                        hint=then(_(MOVIES_DAT_WHAT), _("fix or remove that line")))
    check_columns(table, {"item_id": "int", "genres": "required"})
    frame = table.frame.assign(item_id=lambda f: as_ids(f["item_id"].str.strip().astype("int64")),
                               year=lambda f: year_from_title(f["title"]))
    return replace(table, frame=frame)


def _genre_names(path: Path) -> tuple[str, ...]:
    """u.genre: 'name|index' lines, in index order."""
    names = {}
    for number, line in enumerate(read_lines(path, "latin-1", N_("u.genre lines name|index")), 1):
        if not line.strip():
            continue
        name, _bar, index = line.rpartition("|")
        if not name or not index.strip().isdigit():
            raise DataError(_("expected name|index"), path=str(path), line=number, hint=_("fix or remove that line"))
        names[int(index)] = name
    if sorted(names) != list(range(len(names))):
        raise DataError(_("genre indices are not 0, 1, 2, …"), path=str(path),
                        hint=_("restore u.genre from the archive"))
    return tuple(names[k] for k in range(len(names)))
