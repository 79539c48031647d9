"""recattn.paths: which paths a served app may read, data too large for it, and which old folders to drop."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from recattn import paths
from recattn.errors import RecAttnError


@pytest.fixture
def root(tmp_path) -> Path:
    """An allowed root with a data folder in it, next to a folder outside it."""
    (tmp_path / "root" / "films").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "interactions.csv").write_text("user,item,timestamp\n")
    return tmp_path / "root"


def refusal(path: Path, typed: str, roots: list[Path]) -> str:
    with pytest.raises(paths.PathRefused) as caught:
        paths.check_readable(path, typed, roots)
    return str(caught.value)


def test_a_folder_under_a_root_is_allowed_and_resolved(root):
    assert paths.check_readable(root / "films", "films", [root]) == (root / "films").resolve()
    assert paths.check_readable(root, "root", [root]) == root.resolve()  # the root itself
    # `..` that stays inside the root is fine: only where it ends up counts
    assert paths.check_readable(root / "films" / ".." / "films", "x", [root]) == (root / "films").resolve()
    assert paths.is_within(root / "films" / "not-yet", [root])  # a missing path under a root: the loader says so


@pytest.mark.parametrize("typed", ["/etc", "/etc/passwd", "/no/such/folder", "~", "/"])
def test_paths_outside_the_roots_are_refused_naming_the_setting(root, typed):
    message = refusal(Path(typed).expanduser(), typed, [root])
    assert message.startswith(f"“{typed}” is outside the folders this app may read ({root})")
    assert paths.ROOTS_ENV in message and os.pathsep in message


def test_a_dotdot_escape_is_refused(root):
    typed = str(root / "films" / ".." / ".." / "outside")
    assert not paths.is_within(Path(typed), [root])
    assert refusal(Path(typed), typed, [root]).startswith(f"“{typed}” is outside")


def test_a_symlink_out_of_a_root_is_refused_and_does_not_show_its_target(root):
    (root / "link").symlink_to(root.parent / "outside", target_is_directory=True)
    (root / "file-link.csv").symlink_to(root.parent / "outside" / "interactions.csv")
    for name in ("link", "file-link.csv"):
        message = refusal(root / name, name, [root])
        assert "outside" not in message.split("is outside")[0] and str(root.parent / "outside") not in message
    # a symlink that stays inside the root is fine
    (root / "alias").symlink_to(root / "films", target_is_directory=True)
    assert paths.check_readable(root / "alias", "alias", [root]) == (root / "films").resolve()


def test_a_symlink_loop_is_refused_not_an_exception(root):
    (root / "loop").symlink_to(root / "loop")
    assert not paths.is_within(root / "loop", [root.parent / "elsewhere"])
    with pytest.raises(paths.PathRefused):
        paths.check_readable(root / "loop" / "x", "loop/x", [root.parent / "elsewhere"])


def test_the_refusal_does_not_tell_whether_the_path_exists(root):
    existing = refusal(root.parent / "outside", "X", [root])
    missing = refusal(root.parent / "nowhere", "X", [root])
    assert existing == missing


def test_a_root_named_by_a_symlink_allows_what_it_points_to(tmp_path, root):
    (tmp_path / "named").symlink_to(root, target_is_directory=True)
    assert paths.check_readable(root / "films", "films", [tmp_path / "named"]) == (root / "films").resolve()


def test_roots_come_from_the_setting(tmp_path):
    env = {paths.ROOTS_ENV: os.pathsep.join([str(tmp_path / "a"), "", " ", str(tmp_path / "b" / ".." / "c")])}
    assert paths.env_roots(env) == ((tmp_path / "a").resolve(), (tmp_path / "c").resolve())
    assert paths.env_roots({}) == ()


def test_data_too_large_for_the_app_points_to_the_cli(tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    with open(folder / "interactions.csv", "wb") as f:  # sparse: takes no disk, has the size
        f.truncate(3_000_000)
    (folder / "items.csv").write_bytes(b"x" * 1024)
    (folder / "sub").mkdir()
    assert paths.data_bytes(folder) == 3_000_000 + 1024 and paths.data_bytes(folder / "items.csv") == 1024
    assert paths.data_bytes(tmp_path / "nowhere") == 0
    paths.check_size(folder, max_bytes=3_001_024)  # at the bound: nothing said
    with pytest.raises(RecAttnError, match=r"^big: 3 MB of data files is more than this app loads \(2 MB, about "
                                           r"40,000 interactions\); train on it from a terminal instead: "
                                           r"python -m recattn train --data PATH$"):
        paths.check_size(folder, max_bytes=2_000_000)
    assert paths.MAX_DATA_BYTES == 100_000_000


def test_too_many_interactions_points_to_the_cli():
    paths.check_count("ml-25m", paths.MAX_INTERACTIONS)
    with pytest.raises(RecAttnError, match=r"ml-25m: 2,000,001 interactions is more than this app handles "
                                           r"\(2,000,000\); .*python -m recattn train --data"):
        paths.check_count("ml-25m", paths.MAX_INTERACTIONS + 1)


def entry(name: str, mtime: float, size: int) -> paths.Entry:
    return paths.Entry(Path(name), mtime, size)


def test_the_oldest_folders_go_first_by_count_and_by_size():
    found = [entry("b", 2, 10), entry("d", 4, 10), entry("a", 1, 10), entry("c", 3, 10)]
    assert paths.oldest_over(found, max_count=2, max_bytes=1000) == [Path("b"), Path("a")]
    assert paths.oldest_over(found, max_count=10, max_bytes=25) == [Path("b"), Path("a")]
    assert paths.oldest_over(found, max_count=10, max_bytes=1000) == []
    # the newest stays even when it alone is over the bound
    assert paths.oldest_over([entry("big", 5, 99), entry("old", 1, 1)], max_count=10, max_bytes=10) == [Path("old")]
    assert paths.oldest_over([], 1, 1) == []


def test_entries_measure_folders_and_skip_vanished_ones(tmp_path):
    (tmp_path / "run" / "sub").mkdir(parents=True)
    (tmp_path / "run" / "a").write_bytes(b"12345")
    (tmp_path / "run" / "sub" / "b").write_bytes(b"123")
    (found,) = paths.entries([tmp_path / "run", tmp_path / "gone"])
    assert found.path == tmp_path / "run" and found.bytes == 8
