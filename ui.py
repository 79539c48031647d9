"""The small helper module between the pages and the `recattn` package (pages → ui → recattn).

It owns the session-state contract every page relies on:

- ``st.session_state["source"]``: str, the data source, default ``"builtin:films"``;
- ``st.session_state["history"]``: list[str] of catalogue item ids, oldest first, default ``[]``;
- ``st.session_state["model_dir"]``: str, the checkpoint folder for the current source, default the shipped
  ``assets/models/films-sasrec`` (absolute, resolved next to this file, not against the working directory).

Change them through the functions here (``set_source``, ``add_item``, ...) so the rules stay in one place.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from recattn import checkpoint, data, viz
from recattn.data import Dataset
from recattn.errors import RecAttnError
from recattn.recommend import Recommendation, Recommender, search_titles

ROOT = Path(__file__).resolve().parent
DEFAULT_SOURCE = "builtin:films"
DEFAULT_MODEL_DIR = str(ROOT / "assets" / "models" / "films-sasrec")
FALLBACK_MAX_LEN = 50  # used only when no model can be loaded to tell its own max_len
MODEL_NAMES = {"sasrec": "SASRec", "bert4rec": "BERT4Rec", "gru": "GRU4Rec", "gru4rec": "GRU4Rec"}


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

    `model_dir` sets the checkpoint for the new source; without it the shipped model comes back for the
    built-in films, and any other source keeps the current folder (the Attention page then says the model
    does not match and what to do). Raises RecAttnError, state untouched, when the source cannot be loaded.
    """
    _defaults()
    ds = dataset(new_source)
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
    return data.load(source)


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
        "test": metrics.get("test", {}),
        "protocol": metrics.get("protocol", ""),
    }


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
    return viz.attention_grid(trace.weights, trace.query_labels, trace.key_labels, masked, layers=layers)


def is_causal(model: Recommender) -> bool:
    """Whether the model may only look back (SASRec): then the upper triangle of every map is masked."""
    return bool(getattr(model.model, "causal", False))


def model_label(model: Recommender) -> str:
    """The model's display name, e.g. "SASRec"."""
    kind = str(getattr(model.model.config, "kind", type(model.model).__name__))
    return MODEL_NAMES.get(kind, kind)


def sidebar_status() -> None:
    """A two-line reminder in the sidebar of what is loaded."""
    _defaults()
    n = len(st.session_state["history"])
    try:
        info = model_info(st.session_state["model_dir"])
        model = f"{info['name']} · {info['layers']} layers × {info['heads']} heads"
    except RecAttnError:
        model = "no model loaded"
    st.sidebar.caption(f"**Data** {st.session_state['source']}  \n**Model** {model}  \n"
                       f"**History** {n} film{'s' if n != 1 else ''}")
