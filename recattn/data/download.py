"""Fetch a public dataset by name, check the archive, and unpack it into the data folder.

The archive is written to a temporary file inside the target folder; it is opened as a zip, its CRCs are
tested, the expected files must be in it and match their SHA-256 where known, and only then is it unpacked
(into a temporary folder, moved into place at the end). Any failure, Ctrl-C included, removes what was
written. Set RECATTN_DOWNLOAD_BASE (or pass base_url) to fetch the same archive names from a mirror.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path, PurePosixPath

from recattn.errors import RecAttnError

ENV_BASE = "RECATTN_DOWNLOAD_BASE"
_CHUNK = 1 << 20
_TIMEOUT_S = 30
# What an archive may unpack to, checked from its directory before a byte is decompressed (a zip bomb is
# refused, not extracted): the total size (RECATTN_MAX_UNPACKED_BYTES raises it), how many times larger than
# the download it may grow (text compresses 3-10x; a bomb 1000x), and the number of entries.
MAX_UNPACKED_BYTES = 8 << 30
MAX_UNPACKED_ENV = "RECATTN_MAX_UNPACKED_BYTES"
MAX_RATIO = 100
MAX_ENTRIES = 10_000
GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
# The MIND archives as the Microsoft Recommenders project serves them (https://msnews.github.io/ links
# to the same files); MIND's license: https://github.com/msnews/MIND/blob/master/MSR%20License_Data.pdf
MIND = "https://recodatasets.z20.web.core.windows.net/newsrec/"


@dataclass(frozen=True)
class Archive:
    """A downloadable dataset: the zip's URL and the files it must hold (name -> sha256, or None where
    no checksum is known), relative to the folder in the zip that holds them."""

    name: str
    url: str
    files: dict[str, str | None] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


ARCHIVES = {a.name: a for a in (
    Archive("ml-latest-small", GROUPLENS + "ml-latest-small.zip", {
        # from /work/shared/data/ml-latest-small/SOURCE.md (September 2018 release)
        "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
        "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
        "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
        "links.csv": "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31",
        "README.txt": "63d22ac138e80fae37021797ed8e1b9424b5239dc576a137422adf783ae3f404",
    }),
    Archive("ml-100k", GROUPLENS + "ml-100k.zip", {"u.data": None, "u.item": None, "u.genre": None}),
    Archive("ml-1m", GROUPLENS + "ml-1m.zip", {"ratings.dat": None, "movies.dat": None}),
    Archive("ml-25m", GROUPLENS + "ml-25m.zip", {"ratings.csv": None, "movies.csv": None}),
    Archive("mind-small", MIND + "MINDsmall_train.zip", {"behaviors.tsv": None, "news.tsv": None}),
    Archive("mind-small-dev", MIND + "MINDsmall_dev.zip", {"behaviors.tsv": None, "news.tsv": None}),
)}
NAMES = tuple(ARCHIVES)

Progress = Callable[[int, int], None]


def download(name: str, dest: str | Path = "data", *, base_url: str | None = None,
             on_progress: Progress | None = None, force: bool = False) -> Path:
    """Download dataset `name` (see NAMES) into `dest/name` and return that folder.

    on_progress(done_bytes, total_bytes) is called as bytes arrive (total 0 when the server does not say).
    An existing complete folder is kept unless `force`.
    """
    if name not in ARCHIVES:
        raise RecAttnError(f"unknown dataset {name!r}; choose one of {', '.join(NAMES)}")
    return fetch(ARCHIVES[name], dest, base_url=base_url, on_progress=on_progress, force=force)


def fetch(archive: Archive, dest: str | Path = "data", *, base_url: str | None = None,
          on_progress: Progress | None = None, force: bool = False) -> Path:
    """Download, check and unpack `archive` into `dest/archive.name`; see the module docstring."""
    dest = Path(dest)
    target = dest / archive.name
    if not force and all((target / f).is_file() for f in archive.files):
        return target
    base = base_url or os.environ.get(ENV_BASE)
    url = base.rstrip("/") + "/" + archive.filename if base else archive.url
    dest.mkdir(parents=True, exist_ok=True)
    handle, part = tempfile.mkstemp(prefix=f".{archive.name}-", suffix=".zip.part", dir=dest)
    staging = None
    try:
        with os.fdopen(handle, "wb") as out:
            _get(url, out, archive, target, on_progress)
        staging = Path(tempfile.mkdtemp(prefix=f".{archive.name}-", dir=dest))
        _unpack(Path(part), archive, staging, url, target)
        old = None
        if target.exists():  # parked, not deleted, until the new copy is in place
            old = Path(tempfile.mkdtemp(prefix=f".{archive.name}-old-", dir=dest))
            os.replace(target, old / "data")
        os.replace(staging, target)
        staging = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        Path(part).unlink(missing_ok=True)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def manual_steps(archive: Archive, url: str, target: Path) -> str:
    """What to do by hand when the machine cannot download."""
    return (f"download {url} in a browser (or on another machine), unzip it, and put its files "
            f"({', '.join(archive.files)}) directly in {target}/ — then use --data {target}")


def _get(url: str, out, archive: Archive, target: Path, on_progress: Progress | None) -> None:
    """Stream `url` into `out`. Network failures (offline, refused, DNS, timeout, HTTP errors) become a
    RecAttnError with the manual steps; a failing disk is not a network problem and is left as it is."""
    try:
        response = urllib.request.urlopen(url, timeout=_TIMEOUT_S)
    except urllib.error.HTTPError as e:
        raise _unreachable(archive, url, target, f"the server answered {e.code} {e.reason}.") from None
    except (urllib.error.URLError, HTTPException, OSError) as e:
        raise _unreachable(archive, url, target, f"{getattr(e, 'reason', e)}; is this machine offline?") from None
    with response:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        if on_progress:
            on_progress(done, total)
        while True:
            try:
                chunk = response.read(_CHUNK)
            except (HTTPException, OSError) as e:
                raise _unreachable(archive, url, target, f"the connection broke ({e}).") from None
            if not chunk:
                break
            out.write(chunk)
            done += len(chunk)
            if on_progress:
                on_progress(done, total)


def _unreachable(archive: Archive, url: str, target: Path, reason: str) -> RecAttnError:
    return RecAttnError(f"could not download {archive.name} from {url}: {reason} "
                        f"To install it by hand: {manual_steps(archive, url, target)}")


def _unpack(part: Path, archive: Archive, staging: Path, url: str, target: Path) -> None:
    """Check the zip and extract the folder that holds the expected files into `staging`."""
    retry = f"nothing was kept; try again, or install it by hand: {manual_steps(archive, url, target)}"
    try:
        zf = zipfile.ZipFile(part)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise RecAttnError(f"the download of {archive.name} from {url} is not a zip archive (corrupted or "
                           f"an error page); {retry}") from None
    with zf:
        _check_sizes(zf, archive, staging, retry)
        try:
            bad = zf.testzip()
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError, EOFError, zlib.error) as e:
            # an encrypted entry, an unknown compression method, a broken stream
            raise RecAttnError(f"the {archive.name} archive cannot be unpacked ({e}); {retry}") from None
        if bad is not None:
            raise RecAttnError(f"{bad} in the {archive.name} archive is corrupted (CRC mismatch); {retry}")
        root = _root(zf, archive, retry)
        for name, expected in archive.files.items():
            if expected is not None:
                digest = _sha256(zf, f"{root}{name}")
                if digest != expected:
                    raise RecAttnError(f"{name} in the {archive.name} archive has SHA-256 {digest}, expected "
                                       f"{expected}; the download is corrupted or the file changed; {retry}")
        for info in zf.infolist():
            if info.is_dir() or not info.filename.startswith(root):
                continue
            relative = PurePosixPath(info.filename[len(root):])
            if relative.is_absolute() or ".." in relative.parts:
                raise RecAttnError(f"the {archive.name} archive holds an unsafe path {info.filename!r}; {retry}")
            destination = staging.joinpath(*relative.parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(destination, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)


def max_unpacked_bytes() -> int:
    """MAX_UNPACKED_BYTES, or RECATTN_MAX_UNPACKED_BYTES where set to a number."""
    value = os.environ.get(MAX_UNPACKED_ENV, "")
    return int(value) if value.strip().isdigit() else MAX_UNPACKED_BYTES


def _check_sizes(zf: zipfile.ZipFile, archive: Archive, staging: Path, retry: str) -> None:
    """Refuse an archive that would unpack to too much (a zip bomb) or more than the disk holds, from the
    sizes its directory declares (zipfile never inflates an entry past its declared size)."""
    entries = zf.infolist()
    unpacked = sum(i.file_size for i in entries)
    packed = sum(i.compress_size for i in entries)
    limit = max_unpacked_bytes()
    refuse = f"the {archive.name} archive was refused before unpacking"
    if len(entries) > MAX_ENTRIES:
        raise RecAttnError(f"{refuse}: it holds {len(entries):,} entries, over {MAX_ENTRIES:,}; {retry}")
    if unpacked > limit:
        raise RecAttnError(f"{refuse}: it would unpack to {unpacked / 2**20:,.0f} MiB, over the "
                           f"{limit / 2**20:,.0f} MiB limit (raise it with {MAX_UNPACKED_ENV}=BYTES); {retry}")
    if unpacked > MAX_RATIO * max(packed, 1 << 20):
        raise RecAttnError(f"{refuse}: it would grow {unpacked / max(packed, 1):,.0f} times on unpacking "
                           f"({unpacked / 2**20:,.0f} MiB), which no data set does (a zip bomb?); {retry}")
    free = shutil.disk_usage(staging).free
    if unpacked > free:
        raise RecAttnError(f"{refuse}: it unpacks to {unpacked / 2**20:,.0f} MiB and only "
                           f"{free / 2**20:,.0f} MiB are free in {staging.parent}; free some space, then try again")


def _root(zf: zipfile.ZipFile, archive: Archive, retry: str) -> str:
    """The folder inside the zip ("ml-latest-small/", or "" at the top) that holds every expected file."""
    names = set(zf.namelist())
    candidates = sorted({n[: len(n) - len(f)] for n in names for f in archive.files
                         if n == f or n.endswith("/" + f)}, key=len)
    for root in candidates:
        if all(root + f in names for f in archive.files):
            return root
    missing = ", ".join(archive.files)
    raise RecAttnError(f"the {archive.name} archive does not hold the expected files ({missing}); {retry}")


def _sha256(zf: zipfile.ZipFile, name: str) -> str:
    h = hashlib.sha256()
    with zf.open(name) as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()
