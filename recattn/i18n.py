"""The words recattn shows, in English and 简体中文: one gettext catalogue per language, written and checked with Babel
(recattn/locale/<lang>/LC_MESSAGES/recattn.po), compiled in memory once per process.

Code marks its text where it is written and translates it where it is shown:
    _("Attention")                         translated now
    N_("Attention")                        a constant, translated later by _(CONSTANT)
    count_of(n, "{n} item", "{n} items")   a number with its noun ("3 items", "3 个物品")
Placeholders are named (`_("head {head} of layer {layer}").format(...)`), never f-strings, so that a translation may
put them in its own order. English is the source language: a message missing from a catalogue shows in English.

The language is per reader: `language("zh")` sets it for a block (the CLI, tests), and an app registers `resolver`,
asked when no block has set one (Streamlit: the session's choice, so fragment reruns and every thread of one session
agree). Regenerating the catalogues after changing text: `python scripts/messages.py`.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "recattn"
LANGUAGES = {"en": "English", "zh": "中文"}  # code → its own name, as the switch shows it
BABEL_LOCALES = {"en": "en", "zh": "zh_Hans"}  # code → the catalogue's folder (Babel's locale name)
SOURCE = "en"

_block: ContextVar[str | None] = ContextVar("recattn_language", default=None)
_resolver: Callable[[], str | None] | None = None


def catalogue_path(lang: str) -> Path:
    """The .po file of `lang` ("en" or "zh")."""
    return LOCALE_DIR / BABEL_LOCALES[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(lang: str) -> NullTranslations:
    """`lang`'s catalogue, compiled once per process (no .mo files are kept: the .po is the one source)."""
    path = catalogue_path(lang)
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as f:
        catalog = read_po(f, locale=BABEL_LOCALES[lang], domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def set_resolver(resolver: Callable[[], str | None] | None) -> None:
    """Register where the language comes from outside a `language()` block (the app: the session's choice)."""
    global _resolver
    _resolver = resolver


def current() -> str:
    """The language text is shown in now: a `language()` block's, else the resolver's, else English."""
    lang = _block.get()
    if lang is None and _resolver is not None:
        lang = _resolver()
    return lang if lang in LANGUAGES else SOURCE


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Show text in `lang` inside the block."""
    token = _block.set(lang if lang in LANGUAGES else SOURCE)
    try:
        yield
    finally:
        _block.reset(token)


def pick(asked: str | None, browser_locale: str | None) -> str:
    """The language a reader gets: the one asked for (a link's `lang`) when known, else Chinese for a browser whose
    locale is Chinese ("zh-CN", "zh-Hans-CN", "zh"), else English."""
    if asked in LANGUAGES:
        return asked
    return "zh" if (browser_locale or "").lower().startswith("zh") else SOURCE


def _(message: str) -> str:
    """`message` in the current language."""
    return translations(current()).gettext(message) if message else message


def N_(message: str) -> str:
    """Mark a constant for the catalogue; `_()` translates it where it is shown."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for `n` (Chinese has one form, English two)."""
    return translations(current()).ngettext(singular, plural, n)


def sentences(*parts: str) -> str:
    """Translated sentences one after another: a space between them in English, none after Chinese full stops."""
    return ("" if current() == "zh" else " ").join(p for p in parts if p)


class Lazy(str):
    """A marked text fixed where it is written (at import time) yet shown in the reader's language each time it is
    shown through str(): a cache decorator's spinner, `show_spinner=Lazy(N_("Loading…"))`."""

    def __str__(self) -> str:
        return _(str.__str__(self))


def count_of(n: int, singular: str, plural: str) -> str:
    """ "1 film", "3 films", "3 部电影": the message for `n` with `{n}` filled in."""
    return ngettext(singular, plural, n).format(n=n)
