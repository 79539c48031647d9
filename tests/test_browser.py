"""End to end in a real browser: `streamlit run app.py` driven by Playwright with Debian's chromium.

Writes screenshots to e2e-artifacts/ (git-ignored); scripts/screenshots.py makes the README's.
"""

from __future__ import annotations

import os
import re

import pytest

from tests.e2e import CHROMIUM, ROOT, launch, nav, screenshot, serve, wait_idle

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "e2e-artifacts"

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI", "").lower() == "true":
        # In CI a missing browser is a broken setup, not a reason to skip the end-to-end test.
        pytest.fail(f"Debian chromium not found at {CHROMIUM} (CI=true): apt-get install -y chromium",
                    pytrace=False)
    pytest.skip("Debian chromium not installed (apt-get install -y chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=30_000)  # the first page that imports torch and loads the catalogue takes seconds


@pytest.fixture(scope="module")
def server():
    """One `streamlit run app.py` for this file, offline, on a free port; its log goes to e2e-artifacts/."""
    with serve(ARTIFACTS / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    # Module scope: the sync API's event loop must be closed before another file (the hostile-text and load tests)
    # starts its own Playwright.
    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


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
NAV = ["Home", "Build history", "Attention", "Explain", "A and B", "Lesson", "Learn", "Compare models", "Embeddings", "Data",
       "Train"]


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
    screenshot(page, ARTIFACTS / "attention-3.png")


def test_data_page_draws_its_charts(server, page):
    page.goto(server)
    expect(page.get_by_role("heading", name="What is loaded")).to_be_visible()
    nav(page, "Data")
    expect(page.get_by_role("heading", name="builtin:films")).to_be_visible()
    charts = page.get_by_test_id("stPlotlyChart")
    expect(charts).to_have_count(4)  # history lengths, long tail, genres, planted causes
    for i in range(4):
        charts.nth(i).locator(".main-svg").first.wait_for()
    expect(charts.first.locator(".gtitle")).to_have_text("History lengths")  # the figure's own title (downloads)
    expect(charts.first.locator(".annotation-text")).to_have_text(re.compile(r"^median \d"))  # the median, marked
    expect(charts.nth(2).locator("g.ytick text").first).to_have_text("Drama")  # the top genre, on top
    # A bar answers a hover with its numbers, and the camera offers the chart as a file.
    charts.nth(3).locator("g.point path").first.hover(force=True)  # plotly's drag layer lies on top of the bars
    expect(charts.nth(3).locator(".hoverlayer")).to_contain_text("share: ")
    expect(charts.nth(3).locator(".modebar-btn[data-title='Download plot as a PNG']")).to_have_count(1)
    page.mouse.move(0, 0)  # no hover label in the screenshot
    wait_idle(page)
    expect(page.get_by_test_id("stMetric")).to_have_count(8)
    screenshot(page, ARTIFACTS / "data-films.png")


def test_a_lesson_walk_and_its_shared_link(server, page, browser):
    """A lecturer's path: a story preset → Attention → enlarge a head → Learn → Compare; the address bar then holds
    a link that opens the same history in a fresh browser."""
    from recattn.data import load
    from recattn.data.presets import presets

    story = presets(load("builtin:films"))[0]
    page.goto(server + "/history")
    expect(page.get_by_role("heading", name="Build a history")).to_be_visible()
    page.locator(".st-key-history_preset_0").get_by_role("button").click()
    expect(page.get_by_role("heading", name=f"Your history · {len(story.item_ids)}")).to_be_visible()
    wait_idle(page)

    nav(page, "Attention")
    expect(page.locator(".st-key-attention_top10 li")).to_have_count(10)
    wait_idle(page)  # a select clicked during a rerun is redrawn closed
    page.get_by_test_id("stSelectbox").filter(has_text="Enlarge one head").click()
    page.keyboard.type("Layer 2 · head 1")
    page.get_by_role("option", name="Layer 2 · head 1").click()
    enlarged = page.locator(".st-key-attention_head_map")
    enlarged.locator(".main-svg").first.wait_for()
    expect(enlarged.locator("g.hm")).to_have_count(1)  # one map, drawn large
    wait_idle(page)
    screenshot(page, ARTIFACTS / "walk-attention.png")

    nav(page, "Learn")
    expect(page.get_by_role("heading", name="How attention computes a recommendation")).to_be_visible()
    page.get_by_test_id("stPlotlyChart").first.locator(".main-svg").first.wait_for()
    wait_idle(page)

    nav(page, "Compare models")
    expect(page.get_by_role("heading", name="Top 10 of every model")).to_be_visible()
    wait_idle(page)
    link = page.url
    assert "history=" + ",".join(story.item_ids) in link.replace("%2C", ",")

    fresh = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        other = fresh.new_page()
        other.goto(link)
        expect(other.get_by_role("heading", name="Compare models")).to_be_visible()
        wait_idle(other)
        nav(other, "Build history")
        expect(other.get_by_role("heading", name=f"Your history · {len(story.item_ids)}")).to_be_visible()
        wait_idle(other)
        shown = other.get_by_test_id("stMarkdownContainer").filter(has_text="1.").first.inner_text()
        films = load("builtin:films").items.set_index(load("builtin:films").items["item_id"].astype(str))
        assert films.loc[story.item_ids[0], "title"] in shown
    finally:
        fresh.close()


def test_the_report_downloads_and_draws_its_charts_with_the_network_blocked(server, page, browser, tmp_path):
    from recattn.data import load
    from recattn.data.presets import presets

    story = presets(load("builtin:films"))[0]
    page.goto(server + "/attention?history=" + ",".join(story.item_ids))
    expect(page.locator(".st-key-attention_top10 li")).to_have_count(10)
    wait_idle(page)
    with page.expect_download() as got:
        page.locator(".st-key-attention_report").get_by_role("button").click()
    path = tmp_path / "report.html"
    got.value.save_as(path)
    offline = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    try:
        opened = offline.new_page()
        asked: list[str] = []

        def only_the_file(route):
            asked.append(route.request.url)
            route.continue_() if route.request.url.startswith("file:") else route.abort()

        opened.route("**/*", only_the_file)
        opened.goto(path.as_uri())
        expect(opened.locator(".js-plotly-plot")).to_have_count(2)  # the attention grid and the explanation
        expect(opened.locator(".js-plotly-plot g.hm")).to_have_count(4)  # 2 layers × 2 heads, drawn
        expect(opened.locator(".js-plotly-plot g.trace.bars").first).to_be_visible()
        assert all(url.startswith("file:") for url in asked), asked
        opened.screenshot(path=str(ARTIFACTS / "report-offline.png"), full_page=True)
    finally:
        offline.close()


def _story_on_attention(server: str, page, points: str):
    """Open Attention on the first film story; return the locator of a chart's `points`, drawn and idle."""
    from recattn.data import load
    from recattn.data.presets import presets

    story = presets(load("builtin:films"))[0]
    page.goto(server + "/attention?source=builtin:films&history=" + ",".join(story.item_ids))
    found = page.locator(points)
    found.first.wait_for()
    wait_idle(page)
    return found


def _click_centre(page, point) -> None:
    """Click a plotly point where it is drawn (its own element is under plotly's drag layer)."""
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_a_click_on_the_head_role_grid_opens_that_head(server, page):
    cells = _story_on_attention(server, page, ".st-key-attention_roles .scatterlayer .point")
    expect(cells).to_have_count(4)  # 2 layers × 2 heads
    assert not page.locator(".st-key-attention_head_map").count()  # nothing enlarged before the click
    _click_centre(page, cells.nth(1))
    expect(page.locator(".st-key-attention_head_map g.hm")).to_have_count(1)
    wait_idle(page)


def test_a_bar_clicked_on_attention_is_outlined_on_explain_until_cleared(server, page):
    bars = _story_on_attention(server, page, ".st-key-attention_bars g.point path")
    picked_stroke = "stroke: rgb(194, 24, 91)"  # recattn.viz.attention.PICKED
    heat_outlines = page.locator(f".st-key-attention .shapelayer path[style*='{picked_stroke}']")
    assert heat_outlines.count() == 0
    _click_centre(page, bars.first)  # the first head's bar of the oldest item
    expect(page.locator(".st-key-pick_clear")).to_be_visible()
    wait_idle(page)
    expect(heat_outlines).to_have_count(4 * 2)  # its row and its column in each of the 4 heads
    nav(page, "Explain")
    outlined = page.locator(f".st-key-explain_methods g.point path[style*='{picked_stroke}']")
    outlined.first.wait_for()
    assert outlined.count() >= 5  # its bar in every method's panel
    page.locator(".st-key-pick_clear button").click()
    wait_idle(page)
    expect(outlined).to_have_count(0)


def test_the_language_follows_the_link_and_the_switch(server, page):
    page.goto(server + "/?lang=zh")
    nav_links = page.locator("[data-testid='stSidebarNav'] a")
    expect(nav_links.first).to_contain_text("首页")
    wait_idle(page)
    page.locator(".st-key-lang").get_by_text("English").click()
    expect(nav_links.first).to_contain_text("Home")
    wait_idle(page)
    assert "lang=en" in page.url
    page.locator(".st-key-lang").get_by_text("中文").click()
    expect(page.get_by_role("heading", name="接下来去哪里")).to_be_visible()
    assert "lang=zh" in page.url


def test_pin_a_edit_b_and_see_both_lists_and_the_change_per_head(server, page):
    from recattn.data import load
    from recattn.data.presets import presets

    story = presets(load("builtin:films"))[0]
    page.goto(server + "/ab?source=builtin:films&history=" + ",".join(story.item_ids))
    page.locator(".st-key-ab_pin button").click()
    wait_idle(page)
    page.locator(".st-key-ab_remove_last button").click()  # B drops the newest item
    expect(page.get_by_text("B drops")).to_be_visible()
    for side in ("ab_top_a", "ab_top_b"):
        expect(page.locator(f".st-key-{side} li")).to_have_count(10)
    expect(page.locator(".st-key-ab_change g.hm")).to_have_count(4)  # B − A in each of the 2 × 2 heads
    wait_idle(page)
