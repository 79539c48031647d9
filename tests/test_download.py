"""Downloads against an HTTP server on 127.0.0.1 that serves zips built here; the internet is never used."""

import functools
import hashlib
import http.server
import json
import socket
import threading
import zipfile

import pytest

from recattn.cli import main
from recattn.data.download import ENV_BASE, Archive, download, fetch
from recattn.data.loaders import load_path
from recattn.errors import RecAttnError

RATINGS = b"userId,movieId,rating,timestamp\n1,1,4.0,964982703\n2,1,3.0,964982704\n"
MOVIES = b'movieId,title,genres\n1,"Heat, The (1995)",Action\n'


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """(folder served, base URL)."""
    served = tmp_path / "served"
    served.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def make_zip(path, files):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return path


def sha(data):
    return hashlib.sha256(data).hexdigest()


TOY = Archive("toy", "https://example.invalid/datasets/toy.zip",
              {"ratings.csv": sha(RATINGS), "movies.csv": sha(MOVIES)})


def leftovers(dest):
    return sorted(p.name for p in dest.iterdir()) if dest.exists() else []


def test_fetch_checks_unpacks_and_reports_progress(server, tmp_path):
    served, base = server
    make_zip(served / "toy.zip", {"toy/ratings.csv": RATINGS, "toy/movies.csv": MOVIES, "toy/README.txt": b"hi"})
    seen = []
    dest = tmp_path / "data"
    folder = fetch(TOY, dest, base_url=base, on_progress=lambda done, total: seen.append((done, total)))
    assert folder == dest / "toy"
    assert sorted(p.name for p in folder.iterdir()) == ["README.txt", "movies.csv", "ratings.csv"]
    assert leftovers(dest) == ["toy"]  # no temporary file or folder left behind
    size = (served / "toy.zip").stat().st_size
    assert seen[0] == (0, size) and seen[-1] == (size, size)
    assert len(load_path(str(folder)).interactions) == 2
    # a complete folder is kept: no second download (the server is not asked again)
    (served / "toy.zip").unlink()
    assert fetch(TOY, dest, base_url=base) == folder


def test_download_by_name_with_the_base_from_the_environment(server, tmp_path, monkeypatch):
    served, base = server
    flags = "|0" * 19
    make_zip(served / "ml-100k.zip", {
        "ml-100k/u.data": "1\t1\t5\t881250949\n",
        "ml-100k/u.item": f"1|Café (1995)|01-Jan-1995||http://x{flags}\n".encode("latin-1"),
        "ml-100k/u.genre": "".join(f"g{k}|{k}\n" for k in range(19)),
    })
    monkeypatch.setenv(ENV_BASE, base)
    folder = download("ml-100k", tmp_path / "data")
    assert load_path(str(folder)).items["title"].tolist() == ["Café (1995)"]


def test_top_level_files_in_the_zip(server, tmp_path):
    served, base = server
    make_zip(served / "toy.zip", {"ratings.csv": RATINGS, "movies.csv": MOVIES})
    assert (fetch(TOY, tmp_path / "data", base_url=base) / "movies.csv").read_bytes() == MOVIES


def test_wrong_checksum_keeps_nothing(server, tmp_path):
    served, base = server
    make_zip(served / "ml-latest-small.zip", {f"ml-latest-small/{n}": b"not the real file"
                                              for n in ("ratings.csv", "movies.csv", "tags.csv", "links.csv",
                                                        "README.txt")})
    dest = tmp_path / "data"
    with pytest.raises(RecAttnError, match="SHA-256") as caught:
        download("ml-latest-small", dest, base_url=base)
    assert "files.grouplens.org" not in str(caught.value)  # the URL actually used is named
    assert leftovers(dest) == []


@pytest.mark.parametrize("damage, words", [
    ("garbage", "not a zip archive"),
    ("flipped byte", "CRC"),
    ("missing file", "does not hold the expected files"),
    ("unsafe path", "unsafe path"),
])
def test_corrupted_archives_keep_nothing(server, tmp_path, damage, words):
    served, base = server
    if damage == "garbage":
        (served / "toy.zip").write_bytes(b"<html>not found</html>")
    elif damage == "flipped byte":
        make_zip(served / "toy.zip", {"ratings.csv": RATINGS, "movies.csv": MOVIES})
        data = (served / "toy.zip").read_bytes()
        at = data.index(b"964982703")
        (served / "toy.zip").write_bytes(data[:at] + b"8" + data[at + 1:])
    elif damage == "missing file":
        make_zip(served / "toy.zip", {"toy/ratings.csv": RATINGS})
    else:
        make_zip(served / "toy.zip", {"toy/ratings.csv": RATINGS, "toy/movies.csv": MOVIES, "toy/../../evil": b"x"})
    dest = tmp_path / "data"
    with pytest.raises(RecAttnError, match=words):
        fetch(TOY, dest, base_url=base)
    assert leftovers(dest) == []
    assert not (tmp_path / "evil").exists()


def test_unreachable_server_gives_the_manual_steps(tmp_path):
    with socket.socket() as s:  # a port that was free a moment ago: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dest = tmp_path / "data"
    with pytest.raises(RecAttnError) as caught:
        download("ml-1m", dest, base_url=f"http://127.0.0.1:{port}/")
    text = str(caught.value)
    assert "offline" in text and f"127.0.0.1:{port}/ml-1m.zip" in text
    assert str(dest / "ml-1m") in text and "ratings.dat" in text
    assert leftovers(dest) == []


def test_http_error_is_reported(server, tmp_path):
    _, base = server
    with pytest.raises(RecAttnError, match="404"):
        fetch(TOY, tmp_path / "data", base_url=base)
    assert leftovers(tmp_path / "data") == []


def test_interrupt_cleans_up(server, tmp_path):
    served, base = server
    make_zip(served / "toy.zip", {"ratings.csv": RATINGS, "movies.csv": MOVIES})

    def interrupt(done, total):
        if done:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch(TOY, tmp_path / "data", base_url=base, on_progress=interrupt)
    assert leftovers(tmp_path / "data") == []


def test_unknown_name():
    with pytest.raises(RecAttnError, match="unknown dataset"):
        download("ml-7m")


def test_cli_download_draws_progress_on_stderr(server, tmp_path, capsys, monkeypatch):
    served, base = server
    make_zip(served / "ml-1m.zip", {"ml-1m/ratings.dat": "1::1::5::978300760\n",
                                    "ml-1m/movies.dat": "1::Toy Story (1995)::Animation\n"})
    monkeypatch.setenv(ENV_BASE, base)
    assert main(["data", "download", "ml-1m", "--dir", str(tmp_path / "data"), "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert out["path"] == str(tmp_path / "data" / "ml-1m") and "ratings.dat" in out["files"]
    assert "MiB" in captured.err and "#" in captured.err
    assert "\r" in captured.err  # one line, redrawn
    assert main(["data", "info", out["path"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["interactions"] == 1


def test_a_zip_bomb_is_refused_before_unpacking(server, tmp_path, monkeypatch):
    served, base = server
    dest = tmp_path / "data"
    # 200 MiB of zeros deflate to ~200 KiB: 1000 times larger unpacked, as no data set is
    with zipfile.ZipFile(served / "toy.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("toy/ratings.csv", RATINGS)
        zf.writestr("toy/movies.csv", MOVIES)
        with zf.open("toy/zeros.bin", "w") as big:
            for _ in range(200):
                big.write(bytes(1 << 20))
    with pytest.raises(RecAttnError, match=r"refused before unpacking: it would grow [\d,]+ times on unpacking"):
        fetch(TOY, dest, base_url=base)
    assert leftovers(dest) == []
    # a total over the limit, whatever the ratio
    monkeypatch.setenv("RECATTN_MAX_UNPACKED_BYTES", str(1 << 20))
    make_zip(served / "toy.zip", {"toy/ratings.csv": RATINGS, "toy/movies.csv": MOVIES,
                                  "toy/big.bin": bytes(2 << 20)})
    with pytest.raises(RecAttnError, match=r"it would unpack to 2 MiB, over the 1 MiB limit \(raise it with "
                                           r"RECATTN_MAX_UNPACKED_BYTES"):
        fetch(TOY, dest, base_url=base)
    assert leftovers(dest) == []


def test_too_many_entries_and_an_encrypted_entry_are_refused(server, tmp_path):
    served, base = server
    dest = tmp_path / "data"
    make_zip(served / "toy.zip", {"toy/ratings.csv": RATINGS, "toy/movies.csv": MOVIES,
                                  **{f"toy/n{k}": b"" for k in range(10_001)}})
    with pytest.raises(RecAttnError, match="it holds 10,003 entries, over 10,000"):
        fetch(TOY, dest, base_url=base)
    make_zip(served / "toy.zip", {"toy/ratings.csv": RATINGS, "toy/movies.csv": MOVIES})
    data = bytearray((served / "toy.zip").read_bytes())
    # set the "encrypted" flag bit in every central-directory and local header
    for signature, offset in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            data[start + offset] |= 1
            start += 4
    (served / "toy.zip").write_bytes(bytes(data))
    with pytest.raises(RecAttnError, match="cannot be unpacked"):
        fetch(TOY, dest, base_url=base)
    assert leftovers(dest) == []
