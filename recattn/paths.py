"""The one owner of recattn's folders (the checkout, shipped models, committed results, runs, downloaded data,
uploads), and which files a served app may read and how much it may hold: allowed data roots, data too large for the
app, and the oldest folders to drop when a folder of runs or uploads outgrows its bound. Pure path logic, no
streamlit.

A refusal never says whether the refused path exists: the message is the same for any path outside the roots, so
the Data page cannot be used to probe the server's folders.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from recattn.errors import RecAttnError
from recattn.i18n import _

ROOT = Path(__file__).resolve().parents[1]  # the checkout; relative paths typed in the app start here
SHIPPED_MODELS = ROOT / "assets" / "models"  # the pretrained models of the built-in worlds
RESULTS = ROOT / "benchmarks" / "results"  # committed results files
ROOTS_ENV = "RECATTN_DATA_ROOTS"  # extra folders the app may read, os.pathsep-separated
MAX_INTERACTIONS = 2_000_000  # more than this is a job for the CLI, not for a shared app
# A row of interactions takes at least ~25 bytes as text (ml-latest's ratings.csv: 24 bytes/row), so data files
# over this size hold more interactions than the app takes; judged before reading anything into memory.
MAX_DATA_BYTES = MAX_INTERACTIONS * 50


def runs_dir() -> Path:
    """Where trained and imported models go: runs/ in the checkout, or $RECATTN_RUNS_DIR."""
    return Path(os.environ.get("RECATTN_RUNS_DIR") or ROOT / "runs").resolve()


def data_dir() -> Path:
    """Where `python -m recattn data download` puts data sets: data/ in the checkout, or $RECATTN_DATA_DIR."""
    return Path(os.environ.get("RECATTN_DATA_DIR") or ROOT / "data").resolve()


def uploads_dir() -> Path:
    """Where the app writes uploads, a folder per session: the system's temp folder, or $RECATTN_UPLOADS_DIR."""
    return Path(os.environ.get("RECATTN_UPLOADS_DIR") or Path(tempfile.gettempdir()) / "recattn-uploads").resolve()


class PathRefused(RecAttnError):
    """A path outside the folders the app may read."""


def env_roots(environ: Mapping[str, str] = os.environ) -> tuple[Path, ...]:
    """The folders named in $RECATTN_DATA_ROOTS (os.pathsep-separated; empty entries ignored), resolved."""
    return tuple(Path(p).expanduser().resolve() for p in environ.get(ROOTS_ENV, "").split(os.pathsep) if p.strip())


def is_within(path: Path, roots: Iterable[Path]) -> bool:
    """Whether `path`, once resolved (`..` and symlinks followed), is one of `roots` or lies under one."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop, a name too long: not readable as data anyway
        return False
    return any(real.is_relative_to(root.resolve()) for root in roots)


def check_readable(path: Path, typed: str, roots: Sequence[Path], shown: Sequence[str] | None = None) -> Path:
    """`path` resolved when it lies under one of `roots`; else PathRefused quoting `typed` (what the user gave,
    never the resolved path, which could show where a symlink points), the roots (`shown`: how to name them,
    default their paths) and the setting that allows more folders."""
    if is_within(path, roots):
        return path.resolve()
    names = ", ".join(shown if shown is not None else [str(root) for root in roots])
    raise PathRefused(_("“{path}” is outside the folders this app may read ({roots}). Put the data in one of them, or "
                        "ask the person running the server to add its folder to the {setting} setting (folders "
                        "separated by “{separator}”) and restart the app.").format(
        path=typed, roots=names, setting=ROOTS_ENV, separator=os.pathsep))


def data_bytes(path: Path) -> int:
    """Bytes in the data files of a source: the file itself, or the files in the folder (not its subfolders,
    which no layout reads). 0 where nothing is there: the loader says so better."""
    if path.is_file():
        return path.stat().st_size
    if not path.is_dir():
        return 0
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


def check_size(path: Path, max_bytes: int | None = None) -> None:
    """RecAttnError pointing to the CLI when the data files at `path` are more than `max_bytes` (default
    MAX_DATA_BYTES): too large for the app to load."""
    max_bytes = MAX_DATA_BYTES if max_bytes is None else max_bytes
    size = data_bytes(path)
    if size > max_bytes:
        raise RecAttnError(_("{name}: {size:,.0f} MB of data files is more than this app loads ({limit:,.0f} MB, about "
                             "{interactions:,} interactions); train on it from a terminal instead: python -m recattn "
                             "train --data PATH").format(name=path.name, size=size / 1e6, limit=max_bytes / 1e6,
                                                         interactions=max_bytes // 50))


def check_count(name: str, interactions: int, max_interactions: int | None = None) -> None:
    """RecAttnError pointing to the CLI when a loaded data set has more interactions than `max_interactions`
    (default MAX_INTERACTIONS)."""
    max_interactions = MAX_INTERACTIONS if max_interactions is None else max_interactions
    if interactions > max_interactions:
        raise RecAttnError(_("{name}: {interactions:,} interactions is more than this app handles ({limit:,}); train "
                             "on it from a terminal instead: python -m recattn train --data PATH").format(
            name=name, interactions=interactions, limit=max_interactions))


@dataclass(frozen=True)
class Entry:
    """A folder under a bounded folder: its age (modification time) and size."""

    path: Path
    mtime: float
    bytes: int


def folder_bytes(path: Path) -> int:
    """Bytes of all files under `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def entries(folders: Iterable[Path]) -> list[Entry]:
    """The folders with their modification times and sizes (ones that vanish meanwhile are skipped)."""
    found = []
    for folder in folders:
        try:
            found.append(Entry(folder, folder.stat().st_mtime, folder_bytes(folder)))
        except OSError:  # removed by another session meanwhile
            continue
    return found


def oldest_over(found: Sequence[Entry], max_count: int, max_bytes: int) -> list[Path]:
    """The oldest folders to remove so that at most `max_count` remain and they take at most `max_bytes`;
    the newest folder always stays (it is the one just written)."""
    ordered = sorted(found, key=lambda e: e.mtime, reverse=True)
    keep, total = 0, 0
    for entry in ordered:
        if keep >= 1 and (keep >= max_count or total + entry.bytes > max_bytes):
            break
        keep, total = keep + 1, total + entry.bytes
    return [e.path for e in ordered[keep:]]
