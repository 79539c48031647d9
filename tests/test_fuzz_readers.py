"""Property-based fuzzing of every reader: random bytes and random CSV-like shapes in every layout's files.
Loading either gives a valid Dataset or raises the project's error (RecAttnError; DataError is one) — never
anything else."""

import shutil
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recattn.data.dataset import Dataset
from recattn.data.loaders import load_path
from recattn.errors import RecAttnError

# each layout's files: (file name, separator, header or None)
LAYOUTS = {
    "ml-100k": (("u.data", "\t", None), ("u.item", "|", None)),
    "ml-1m": (("ratings.dat", "::", None), ("movies.dat", "::", None)),
    "ml-latest": (("ratings.csv", ",", "userId,movieId,rating,timestamp"), ("movies.csv", ",", "movieId,title,genres")),
    "mind": (("behaviors.tsv", "\t", None), ("news.tsv", "\t", None)),
    "recbole": (("x.inter", "\t", "user_id:token\titem_id:token\ttimestamp:float"),
                ("x.item", "\t", "item_id:token\ttitle:token_seq")),
    "csv": (("interactions.csv", ",", "user,item,timestamp"), ("items.csv", ",", "id,title,genres")),
}
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# values a real file might hold, and the odd ones a broken one does
cells = st.one_of(
    st.integers(-10**20, 10**20).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " ", '"', '""', "N1-1 N2-0", "11/15/2019 10:22:32 AM", "(no genres listed)", "Heat (1995)",
                     "a|b", "::", "\ufeff", "\r", "\x00", "é", "1e30", "-1", "NaN"]),
    st.text(max_size=12),
)
line_endings = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def csv_like(draw, sep, header):
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=9), max_size=8))
    end = draw(line_endings)
    lines = ([header] if header is not None and draw(st.booleans()) else []) + [sep.join(r) for r in rows]
    text = end.join(lines) + draw(st.sampled_from(["", end]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]))
    return text.encode(encoding, errors="replace")


def check(layout, contents):
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        for (name, _, _), data in zip(LAYOUTS[layout], contents):
            if data is not None:
                (folder / name).write_bytes(data)
        try:
            dataset = load_path(str(folder), format=layout)
        except RecAttnError:
            return
        assert isinstance(dataset, Dataset)
        inter = dataset.interactions
        assert len(inter) > 0 and inter["timestamp"].dtype == "int64"
        assert inter["item_id"].isin(set(dataset.items["item_id"])).all()
        assert not dataset.items["item_id"].duplicated().any()
        assert not inter.duplicated(["user_id", "item_id", "timestamp"]).any()
        assert pd.api.types.is_string_dtype(dataset.items["title"])
    finally:
        shutil.rmtree(folder)


@FUZZ
@given(layout=st.sampled_from(sorted(LAYOUTS)),
       contents=st.tuples(st.one_of(st.none(), st.binary(max_size=300)), st.one_of(st.none(), st.binary(max_size=300))))
def test_random_bytes_give_a_dataset_or_the_project_error(layout, contents):
    check(layout, contents)


@FUZZ
@given(data=st.data(), layout=st.sampled_from(sorted(LAYOUTS)))
def test_random_csv_shapes_give_a_dataset_or_the_project_error(data, layout):
    contents = [data.draw(st.one_of(st.none(), csv_like(sep, header))) for _, sep, header in LAYOUTS[layout]]
    check(layout, contents)


@FUZZ
@given(data=st.data(), layout=st.sampled_from(sorted(LAYOUTS)))
def test_random_shapes_with_the_right_header_and_detection(data, layout):
    # always the header, so the shapes get past it to the values; the layout is detected, not forced
    files = LAYOUTS[layout]
    contents = []
    for _, sep, header in files:
        body = data.draw(csv_like(sep, None))
        contents.append((header.encode() + b"\n" if header else b"") + body)
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        for (name, _, _), blob in zip(files, contents):
            (folder / name).write_bytes(blob)
        try:
            dataset = load_path(str(folder))
        except RecAttnError:
            return
        assert dataset.format == layout
    finally:
        shutil.rmtree(folder)
