"""Bad files raise DataError naming the file, the line and what to do — never a bare pandas, numpy or
decoding traceback — and nothing half-loaded stays in the cache."""

import pytest

from recattn.data import load
from recattn.data.loaders import load_path
from recattn.errors import DataError

RATINGS = "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,2,3.5,964981247\n2,1,5.0,964982224\n"
MOVIES = "movieId,title,genres\n1,Toy Story (1995),Animation\n2,\"Heat, The (1995)\",Action\n"
U_DATA = "1\t1\t5\t881250949\n1\t2\t3\t881250950\n"
U_ITEM = "".join(f"{i}|{t} (1995)|01-Jan-1995||http://x" + "|0" * 19 + "\n" for i, t in ((1, "Toy Story"), (2, "Heat")))
RATINGS_DAT = "1::1::5::978300760\n1::2::3::978302109\n"
MOVIES_DAT = "1::Toy Story (1995)::Animation\n2::Heat (1995)::Action\n"
BEHAVIORS = "1\tU1\t11/15/2019 10:22:32 AM\tN1\tN2-1 N1-0\n"
NEWS = "N1\tnews\tnewsus\tA\t\t\t[]\t[]\nN2\tnews\tnewsus\tB\t\t\t[]\t[]\n"
INTER = "user_id:token\titem_id:token\ttimestamp:float\nu1\ti1\t1\n"


def folder_with(tmp_path, files):
    folder = tmp_path / "data"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return folder


def latest(**changes):
    return {"ratings.csv": RATINGS, "movies.csv": MOVIES, **changes}


# (id, files, file named in the error, line, words in the message)
CASES = [
    ("missing column", latest(**{"ratings.csv": "userId,movieId,timestamp\n1,1,5\n"}), "ratings.csv", 1, "'rating'"),
    ("wrong column name", latest(**{"ratings.csv": RATINGS.replace("userId", "user")}), "ratings.csv", 1, "userId"),
    ("non-numeric item id", latest(**{"ratings.csv": RATINGS.replace("1,2,3.5", "1,abc,3.5")}), "ratings.csv", 3,
     "'abc'"),
    ("non-numeric timestamp", latest(**{"ratings.csv": RATINGS.replace("964982224", "yesterday")}), "ratings.csv", 4,
     "'yesterday'"),
    ("missing rating", latest(**{"ratings.csv": RATINGS.replace("3.5", "NA")}), "ratings.csv", 3, "'NA'"),
    ("0-byte file", latest(**{"ratings.csv": ""}), "ratings.csv", None, "empty"),
    ("blank lines only", latest(**{"movies.csv": "\n\n"}), "movies.csv", None, "blank"),
    ("header only", latest(**{"ratings.csv": "userId,movieId,rating,timestamp\n"}), "ratings.csv", None,
     "no interactions"),
    ("truncated line", latest(**{"ratings.csv": RATINGS + "2,2"}), "ratings.csv", 5, "truncated"),
    ("truncated first line", latest(**{"ratings.csv": "userId,movieId,rating,timestamp\n1,1\n"}), "ratings.csv", 2,
     "found 2"),
    ("extra field", latest(**{"ratings.csv": RATINGS + "2,2,4.0,964982224,9\n"}), "ratings.csv", 5, "found 5"),
    ("bad line after blank lines", latest(**{"ratings.csv": RATINGS + "\n\n2,x,4.0,1\n"}), "ratings.csv", 7, "'x'"),
    ("wrong separator in a header", latest(**{"ratings.csv": RATINGS.replace(",", ";")}), "ratings.csv", 1,
     "semicolons"),
    ("wrong separator, no header", {"u.data": U_DATA.replace("\t", ","), "u.item": U_ITEM}, "u.data", 1, "commas"),
    ("wrong separator for '::'", {"ratings.dat": RATINGS_DAT.replace("::", "\t"), "movies.dat": MOVIES_DAT},
     "ratings.dat", 1, "tabs"),
    ("not utf-8", latest(**{"movies.csv": MOVIES.encode() + b"3,Caf\xe9 (1999),Drama\n"}), "movies.csv", 4, "utf-8"),
    ("not utf-8 on line 1", latest(**{"ratings.csv": b"\xff\xfe" + RATINGS.encode()}), "ratings.csv", 1, "utf-8"),
    ("duplicated header", latest(**{"ratings.csv": RATINGS.replace("rating,", "movieId,")}), "ratings.csv", 1,
     "more than once"),
    ("repeated header line", latest(**{"ratings.csv": RATINGS + "userId,movieId,rating,timestamp\n"}),
     "ratings.csv", 5, "repeated header"),
    ("items file misses ids", latest(**{"ratings.csv": RATINGS + "3,7,4.0,964982224\n"}), "ratings.csv", 5,
     "'7' is not in the items file movies.csv"),
    ("duplicated item id", latest(**{"movies.csv": MOVIES + "2,Heat again,Action\n"}), "movies.csv", 4, "twice"),
    ("unclosed quote", latest(**{"movies.csv": MOVIES + '3,"Open (1999),Drama\n4,Next,Drama\n'}), "movies.csv", 4,
     "never closed"),
    ("malformed movies.dat", {"ratings.dat": RATINGS_DAT, "movies.dat": MOVIES_DAT + "3 Heat (1995)\n"},
     "movies.dat", 3, "MovieID::Title::Genres"),
    ("non-numeric id in ratings.dat", {"ratings.dat": RATINGS_DAT + "1::x::3::978302109\n", "movies.dat": MOVIES_DAT},
     "ratings.dat", 3, "'x'"),
    ("genre flag not a number", {"u.data": U_DATA, "u.item": U_ITEM.replace("|0\n2|", "|y\n2|")}, "u.item", 1,
     "'y'"),
    ("bad MIND time", {"behaviors.tsv": BEHAVIORS + "2\tU2\tyesterday\t\tN1-1\n", "news.tsv": NEWS},
     "behaviors.tsv", 2, "'yesterday'"),
    ("bad MIND impressions", {"behaviors.tsv": BEHAVIORS + "2\tU2\t11/15/2019 10:22:32 AM\t\tN1-7\n",
                              "news.tsv": NEWS}, "behaviors.tsv", 2, "N1-7"),
    ("MIND news missing", {"behaviors.tsv": BEHAVIORS + "2\tU2\t11/15/2019 10:22:32 AM\tN9\t\n", "news.tsv": NEWS},
     "behaviors.tsv", 2, "'N9'"),
    ("RecBole header without types", {"x.inter": INTER.replace(":token", "", 1)}, "x.inter", 1, "RecBole type"),
    ("RecBole missing timestamp", {"x.inter": "user_id:token\titem_id:token\nu1\ti1\n"}, "x.inter", 1, "timestamp"),
    ("csv empty user", {"interactions.csv": "user,item,timestamp\nu1,i1,1\n,i2,2\n"}, "interactions.csv", 3,
     "non-empty"),
]


@pytest.mark.parametrize("files, filename, line, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_names_file_line_and_fix(tmp_path, files, filename, line, words):
    folder = folder_with(tmp_path, files)
    with pytest.raises(DataError) as caught:
        load_path(str(folder))
    error = caught.value
    assert error.path is not None and error.path.endswith(filename), str(error)
    assert error.line == line, str(error)
    assert words in str(error), str(error)
    assert error.hint, "a DataError says what to do"
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__), \
        "no pandas traceback chained on"


def test_missing_path_and_unknown_layout(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        load_path(str(tmp_path / "nowhere"))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="no known data layout"):
        load_path(str(tmp_path))
    with pytest.raises(DataError, match="needs ratings.dat"):
        load_path(str(tmp_path), format="ml-1m")


def test_a_failed_load_is_not_cached(tmp_path):
    folder = folder_with(tmp_path, latest(**{"ratings.csv": RATINGS + "2,x,4.0,1\n"}))
    with pytest.raises(DataError):
        load(str(folder))
    (folder / "ratings.csv").write_text(RATINGS)
    assert len(load(str(folder)).interactions) == 3
