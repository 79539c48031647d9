"""Generated worlds on disk: a built-in data set is generated once, written as parquet to a cache folder and read
back on later starts (milliseconds instead of seconds).

An entry is keyed by the generator's fingerprint: the source code of its module and of every recattn module that
module imports (transitively), its arguments, and the versions of recattn, numpy and pandas. A changed generator
therefore never serves stale data. Entries are written to a temporary folder and renamed into place, so a reader
never sees half an entry; an entry that cannot be read, or whose catalogue fingerprint or row counts disagree with
what was written, is generated again. Without pyarrow (parquet's engine), nothing is cached.

The folder is $RECATTN_CACHE, else $XDG_CACHE_HOME/recattn, else ~/.cache/recattn; deleting it is always safe.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from recattn import __version__, paths
from recattn.data.dataset import Dataset

CACHE_ENV = "RECATTN_CACHE"
ITEMS, INTERACTIONS, META = "items.parquet", "interactions.parquet", "meta.json"
KEEP = 4  # entries kept per generator (other versions or arguments); older ones are removed when one is written


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The cache folder: $RECATTN_CACHE, else $XDG_CACHE_HOME/recattn, else ~/.cache/recattn."""
    if environ.get(CACHE_ENV):
        return Path(environ[CACHE_ENV]).expanduser()
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "recattn"


def source_modules(module: str) -> list[str]:
    """`module` and every recattn module it imports, directly or through another (imports inside functions
    count too), sorted: the code a generator's output depends on."""
    found, todo = set(), [module]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        tree = ast.parse(Path(_file_of(name)).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and _ours(node.module or ""):
                # `from recattn import x` may name a submodule rather than an attribute
                todo += [m for m in (f"{node.module}.{a.name}" for a in node.names) if _is_module(m)] or [node.module]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if _ours(a.name)]
    return sorted(found)


def _ours(module: str) -> bool:
    return module == "recattn" or module.startswith("recattn.")


def _file_of(module: str) -> str:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ImportError(f"no source file for {module}")
    return spec.origin


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the parent is not a package: `name` is an attribute
        return False


def generator_key(generate: Callable[..., Dataset], kwargs: Mapping[str, object]) -> str:
    """The fingerprint of what `generate(**kwargs)` returns: sha256 (first 16 hex digits) over the source of the
    modules it depends on, its name, its arguments and the versions of recattn, numpy and pandas."""
    h = hashlib.sha256()
    for module in source_modules(generate.__module__):
        h.update(module.encode() + b"\0" + Path(_file_of(module)).read_bytes() + b"\0")
    h.update(json.dumps({"function": generate.__qualname__, "kwargs": dict(sorted(kwargs.items())),
                         "recattn": __version__, "numpy": np.__version__, "pandas": pd.__version__},
                        sort_keys=True).encode())
    return h.hexdigest()[:16]


def cached(generate: Callable[..., Dataset], folder: Path | None = None, **kwargs) -> Dataset:
    """`generate(**kwargs)`, read from the cache folder (`folder`, default `cache_dir()`) when an entry with the
    generator's fingerprint is there and sound, else generated and written there. Never fails because of the
    cache: an unreadable entry is generated again, a folder that cannot be written only means no caching."""
    if importlib.util.find_spec("pyarrow") is None:
        return generate(**kwargs)
    entry = (cache_dir() if folder is None else folder) / f"{generate.__name__}-{generator_key(generate, kwargs)}"
    found = read(entry)
    if found is not None:
        return found
    dataset = generate(**kwargs)
    shutil.rmtree(entry, ignore_errors=True)  # an unreadable entry: replaced by the fresh one
    if write(entry, dataset):
        prune(entry.parent, generate.__name__)
    return dataset


def prune(folder: Path, name: str, keep: int = KEEP) -> None:
    """Remove all but the `keep` newest entries of the generator `name` in `folder` (a reader of a removed one
    finds it missing and generates it again)."""
    found = paths.entries(p for p in folder.glob(f"{name}-*") if p.is_dir())
    for old in paths.oldest_over(found, keep, max_bytes=2**62):
        shutil.rmtree(old, ignore_errors=True)


def read(entry: Path) -> Dataset | None:
    """The data set in a cache entry folder; None when it is missing, unreadable or not what was written."""
    try:
        meta = json.loads((entry / META).read_text(encoding="utf-8"))
        items = pd.read_parquet(entry / ITEMS)
        interactions = pd.read_parquet(entry / INTERACTIONS)
        dataset = Dataset(name=meta["name"], format=meta["format"], items=items, interactions=interactions,
                          notes=tuple(meta["notes"]))
        sound = (dataset.fingerprint == meta["fingerprint"] and len(items) == meta["items"]
                 and len(interactions) == meta["interactions"])
    except Exception:  # noqa: BLE001 - missing, or whatever a damaged file raises (pyarrow, json, a lost key)
        return None
    return dataset if sound else None


def write(entry: Path, dataset: Dataset) -> bool:
    """Write `dataset` as the cache entry folder `entry`, atomically: its files go to a temporary folder beside
    it that is renamed into place, so a reader sees the whole entry or none. False (and nothing left behind) when
    it cannot be written, or when another process put the entry there first."""
    staging = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
        dataset.items.to_parquet(staging / ITEMS)
        dataset.interactions.to_parquet(staging / INTERACTIONS)
        meta = {"name": dataset.name, "format": dataset.format, "notes": list(dataset.notes),
                "fingerprint": dataset.fingerprint, "items": len(dataset.items),
                "interactions": len(dataset.interactions)}
        (staging / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        staging.rename(entry)
        return True
    except Exception:  # noqa: BLE001 - a full disk, a read-only home, a table pyarrow cannot write: no caching
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        return False
