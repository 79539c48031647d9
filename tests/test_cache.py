"""The disk cache of generated worlds: a hit gives the same tables and catalogue fingerprint, a changed generator or
argument misses, a damaged entry is generated again, and a failed write leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from recattn import data
from recattn.data import cache
from recattn.data.builtin import generate_films

calls: list[dict] = []


def small_films(**kwargs):
    """A small film world that counts its calls (a cache hit makes none)."""
    calls.append(kwargs)
    return generate_films(seed=kwargs.get("seed", 3), n_films=120, n_users=60, n_franchises=20)


@pytest.fixture(autouse=True)
def no_calls():
    calls.clear()


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def assert_same(a: data.Dataset, b: data.Dataset) -> None:
    pd.testing.assert_frame_equal(a.items, b.items, check_exact=True)
    pd.testing.assert_frame_equal(a.interactions, b.interactions, check_exact=True)
    assert (a.name, a.format, a.notes, a.fingerprint) == (b.name, b.format, b.notes, b.fingerprint)


def test_a_hit_gives_the_same_tables_and_fingerprint(tmp_path):
    fresh = small_films()
    first = cache.cached(small_films, folder=tmp_path)
    second = cache.cached(small_films, folder=tmp_path)
    assert len(calls) == 2  # fresh + the first (miss); the second is read from disk
    assert entries(tmp_path) == [f"small_films-{cache.generator_key(small_films, {})}"]
    assert_same(second, fresh)
    assert_same(first, fresh)
    assert second.items["year"].dtype == "Int64"


def test_other_arguments_are_another_entry(tmp_path):
    a = cache.cached(small_films, folder=tmp_path, seed=3)
    b = cache.cached(small_films, folder=tmp_path, seed=4)
    assert calls == [{"seed": 3}, {"seed": 4}]
    assert len(entries(tmp_path)) == 2
    assert a.fingerprint != b.fingerprint
    assert_same(cache.cached(small_films, folder=tmp_path, seed=4), b)
    assert len(calls) == 2


def test_the_key_follows_the_generator_source_and_what_it_imports(monkeypatch, tmp_path):
    assert cache.source_modules("recattn.data.news") == ["recattn.data.builtin", "recattn.data.dataset",
                                                         "recattn.data.news"]
    before = cache.generator_key(small_films, {})
    folder = tmp_path / "cache"
    cache.cached(small_films, folder=folder)
    # the same generator with one changed line in a module it depends on (recattn.data.builtin)
    edited = tmp_path / "builtin.py"
    edited.write_text(Path(cache._file_of("recattn.data.builtin")).read_text() + "\n# changed\n")
    real = cache._file_of
    monkeypatch.setattr(cache, "_file_of", lambda m: str(edited) if m == "recattn.data.builtin" else real(m))
    assert cache.generator_key(small_films, {}) != before
    cache.cached(small_films, folder=folder)
    assert len(calls) == 2 and len(entries(folder)) == 2  # generated again, not served stale


@pytest.mark.parametrize("damage", ["truncated items", "garbage meta", "other fingerprint", "missing file"])
def test_a_damaged_entry_is_generated_again(tmp_path, damage):
    good = cache.cached(small_films, folder=tmp_path)
    entry = tmp_path / entries(tmp_path)[0]
    if damage == "truncated items":
        raw = (entry / cache.ITEMS).read_bytes()
        (entry / cache.ITEMS).write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage meta":
        (entry / cache.META).write_text("{not json")
    elif damage == "other fingerprint":
        (entry / cache.META).write_text((entry / cache.META).read_text().replace(good.fingerprint, "0" * 16))
    else:
        (entry / cache.INTERACTIONS).unlink()
    assert cache.read(entry) is None
    again = cache.cached(small_films, folder=tmp_path)
    assert len(calls) == 2
    assert_same(again, good)
    assert_same(cache.read(entry), good)  # the entry is sound again
    assert entries(tmp_path) == [entry.name]


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    def half_written(frame, path, *args, **kwargs):
        Path(path).write_bytes(b"PAR1 half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_written)
    got = cache.cached(small_films, folder=tmp_path)
    assert_same(got, small_films())
    assert entries(tmp_path) == []  # neither the entry nor its staging folder


def test_a_folder_that_cannot_be_written_only_means_no_caching(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    got = cache.cached(small_films, folder=blocked / "cache")
    assert_same(got, small_films())


def test_the_folder_setting():
    assert cache.cache_dir({"RECATTN_CACHE": "/x/y"}) == Path("/x/y")
    assert cache.cache_dir({"XDG_CACHE_HOME": "/c"}) == Path("/c/recattn")
    assert cache.cache_dir({}) == Path.home() / ".cache" / "recattn"


def test_builtin_sources_load_through_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr("recattn.data.builtin.generate_films", small_films)
    data._builtin.cache_clear()
    try:
        first = data.load("builtin:films")
        data._builtin.cache_clear()  # a new process: only the disk cache is left
        second = data.load("builtin:films")
    finally:
        data._builtin.cache_clear()
    assert len(calls) == 1
    assert entries(tmp_path) == [f"small_films-{cache.generator_key(small_films, {})}"]
    assert_same(second, first)


def test_old_entries_of_a_generator_are_pruned(tmp_path):
    for age, name in enumerate(["gen-a", "gen-b", "gen-c", "gen-d", "gen-e", "other-a"]):
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (1_000_000 + age, 1_000_000 + age))
    cache.prune(tmp_path, "gen", keep=3)
    assert entries(tmp_path) == ["gen-c", "gen-d", "gen-e", "other-a"]
