"""Hostile text in a real browser: a data set whose titles and genres are HTML, markdown, LaTeX and script is
uploaded through the Data page, a SASRec with a 5-item window is trained on it, a 6-item history is built from the
hostile items, and every page of the navigation is visited. No script runs (no dialog, `alert` never called, no
`<img src=x>` or `<script>` from the data in the DOM, no page error), the titles are shown as typed wherever items
are listed, and the pages that read the history say that the model reads only its last 5 items.

Screenshots of every page go to e2e-artifacts/hostile/ (git-ignored).
"""

from __future__ import annotations

import csv
import os
import re

import pytest

from tests.e2e import CHROMIUM, ROOT, launch, nav, screenshot, serve, wait_idle

pytestmark = pytest.mark.browser

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Debian chromium not found at {CHROMIUM} (CI=true): apt-get install -y chromium", pytrace=False)
    pytest.skip("Debian chromium not installed (apt-get install -y chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=30_000)
ARTIFACTS = ROOT / "e2e-artifacts" / "hostile"

# Each is a title and the genre of the same item; ids h1…h6, in this order in the history.
HOSTILE = ("<img src=x onerror=alert(1)>", "**[x](javascript:alert(1))**", "<b>bold</b>", "$x$", ":red[x]",
           "<script>alert(1)</script>")
IDS = [f"h{i}" for i in range(1, len(HOSTILE) + 1)]
HOSTILE_ID = '"><img src=x onerror=alert(2)>'  # an id is user text too (widget keys, share links)
WINDOW = 5  # the trained model's max length: shorter than the history, so every page must say it cuts
# Short enough to survive every page's label shortening (Learn cuts at 22 characters), so visible in full.
SHORT = ("<b>bold</b>", "$x$", ":red[x]")
RECORDER = """
window.__calls = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = (...args) => { window.__calls.push(name + ":" + args.join(",")); };
}
"""
# Script elements whose code or source comes from the data (Streamlit's own bundles have neither).
INJECTED = """() => [...document.querySelectorAll("script")].filter(
  s => s.textContent.includes("alert(") || (s.src && !s.src.startsWith(location.origin))).length"""


def write_data(folder) -> list:
    """interactions.csv and items.csv (plain layout): the hostile items are the most popular, a few filler films
    give the model something to rank. 60 users with 8 interactions each."""
    items = [(i, t, t) for i, t in zip(IDS, HOSTILE)] + [(f"f{j}", f"Filler film {j}", "Drama|Comedy")
                                                         for j in range(1, 25)]
    items.append((HOSTILE_ID, "Film with a hostile id", "Drama"))  # the most popular: listed on Build history
    with open(folder / "items.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", "genres"])
        w.writerows(items)
    with open(folder / "interactions.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user", "item", "timestamp"])
        for user in range(60):
            picks = IDS[user % 6:] + IDS[:user % 6]  # every user sees hostile items, in shifting orders
            picks = picks[:4] + [HOSTILE_ID] + [f"f{(user * 7 + k) % 24 + 1}" for k in range(3)]
            w.writerows((f"u{user}", item, 1_600_000_000 + 3600 * (user * 10 + k)) for k, item in enumerate(picks))
    return [folder / "interactions.csv", folder / "items.csv"]


def shown(page: Page, text: str) -> bool:
    """Whether `text` is on screen as typed, in HTML or in a chart's SVG (substring of an element's text)."""
    return page.get_by_text(text).filter(visible=True).count() > 0


def assert_nothing_ran(page: Page, where: str, dialogs: list[str], errors: list[str]) -> None:
    assert not dialogs, f"{where}: a dialog opened: {dialogs}"
    assert page.evaluate("window.__calls") == [], f"{where}: alert/confirm/prompt was called"
    assert page.locator('img[src="x"]').count() == 0, f"{where}: the <img> of a title is in the DOM"
    assert page.evaluate(INJECTED) == 0, f"{where}: a <script> from the data is in the DOM"
    assert page.locator('a[href^="javascript:" i]').count() == 0, f"{where}: a javascript: link"
    assert not errors, f"{where}: JavaScript errors: {errors}"


def visit(page: Page, name: str, heading: str) -> None:
    nav(page, name)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    wait_idle(page)
    for chart in page.get_by_test_id("stPlotlyChart").all():  # every plotly chart drawn (ticks are its SVG text)
        chart.locator(".main-svg").first.wait_for(state="attached")  # Learn keeps some in hidden tabs
    page.wait_for_timeout(300)


def test_hostile_titles_stay_text_on_every_page(tmp_path):
    files = write_data(tmp_path)
    env = {"RECATTN_RUNS_DIR": str(tmp_path / "runs"), "RECATTN_UPLOADS_DIR": str(tmp_path / "uploads")}
    with serve(ARTIFACTS / "server.log", env=env) as url, sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(RECORDER)
        page = context.new_page()
        page.set_default_timeout(30_000)
        dialogs: list[str] = []
        errors: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))

        # Upload the two files on the Data page and load them.
        page.goto(url + "/data")
        expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible()
        wait_idle(page)
        page.get_by_role("radio", name="Upload", exact=True).click()
        page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(files)
        load = page.get_by_role("button", name="Load the uploaded files")
        expect(load).to_be_enabled()
        load.click()
        expect(page.get_by_text("Now using")).to_be_visible()
        wait_idle(page)

        # Train a SASRec for one epoch with a 5-item window.
        visit(page, "Train", "Train a model")
        page.get_by_role("spinbutton", name="Max length").fill(str(WINDOW))
        page.get_by_role("spinbutton", name="Epochs").fill("1")
        page.get_by_role("button", name="Train").click()
        expect(page.get_by_text(re.compile("^Trained SASRec"))).to_be_visible(timeout=90_000)
        wait_idle(page)

        # A history of the six hostile items, oldest first, through their + buttons.
        visit(page, "Build history", "Build a history")
        for n, item in enumerate(IDS, 1):
            page.locator(f".st-key-history_add_{item}").get_by_role("button").click()
            expect(page.get_by_role("heading", name=f"Your history · {n}")).to_be_visible()
            wait_idle(page)

        # Where items are listed by title (Compare lists only recommendations, in a canvas table; the hostile
        # items are all in the history, so never recommended).
        lists_items = {"Build history": HOSTILE + ("Film with a hostile id",), "Attention": SHORT, "Learn": SHORT,
                       "Embeddings": SHORT, "Data": SHORT}
        cut = f"reads only the last {WINDOW} items of the {len(IDS)} in the history"
        pages = [("Home", "recattn: see what a recommender looks at"), ("Build history", "Build a history"),
                 ("Attention", "What the model looks at"), ("Explain", "Why this recommendation?"), ("Learn", "How attention computes a recommendation"),
                 ("Compare models", "Compare models"), ("Embeddings", "Item embeddings"), ("Data", "Data"),
                 ("Train", "Train a model")]
        for name, heading in pages:
            visit(page, name, heading)
            for text in lists_items.get(name, ()):
                assert shown(page, text), f"{name}: {text!r} is not shown as typed"
            if name in ("Attention", "Learn", "Compare models", "Embeddings"):
                expect(page.get_by_text(cut).first).to_be_visible()
            if name == "Build history":  # "$x$" stayed text: no KaTeX on a page without formulas
                assert page.locator(".katex").count() == 0
            assert_nothing_ran(page, name, dialogs, errors)
            screenshot(page, ARTIFACTS / f"{name.lower().replace(' ', '-')}.png")
        context.close()
        browser.close()
