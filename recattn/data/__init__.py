"""Data sources behind one call: `load("builtin:films")`, `load("builtin:news")`, or a folder or file of
a known layout (MovieLens 100K/1M/latest, MIND, RecBole atomic files, plain CSV)."""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

from recattn.data.dataset import Dataset, catalogue_fingerprint
from recattn.data.sequences import MIN_SPLIT_LENGTH, Split, Vocab, build_sequences, leave_one_out
from recattn.errors import RecAttnError
from recattn.i18n import _

BUILTIN = ("builtin:films", "builtin:news")
_CACHE_SIZE = 4
_loaded: OrderedDict[tuple, Dataset] = OrderedDict()


@lru_cache(maxsize=4)
def _builtin(name: str) -> Dataset:
    """A built-in world, generated once per generator version and read from the disk cache after that."""
    from recattn.data.cache import cached

    if name == "builtin:films":
        from recattn.data.builtin import generate_films

        return cached(generate_films)
    if name == "builtin:news":
        from recattn.data.news import generate_news

        return cached(generate_news)
    raise RecAttnError(_("unknown built-in source {name}; choose one of {choices}").format(
        name=repr(name), choices=", ".join(BUILTIN)))


def load(source: str, format: str | None = None, **options) -> Dataset:
    """Load a source: a built-in world by name, or a folder or file whose layout is detected from its files
    (`format` forces one of recattn.data.loaders.FORMATS). Options for files: min_rating (keep ratings at or
    above it), kcore (drop users and items with fewer than k interactions, repeatedly).

    Loads are cached by path, format, options and the files' sizes and modification times; a load that
    fails leaves nothing in the cache.
    """
    if source.startswith("builtin:"):
        if format is not None or options:
            raise RecAttnError(_("{source} is generated; it takes no format or options").format(source=source))
        return _builtin(source)
    from recattn.data.loaders import load_path, signature

    key = (source, format, tuple(sorted(options.items())), signature(source))
    if key in _loaded:
        _loaded.move_to_end(key)
        return _loaded[key]
    dataset = load_path(source, format, **options)
    _loaded[key] = dataset
    if len(_loaded) > _CACHE_SIZE:
        _loaded.popitem(last=False)
    return dataset


def prepare(dataset: Dataset) -> tuple[Vocab, Split]:
    """The vocabulary and leave-one-out split that training and evaluation share; RecAttnError when no user
    has the MIN_SPLIT_LENGTH (3) interactions a split needs, since there would be nothing to validate on."""
    vocab = Vocab.from_items(dataset.items)
    split = leave_one_out(build_sequences(dataset, vocab), vocab.size)
    if not len(split.valid_targets):
        raise RecAttnError(_("no user in {data} has {n} or more interactions, so nothing is left to validate or test "
                             "on (leave-one-out holds out each user's last two items); add longer histories, or lower "
                             "kcore/min_rating if they removed them").format(data=dataset.name, n=MIN_SPLIT_LENGTH))
    return vocab, split


__all__ = ["Dataset", "Split", "Vocab", "load", "prepare", "catalogue_fingerprint", "BUILTIN"]
