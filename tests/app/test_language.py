"""中文 and English: the catalogues hold every message the code marks, the switch and the link pick the language,
and every page renders in Chinese without an exception and without an English sentence left over."""

from __future__ import annotations

import importlib.util
import json
import re
import string
from collections.abc import Iterator

import pytest
from google.protobuf.message import Message

from recattn import data, i18n
from recattn.data import presets
from tests.app.conftest import APP, ROOT, go

_spec = importlib.util.spec_from_file_location("messages", ROOT / "scripts" / "messages.py")
messages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(messages)

PAGES = ["pages/home.py", "pages/history.py", "pages/attention.py", "pages/explain.py", "pages/ab.py",
         "pages/lesson.py", "pages/learn.py", "pages/compare.py", "pages/embeddings.py", "pages/data.py",
         "pages/train.py"]


# ---------------------------------------------------------------- the catalogues
@pytest.fixture(scope="module")
def template():
    return messages.extract()


@pytest.mark.parametrize("lang", list(i18n.LANGUAGES))
def test_each_catalogue_holds_every_marked_message(template, lang):
    assert len(template) > 300  # the app's text is marked, not only a few titles
    assert messages.missing(template, lang) == []


def _fields(text: str) -> set[str]:
    return {f[1].split(".")[0].split("[")[0].split("!")[0] for f in string.Formatter().parse(text) if f[1]}


def test_chinese_keeps_every_placeholder_and_markup():
    for message in messages.read("zh"):
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        zh = message.string[0] if isinstance(message.string, tuple) else message.string
        if "{" in ids[0] or "{" in ids[-1]:
            assert _fields(zh) <= _fields(ids[0]) | _fields(ids[-1]), ids[0]
            if len(ids) == 1:
                assert _fields(zh) == _fields(ids[0]), ids[0]
        assert zh.count("**") == ids[0].count("**"), ids[0]  # bold stays bold
        assert re.findall(r":material/\w+:", zh) == re.findall(r":material/\w+:", ids[0]), ids[0]


def test_language_blocks_and_the_default():
    assert i18n._("Attention") == "Attention"
    with i18n.language("zh"):
        assert i18n._("Attention") != "Attention"
        assert i18n.count_of(3, "{n} item", "{n} items") == i18n.count_of(1, "{n} item", "{n} items").replace("1", "3")
    assert i18n.pick("zh", "en-US") == "zh"
    assert i18n.pick(None, "zh-CN") == "zh" and i18n.pick(None, "zh-Hans-CN") == "zh"
    assert i18n.pick("fr", "en-GB") == "en" and i18n.pick(None, None) == "en"


# ---------------------------------------------------------------- the switch and the link
def test_the_switch_changes_the_language_and_the_link_carries_it():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.session_state["lang"] == "en" and at.query_params["lang"] == "en"
    at.radio(key="lang").set_value("zh").run()
    assert not at.exception
    assert at.query_params["lang"] == "zh"
    with i18n.language("zh"):
        status = i18n._("**Data** {data}  \n**History** {items}").split("{data}")[0]
    assert status != "**Data** " and any(c.value.startswith(status) for c in at.sidebar.caption)

    opened = AppTest.from_file(APP, default_timeout=60)
    opened.query_params["lang"] = "zh"
    opened.run()
    assert opened.session_state["lang"] == "zh"


# ---------------------------------------------------------------- every page in Chinese
# Words that stay as they are in Chinese text: model, metric and product names, formula symbols.
KEPT = {"sasrec", "bert4rec", "gru4rec", "gru", "narm", "itemknn", "recbole", "movielens", "mind", "ndcg", "hr",
        "mrr", "softmax", "tanh", "transformer", "rnn", "layernorm", "top", "csv", "json", "html", "png", "svg",
        "url", "id", "ids", "recattn", "streamlit", "plotly", "pytorch", "torch", "safetensors", "pth", "cpu",
        "gpu", "cuda", "lr", "ls", "ema", "vs", "a", "b", "k", "q", "v", "x", "y", "w"}
_ENGLISH_RUN = re.compile(r"[A-Za-z][a-z']+(?:[ \-]+[A-Za-z][a-z']+){2,}")


def _data_words() -> set[str]:
    words = set()
    for source in ("builtin:films", "builtin:news"):
        items = data.load(source).items
        for column in ("title", "genres"):
            for text in items[column].astype(str):
                words.update(w.lower() for w in re.findall(r"[A-Za-z']+", text))
    return words


def english_left(texts: list[str], data_words: set[str]) -> list[str]:
    """Runs of three or more English words in `texts` with at least two words that are neither a name kept in
    Chinese nor a word of the data's titles and genres (which stay as the data has them)."""
    found = []
    for text in texts:
        text = re.sub(r"`[^`]*`|\$[^$]*\$|https?://\S+|:material/\w+:|%\{[^}]*\}|<[^>]+>", " ", text)
        for run in _ENGLISH_RUN.findall(text.replace("\\", "")):
            words = [w.lower().strip("'") for w in re.split(r"[ \-]+", run)]
            if sum(w not in KEPT and w not in data_words for w in words) >= 2:
                found.append(run)
    return found


_SKIPPED_KEYS = {"template", "config", "font", "family", "bdata", "dtype", "shape", "modebar", "uirevision",
                 "colorscale", "color", "marker", "line", "xaxis_anchor", "legendgroup", "type", "mode", "$schema",
                 "datasets", "data_name", "field", "name_ref", "hoverlabel", "meta", "scheme", "shape_type"}


def _json_strings(value, key: str = "") -> Iterator[str]:
    if key in _SKIPPED_KEYS:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _json_strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _json_strings(v, key)


def _proto_strings(value, name: str = "") -> Iterator[str]:
    if isinstance(value, Message):
        for field, v in value.ListFields():
            yield from _proto_strings(v, field.name)
    elif isinstance(value, str):
        if name == "spec":
            yield from _json_strings(json.loads(value))
        elif name not in ("id", "form_id", "key", "url", "icon", "args", "element_hash", "config"):
            yield value
    elif hasattr(value, "values") and callable(value.values):  # a map field
        for v in value.values():
            yield from _proto_strings(v, name)
    elif hasattr(value, "__iter__") and not isinstance(value, bytes):
        for v in value:
            yield from _proto_strings(v, name)


def rendered_text(at) -> list[str]:
    """Every string the page sent: markdown, labels, options, help, chart titles, axes, legends and hovers."""
    texts = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            texts.extend(_proto_strings(proto))
    return texts


@pytest.fixture(scope="module")
def data_words():
    return _data_words()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_in_chinese_without_english_left(page, data_words):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = "zh"
    story = presets.presets(data.load("builtin:films"))[0]
    with i18n.language("zh"):  # AppTest reads a widget's value through its format_func in this thread
        at.run()
        at.session_state["history"] = list(story.item_ids)
        go(at, page)
    assert at.session_state["lang"] == "zh"
    left = english_left(rendered_text(at), data_words)
    assert not left, f"{page}: English left in Chinese: {sorted(set(left))[:20]}"
