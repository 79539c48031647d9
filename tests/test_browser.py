"""End to end in a real browser: `streamlit run app.py` driven by Playwright with Debian's chromium.

Writes screenshots to e2e-artifacts/ (git-ignored) and the README's assets/screenshot-attention.png.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "e2e-artifacts"
SCREENSHOT = ROOT / "assets" / "screenshot-attention.png"
# CHROMIUM_PATH overrides the lookup (e.g. to check that CI=true fails when the browser is missing).
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI", "").lower() == "true":
        # In CI a missing browser is a broken setup, not a reason to skip the end-to-end test.
        pytest.fail(f"Debian chromium not found at {CHROMIUM} (CI=true): apt-get install -y chromium",
                    pytrace=False)
    pytest.skip("Debian chromium not installed (apt-get install -y chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=30_000)  # the first page that imports torch and loads the catalogue takes seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    """One `streamlit run app.py` for the session, offline, on a free port; its log goes to e2e-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(ARTIFACTS / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{(ARTIFACTS / 'server.log').read_text()}")
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after 60 s:\n{(ARTIFACTS / 'server.log').read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def wait_idle(page: Page) -> None:
    page.wait_for_selector(IDLE)
    assert not page.get_by_test_id("stException").count(), page.get_by_test_id("stException").first.inner_text()


def screenshot(page: Page, *paths: Path) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside stMain, so grow the viewport to its height."""
    page.mouse.move(0, 0)  # no tooltip or hover label in the picture
    h = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": max(900, min(h, 4000))})
    page.wait_for_timeout(300)  # let plotly re-layout to the new size
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


def nav(page: Page, name: str) -> None:
    """Move through the sidebar (page.goto would start a new session and lose the history)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()


def heatmap_state(page: Page) -> tuple[int, list[str], str]:
    """What the attention page shows: heatmap panels drawn, the y tick labels of the first panel, the #1 film."""
    chart = page.get_by_test_id("stPlotlyChart")
    chart.locator(".main-svg").first.wait_for()
    panels = chart.locator("g.hm").count()  # plotly draws one g.hm per heatmap trace
    ticks = chart.locator("g.yaxislayer-above").first.locator("g.ytick text").all_inner_texts()
    return panels, ticks, page.locator(".st-key-attention_top10").inner_text()


def add_film(page: Page, text: str, pick: int = 0) -> None:
    """Type into the Attention page's "Add a film" box and pick the `pick`-th matching title."""
    page.get_by_test_id("stSelectbox").filter(has_text="Add an item").click()
    page.keyboard.type(text)
    page.get_by_role("option").nth(pick).click()


# The navigation's page titles, in app.py's order.
NAV = ["Home", "Build history", "Attention", "Data", "Train"]


def test_history_to_attention_updates_on_every_change(server, page):
    page.goto(server + "/history")
    page.get_by_test_id("stApp").wait_for()
    expect(page.get_by_role("heading", name="Build a history")).to_be_visible()
    wait_idle(page)
    # Only the pages app.py lists are in the navigation (pages/ is not auto-discovered).
    links = page.get_by_test_id("stSidebarNav").get_by_role("link").all_inner_texts()
    # (Each link's text starts with its material icon's name.) Covers a fresh server opened on a page URL.
    assert [" ".join(t.split()[1:]) for t in links] == NAV

    # Search a title and add the first hit through its + button.
    search = page.get_by_role("textbox", name="Search titles")
    search.fill("Storm")
    search.press("Enter")
    expect(page.get_by_text("Matches for “Storm”")).to_be_visible()
    wait_idle(page)
    first_hit = page.locator("[class*='st-key-history_add_']").first
    first_hit.get_by_role("button").click()
    expect(page.get_by_role("heading", name="Your history · 1")).to_be_visible()
    wait_idle(page)
    screenshot(page, ARTIFACTS / "history.png")

    nav(page, "Attention")
    expect(page.get_by_role("heading", name="What the model looks at")).to_be_visible()
    page.get_by_test_id("stPlotlyChart").locator(".main-svg").first.wait_for()
    expect(page.locator(".st-key-attention_top10 li")).to_have_count(10)
    wait_idle(page)
    panels, ticks, top_before = heatmap_state(page)
    assert panels == 4  # 2 layers × 2 heads
    assert len(ticks) == 1
    screenshot(page, ARTIFACTS / "attention-1.png")

    # Add a second film from the attention page itself; list and heatmaps follow.
    add_film(page, "Avalon")
    expect(page.get_by_role("heading", name="History · 2")).to_be_visible()
    wait_idle(page)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] g.yaxislayer-above')[0]"
        "?.querySelectorAll('g.ytick').length === 2")
    panels2, ticks2, top_after = heatmap_state(page)
    assert panels2 == 4 and len(ticks2) == 2 and ticks2[0] == ticks[0]
    assert top_after != top_before

    # Hover the last row's first cell: the exact weight with 4 decimals and both titles.
    chart = page.get_by_test_id("stPlotlyChart")
    cell = chart.locator("g.hm").first
    cell.scroll_into_view_if_needed()
    box = cell.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.75, steps=5)
    hover = chart.locator("g.hovertext").first
    hover.wait_for()
    text = hover.text_content()
    assert "weight:" in text and "query (row): 2." in text and "key (column): 1." in text
    assert __import__("re").search(r"weight: \d\.\d{4}", text), text
    page.mouse.move(0, 0)
    screenshot(page, ARTIFACTS / "attention-2.png")

    # For the README: three parts of one franchise after the two films, so the picture has a story
    # (later parts look back at earlier ones).
    for n in range(3, 6):
        add_film(page, "Calder: Distant Garden", pick=n - 3)
        expect(page.get_by_role("heading", name=f"History · {n}")).to_be_visible()
    wait_idle(page)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=\"stPlotlyChart\"] g.yaxislayer-above')[0]"
        "?.querySelectorAll('g.ytick').length === 5")
    screenshot(page, ARTIFACTS / "attention-3.png", SCREENSHOT)


def test_data_page_draws_its_charts(server, page):
    page.goto(server)
    expect(page.get_by_role("heading", name="What is loaded")).to_be_visible()
    nav(page, "Data")
    expect(page.get_by_role("heading", name="builtin:films")).to_be_visible()
    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts).to_have_count(4)  # history lengths, long tail, genres, planted causes
    for i in range(4):
        charts.nth(i).locator("canvas, svg").first.wait_for()
    wait_idle(page)
    expect(page.get_by_test_id("stMetric")).to_have_count(8)
    screenshot(page, ARTIFACTS / "data-films.png")
