"""Each file layout, from a small fixture written here with its awkward parts: latin-1 titles, '::' inside a
1M title, quoted commas in CSV titles, MIND histories and impressions, RecBole typed headers."""

import os

import pandas as pd
import pytest

from recattn.data import load
from recattn.data.formats.finish import k_core
from recattn.data.loaders import detect, load_path
from recattn.errors import RecAttnError


def write(folder, name, content, encoding="utf-8"):
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def make_100k(folder):
    folder.mkdir(exist_ok=True)
    write(folder, "u.data", "1\t1\t5\t881250949\n1\t2\t3\t881250950\n2\t2\t4\t881250800\n2\t3\t1\t881250700\n")
    flags = "|".join(["0"] * 19)
    write(folder, "u.item",
          f"1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|{'|'.join(['0'] * 13)}\n"
          f"2|Café Society (1996)|01-Jan-1996||http://x|{flags}\n"
          f"3|unknown|01-Jan-1997||http://x|1|{'|'.join(['0'] * 18)}\n"
          f"4|Never Rated (1998)|||http://x|{flags}\n", encoding="latin-1")
    genres = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
              "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
              "War", "Western"]
    write(folder, "u.genre", "".join(f"{g}|{k}\n" for k, g in enumerate(genres)) + "\n")
    return folder


def make_1m(folder):
    folder.mkdir(exist_ok=True)
    write(folder, "ratings.dat", "1::10::5::978300760\n1::20::3::978302109\n2::20::4::978301968\n")
    write(folder, "movies.dat",
          "10::Star Wars:: Episode IV (1977)::Action|Sci-Fi\n20::Café (1999)::Drama\n30::Unseen (2000)::Comedy\n",
          encoding="latin-1")
    return folder


def make_latest(folder):
    folder.mkdir(exist_ok=True)
    write(folder, "ratings.csv", "userId,movieId,rating,timestamp\r\n1,11,4.0,964982703\r\n1,2,3.5,964981247\r\n"
                                 "2,2,5.0,964982224\r\n")
    write(folder, "movies.csv", 'movieId,title,genres\r\n2,Jumanji (1995),Adventure|Children|Fantasy\r\n'
                                '11,"American President, The (1995)",Comedy|Drama|Romance\r\n'
                                '12,"Babylon 5",(no genres listed)\r\n'
                                '13,"Café ""Noir"" (2006–2007)",Drama\r\n')
    return folder


def make_recbole(folder):
    folder.mkdir(exist_ok=True)
    write(folder, "tiny.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                                "u1\ti1\t4\t100.0\nu1\ti2\t2\t200\nu2\ti1\t5\t150.5\n")
    write(folder, "tiny.item", "item_id:token\tmovie_title:token_seq\trelease_year:token\tgenre:token_seq\n"
                               "i1\tCafé Society\t1996\tComedy Drama\ni2\tHeat\t\tAction\ni3\tSpare\t2001\t\n")
    return folder


def make_mind(folder):
    folder.mkdir(exist_ok=True)
    write(folder, "behaviors.tsv",
          "1\tU1\t11/15/2019 10:22:32 AM\tN1 N2\tN3-1 N4-0\n"
          "2\tU2\t11/15/2019 9:05:58 AM\t\tN4-1 N3-0 N5-1\n"
          "3\tU1\t11/14/2019 8:00:00 PM\tN1 N2\tN1-1 N5-1\n"
          "4\tU1\t11/16/2019 1:00:00 AM\tN1 N2\tN5-1\n")
    news = [("N1", "news", "newsus", "Café owners vote"), ("N2", "sports", "football", "A win"),
            ("N3", "news", "newsworld", "Talks resume"), ("N4", "finance", "markets", "Stocks"),
            ("N5", "sports", "tennis", "Final set"), ("N6", "video", "viral", "Never clicked")]
    write(folder, "news.tsv", "".join(f"{i}\t{c}\t{s}\t{t}\tAbstract of {i}\thttps://x/{i}\t[]\t[]\n"
                                      for i, c, s, t in news))
    return folder


def make_csv(folder):
    folder.mkdir(exist_ok=True)
    write(folder, "interactions.csv", "user,item,timestamp\nalice,b1,30\nalice,b2,10\nbob,b1,10\nalice,b3,10\n")
    write(folder, "items.csv", 'id,title,genres\nb1,"Tea, Cake and Me",Comedy|Drama\nb2,Plain,\nb3,Café,Drama\n'
                               'b4,Extra,Comedy\n')
    return folder


MAKERS = {"ml-100k": make_100k, "ml-1m": make_1m, "ml-latest": make_latest, "recbole": make_recbole,
          "mind": make_mind, "csv": make_csv}


@pytest.mark.parametrize("fmt", sorted(MAKERS))
def test_every_layout_is_detected_and_meets_the_dataset_contract(tmp_path, fmt):
    folder = MAKERS[fmt](tmp_path / fmt)
    assert detect(folder) == fmt
    d = load_path(str(folder))
    assert d.format == fmt and d.name == str(folder)
    inter = d.interactions
    assert list(inter.columns) == ["user_id", "item_id", "timestamp"]
    assert str(inter["user_id"].dtype) == "str" and str(inter["item_id"].dtype) == "str"
    assert inter["timestamp"].dtype == "int64"
    assert list(d.items.columns[:4]) == ["item_id", "title", "genres", "year"]
    assert str(d.items["year"].dtype) == "Int64"
    assert set(inter["item_id"]) <= set(d.items["item_id"])
    # per user, time order
    for _, g in inter.groupby("user_id"):
        assert g["timestamp"].is_monotonic_increasing


def test_ml100k_latin1_titles_genre_flags_and_years(tmp_path):
    d = load_path(str(make_100k(tmp_path / "ml")))
    items = d.items.set_index("item_id")
    assert items.loc["2", "title"] == "Café Society (1996)"
    assert items.loc["1", "genres"] == "Animation|Children's|Comedy"
    assert items.loc["3", "genres"] == "unknown"
    assert items.loc["3", "year"] == 1997  # from the release date: the title has no year
    assert items.loc["4", "genres"] == ""
    assert len(d.items) == 4  # the catalogue keeps the item nobody rated
    assert d.interactions["user_id"].tolist() == ["1", "1", "2", "2"]
    assert d.interactions["item_id"].tolist() == ["1", "2", "3", "2"]  # user 2 in time order


def test_ml1m_title_with_double_colon_and_latin1(tmp_path):
    d = load_path(str(make_1m(tmp_path / "ml-1m")))
    items = d.items.set_index("item_id")
    assert items.loc["10", "title"] == "Star Wars:: Episode IV (1977)"
    assert items.loc["10", "genres"] == "Action|Sci-Fi"
    assert items.loc["10", "year"] == 1977
    assert items.loc["20", "title"] == "Café (1999)"
    assert len(d.interactions) == 3 and len(d.items) == 3


def test_ml_latest_quoted_commas_no_genres_and_year_ranges(tmp_path):
    d = load_path(str(make_latest(tmp_path / "ml")))
    items = d.items.set_index("item_id")
    assert items.loc["11", "title"] == "American President, The (1995)"
    assert items.loc["11", "year"] == 1995
    assert items.loc["12", "genres"] == "" and pd.isna(items.loc["12", "year"])
    assert items.loc["13", "title"] == 'Café "Noir" (2006–2007)' and items.loc["13", "year"] == 2006
    assert d.interactions[d.interactions.user_id == "1"]["item_id"].tolist() == ["2", "11"]


def test_recbole_typed_headers(tmp_path):
    d = load_path(str(make_recbole(tmp_path / "rb")))
    items = d.items.set_index("item_id")
    assert items.loc["i1", "genres"] == "Comedy|Drama" and items.loc["i1", "year"] == 1996
    assert pd.isna(items.loc["i2", "year"]) and items.loc["i3", "genres"] == ""
    assert d.interactions["timestamp"].tolist() == [100, 200, 150]
    # the .inter file itself is a source too
    assert len(load_path(str(tmp_path / "rb" / "tiny.inter")).interactions) == 3


def test_mind_history_before_first_impression_then_clicks(tmp_path):
    d = load_path(str(make_mind(tmp_path / "mind")))
    first = int(pd.Timestamp("2019-11-14 20:00:00", tz="UTC").timestamp())
    u1 = d.interactions[d.interactions.user_id == "U1"]
    # history N1, N2 just before U1's first impression (the third line), then clicks in time order;
    # N1 clicked again at 8 PM and N5 clicked twice keep only their first occurrence
    assert u1["item_id"].tolist() == ["N1", "N2", "N5", "N3"]
    assert u1["timestamp"].tolist()[:3] == [first - 2, first - 1, first]
    u2 = d.interactions[d.interactions.user_id == "U2"]
    assert u2["item_id"].tolist() == ["N4", "N5"]  # empty history, two clicks in one impression
    items = d.items.set_index("item_id")
    assert items.loc["N1", "title"] == "Café owners vote" and items.loc["N1", "genres"] == "news"
    assert items.loc["N1", "subcategory"] == "newsus"
    assert len(d.items) == 6


def test_plain_csv_folder_and_single_file(tmp_path):
    folder = make_csv(tmp_path / "csv")
    d = load_path(str(folder))
    alice = d.interactions[d.interactions.user_id == "alice"]
    assert alice["item_id"].tolist() == ["b2", "b3", "b1"]  # ties at t=10 keep file order
    assert d.items.set_index("item_id").loc["b1", "title"] == "Tea, Cake and Me"
    assert len(d.items) == 4
    single = load_path(str(folder / "interactions.csv"))
    assert single.format == "csv"
    assert single.items["item_id"].tolist() == ["b1", "b2", "b3"]  # catalogue from the interactions
    assert single.items["title"].tolist() == ["b1", "b2", "b3"]


def test_format_can_be_forced(tmp_path):
    folder = make_latest(tmp_path / "ml")
    write(folder, "interactions.csv", "user,item,timestamp\n1,2,5\n")
    assert load_path(str(folder)).format == "ml-latest"
    assert load_path(str(folder), format="csv").format == "csv"
    with pytest.raises(RecAttnError, match="unknown format"):
        load_path(str(folder), format="parquet")


def test_min_rating_and_kcore(tmp_path):
    folder = make_latest(tmp_path / "ml")
    assert len(load_path(str(folder), min_rating=4).interactions) == 2
    with pytest.raises(RecAttnError, match="no interactions are left"):
        load_path(str(folder), kcore=3)
    with pytest.raises(RecAttnError, match="no ratings"):
        load_path(str(make_mind(tmp_path / "mind")), min_rating=1)
    with pytest.raises(RecAttnError, match="unknown option"):
        load_path(str(folder), minrating=4)


def test_k_core_is_iterative():
    # u4 goes first (one interaction); that leaves c with one reader, so (u3, c) goes; then u3 has one left
    frame = pd.DataFrame({"user_id": ["u1", "u1", "u2", "u2", "u3", "u3", "u4"],
                          "item_id": ["a", "b", "a", "b", "b", "c", "c"]})
    kept = k_core(frame, 2)
    assert sorted(zip(kept.user_id, kept.item_id)) == [("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "b")]


def test_load_caches_by_file_signature(tmp_path):
    folder = make_csv(tmp_path / "csv")
    first = load(str(folder))
    assert load(str(folder)) is first
    assert load(str(folder), kcore=1) is not first  # options are part of the key
    write(folder, "interactions.csv", "user,item,timestamp\nalice,b1,30\nalice,b2,10\n")
    os.utime(folder / "interactions.csv", ns=(1, 1))
    assert len(load(str(folder)).interactions) == 2


def test_builtin_sources():
    with pytest.raises(RecAttnError, match="takes no format"):
        load("builtin:films", format="csv")
    with pytest.raises(RecAttnError, match="unknown built-in"):
        load("builtin:sports")
