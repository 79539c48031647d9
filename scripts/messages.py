"""Regenerate the message catalogues after changing the app's text: extract every marked message from app.py, pages/,
ui/ and recattn/ (Babel's extractor) into recattn/locale/recattn.pot, merge it into the English and Chinese
catalogues (new messages arrive untranslated, removed ones are dropped), and list what Chinese still lacks.

    python scripts/messages.py            # extract, update, report
    python scripts/messages.py --check    # report only; exit 1 when a message is missing or untranslated
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recattn import i18n  # noqa: E402

SOURCES = ("app.py", "pages", "ui", "recattn")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "count_of": (2, 3)}
UTF8 = {"encoding": "utf-8"}
TEMPLATE = i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot"


def extract() -> Catalog:
    """Every message the code marks, with where it is used."""
    catalog = Catalog(domain=i18n.DOMAIN, project="recattn", charset="utf-8")
    for source in SOURCES:
        path = ROOT / source
        if path.is_file():
            found = [(path.name, *m) for m in extract_from_file("python", path, keywords=KEYWORDS, options=UTF8,
                                                                strip_comment_tags=True)]
        else:
            found = extract_from_dir(path, [("**.py", "python")], {"**.py": UTF8}, keywords=KEYWORDS,
                                     strip_comment_tags=True)
        for filename, lineno, message, comments, context in found:
            where = source if path.is_file() else f"{source}/{filename}"
            catalog.add(message, None, [(where, lineno)], auto_comments=comments, context=context)
    return catalog


def read(lang: str) -> Catalog:
    """`lang`'s catalogue (an empty one where the file is missing)."""
    path = i18n.catalogue_path(lang)
    if not path.is_file():
        return Catalog(locale=i18n.BABEL_LOCALES[lang], domain=i18n.DOMAIN)
    with path.open("rb") as f:
        return read_po(f, locale=i18n.BABEL_LOCALES[lang], domain=i18n.DOMAIN)


def missing(template: Catalog, lang: str) -> list[str]:
    """The template's messages that `lang` lacks (for Chinese: or leaves untranslated)."""
    catalog = read(lang)
    out = []
    for message in template:
        if not message.id:
            continue
        have = catalog.get(message.id, message.context)
        if have is None or (lang != i18n.SOURCE and not (all(have.string) if message.pluralizable else have.string)):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=120, sort_output=True, omit_header=False)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="report only; exit 1 when something is missing")
    args = p.parse_args(argv)
    template = extract()
    if not args.check:
        write(template, TEMPLATE)
        for lang in i18n.LANGUAGES:
            catalog = read(lang)
            catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
            write(catalog, i18n.catalogue_path(lang))
    gaps = {lang: missing(template, lang) for lang in i18n.LANGUAGES}
    for lang, ids in gaps.items():
        print(f"{lang}: {len(template) - len(ids)} of {len(template)} messages" +
              ("" if not ids else "; missing or untranslated:\n  " + "\n  ".join(ids[:50])))
    return 1 if any(gaps.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
