"""Which data is loaded: the cached datasets and their profiles, the folders the app reads and writes, switching
the source, uploads, and the catalogue lookups pages need (search, titles, a real user's history).

Folders: trained models go to ``runs/`` (``RECATTN_RUNS_DIR`` overrides it), downloaded data sets are read from
``data/`` (``RECATTN_DATA_DIR``), both at the repository root; uploads are written under the system's temp folder
(``RECATTN_UPLOADS_DIR``), a folder per session, removed when the session ends.

Who may read what: a source other than a built-in world must lie under an allowed root (`allowed_roots`): the data
folder, the project's data/, the folders named in ``RECATTN_DATA_ROOTS`` and the session's own uploads. Data too
large for the app is refused before it is read, with the CLI command to use instead.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from recattn import checkpoint, data, paths
from recattn.data import Dataset
from recattn.data.info import profile
from recattn.data.loaders import FORMATS, detect
from recattn.errors import RecAttnError
from recattn.data.presets import Preset, presets as story_presets
from recattn.i18n import N_, Lazy, _, count_of, sentences
from ui import state
from ui.text import md

UPLOADS_MAX_MB = 1024  # all sessions' uploads together; a new upload past it is refused


# ---------------------------------------------------------------- folders (decided in recattn.paths)
runs_dir, data_dir, uploads_dir = paths.runs_dir, paths.data_dir, paths.uploads_dir


def _remove_uploads(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


# A session-scoped resource is released when its session disconnects or ends (Streamlit's only session-end hook
# in 1.67), and its on_release then deletes the session's uploads. A dataset already loaded from them stays cached.
@st.cache_resource(scope="session", on_release=_remove_uploads, show_spinner=False)
def session_uploads() -> Path:
    """This session's uploads folder (not created until something is uploaded)."""
    return uploads_dir() / f"session-{uuid.uuid4().hex[:16]}"


def allowed_roots() -> list[Path]:
    """The folders a typed path may lead into: the data folder, the project's data/ and the folders in
    $RECATTN_DATA_ROOTS."""
    return list(dict.fromkeys([data_dir(), (paths.ROOT / "data").resolve(), *paths.env_roots()]))


def root_names(roots: Sequence[Path]) -> list[str]:
    """The roots as a person would type them: relative to the repository root where that is shorter, ending in
    a slash ("data/", "../shared/data/")."""
    return [os.path.join(min(os.path.relpath(root, paths.ROOT), str(root), key=len), "") for root in roots]


def check_source(source: str) -> None:
    """paths.PathRefused (a RecAttnError) when `source` is not a built-in world and lies neither under the allowed
    roots nor in this session's uploads (never another session's)."""
    if source.startswith("builtin:"):  # generated, never read from disk (an unknown name: data.load says so)
        return
    path = path_and_format(source)[0]
    roots = allowed_roots()
    paths.check_readable(Path(path), path, [*roots, session_uploads()], root_names(roots))


# ---------------------------------------------------------------- datasets
@st.cache_resource(show_spinner=Lazy(N_("Loading the catalogue…")))
def dataset(source: str) -> Dataset:
    """The loaded source (catalogue + interactions), shared by all sessions. Data too large for the app is refused
    (RecAttnError naming the CLI command): by its files' size before reading, by its interactions after."""
    path, fmt = path_and_format(source)
    if not source.startswith("builtin:"):
        paths.check_size(Path(path))
    loaded = data.load(path, fmt)
    paths.check_count(source_label(source), len(loaded.interactions))
    return loaded


def current() -> Dataset:
    """The session's dataset."""
    return dataset(state.source())


def path_and_format(source: str) -> tuple[str, str | None]:
    """A source split into its path and its forced layout (None: detect it)."""
    fmt, sep, path = source.partition(":")
    return (path, fmt) if sep and fmt in FORMATS else (source, None)


@st.cache_data(show_spinner=Lazy(N_("Counting…")))
def data_profile(source: str) -> dict:
    """`recattn.data.info.profile` of a source: counts and the tables behind the Data page's charts."""
    return profile(dataset(source))


@st.cache_data(show_spinner=False)
def fingerprint(source: str) -> str:
    """The catalogue fingerprint of a source: what ties a checkpoint to it."""
    return dataset(source).fingerprint


def checkpoints(source: str) -> list[checkpoint.CheckpointInfo]:
    """Every checkpoint trained on `source`'s catalogue: shipped (assets/models/) first, then runs/, newest first.
    Only config.json and metrics.json are read, never the weights. The list is always fresh: it is kept only as
    long as the folders' stamp (`_stamp`) is unchanged, and a page asks for it several times a run."""
    shipped, trained = str(paths.SHIPPED_MODELS), str(runs_dir())
    return _checkpoints(fingerprint(source), shipped, trained, _stamp(shipped, trained))


@st.cache_data(show_spinner=False, max_entries=64)
def _checkpoints(fingerprint: str, shipped: str, trained: str, stamp: str) -> list[checkpoint.CheckpointInfo]:
    # stamp is only part of the key
    return checkpoint.find(fingerprint, shipped=[Path(shipped)], trained=[Path(trained)])


def _stamp(*folders: str) -> str:
    """A digest of what `checkpoint.find` reads of some folders, by name, time and size: each folder, its
    subfolders and their config.json and metrics.json. A save (a rename into place), a retrain, a removal or a
    metrics file written later changes it; a few dozen stat calls instead of reading and parsing every config.
    One string, not the tuple it digests: Streamlit hashes a cache key's tuples item by item in Python, 2-3 ms a
    call for the shipped models' 50 entries, and the sidebar, the link and the page ask for the list on every run."""
    stamp = []
    for folder in folders:
        try:
            entries = sorted((e for e in os.scandir(folder) if e.is_dir()), key=lambda e: e.name)
            stamp.append((folder, os.stat(folder).st_mtime_ns))
        except OSError:  # no runs/ yet
            stamp.append((folder, None))
            continue
        for entry in entries:
            for file in (entry.path, os.path.join(entry.path, checkpoint.CONFIG),
                         os.path.join(entry.path, checkpoint.METRICS)):
                try:
                    info = os.stat(file)
                    stamp.append((file, info.st_mtime_ns, info.st_size))
                except OSError:
                    stamp.append((file, None))
    return hashlib.blake2b(repr(stamp).encode(), digest_size=16).hexdigest()


# ---------------------------------------------------------------- naming sources
def folder_source(path: str, format: str | None = None) -> str:
    """The source for a folder or file the user typed: absolute (a relative path starts at the repository root,
    not at wherever the server was started), prefixed with ``FORMAT:`` when a layout is forced. Raises
    paths.PathRefused, quoting what was typed, when it lies outside the allowed roots."""
    roots = allowed_roots()
    typed = path.strip()
    resolved = str(paths.check_readable(paths.ROOT / Path(typed).expanduser(), typed, roots, root_names(roots)))
    return f"{format}:{resolved}" if format else resolved


def source_kind(source: str) -> str:
    """Which of the Data page's choices a source came from: a built-in name, "downloaded", "upload" or "folder"."""
    if source in data.BUILTIN:
        return source
    path = Path(path_and_format(source)[0])
    if path.parent == data_dir():
        return "downloaded"
    return "upload" if path.parent.parent == uploads_dir() else "folder"


def source_label(source: str) -> str:
    """A short name for a source: the built-in name, or the folder's (file's) name and a forced format."""
    if source in data.BUILTIN:
        return source
    path, fmt = path_and_format(source)
    return Path(path).name + (f" ({fmt})" if fmt else "")


def downloaded_sources() -> list[str]:
    """The folders in the data folder whose files form a known layout (detected from the file names only); a
    symlink leading out of the allowed roots is left out."""
    found = []
    roots = allowed_roots()
    for folder in sorted(data_dir().glob("*/")):
        if not paths.is_within(folder, roots):
            continue
        try:
            detect(folder)
        except RecAttnError:
            continue
        found.append(str(folder))
    return found


def save_uploads(files: Sequence) -> str:
    """Write uploaded files (Streamlit's UploadedFile: .name, .getvalue()) into a folder of their own in the
    session's uploads folder, keeping their names, and return that folder as a source.

    The folder is named after a hash of the names and contents, so uploading the same files again reuses it and
    its cached load. Files are written to a temporary folder first and renamed into place: a half-written upload
    is never a source. Refused (RecAttnError) when all sessions' uploads would take more than UPLOADS_MAX_MB.
    """
    named = sorted((Path(f.name).name, f.getvalue()) for f in files)
    if not named:
        raise RecAttnError(_("no files uploaded: drop the data files on the uploader first"))
    digest = hashlib.sha256()
    for name, content in named:
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    folder = session_uploads()
    target = folder / f"upload-{digest.hexdigest()[:12]}"
    if not target.is_dir():
        incoming = sum(len(content) for _, content in named)
        used = paths.folder_bytes(uploads_dir()) if uploads_dir().is_dir() else 0
        if used + incoming > UPLOADS_MAX_MB * 2**20:
            raise RecAttnError(_("the server's space for uploads is full ({used:,.0f} of {limit:,} MB in use, this "
                                 "upload needs {needed:,.1f} MB more): try again later, or ask the person running the "
                                 "server to put the data in a data folder").format(
                used=used / 2**20, limit=UPLOADS_MAX_MB, needed=incoming / 2**20))
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".part-", dir=folder))
        try:
            for name, content in named:
                (staging / name).write_bytes(content)
            staging.rename(target)
        except OSError as e:
            shutil.rmtree(staging, ignore_errors=True)
            if not target.is_dir():  # not another session that renamed the same upload into place first
                raise RecAttnError(_("the upload could not be saved ({reason}): try again later").format(
                    reason=e.strerror or e)) from e
    return str(target)


# ---------------------------------------------------------------- switching
def preferred_model(source: str) -> str | None:
    """The model a switch to `source` starts with: its first SASRec, else its first model, else None."""
    found = checkpoints(source)
    sasrec = [c.path for c in found if c.kind == "sasrec"]
    return (sasrec or [c.path for c in found] or [None])[0]


def set_source(new_source: str, model_dir: str | None = None) -> list[str]:
    """Switch to another data source; keep the history items that exist there and return the dropped ids.

    `model_dir` sets the checkpoint for the new source; without it the source's preferred model is picked. When it
    has none, the shipped model comes back for the built-in films, and any other source keeps the current folder
    (the pages then say that no model matches and where to train one). Raises RecAttnError, state untouched, when
    the source cannot be loaded or lies outside the allowed roots.
    """
    check_source(new_source)
    items = dataset(new_source).items
    if model_dir is None:
        model_dir = preferred_model(new_source)
    if model_dir is None and new_source == state.DEFAULT_SOURCE:
        model_dir = state.DEFAULT_MODEL_DIR
    known = set(items["item_id"].astype(str))
    ids = state.history()
    state.set_source(new_source, [i for i in ids if i in known], model_dir)
    return [i for i in ids if i not in known]


def switch_source(new_source: str) -> None:
    """The Data page's load actions, as a widget callback (it runs before the page, so the sidebar already shows
    the new data): switch to `new_source` and flash what the history kept and dropped, and the model, or the
    RecAttnError, with everything left as it was."""
    old = state.source()
    before = len(state.history())
    try:
        dropped = set_source(new_source)
    except RecAttnError as e:
        state.flash("error", md(e), "source")
        return
    titles = titles_of(old, dropped)
    parts = [_("Now using **{data}**.").format(data=md(source_label(new_source)))]
    if dropped:
        shown = ", ".join(md(t) for t in titles[:6])
        if len(titles) > 6:
            shown = _("{titles} and {n} more").format(titles=shown, n=len(titles) - 6)
        parts.append(_("Kept {count} of the history; dropped: {titles}.").format(
            count=count_of(before - len(dropped), "{n} item", "{n} items"), titles=shown))
    elif before:
        parts.append(_("Kept all {count} of the history.").format(count=count_of(before, "{n} item", "{n} items")))
    found = {c.path: c for c in checkpoints(new_source)}
    current = state.model_dir()
    parts.append(_("Model: {model} · {score}.").format(model=md(found[current].label), score=md(found[current].score))
                 if current in found else _("No model is trained on this data yet: train one on the Train page."))
    state.flash("warning" if dropped else "info", sentences(*parts), "source")


# ---------------------------------------------------------------- catalogue lookups
NOUNS = {"builtin:films": (N_("film"), N_("films")), "builtin:news": (N_("article"), N_("articles"))}


def nouns(source: str) -> tuple[str, str]:
    """What the source's items are called, singular and plural, in the current language: films, articles, or items
    for real data (Chinese has one form: 电影, 文章, 物品)."""
    one, many = NOUNS.get(source, (N_("item"), N_("items")))
    return _(one), _(many)



@st.cache_data(show_spinner=False)
def _popular_ids(source: str, limit: int) -> list[str]:
    counts = dataset(source).interactions["item_id"].astype(str).value_counts()
    return counts.index[:limit].tolist()


@st.cache_data(show_spinner=False, max_entries=256)
def find_items(source: str, query: str, limit: int = 8) -> pd.DataFrame:
    """Catalogue rows whose title contains `query`; with an empty query, the most watched items. Cached: the
    History page asks again on every rerun, for the same text."""
    query = query.strip()
    if query:
        from recattn.recommend import search_titles  # here: recattn.recommend imports torch (seconds)

        return search_titles(dataset(source).items, query, limit)
    return _by_id(source).loc[_popular_ids(source, limit)].reset_index(drop=True)


@st.cache_resource(show_spinner=False)
def _by_id(source: str) -> pd.DataFrame:
    # The catalogue indexed by id, built once per source (shared: only read, .loc makes new frames).
    items = dataset(source).items
    return items.set_index(items["item_id"].astype(str))


def history_table(source: str, ids: Sequence[str]) -> pd.DataFrame:
    """The history as rows of the catalogue (title, genres, year), in history order; unknown ids are skipped."""
    by_id = _by_id(source)
    return by_id.loc[[i for i in ids if i in by_id.index]].reset_index(drop=True)


@st.cache_data(show_spinner=False)
def presets(source: str) -> list[Preset]:
    """The story presets of a source (`recattn.data.presets`), built from its catalogue once."""
    return story_presets(dataset(source))


@st.cache_resource(show_spinner=False)
def item_options(source: str) -> tuple[list[str], dict[str, str]]:
    """All item ids and an id → title map, for a searchable selectbox. Shared by every session, not copied per
    call (several a rerun): callers only read them."""
    items = dataset(source).items
    ids = items["item_id"].astype(str).tolist()
    return ids, dict(zip(ids, items["title"].astype(str)))


def titles_of(source: str, ids: Sequence[str]) -> list[str]:
    """Titles of `ids` in `source` (the id itself where the source has no such item)."""
    by_id = item_options(source)[1]
    return [by_id.get(i, i) for i in ids]


def load_random_user(max_len: int, where: str = "history") -> None:
    """Replace the history by a real user's history (its last `max_len` items), and flash which user it was (at
    `where`, the flash slot of the page that asked).

    Draws are seeded by a per-session counter: reproducible, yet a new user on each click.
    """
    inter = current().interactions
    draw = st.session_state.get("_random_user_draws", 0)
    st.session_state["_random_user_draws"] = draw + 1
    users = inter["user_id"].unique()
    user = users[np.random.default_rng(draw).integers(len(users))]
    ids = inter.loc[inter["user_id"] == user, "item_id"].astype(str).tolist()[-max_len:]
    state.set_history(ids)
    state.flash("info", _("Loaded the last {count} of user {user}.").format(
        count=count_of(len(ids), "{n} item", "{n} items"), user=md(user)), where)
