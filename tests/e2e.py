"""Driving the app in a real browser: `streamlit run app.py` on a free loopback port, Debian's chromium through
Playwright, and the waits and screenshots that work with Streamlit. Shared by tests/test_browser.py and
scripts/screenshots.py."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# CHROMIUM_PATH overrides the lookup (e.g. to check that CI=true fails when the browser is missing).
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
WIDE, NARROW = 1280, 420


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(log_path: Path, env: dict[str, str] | None = None, timeout: float = 60.0) -> Iterator[str]:
    """`streamlit run app.py`, offline, on a free loopback port, until the block ends; yields its URL.
    RuntimeError, with the server's log, when it exits or is not healthy within `timeout` seconds."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log_path.read_text()}")
                try:
                    if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit not healthy after {timeout:.0f} s:\n{log_path.read_text()}")
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def launch(playwright):
    """Debian's chromium, headless, with nothing that reaches the network."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_idle(page) -> None:
    """Wait until the script run is over; fail on an exception box."""
    page.wait_for_selector(IDLE)
    assert not page.get_by_test_id("stException").count(), page.get_by_test_id("stException").first.inner_text()


def sidebar_open(page) -> bool:
    """Whether the sidebar is on screen (a collapsed one is moved off it)."""
    box = page.get_by_test_id("stSidebar").bounding_box()
    return box is not None and box["x"] >= 0 and box["width"] > 0


def nav(page, name: str) -> None:
    """Move through the sidebar (page.goto would start a new session and lose the history). At a narrow width the
    sidebar is collapsed: open it first."""
    if not sidebar_open(page):
        page.get_by_test_id("stExpandSidebarButton").click()
        page.wait_for_timeout(500)  # the slide-in animation
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()


def screenshot(page, *paths: Path, width: int = WIDE) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside stMain, so grow the viewport to its height."""
    page.set_viewport_size({"width": width, "height": 900})
    if width <= NARROW and sidebar_open(page):  # on a phone the open sidebar covers the page
        page.get_by_test_id("stSidebar").hover()
        page.get_by_test_id("stSidebarCollapseButton").click()
        page.wait_for_timeout(500)
    page.mouse.move(0, 0)  # no tooltip or hover label in the picture
    page.wait_for_timeout(300)
    h = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": width, "height": max(900, min(h, 6000))})
    page.wait_for_timeout(500)  # let plotly re-layout to the new size
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": width, "height": 900})
