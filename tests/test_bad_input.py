"""Bad files raise DataError naming the file, the line and what to do — never a bare pandas, numpy or
decoding traceback — and nothing half-loaded stays in the cache."""

import json
import os

import pytest

from recattn.cli import main
from recattn.data import load, prepare
from recattn.data.info import summarize
from recattn.data.loaders import load_path
from recattn.errors import DataError, RecAttnError

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


# --- the paths that used to end in a traceback (issue 15), and what loading does with odd but valid data ---

def csv_folder(tmp_path, text, sub="data"):
    """tmp_path/sub/interactions.csv holding `text` (several folders per test: one `sub` each)."""
    folder = tmp_path / sub
    folder.mkdir()
    (folder / "interactions.csv").write_bytes(text.encode("utf-8"))
    return folder


def only_project_error(call):
    """Run `call`; it must raise DataError with nothing chained on. Returns the error's text."""
    with pytest.raises(DataError) as caught:
        call()
    assert caught.value.__cause__ is None and (caught.value.__context__ is None
                                               or caught.value.__suppress_context__)
    return str(caught.value)


def test_a_field_longer_than_the_csv_module_limit_loads(tmp_path):
    # the csv module stops at 131,072 characters; pandas does not, so the head check must not either
    long_id = "x" * 140_000
    for body in (f"u1,{long_id},1\nu1,b,2\n", f"u1,a,1\nu1,b,2\nu1,{long_id},3\n"):
        target = csv_folder(tmp_path, "user,item,timestamp\n" + body, sub=f"t{len(body)}")
        assert long_id in set(load_path(str(target)).interactions["item_id"])
    # and a bad value after such a line is still found at its line
    bad = csv_folder(tmp_path, f"user,item,timestamp\nu1,{long_id},1\nu1,b,soon\n", sub="bad")
    assert "interactions.csv, line 3: column 'timestamp' holds 'soon'" in only_project_error(
        lambda: load_path(str(bad)))


def test_a_first_line_over_a_mebibyte_is_refused(tmp_path):
    folder = csv_folder(tmp_path, "user," + "x" * (2 << 20))
    assert "line 1: this line is longer than 1 MiB" in only_project_error(lambda: load_path(str(folder)))


def test_a_huge_file_is_refused_before_reading(tmp_path, monkeypatch):
    folder = csv_folder(tmp_path, "user,item,timestamp\nu1,a,1\n")
    with open(folder / "interactions.csv", "r+b") as f:
        f.truncate(3 << 30)  # sparse: 3 GiB on paper, nothing on disk
    text = only_project_error(lambda: load_path(str(folder)))
    assert "the file is 3,072 MiB, over the 2,048 MiB this reader takes" in text
    assert "RECATTN_MAX_FILE_BYTES" in text
    monkeypatch.setenv("RECATTN_MAX_FILE_BYTES", "10")
    small = csv_folder(tmp_path, "user,item,timestamp\nu1,a,1\n", sub="small")
    assert "over the 0 MiB" in only_project_error(lambda: load_path(str(small)))


def test_windows_and_old_mac_line_endings_and_a_bom_load_the_same(tmp_path):
    plain = "user,item,timestamp\nu1,a,1\nu1,b,2\nu2,a,3\n"
    variants = {"lf": plain, "crlf": plain.replace("\n", "\r\n"), "cr": plain.replace("\n", "\r"),
                "bom": "\ufeff" + plain, "bom-crlf": "\ufeff" + plain.replace("\n", "\r\n")}
    expected = load_path(str(csv_folder(tmp_path, plain, sub="expected")))
    for name, text in variants.items():
        got = load_path(str(csv_folder(tmp_path, text, sub=name)))
        assert got.interactions.equals(expected.interactions), name


def test_a_bom_in_a_latin1_layout_is_dropped(tmp_path):
    folder = folder_with(tmp_path, {"u.data": b"\xef\xbb\xbf" + U_DATA.encode(), "u.item": U_ITEM})
    assert list(load_path(str(folder)).interactions["user_id"]) == ["1", "1"]


def test_duplicated_rows_are_dropped_and_said(tmp_path):
    folder = csv_folder(tmp_path, "user,item,timestamp\nu1,a,1\nu1,a,1\nu1,b,2\nu1,a,3\nu1,b,2\n")
    d = load_path(str(folder))
    # exact repeats (same user, item and time) go; a repeat at another time is a real re-visit and stays
    assert list(d.interactions["item_id"]) == ["a", "b", "a"]
    assert d.notes == ("2 duplicated row(s) (same user, item and time) were dropped; the first of each is kept",)
    assert summarize(d)["notes"] == list(d.notes)


def test_timestamps_in_milliseconds_are_converted_and_said(tmp_path):
    folder = csv_folder(tmp_path, "user,item,timestamp\nu1,a,1700000000000\nu1,b,1700000001500\n")
    d = load_path(str(folder))
    assert list(d.interactions["timestamp"]) == [1_700_000_000, 1_700_000_001]
    assert d.notes == ("timestamps are in milliseconds (the largest is 1700000001500); they were converted to "
                       "seconds",)
    assert summarize(d)["first_time"] == "2023-11-14T22:13:20Z"


def test_negative_timestamps_are_kept_and_said(tmp_path):
    d = load_path(str(csv_folder(tmp_path, "user,item,timestamp\nu1,a,-5\nu1,b,-1\n")))
    assert list(d.interactions["timestamp"]) == [-5, -1]
    assert "2 interaction(s) have negative timestamps (before 1970)" in d.notes[0]
    assert summarize(d)["first_time"] == "1969-12-31T23:59:55Z"


@pytest.mark.parametrize("value, words", [("1e30", "timestamp '1e+30' is too large to be a time"),
                                          ("-99999999999", "is before the year 1 (read as seconds)")])
def test_timestamps_that_are_no_time_are_refused_at_their_line(tmp_path, value, words):
    folder = csv_folder(tmp_path, f"user,item,timestamp\nu1,a,1\nu1,b,{value}\n")
    text = only_project_error(lambda: load_path(str(folder)))
    assert "interactions.csv, line 3: " in text and words in text


def test_one_user_with_one_interaction_loads_but_cannot_be_split(tmp_path):
    d = load_path(str(csv_folder(tmp_path, "user,item,timestamp\nu1,a,1\n")))
    assert len(d.interactions) == 1
    with pytest.raises(RecAttnError, match="no user in .* has 3 or more interactions"):
        prepare(d)
    # a short user next to a long one only trains
    d = load_path(str(csv_folder(tmp_path, "user,item,timestamp\nu1,a,1\nu2,a,1\nu2,b,2\nu2,c,3\n", sub="two")))
    _, split = prepare(d)
    assert [len(s) for s in split.train] == [1, 1] and len(split.valid_targets) == len(split.test_targets) == 1


@pytest.mark.parametrize("files, filename", [
    ({"x.inter": INTER, "x.item": "item_id:token\ttitle:token_seq\ni1\tA\ni1\tB\n"}, "x.item"),
    ({"u.data": U_DATA, "u.item": U_ITEM + U_ITEM.splitlines(keepends=True)[0]}, "u.item"),
    ({"ratings.dat": RATINGS_DAT, "movies.dat": MOVIES_DAT + "1::Again (1995)::Drama\n"}, "movies.dat"),
    ({"interactions.csv": "user,item,timestamp\nu1,a,1\n", "items.csv": "id,title,genres\na,A,\na,B,\n"},
     "items.csv"),
])
def test_an_items_file_with_duplicate_ids_is_refused_in_every_layout(tmp_path, files, filename):
    text = only_project_error(lambda: load_path(str(folder_with(tmp_path, files))))
    assert f"{filename}, line 3: item id" in text and "appears twice in the catalogue" in text


def test_a_file_name_that_is_not_utf8_is_shown_escaped(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    name = os.fsdecode(b"\xff\xfe.csv")
    (folder / name).write_text("user,item,timestamp\nu1,a,soon\n")
    text = only_project_error(lambda: load_path(str(folder / name)))
    assert "\\xff\\xfe.csv, line 2" in text
    text.encode("utf-8")  # printable and sendable to a browser: no lone surrogates left


def test_a_folder_in_place_of_a_file_and_a_nested_layout_say_what_to_do(tmp_path):
    (tmp_path / "a" / "interactions.csv").mkdir(parents=True)
    assert "interactions.csv here is a folder" in only_project_error(lambda: load_path(str(tmp_path / "a")))
    inner = tmp_path / "b" / "ml-latest-small"
    inner.mkdir(parents=True)
    (inner / "ratings.csv").write_text(RATINGS)
    (inner / "movies.csv").write_text(MOVIES)
    assert "the subfolder 'ml-latest-small' holds one: point at it" in only_project_error(
        lambda: load_path(str(tmp_path / "b")))


def test_a_path_too_long_and_an_unreadable_file_get_the_project_error(tmp_path):
    assert "no such file or folder" in only_project_error(lambda: load_path("/x" * 5000))
    folder = csv_folder(tmp_path, "user,item,timestamp\nu1,a,1\n")
    (folder / "interactions.csv").chmod(0)
    try:
        if os.access(folder / "interactions.csv", os.R_OK):
            pytest.skip("running as a user who reads anything (root)")
        assert "Permission denied" in only_project_error(lambda: load_path(str(folder)))
    finally:
        (folder / "interactions.csv").chmod(0o644)


def test_cli_data_info_on_a_long_line_and_notes(tmp_path, capsys):
    (tmp_path / "log.csv").write_text("user,item,timestamp\nu1," + "x" * 140_000 + ",1\nu1,a,1\nu1,a,1\n")
    assert main(["data", "info", str(tmp_path / "log.csv"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["interactions"] == 2 and out["notes"][0].startswith("1 duplicated row(s)")
