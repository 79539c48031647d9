"""A minimal client of Streamlit's websocket protocol, the one its browser frontend speaks: open a page with a query
string, set a widget, read what the run drew. Thirty of these cost a few MB and no JavaScript, where thirty browser
contexts take a 2-core machine for themselves; benchmarks/load.py drives a class with them.

What it checks is what the server sent (elements, exception boxes, the query string it set), not how a browser
renders it: tests/test_browser*.py look at the pages themselves.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Block_pb2 import Block
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates

Path = tuple[int, ...]
# how a run can end; FINISHED_EARLY_FOR_RERUN is not an end: another run follows it
_ENDS = {ForwardMsg.FINISHED_SUCCESSFULLY: "finished", ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile error",
         ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment finished"}
_ESCAPED = re.compile(r"\\(.)")


def unescape(markdown: str) -> str:
    """Markdown text with its backslash escapes undone (what ui.text.md added): the text as a reader sees it."""
    return _ESCAPED.sub(r"\1", markdown)


@dataclass
class Drawn:
    """What one run of a page sent: its elements and blocks by delta path, and how it ended."""

    elements: dict[Path, Element] = field(default_factory=dict)
    blocks: dict[Path, Block] = field(default_factory=dict)
    end: str = ""
    page_not_found: bool = False

    def of(self, kind: str) -> list[Element]:
        """The elements of one kind ("markdown", "heading", "selectbox", "exception"...), in the order drawn."""
        return [e for _, e in sorted(self.elements.items()) if e.WhichOneof("type") == kind]

    def headings(self) -> list[str]:
        return [unescape(e.heading.body) for e in self.of("heading")]

    def exceptions(self) -> list[str]:
        """Every exception box, as "Type: message"."""
        return [f"{e.exception.type}: {e.exception.message}" for e in self.of("exception")]

    def errors(self) -> list[str]:
        """Every error box's text."""
        return [e.alert.body for e in self.of("alert") if e.alert.format == e.alert.ERROR]

    def widget_id(self, kind: str, label: str) -> str:
        """The id of the widget of `kind` labelled `label` (KeyError when the run drew none)."""
        for e in self.of(kind):
            widget = getattr(e, kind)
            if widget.label == label:
                return widget.id
        raise KeyError(f"no {kind} labelled {label!r} in this run")

    def under(self, key: str) -> list[Element]:
        """The elements inside the container made with `key=key` (Streamlit ends its block id with the key)."""
        roots = [path for path, block in self.blocks.items() if block.id.endswith(f"-{key}")]
        return [e for path, e in sorted(self.elements.items()) if any(path[:len(r)] == r for r in roots)]


class StreamSession:
    """One visitor: a websocket to `streamlit run`'s /_stcore/stream, used as `async with StreamSession(url) as s`.

    Like the browser, it sends back the query string the server last set (share links live there) and asks for
    pages by their URL path; `run` sends one rerun and returns what it drew once the run has ended."""

    def __init__(self, url: str, timeout_s: float = 120.0):
        parts = urlsplit(url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.stream = f"ws://{parts.netloc}/_stcore/stream"
        self.timeout_s = timeout_s
        self.query = ""
        self.pages: dict[str, str] = {}  # url path → page script hash, from the navigation message
        self.page_hash = ""
        self.fragments: dict[str, float] = {}  # fragments the page reruns on a timer: id → seconds
        self._ws = None

    async def __aenter__(self) -> StreamSession:
        from websockets.asyncio.client import connect

        self._ws = await connect(self.stream, subprotocols=["streamlit"], origin=self.origin, max_size=None,
                                 open_timeout=self.timeout_s)
        return self

    async def __aexit__(self, *exc) -> None:
        await self._ws.close()

    async def run(self, page: str | None = None, query: str | None = None,
                  widgets: tuple[WidgetState, ...] = ()) -> Drawn:
        """One rerun: of `page` (its URL path, e.g. "attention"; None: the page shown now) with `query` (None: the
        one the server last set) and the `widgets` changed since the last run."""
        if query is not None:
            self.query = query
        state = ClientState(query_string=self.query, widget_states=WidgetStates(widgets=widgets))
        if page is not None:
            state.page_name = page
            state.page_script_hash = self.pages.get(page, "")
        else:
            state.page_script_hash = self.page_hash
        self.fragments = {}  # a full run sets its timers anew
        return await self._send(state)

    async def run_fragment(self, fragment_id: str) -> Drawn:
        """Rerun one fragment of the page shown now, as the browser does on its timer (`fragments`)."""
        return await self._send(ClientState(query_string=self.query, page_script_hash=self.page_hash,
                                            fragment_id=fragment_id, is_auto_rerun=True))

    async def _send(self, state: ClientState) -> Drawn:
        await self._ws.send(BackMsg(rerun_script=state).SerializeToString())
        return await asyncio.wait_for(self._read_run(), self.timeout_s)

    async def _read_run(self) -> Drawn:
        drawn = Drawn()
        while True:
            msg = ForwardMsg.FromString(await self._ws.recv())
            kind = msg.WhichOneof("type")
            if kind == "delta":
                path = tuple(msg.metadata.delta_path)
                which = msg.delta.WhichOneof("type")
                if which == "new_element":
                    drawn.elements[path] = msg.delta.new_element
                elif which == "add_block":
                    drawn.blocks[path] = msg.delta.add_block
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "auto_rerun":
                self.fragments[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for fragment_id in msg.stop_auto_rerun.fragment_ids:
                    self.fragments.pop(fragment_id, None)
            elif kind == "page_not_found":
                drawn.page_not_found = True
            elif kind == "script_finished":
                if msg.script_finished in _ENDS:
                    drawn.end = _ENDS[msg.script_finished]
                    return drawn
                drawn = Drawn()  # ended early for a rerun: what counts is the next run
