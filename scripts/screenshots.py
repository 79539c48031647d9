"""Make the README's screenshots from the running app: one per main page, at 1280 px wide, into assets/screenshots/.

    .venv/bin/python scripts/screenshots.py [--narrow] [--lang en|zh] [--out DIR]

It starts `streamlit run app.py` on a free loopback port, opens a share link that loads a story preset's history,
walks the pages through the sidebar and saves one PNG a page. `--narrow` also saves each page at 420 px wide into
e2e-artifacts/narrow/ (git-ignored), to look at the phone layout.

`--lang zh` opens the link with `lang=zh`, walks the pages by their Chinese titles and saves into e2e-artifacts/zh/
(the README's screenshots stay English). `--out DIR` saves into DIR instead, the 420 px ones into DIR/narrow/.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from recattn import i18n  # noqa: E402
from recattn.data import load  # noqa: E402
from recattn.data.presets import presets  # noqa: E402
from tests.e2e import NARROW, ROOT, WIDE, launch, nav, screenshot, serve, wait_idle  # noqa: E402

OUT = ROOT / "assets" / "screenshots"
NARROW_OUT = ROOT / "e2e-artifacts" / "narrow"
# The page's navigation title, the message that says it has rendered (as the code marks it: placeholders and markdown
# are left out when looking for it), and the file name.
PAGES = [
    ("Home", "What is loaded", "home"),
    ("Build history", "Your history · {count}", "history"),
    ("Attention", "What the model looks at", "attention"),
    ("Explain", "Why this recommendation?", "explain"),
    ("A and B", "A and B: what an edit changes", "ab"),
    ("Lesson", "**Question for the class.**", "lesson"),
    ("Learn", "How attention computes a recommendation", "learn"),
    ("Compare models", "Top {k} of every model", "compare"),
    ("Embeddings", "Item embeddings", "embeddings"),
    ("Data", "Median history", "data"),
    ("Train", "Train a model", "train"),
]


def shown(message: str) -> str:
    """The longest part of a message that shows as written: "Top {k} of every model" → "of every model"."""
    parts = re.split(r"\{[^}]*\}", message.replace("*", ""))
    return max(parts, key=len).strip()


def pages(lang: str) -> list[tuple[str, str, str]]:
    """PAGES with the title and the marker as `lang` shows them."""
    with i18n.language(lang):
        return [(i18n._(title), shown(i18n._(marker)), name) for title, marker, name in PAGES]


def folders(lang: str, out: Path | None) -> dict[int, Path]:
    """Where each width's screenshots go: the README's folder for English by default, e2e-artifacts/zh/ for Chinese,
    or `out` (the 420 px ones in its narrow/ subfolder)."""
    if out is None and lang == "en":
        return {WIDE: OUT, NARROW: NARROW_OUT}
    base = out or ROOT / "e2e-artifacts" / lang
    return {WIDE: base, NARROW: base / "narrow"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--narrow", action="store_true", help="also save each page at 420 px into e2e-artifacts/")
    parser.add_argument("--lang", choices=sorted(i18n.LANGUAGES), default="en", help="the app's language (default en)")
    parser.add_argument("--out", type=Path, help="save into this folder instead (420 px ones into its narrow/)")
    args = parser.parse_args()
    widths = [WIDE, NARROW] if args.narrow else [WIDE]
    out = folders(args.lang, args.out.resolve() if args.out else None)
    story = presets(load("builtin:films"))[0]  # "finished part 1 of a trilogy"
    link = f"/history?source=builtin:films&model=films-sasrec&history={','.join(story.item_ids)}&lang={args.lang}"
    with serve(ROOT / "e2e-artifacts" / "screenshots-server.log") as url, sync_playwright() as p:
        browser = launch(p)
        for width in widths:
            page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
            page.set_default_timeout(60_000)
            page.goto(url + link)
            wait_idle(page)
            for title, marker, name in pages(args.lang):
                nav(page, title)
                page.get_by_text(marker).first.wait_for()
                wait_idle(page)
                page.wait_for_timeout(800)  # charts finish drawing
                screenshot(page, out[width] / f"{name}.png", width=width)
                print(f"{width} px: {name}", flush=True)
            page.context.close()
        browser.close()


if __name__ == "__main__":
    main()
