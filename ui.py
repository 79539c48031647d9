"""The small helper module between the pages and the `recattn` package (pages → ui → recattn).

It owns the session-state contract every page relies on:

- ``st.session_state["source"]``: str, the data source, default ``"builtin:films"``: ``builtin:NAME``, an absolute
  folder or file path, or ``FORMAT:path`` when the user forced a layout (see ``folder_source``);
- ``st.session_state["history"]``: list[str] of catalogue item ids, oldest first, default ``[]``;
- ``st.session_state["model_dir"]``: str, the checkpoint folder for the current source, default the shipped
  ``assets/models/films-sasrec`` (absolute, resolved next to this file, not against the working directory).

Change them through the functions here (``set_source``, ``add_item``, ...) so the rules stay in one place.

Folders: trained models go to ``runs/`` (``RECATTN_RUNS_DIR`` overrides it), downloaded data sets are read from
``data/`` (``RECATTN_DATA_DIR``), both at the repository root; uploads are written under the system's temp folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from recattn import checkpoint, data, defaults, viz, workflow
from recattn.config import MODEL_KINDS
from recattn.data import Dataset
from recattn.data.info import summarize
from recattn.data.loaders import FORMATS, detect
from recattn.errors import RecAttnError
from recattn.recommend import Recommendation, Recommender, search_titles

ROOT = Path(__file__).resolve().parent
DEFAULT_SOURCE = "builtin:films"
DEFAULT_MODEL_DIR = str(ROOT / "assets" / "models" / "films-sasrec")
FALLBACK_MAX_LEN = 50  # used only when no model can be loaded to tell its own max_len
MODEL_NAMES = {"sasrec": "SASRec", "bert4rec": "BERT4Rec", "gru": "GRU4Rec", "gru4rec": "GRU4Rec",
               "additive": "Additive attention", "pop": "Popularity", "itemknn": "ItemKNN"}
SHIPPED_MODELS = ROOT / "assets" / "models"
UPLOADS = Path(tempfile.gettempdir()) / "recattn-uploads"
PICKER = "model_picker"  # the sidebar's model selectbox
# What the built-in worlds' planted causes mean (recattn.data.builtin and recattn.data.news tell the rules).
CAUSES = {
    "franchise": "the next part of a franchise the user just watched",
    "genre": "a film sharing a genre with one of the last few films",
    "taste": "a pick from the user's long-term favourite genres or topics",
    "popular": "a pick from the global, long-tailed popularity",
    "story": "the next part of a story the reader follows, once it is out",
    "topic": "an article on the topic of one of the last few clicks",
    "recent": "whatever is fresh and popular right now",
}


# ---------------------------------------------------------------- state
def init_state() -> None:
    """Put the defaults of the contract into session_state (existing values are kept).

    app.py and every page call it first (at the top of the script, never from a widget callback), so a page
    also works when opened by its own URL.
    """
    _use_app_navigation()
    _defaults()


def _defaults() -> None:
    st.session_state.setdefault("source", DEFAULT_SOURCE)
    st.session_state.setdefault("history", [])
    st.session_state.setdefault("model_dir", DEFAULT_MODEL_DIR)


def _use_app_navigation() -> None:
    # Streamlit 1.67 decides per process whether the app is an old-style "pages/ folder" app: until some run
    # has called st.navigation, a folder named pages/ next to app.py makes the server run the requested
    # page file by itself, skipping app.py (no page config, no state defaults, every file in pages/ in the
    # sidebar). That happens to the first visitor of a fresh server who opens a page URL directly. Clearing
    # the flag and rerunning makes this very run go through app.py and its st.navigation instead.
    # (AppTest resets the flag before every run, so under AppTest each run starts with this short detour.)
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a later Streamlit without the old mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def history() -> list[str]:
    """The current history (item ids, oldest first)."""
    _defaults()
    return st.session_state["history"]


def _set_history(ids: list[str]) -> None:
    # Always a new list: widgets and caches never see a list that changes under them.
    st.session_state["history"] = list(ids)


def add_item(item_id: str) -> None:
    """Append an item to the history (a film can be watched twice, so repeats are allowed)."""
    _set_history(history() + [str(item_id)])


def remove_at(position: int) -> None:
    """Drop the history entry at `position` (0 = oldest)."""
    ids = history()
    _set_history(ids[:position] + ids[position + 1:])


def move(position: int, step: int) -> None:
    """Move the entry at `position` by `step` places (-1: earlier, +1: later); no-op at the ends."""
    ids = history()
    target = position + step
    if 0 <= position < len(ids) and 0 <= target < len(ids):
        ids = list(ids)
        ids[position], ids[target] = ids[target], ids[position]
        _set_history(ids)


def clear_history() -> None:
    """Empty the history."""
    _set_history([])


def quick_add(widget_key: str) -> None:
    """on_change callback of an "add a film" selectbox: add the picked id and reset the box for the next one."""
    item_id = st.session_state.get(widget_key)
    if item_id is not None:
        add_item(item_id)
        st.session_state[widget_key] = None


def set_source(new_source: str, model_dir: str | None = None) -> list[str]:
    """Switch to another data source; keep the history items that exist there and return the dropped ids.

    `model_dir` sets the checkpoint for the new source; without it the first model trained on the new source
    is picked (a SASRec if there is one, see `available_models`). When there is none, the shipped model comes
    back for the built-in films, and any other source keeps the current folder (the pages then say that no model
    matches and where to train one). Raises RecAttnError, state untouched, when the source cannot be loaded.
    """
    _defaults()
    ds = dataset(new_source)
    if model_dir is None:
        model_dir = _preferred_model(new_source)
    known = set(ds.items["item_id"].astype(str))
    kept = [i for i in st.session_state["history"] if i in known]
    dropped = [i for i in st.session_state["history"] if i not in known]
    st.session_state["source"] = new_source
    _set_history(kept)
    if model_dir is not None:
        st.session_state["model_dir"] = str(model_dir)
    elif new_source == DEFAULT_SOURCE:
        st.session_state["model_dir"] = DEFAULT_MODEL_DIR
    return dropped


def show_error(e: Exception) -> None:
    """Show a RecAttnError (something the user can fix) as an error box; session state is left as it was."""
    if not isinstance(e, RecAttnError):
        raise e
    st.error(str(e), icon=":material/error:")


# ---------------------------------------------------------------- data and model
@st.cache_resource(show_spinner="Loading the catalogue…")
def dataset(source: str) -> Dataset:
    """The loaded source (catalogue + interactions), shared by all sessions."""
    return data.load(*_path_and_format(source))


def _path_and_format(source: str) -> tuple[str, str | None]:
    fmt, sep, path = source.partition(":")
    return (path, fmt) if sep and fmt in FORMATS else (source, None)


def _checkpoint_key(model_dir: str) -> tuple[str, str, int]:
    """What identifies a checkpoint's content: its folder, catalogue fingerprint and weights file version."""
    path = Path(model_dir).resolve()
    config = checkpoint.read_config(path)  # RecAttnError when the folder is not a checkpoint
    weights = (path / checkpoint.WEIGHTS).stat()
    # The fingerprint tells the catalogue; mtime and size tell a retrain into the same folder.
    return str(path), str(config.get("catalogue_fingerprint", "")), weights.st_mtime_ns ^ weights.st_size


def recommender(model_dir: str, source: str) -> Recommender:
    """The model in `model_dir` paired with `source`'s catalogue (RecAttnError if they do not belong together)."""
    path, fingerprint, version = _checkpoint_key(model_dir)
    return _recommender(path, source, fingerprint, version)


@st.cache_resource(show_spinner="Loading the model…")
def _recommender(path: str, source: str, fingerprint: str, version: int) -> Recommender:
    # fingerprint and version are only part of the cache key.
    return Recommender.from_checkpoint(path, dataset(source))


def current_recommender() -> Recommender:
    """The recommender for the session's source and model folder."""
    _defaults()
    return recommender(st.session_state["model_dir"], st.session_state["source"])


def model_info(model_dir: str) -> dict:
    """What the home page tells about a checkpoint: source, model kind and size, test metrics (metrics.json)."""
    return _model_info(*_checkpoint_key(model_dir))


@st.cache_data(show_spinner=False)
def _model_info(model_dir: str, fingerprint: str, version: int) -> dict:
    path = Path(model_dir)
    config = checkpoint.read_config(path)
    metrics_file = path / checkpoint.METRICS
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
    model = config.get("model", {})
    kind = str(model.get("kind", "?"))
    return {
        "source": config.get("source", "?"),
        "kind": kind,
        "name": MODEL_NAMES.get(kind, kind),
        "layers": model.get("layers"),
        "heads": model.get("heads"),
        "max_len": model.get("max_len"),
        "hidden": model.get("hidden"),
        "shape": _shape(kind, model),
        "test": metrics.get("test", {}),
        "protocol": metrics.get("protocol", ""),
    }


def _shape(kind: str, model: dict) -> str:
    """One line on how a model reads a history (every config carries layers and heads; only Transformers use them)."""
    if kind == "pop":
        return "ranks items by popularity, whatever the history"
    if kind == "itemknn":
        return "suggests what followed the last few items in other histories"
    reads = f"reads the last {model.get('max_len')} items"
    return f"{model.get('layers')} layers × {model.get('heads')} heads · {reads}" if kind in ("sasrec", "bert4rec") \
        else reads


@st.cache_data(show_spinner=False)
def dataset_summary(source: str) -> dict:
    """Counts for the home page: items, users, interactions."""
    ds = dataset(source)
    return {"items": len(ds.items), "users": int(ds.interactions["user_id"].nunique()),
            "interactions": len(ds.interactions)}


@st.cache_data(show_spinner=False)
def _popular_ids(source: str, limit: int) -> list[str]:
    counts = dataset(source).interactions["item_id"].astype(str).value_counts()
    return counts.index[:limit].tolist()


def find_items(source: str, query: str, limit: int = 8) -> pd.DataFrame:
    """Catalogue rows whose title contains `query`; with an empty query, the most watched items."""
    items = dataset(source).items
    query = query.strip()
    if query:
        return search_titles(items, query, limit)
    top = _popular_ids(source, limit)
    return items.set_index(items["item_id"].astype(str)).loc[top].reset_index(drop=True)


def history_table(source: str, ids: list[str]) -> pd.DataFrame:
    """The history as rows of the catalogue (title, genres, year), in history order; unknown ids are skipped."""
    items = dataset(source).items
    by_id = items.set_index(items["item_id"].astype(str))
    return by_id.loc[[i for i in ids if i in by_id.index]].reset_index(drop=True)


def describe(row: pd.Series) -> str:
    """"Genre · genre · year" for one catalogue row (missing parts left out)."""
    genres = str(row.get("genres") or "").replace("|", " · ")
    year = row.get("year")
    year = "" if year is None or pd.isna(year) else str(int(year))
    return " — ".join(p for p in (genres, year) if p)


def md(text: str) -> str:
    """`text` safe inside st.markdown: titles like "*batteries not included" or "$9.99" stay literal."""
    return "".join("\\" + c if c in "\\`*_[]<>#|$~:" else c for c in str(text))


def load_random_user(max_len: int | None = None) -> str:
    """Replace the history by a real user's history (its last `max_len` items); returns the user id.

    Draws are seeded by a per-session counter: reproducible, yet a new user on each click.
    """
    _defaults()
    ds = dataset(st.session_state["source"])
    if max_len is None:
        try:
            max_len = current_recommender().model.config.max_len
        except RecAttnError:
            max_len = FALLBACK_MAX_LEN
    draw = st.session_state.get("_random_user_draws", 0)
    st.session_state["_random_user_draws"] = draw + 1
    users = ds.interactions["user_id"].unique()
    user = users[np.random.default_rng(draw).integers(len(users))]
    ids = ds.interactions.loc[ds.interactions["user_id"] == user, "item_id"].astype(str).tolist()
    _set_history(ids[-max_len:])
    st.session_state["_history_note"] = f"Loaded the last {len(ids[-max_len:])} films of user {user}."
    return str(user)


def item_options(source: str) -> tuple[list[str], dict[str, str]]:
    """All item ids and an id → title map, for a searchable selectbox."""
    items = dataset(source).items
    ids = items["item_id"].astype(str).tolist()
    return ids, dict(zip(ids, items["title"].astype(str)))


# ---------------------------------------------------------------- recommendation views
def top_table(rec: Recommendation) -> pd.DataFrame:
    """The recommendations as a table: rank, title, genres, score."""
    return pd.DataFrame({
        "Rank": range(1, len(rec.items) + 1),
        "Title": [r.title for r in rec.items],
        "Genres": [r.genres.replace("|", " · ") for r in rec.items],
        "Score": [r.score for r in rec.items],
    })


def attention_figure(rec: Recommendation, model: Recommender, layers: list[int] | None = None) -> go.Figure:
    """The layer × head heatmap grid of a recommendation, with the cells the model could not see left blank."""
    trace = rec.trace
    n_q, n_k = trace.weights.shape[-2:]
    masked = viz.causal_mask(n_q, n_k) if is_causal(model) else None
    return viz.attention_grid(trace.weights, trace.query_labels, trace.key_labels, masked, layers=layers,
                              highlight_last_row=not is_target_attention(model))


def is_target_attention(model: Recommender) -> bool:
    """Whether the maps are candidates × history (additive target attention) rather than history × history."""
    return hasattr(model.model, "target_rows")


def is_causal(model: Recommender) -> bool:
    """Whether the model may only look back (SASRec): then the upper triangle of every map is masked."""
    return bool(getattr(model.model, "causal", False))


def model_label(model: Recommender) -> str:
    """The model's display name, e.g. "SASRec"."""
    kind = str(getattr(model.model.config, "kind", type(model.model).__name__))
    return MODEL_NAMES.get(kind, kind)


def sidebar_status() -> None:
    """A reminder in the sidebar of what is loaded, and the model picker."""
    _defaults()
    n = len(st.session_state["history"])
    st.sidebar.caption(f"**Data** {md(source_label(st.session_state['source']))}  \n"
                       f"**History** {n} item{'s' if n != 1 else ''}")
    model_picker()


# ---------------------------------------------------------------- sources (the Data page)
def runs_dir() -> Path:
    """Where the app saves the models it trains: runs/ at the repository root, or $RECATTN_RUNS_DIR."""
    return Path(os.environ.get("RECATTN_RUNS_DIR") or ROOT / "runs").resolve()


def data_dir() -> Path:
    """Where `python -m recattn data download` puts data sets: data/ at the repository root, or $RECATTN_DATA_DIR."""
    return Path(os.environ.get("RECATTN_DATA_DIR") or ROOT / "data").resolve()


def folder_source(path: str, format: str | None = None) -> str:
    """The source for a folder or file the user typed: absolute (a relative path starts at the repository root,
    not at wherever the server was started), prefixed with ``FORMAT:`` when a layout is forced."""
    resolved = str((ROOT / Path(path.strip()).expanduser()).resolve())
    return f"{format}:{resolved}" if format else resolved


def source_kind(source: str) -> str:
    """Which of the Data page's choices a source came from: a built-in name, "downloaded", "upload" or "folder"."""
    if source in data.BUILTIN:
        return source
    path = Path(_path_and_format(source)[0])
    if path.parent == data_dir():
        return "downloaded"
    return "upload" if path.parent == UPLOADS else "folder"


def source_label(source: str) -> str:
    """A short name for a source: the built-in name, or the folder's (file's) name and a forced format."""
    if source in data.BUILTIN:
        return source
    path, fmt = _path_and_format(source)
    return Path(path).name + (f" ({fmt})" if fmt else "")


def downloaded_sources() -> list[str]:
    """The folders in the data folder whose files form a known layout (detected from the file names only)."""
    found = []
    for folder in sorted(data_dir().glob("*/")):
        try:
            detect(folder)
        except RecAttnError:
            continue
        found.append(str(folder))
    return found


def save_uploads(files: Sequence) -> str:
    """Write uploaded files (Streamlit's UploadedFile: .name, .getvalue()) into a folder of their own, keeping their
    names, and return that folder as a source.

    The folder is named after a hash of the names and contents, so uploading the same files again reuses it and
    its cached load. Files are written to a temporary folder first and renamed into place: a half-written upload
    is never a source.
    """
    named = sorted((Path(f.name).name, f.getvalue()) for f in files)
    if not named:
        raise RecAttnError("no files uploaded: drop the data files on the uploader first")
    digest = hashlib.sha256()
    for name, content in named:
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    target = UPLOADS / f"upload-{digest.hexdigest()[:12]}"
    if not target.is_dir():
        UPLOADS.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".part-", dir=UPLOADS))
        for name, content in named:
            (staging / name).write_bytes(content)
        try:
            staging.rename(target)
        except OSError:  # another session renamed the same upload into place first
            shutil.rmtree(staging, ignore_errors=True)
    return str(target)


def switch_source(new_source: str) -> None:
    """The Data page's load actions, as a widget callback (it runs before the page, so the sidebar already shows
    the new data): switch to `new_source` and leave a note for the page (`pop_source_note`): what the history kept
    and dropped, and the model, or the RecAttnError, with everything left as it was."""
    old = st.session_state["source"]
    kept_before = len(history())
    try:
        dropped = set_source(new_source)
    except RecAttnError as e:
        st.session_state["_source_note"] = ("error", str(e))
        return
    st.session_state["_source_note"] = _switch_note(old, new_source, kept_before - len(dropped), dropped)


def _switch_note(old: str, new: str, kept: int, dropped: list[str]) -> tuple[str, str]:
    titles = _titles(old, dropped)
    parts = [f"Now using **{md(source_label(new))}**."]
    if dropped:
        shown = ", ".join(md(t) for t in titles[:6]) + (f" and {len(titles) - 6} more" if len(titles) > 6 else "")
        parts.append(f"Kept {kept} item{'s' if kept != 1 else ''} of the history; dropped: {shown}.")
    elif kept:
        parts.append(f"Kept all {kept} items of the history.")
    models = {path: label for label, path in available_models(new)}
    model_dir = st.session_state["model_dir"]
    parts.append(f"Model: {models[model_dir]}." if model_dir in models
                 else "No model is trained on this data yet: train one below.")
    return ("warning" if dropped else "info"), " ".join(parts)


def _titles(source: str, ids: list[str]) -> list[str]:
    """Titles of `ids` in `source` (the id itself where the source has no such item)."""
    items = dataset(source).items
    by_id = dict(zip(items["item_id"].astype(str), items["title"].astype(str)))
    return [by_id.get(i, i) for i in ids]


def pop_source_note() -> tuple[str, str] | None:
    """The (level, text) note the last `switch_source` left, once; level is "info", "warning" (items dropped) or
    "error" (the text is the error's message, plain text)."""
    return st.session_state.pop("_source_note", None)


@st.cache_data(show_spinner="Counting…")
def data_profile(source: str) -> dict:
    """What the Data page shows about a source: `recattn.data.info.summarize`'s counts plus the catalogue size and
    density, and the tables behind its charts (history lengths, item counts, genres, planted causes)."""
    ds = dataset(source)
    inter, items = ds.interactions, ds.items
    summary = summarize(ds)
    counts = inter["item_id"].astype(str).value_counts()
    title = dict(zip(items["item_id"].astype(str), items["title"].astype(str)))
    genres = pd.DataFrame({"item_id": items["item_id"].astype(str),
                           "genre": items["genres"].fillna("").astype(str).str.split("|")}).explode("genre")
    genres["genre"] = genres["genre"].str.strip()
    genres = genres[genres["genre"] != ""]  # items without genres (a CSV without items.csv has none at all)
    genres["interactions"] = genres["item_id"].map(counts).fillna(0).astype(int)
    head = max(1, len(counts) // 10)
    return {
        **summary,
        "catalogue": len(items),
        "density": summary["interactions"] / max(summary["users"] * summary["items"], 1),
        "top_decile_share": float(counts.iloc[:head].sum() / max(len(inter), 1)),
        "lengths": inter.groupby("user_id", sort=False).size().to_numpy(),
        "popular_titles": [title.get(i, i) for i in counts.index],
        "popular_counts": counts.to_numpy(),
        "genres": genres.groupby("genre", as_index=False).agg(interactions=("interactions", "sum"),
                                                              items=("item_id", "nunique")),
        "causes": inter["cause"].value_counts().to_dict() if "cause" in inter else {},
    }


# ---------------------------------------------------------------- models
@st.cache_data(show_spinner=False)
def _fingerprint(source: str) -> str:
    return dataset(source).fingerprint


class _Model(NamedTuple):
    """A checkpoint found for a source: its folder, kind and the three parts of its label."""

    path: str
    kind: str
    name: str  # "SASRec"
    origin: str  # "shipped", or when the app trained it: "27 Nov 14:02"
    score: str  # "test NDCG@10 0.303"

    @property
    def label(self) -> str:
        return f"{self.name} · {self.origin} · {self.score}"


def available_models(source: str) -> list[tuple[str, str]]:
    """(label, folder) of every checkpoint trained on `source`'s catalogue: the shipped ones in assets/models/ (in
    MODEL_KINDS order, SASRec first), then the app's runs (newest first). Labels read like
    "SASRec · shipped · test NDCG@10 0.303". Only config.json and metrics.json are read, never the weights."""
    return [(m.label, m.path) for m in _models(source)]


def _models(source: str) -> list[_Model]:
    """The checkpoints for `source`, in `available_models`' order."""
    fingerprint = _fingerprint(source)
    found = []
    for shipped, folder in ((True, SHIPPED_MODELS), (False, runs_dir())):
        for config_file in folder.glob("*/config.json"):
            path = config_file.parent
            if path.name.startswith("."):  # a checkpoint being written (checkpoint.save's staging folders)
                continue
            try:
                config = checkpoint.read_config(path)
            except RecAttnError:
                continue
            if config.get("catalogue_fingerprint") != fingerprint:
                continue
            kind = str(config.get("model", {}).get("kind", "?"))
            rank = MODEL_KINDS.index(kind) if kind in MODEL_KINDS else len(MODEL_KINDS)
            order = (0, rank, path.name) if shipped else (1, -config_file.stat().st_mtime, path.name)
            origin = "shipped" if shipped else f"{datetime.fromtimestamp(path.stat().st_mtime):%d %b %H:%M}"
            found.append((order, _Model(str(path), kind, MODEL_NAMES.get(kind, kind), origin, _score(path))))
    return [model for _, model in sorted(found)]


def _score(path: Path) -> str:
    try:
        test = json.loads((path / checkpoint.METRICS).read_text()).get("test", {})
    except (OSError, ValueError):  # no metrics.json, or a damaged one: list the model all the same
        test = {}
    return f"test NDCG@10 {test['ndcg@10']:.3f}" if "ndcg@10" in test else "not evaluated"


def _preferred_model(source: str) -> str | None:
    """The model a switch to `source` starts with: its first SASRec, else its first model, else None."""
    models = _models(source)
    sasrec = [m.path for m in models if m.kind == "sasrec"]
    return (sasrec or [m.path for m in models] or [None])[0]


def model_picker() -> None:
    """The sidebar's model select: the models trained on the current data; picking one sets model_dir.

    The select shows name and origin (the sidebar is narrow), the caption under it the test score and shape."""
    try:
        models = {m.path: m for m in _models(st.session_state["source"])}
    except RecAttnError:  # the data cannot be loaded: the page says why
        return
    if not models:
        st.sidebar.caption("**Model** none trained on this data yet: train one on the Data page")
        return
    current = str(st.session_state["model_dir"])
    # Set before the widget exists: the select follows model_dir when a page or a switch changed it.
    st.session_state[PICKER] = current if current in models else None
    st.sidebar.selectbox("Model", list(models), key=PICKER, on_change=_picked,
                         format_func=lambda path: f"{models[path].name} · {models[path].origin}",
                         placeholder="Pick a model for this data",
                         help="The models trained on this data: the shipped ones, then those trained here (runs/).")
    if current in models:
        st.sidebar.caption(f"{models[current].score} · {model_info(current)['shape']}")


def _picked() -> None:
    if st.session_state.get(PICKER):
        st.session_state["model_dir"] = st.session_state[PICKER]


# ---------------------------------------------------------------- training (the Data page)
COUNTED = ("pop", "itemknn")  # kinds that count in one pass: no epochs


def train_model(kind: str, epochs: int, max_minutes: float,
                on_epoch_end: Callable[[object], bool | None] | None = None) -> None:
    """Train `kind` with its default settings on the current data into runs/<source>-<kind>-<time>/, make it the
    session's model, keep the result for the next run (`pop_training_result`) and rerun, so that the sidebar
    lists the new model. on_epoch_end gets recattn.train.EpochReport. RecAttnError: nothing changed."""
    source = st.session_state["source"]
    slug = re.sub(r"[^a-z0-9]+", "-", source_label(source).removeprefix("builtin:").lower()).strip("-") or "data"
    out = runs_dir() / f"{slug}-{kind}-{datetime.now():%Y%m%d-%H%M%S}"
    data = dataset(source)
    result, metrics = workflow.train_and_save(
        data, defaults.model_config(kind),
        defaults.train_config(kind, n_items=len(data.items), epochs=int(epochs), max_minutes=float(max_minutes)),
        out, on_epoch_end)
    st.session_state["model_dir"] = str(out)
    st.session_state["_trained"] = {
        "name": MODEL_NAMES.get(kind, kind), "folder": str(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out),
        "test": metrics["test"], "seconds": result.seconds, "epochs": len(result.history),
        "best_epoch": result.best_epoch}
    st.rerun()


def pop_training_result() -> dict | None:
    """What the last `train_model` left, once: name, folder (relative to the repository root when inside it), test
    metrics, seconds, epochs run, best epoch."""
    return st.session_state.pop("_trained", None)
