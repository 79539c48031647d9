"""Share links: the session's source, model and history in the URL (`?source=builtin:films&model=films-sasrec&
history=2,10,11`), and a link opened in a fresh session loading that state once.

Only names the app already knows are followed: a built-in or downloaded source (or the session's own), a model
folder's name among the checkpoints listed for that source, never a path; ids the source lacks are dropped and named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import streamlit as st

from recattn import data
from recattn.errors import RecAttnError
from recattn.i18n import _, count_of, sentences
from ui import sources, state
from ui.text import md

SOURCE, MODEL, HISTORY, LANG = "source", "model", "history", state.LANG
PAGE_PARAMS = ("step", "presenter")  # a page's own (the lesson's step and presenter view), kept on that page
_READ = "_share_link_read"  # set once a session has looked at the link it was opened with


@dataclass(frozen=True)
class Link:
    """What a URL asks for; None where it says nothing."""

    source: str | None = None
    model: str | None = None
    history: tuple[str, ...] | None = None


def parse(params: Mapping[str, str]) -> Link:
    """The link in query parameters (st.query_params.to_dict()): empty values count as absent."""
    def value(name: str) -> str | None:
        text = str(params.get(name) or "").strip()
        return text or None
    ids = value(HISTORY)
    return Link(value(SOURCE), value(MODEL),
                None if ids is None else tuple(i.strip() for i in ids.split(",") if i.strip()))


def query(source: str, model: str | None, history: Sequence[str]) -> dict[str, str]:
    """The query parameters of a link to this state (`model`: a checkpoint folder's name, or None)."""
    params = {SOURCE: source}
    if model:
        params[MODEL] = model
    if history:
        params[HISTORY] = ",".join(history)
    return params


def model_name(source: str, model_dir: str) -> str | None:
    """The folder name of `model_dir` when it is one of `source`'s listed checkpoints, else None."""
    return Path(model_dir).name if model_dir in {c.path for c in sources.checkpoints(source)} else None


def sync(keep_page_params: bool = False) -> None:
    """Put the session's state into the URL (st.query_params): app.py calls it on every run, so the address bar
    always holds a link to what is on screen. `keep_page_params`: the page owns PAGE_PARAMS (the lesson's step)."""
    source = state.source()
    kept = {k: st.query_params[k] for k in PAGE_PARAMS if keep_page_params and k in st.query_params}
    st.query_params.from_dict({**query(source, model_name(source, state.model_dir()), state.history()),
                               LANG: state.language(), **kept})


def link(page: str = "history") -> str:
    """The link to the session's state on `page`: the full address when the browser told it, else path and query."""
    path = f"/{page}?{urlencode(st.query_params.to_dict(), safe=':,/')}"
    url = urlsplit(st.context.url or "")
    base = st.get_option("server.baseUrlPath").strip("/")
    return f"{url.scheme}://{url.netloc}{'/' + base if base else ''}{path}" if url.netloc else path


def open_link() -> None:
    """At a session's first run, load the state its URL carries, once (later edits are never overwritten); what
    was loaded and what was refused is flashed to the history pages."""
    if st.session_state.get(_READ):
        return
    st.session_state[_READ] = True
    link = parse(st.query_params.to_dict())
    if link == Link():
        return
    try:
        notes = _load(link)
    except RecAttnError as e:
        state.flash("error", _("This link could not be opened: {error}").format(error=md(e)), "history")
        return
    loaded = _("Opened a shared link: {count} of **{data}**.").format(
        count=count_of(len(state.history()), "{n} item", "{n} items"), data=md(sources.source_label(state.source())))
    state.flash("warning" if notes else "info", sentences(loaded, *notes), "history")


def _load(link: Link) -> list[str]:
    """Apply a link to the session; return the notes on what it asked for and did not get (markdown)."""
    notes = []
    if link.source and link.source != state.source():
        if link.source in data.BUILTIN or link.source in sources.downloaded_sources():
            sources.set_source(link.source)
        else:
            kept = sources.source_label(state.source())
            notes.append(_("Unknown data source “{source}”: kept {kept}.").format(source=md(link.source),
                                                                                kept=md(kept)))
    source = state.source()
    if link.model:
        named = {}
        for c in sources.checkpoints(source):  # shipped first: the first of a name wins
            named.setdefault(Path(c.path).name, c.path)
        if link.model in named:
            state.set_model_dir(named[link.model])
        else:
            notes.append(_("No model named “{model}” is trained on this data: kept the current one.").format(
                model=md(link.model)))
    if link.history is not None:
        known = set(sources.dataset(source).items["item_id"].astype(str))
        dropped = [i for i in link.history if i not in known]
        state.set_history([i for i in link.history if i in known])
        if dropped:
            notes.append(_("Dropped {count}: {ids}.").format(
                count=count_of(len(dropped), "{n} unknown id", "{n} unknown ids"),
                ids=", ".join(md(i) for i in dropped)))
    return notes
