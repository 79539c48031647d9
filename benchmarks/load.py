"""A class at once: N sessions against one `streamlit run app.py` while one more session trains a SASRec.

    python benchmarks/load.py [--sessions 30] [--servers 2]

Every session speaks Streamlit's own websocket protocol (benchmarks/stream_client.py), as a browser tab does, without
the browser: it opens a share link on the Attention page with its own 3-film history, reads its top 10, picks a film
in "Add an item", waits for the new top 10 (that wait is the rerun latency), then checks on Build history that it
sees its own four films and nobody else's. The training session presses Train and follows the progress the page
redraws every second. Prints the counts and p50/p95 latencies and writes them to e2e-artifacts/load.json;
tests/test_load.py runs it with assertions. `--servers N` starts N server processes and sends session i to server
i mod N, which is what a reverse proxy with sticky sessions does (each websocket stays with the server it opened on);
the training session uses the first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.stream_client import Drawn, StreamSession, unescape  # noqa: E402
from recattn.data import load  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402
from tests.e2e import serve  # noqa: E402

ARTIFACTS = ROOT / "e2e-artifacts"
SOURCE = "builtin:films"
TIMEOUT_S = 120.0  # one run under load; the whole run is bounded by `deadline_s`
RAMP_S = 0.2  # students arrive a moment apart, not in one instant
_ROW = re.compile(r"^:gray\[(\d+)\.\] \*\*(.*?)\*\*")  # a Build history row: ":gray[1.] **title** ..."
_TOP_ITEM = re.compile(r"^\d+\. \*\*", re.M)  # an item of the top-10 list


@dataclass(frozen=True)
class Plan:
    """One session's script: the 3 ids of its link and the film it adds (id, title)."""

    history: tuple[str, str, str]
    add: tuple[str, str]


@dataclass
class Session:
    """What one session saw and how long it waited."""

    plan: Plan
    load_ms: float = float("nan")  # link opened → its first run over, top 10 drawn
    rerun_ms: float = float("nan")  # film picked → the rerun over, new top 10 drawn
    top_changed: bool = False
    url_history: str = ""  # the share link's history after the edit (the query string the server set)
    shown_titles: list[str] = field(default_factory=list)  # Build history's list, in order
    heading: str = ""
    errors: list[str] = field(default_factory=list)  # exception or error boxes, failed checks, timeouts


@dataclass(frozen=True)
class Report:
    sessions: int
    reruns: int
    rerun_p50_ms: float
    rerun_p95_ms: float
    load_p50_ms: float
    load_p95_ms: float
    errors: int
    wall_s: float
    training: list[str]  # what the training session showed, every second or so


def plans(n: int) -> list[Plan]:
    """n sessions with disjoint histories (and added films) from the catalogue, titles unique in it."""
    items = load(SOURCE).items
    unique = items[~items["title"].duplicated(keep=False)]
    ids, titles = unique["item_id"].astype(str).tolist(), unique["title"].astype(str).tolist()
    if len(ids) < 4 * n:
        raise ValueError(f"the catalogue has titles for {len(ids) // 4} sessions, not {n}")
    step = len(ids) // (4 * n)  # spread over the catalogue
    picks = [(ids[i * step], titles[i * step]) for i in range(4 * n)]
    return [Plan(tuple(p[0] for p in picks[4 * s:4 * s + 3]), picks[4 * s + 3]) for s in range(n)]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) of the measured values, linear between ranks; NaN when there are none."""
    measured = [v for v in values if not math.isnan(v)]
    return float(np.percentile(measured, q)) if measured else float("nan")


def _problems(drawn: Drawn, where: str) -> list[str]:
    """A run's exception and error boxes, and a run that did not finish, as errors of the session."""
    found = [f"{where}: exception box: {e}" for e in drawn.exceptions()]
    found += [f"{where}: error box: {e}" for e in drawn.errors()]
    if drawn.end not in ("finished", "fragment finished"):
        found.append(f"{where}: the run ended with {drawn.end or 'nothing'}")
    return found


def _top10(drawn: Drawn) -> str:
    return "\n".join(e.markdown.body for e in drawn.under("attention_top10") if e.WhichOneof("type") == "markdown")


async def _session(url: str, plan: Plan, delay: float) -> Session:
    out = Session(plan)
    await asyncio.sleep(delay)
    try:
        async with StreamSession(url, TIMEOUT_S) as s:
            start = time.perf_counter()
            first = await s.run("attention", f"source={SOURCE}&history={','.join(plan.history)}")
            out.load_ms = (time.perf_counter() - start) * 1000
            out.errors += _problems(first, "attention")
            before = _top10(first)
            if "History · 3" not in first.headings() or len(_TOP_ITEM.findall(before)) != 10:
                out.errors.append(f"attention: no 3-item history and top 10 in {first.headings()}")

            pick = WidgetState(id=first.widget_id("selectbox", "Add an item"), string_value=plan.add[1])
            start = time.perf_counter()
            second = await s.run(widgets=(pick,))
            out.rerun_ms = (time.perf_counter() - start) * 1000
            out.errors += _problems(second, "attention after the edit")
            after = _top10(second)
            out.top_changed = "History · 4" in second.headings() and len(_TOP_ITEM.findall(after)) == 10 \
                and after != before
            out.url_history = parse_qs(s.query).get("history", [""])[0]

            mine = await s.run("history")
            out.errors += _problems(mine, "history")
            out.heading = next((h for h in mine.headings() if h.startswith("Your history")), "")
            rows = (_ROW.match(e.markdown.body) for e in mine.of("markdown"))
            out.shown_titles = [unescape(row.group(2)) for row in rows if row]
    except Exception as e:  # a failed run or a timeout is an error of this session: report it, let the others finish
        out.errors.append(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    return out


def stage(shown: str) -> float:
    """How far a training run is, from what the Train page shows: 0 before the first epoch, then the epoch, inf
    once it is done."""
    if "Trained " in shown:
        return math.inf
    epoch = re.search(r"Epoch (\d+)/", shown)
    return int(epoch.group(1)) if epoch else 0


def progressed(seen: list[str]) -> bool:
    """Whether the training got further than its first note showed (a later epoch, or done: its success box
    shows once, so any later note counts)."""
    return max(map(stage, seen)) > stage(seen[0])


def _training_status(drawn: Drawn) -> str:
    """What the Train page says of its job: the progress bar's text or the success box."""
    shown = [e.progress.text for e in drawn.of("progress")]
    shown += [e.alert.body for e in drawn.of("alert") if e.alert.format == e.alert.SUCCESS]
    return " | ".join(unescape(t) for t in shown) or "(nothing shown)"


async def _trainer(url: str, seen: list[str], done: asyncio.Event, wait_s: float) -> None:
    """One session presses Train on the Train page, then reruns the progress fragment every second, as the browser
    does, noting what it shows. Once `done` is set it stops as soon as it has seen progress since its first note,
    or after `wait_s`."""
    try:
        async with StreamSession(url, TIMEOUT_S) as s:
            page = await s.run("train", f"source={SOURCE}")
            train = next(e.button.id for e in page.of("button") if e.button.label == "Train")
            drawn = await s.run(widgets=(WidgetState(id=train, trigger_value=True),))
            start, until = time.perf_counter(), math.inf
            while True:
                seen.append(f"{time.perf_counter() - start:.0f} s: {_training_status(drawn)}")
                seen += _problems(drawn, "train")
                if done.is_set():
                    until = min(until, time.perf_counter() + wait_s)
                    if progressed(seen) or time.perf_counter() > until:
                        return
                await asyncio.sleep(1.0)
                fragment = next(iter(s.fragments), None)
                drawn = await (s.run_fragment(fragment) if fragment else s.run())
    except Exception as e:
        seen.append(f"error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")


async def drive(urls: str | list[str], n: int, deadline_s: float = 240.0, train_wait_s: float = 60.0,
                ramp_s: float = RAMP_S) -> tuple[Report, list[Session]]:
    """Run the trainer and n sessions against the server(s) at `urls` (session i on server i mod len(urls), the
    trainer on the first), `ramp_s` apart (0: all at once); a session not done within `deadline_s` is stopped and
    counted as an error. The trainer then waits up to `train_wait_s` for a sign of progress."""
    urls = [urls] if isinstance(urls, str) else list(urls)
    url = urls[0]
    todo = plans(n)
    for other in urls[1:]:  # a server that has run app.py once, as the trainer's does for the first
        async with StreamSession(other, TIMEOUT_S) as s:
            await s.run("", f"source={SOURCE}")
    training: list[str] = []
    done = asyncio.Event()
    trainer = asyncio.create_task(_trainer(url, training, done, train_wait_s))
    while not training and not trainer.done():  # sessions start once the training is under way
        await asyncio.sleep(0.2)
    start = time.perf_counter()
    runs = [asyncio.create_task(_session(urls[i % len(urls)], plan, i * ramp_s)) for i, plan in enumerate(todo)]
    await asyncio.wait(runs, timeout=deadline_s)
    wall = time.perf_counter() - start
    sessions = []
    for task, plan in zip(runs, todo):
        if task.done():
            sessions.append(task.result())
        else:  # past the deadline: an error of its own, the figures of the others still count
            task.cancel()
            sessions.append(Session(plan, errors=[f"not done within {deadline_s:.0f} s"]))
    done.set()
    await asyncio.wait_for(trainer, train_wait_s + 30)
    reruns = [s.rerun_ms for s in sessions if not math.isnan(s.rerun_ms)]
    loads = [s.load_ms for s in sessions if not math.isnan(s.load_ms)]
    report = Report(len(sessions), len(reruns), percentile(reruns, 50), percentile(reruns, 95),
                    percentile(loads, 50), percentile(loads, 95), sum(len(s.errors) for s in sessions),
                    round(wall, 1), training)
    return report, sessions


def write(report: Report, sessions: list[Session], path: Path = ARTIFACTS / "load.json") -> None:
    """Print the figures and save them with every session's details."""
    print(f"load: {report.sessions} sessions, {report.reruns} reruns, rerun p50 {report.rerun_p50_ms:.0f} ms, "
          f"p95 {report.rerun_p95_ms:.0f} ms; page load p50 {report.load_p50_ms:.0f} ms, p95 "
          f"{report.load_p95_ms:.0f} ms; {report.errors} errors; {report.wall_s:.1f} s wall; "
          f"training: {report.training[-1] if report.training else 'nothing shown'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"report": asdict(report), "sessions": [asdict(s) for s in sessions]}, indent=1))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=30)
    p.add_argument("--servers", type=int, default=1, help="server processes, sessions spread over them (sticky)")
    p.add_argument("--ramp-s", type=float, default=RAMP_S, help="seconds between arrivals (0: the whole class at once)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as runs, contextlib.ExitStack() as servers:
        urls = [servers.enter_context(serve(ARTIFACTS / f"load-server{i or ''}.log", env={"RECATTN_RUNS_DIR": runs}))
                for i in range(args.servers)]
        report, sessions = asyncio.run(drive(urls, args.sessions, ramp_s=args.ramp_s))
    name = "load" + (f"-{args.servers}-servers" if args.servers > 1 else "") + ("-burst" if args.ramp_s == 0 else "")
    write(report, sessions, ARTIFACTS / f"{name}.json")


if __name__ == "__main__":
    main()
