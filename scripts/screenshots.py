"""Make the README's screenshots from the running app: one per main page, at 1280 px wide, into assets/screenshots/.

    .venv/bin/python scripts/screenshots.py [--narrow]

It starts `streamlit run app.py` on a free loopback port, opens a share link that loads a story preset's history,
walks the pages through the sidebar and saves one PNG a page. `--narrow` also saves each page at 420 px wide into
e2e-artifacts/narrow/ (git-ignored), to look at the phone layout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from recattn.data import load  # noqa: E402
from recattn.data.presets import presets  # noqa: E402
from tests.e2e import NARROW, ROOT, WIDE, launch, nav, screenshot, serve, wait_idle  # noqa: E402

OUT = ROOT / "assets" / "screenshots"
# The page's navigation title, the text that says it has rendered, and the file name.
PAGES = [
    ("Home", "What is loaded", "home"),
    ("Build history", "Your history", "history"),
    ("Attention", "What the model looks at", "attention"),
    ("Explain", "Why this recommendation?", "explain"),
    ("A and B", "A and B: what an edit changes", "ab"),
    ("Lesson", "Question for the class", "lesson"),
    ("Learn", "How attention computes a recommendation", "learn"),
    ("Compare models", "Top 10 of every model", "compare"),
    ("Embeddings", "Item embeddings", "embeddings"),
    ("Data", "Median history", "data"),
    ("Train", "Train a model", "train"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--narrow", action="store_true", help="also save each page at 420 px into e2e-artifacts/")
    args = parser.parse_args()
    widths = [WIDE, NARROW] if args.narrow else [WIDE]
    story = presets(load("builtin:films"))[0]  # "finished part 1 of a trilogy"
    link = f"/history?source=builtin:films&model=films-sasrec&history={','.join(story.item_ids)}"
    with serve(ROOT / "e2e-artifacts" / "screenshots-server.log") as url, sync_playwright() as p:
        browser = launch(p)
        for width in widths:
            page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
            page.set_default_timeout(60_000)
            page.goto(url + link)
            wait_idle(page)
            for title, marker, name in PAGES:
                nav(page, title)
                page.get_by_text(marker).first.wait_for()
                wait_idle(page)
                page.wait_for_timeout(800)  # charts finish drawing
                folder = OUT if width == WIDE else ROOT / "e2e-artifacts" / "narrow"
                screenshot(page, folder / f"{name}.png", width=width)
                print(f"{width} px: {name}", flush=True)
            page.context.close()
        browser.close()


if __name__ == "__main__":
    main()
