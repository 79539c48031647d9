"""A class at once: N browser sessions against one `streamlit run app.py` while one more session trains a SASRec.

    python benchmarks/load.py [--sessions 30]

Each session opens a share link on the Attention page with its own 3-film history, reads its top 10, adds a film
through "Add an item", waits for the new top 10 (that wait is the rerun latency), then checks on Build history that
it sees its own four films and nobody else's. Prints the counts and p50/p95 latencies and writes them to
e2e-artifacts/load.json. tests/test_load.py runs it with assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recattn.data import load  # noqa: E402
from tests.e2e import IDLE, launch, serve  # noqa: E402

ARTIFACTS = ROOT / "e2e-artifacts"
SOURCE = "builtin:films"
TIMEOUT_MS = 120_000  # one wait under load; the whole run is bounded by `deadline_s`
RAMP_S = 0.5  # students arrive a moment apart, not in one instant


@dataclass(frozen=True)
class Plan:
    """One session's script: the 3 ids of its link and the film it adds (id, title)."""

    history: tuple[str, str, str]
    add: tuple[str, str]


@dataclass
class Session:
    """What one session saw and how long it waited."""

    plan: Plan
    load_ms: float = float("nan")  # link opened → top 10 shown and idle
    rerun_ms: float = float("nan")  # option clicked → the new top 10 shown and idle
    top_changed: bool = False
    url_history: str = ""  # the share link in the address bar after the edit
    shown_titles: list[str] = field(default_factory=list)  # Build history's list, in order
    heading: str = ""
    errors: list[str] = field(default_factory=list)  # page errors, exception boxes, failed waits


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
    training: list[str]  # what the training session showed, every couple of seconds


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


async def _idle(page) -> None:
    await page.wait_for_selector(IDLE)
    boxes = page.get_by_test_id("stException")
    if await boxes.count():
        raise AssertionError(f"exception box: {await boxes.first.inner_text()}")


async def _session(browser, url: str, plan: Plan, delay: float) -> Session:
    from playwright.async_api import expect

    out = Session(plan)
    await asyncio.sleep(delay)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda e: out.errors.append(f"page error: {e}"))
        top = page.locator(".st-key-attention_top10")
        start = time.perf_counter()
        # "commit": the app draws itself over its websocket; the waits below are for what it draws.
        await page.goto(f"{url}/attention?source={SOURCE}&history={','.join(plan.history)}", wait_until="commit")
        await expect(page.get_by_role("heading", name="History · 3")).to_be_visible(timeout=TIMEOUT_MS)
        await expect(top.locator("li")).to_have_count(10, timeout=TIMEOUT_MS)
        await _idle(page)
        out.load_ms = (time.perf_counter() - start) * 1000
        before = await top.inner_text()

        added_id, added_title = plan.add
        await page.get_by_test_id("stSelectbox").filter(has_text="Add an item").click()
        await page.keyboard.type(added_title)
        option = page.get_by_role("option", name=added_title, exact=True)
        await option.wait_for()
        start = time.perf_counter()
        await option.click()
        await expect(page.get_by_role("heading", name="History · 4")).to_be_visible(timeout=TIMEOUT_MS)
        await expect(top.locator("li")).to_have_count(10, timeout=TIMEOUT_MS)
        await page.wait_for_function("before => document.querySelector('.st-key-attention_top10')?.innerText "
                                     "!== before", arg=before, timeout=TIMEOUT_MS)
        await _idle(page)
        out.rerun_ms = (time.perf_counter() - start) * 1000
        out.top_changed = True
        out.url_history = parse_qs(urlsplit(page.url).query).get("history", [""])[0]

        # Build history lists the session's films: read the titles of its numbered rows.
        await page.get_by_test_id("stSidebarNav").get_by_role("link", name="Build history").click()
        mine = page.get_by_test_id("stColumn").filter(has=page.get_by_role("heading", name=re.compile("Your history")))
        await expect(mine.get_by_role("heading", name="Your history · 4")).to_be_visible(timeout=TIMEOUT_MS)
        await _idle(page)
        out.heading = await mine.get_by_role("heading", name=re.compile("Your history")).inner_text()
        rows = mine.get_by_test_id("stMarkdownContainer").filter(has_text=re.compile(r"^\s*\d+\.\s"))
        out.shown_titles = [t.strip() for t in await rows.locator("strong").all_inner_texts()]
    except Exception as e:  # a failed wait is an error of this session: report it, let the others finish
        out.errors.append(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    finally:
        await context.close()
    return out


def stage(shown: str) -> float:
    """How far a training run is, from what the Train page shows: 0 before the first epoch, then the epoch, inf
    once it is done."""
    if "Trained " in shown:
        return math.inf
    epoch = re.search(r"Epoch (\d+)/", shown)
    return int(epoch.group(1)) if epoch else 0


async def _trainer(browser, url: str, seen: list[str], done: asyncio.Event, wait_s: float) -> None:
    """One session presses Train on the Train page, then notes what the page shows every 2 s. Once `done` is set it
    stops at the first sign of progress since its first note (a later epoch, or the end), or after `wait_s`."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda e: seen.append(f"page error: {e}"))
        await page.goto(f"{url}/train?source={SOURCE}", wait_until="commit")
        await page.get_by_role("heading", name="Train a model").wait_for()
        await _idle(page)
        await page.get_by_test_id("stFormSubmitButton").get_by_role("button").click()
        status = page.get_by_test_id("stAlertContentSuccess").or_(page.get_by_test_id("stProgress"))
        await status.first.wait_for()
        start, until = time.perf_counter(), math.inf
        while True:
            shown = " | ".join(t.strip() for t in await status.all_inner_texts()) or "(nothing shown)"
            seen.append(f"{time.perf_counter() - start:.0f} s: {shown}")
            if await page.get_by_test_id("stException").count():
                seen.append("exception box: " + await page.get_by_test_id("stException").first.inner_text())
            if done.is_set():
                until = min(until, time.perf_counter() + wait_s)
                if stage(seen[-1]) > stage(seen[0]) or time.perf_counter() > until:
                    return
            await asyncio.sleep(2.0)
    except Exception as e:
        seen.append(f"error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    finally:
        await context.close()


async def drive(url: str, n: int, deadline_s: float = 240.0, train_wait_s: float = 60.0
                ) -> tuple[Report, list[Session]]:
    """Run the trainer and n sessions against the server at `url`; a session not done within `deadline_s` is stopped
    and counted as an error. The trainer then waits up to `train_wait_s` for a sign of progress."""
    from playwright.async_api import async_playwright

    todo = plans(n)
    training: list[str] = []
    async with async_playwright() as p:
        browser = await launch(p)
        try:
            done = asyncio.Event()
            trainer = asyncio.create_task(_trainer(browser, url, training, done, train_wait_s))
            while not training and not trainer.done():  # sessions start once the training is under way
                await asyncio.sleep(0.2)
            start = time.perf_counter()
            runs = [asyncio.create_task(_session(browser, url, plan, i * RAMP_S)) for i, plan in enumerate(todo)]
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
        finally:
            await browser.close()
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
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as runs, serve(ARTIFACTS / "load-server.log", env={"RECATTN_RUNS_DIR": runs}) \
            as url:
        report, sessions = asyncio.run(drive(url, args.sessions))
    write(report, sessions)


if __name__ == "__main__":
    main()
