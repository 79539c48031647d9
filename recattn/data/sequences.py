"""Per-user sequences of item indices, the leave-one-out split, and padded batches.

Item index 0 is padding; catalogue item k (0-based row of `Dataset.items`) has index k + 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recattn.data.dataset import Dataset
from recattn.errors import RecAttnError
from recattn.i18n import _

# A user's history is split into train (all but the last two), validation and test: 3 items at least.
MIN_SPLIT_LENGTH = 3


@dataclass(frozen=True)
class Vocab:
    """Maps the catalogue's own ids to model indices (1..n) and back."""

    ids: tuple[str, ...]

    @classmethod
    def from_items(cls, items: pd.DataFrame) -> "Vocab":
        return cls(tuple(str(i) for i in items["item_id"]))

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def _index(self) -> dict[str, int]:
        cached = self.__dict__.get("_index_cache")
        if cached is None:
            cached = {item_id: k + 1 for k, item_id in enumerate(self.ids)}
            object.__setattr__(self, "_index_cache", cached)
        return cached

    def index(self, item_ids) -> np.ndarray:
        """Model indices of catalogue ids; an unknown id raises RecAttnError naming it."""
        lookup = self._index
        missing = [str(i) for i in item_ids if str(i) not in lookup]
        if missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            raise RecAttnError(_("unknown item id(s): {ids}. Use ids from the catalogue (see the Data page).").format(
                ids=shown))
        return np.array([lookup[str(i)] for i in item_ids], dtype=np.int64)

    def id_of(self, index: int) -> str:
        return self.ids[index - 1]


@dataclass(frozen=True)
class Sequences:
    """Time-ordered item indices per user."""

    users: tuple[str, ...]
    seqs: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Split:
    """Leave-one-out: train on all but the last two, validate on the second-to-last, test on the last.

    `valid_inputs[u]` is the history before the validation item; `test_inputs[u]` the one before the test
    item. Users with fewer than MIN_SPLIT_LENGTH (3) interactions only train: they are in `train`, and in
    neither `valid_*` nor `test_*`.
    """

    train: tuple[np.ndarray, ...]
    valid_inputs: tuple[np.ndarray, ...]
    valid_targets: np.ndarray
    test_inputs: tuple[np.ndarray, ...]
    test_targets: np.ndarray
    n_items: int

    def item_counts(self) -> np.ndarray:
        """Training interactions per item index (index 0 stays 0)."""
        counts = np.zeros(self.n_items + 1, dtype=np.int64)
        for s in self.train:
            np.add.at(counts, s, 1)
        return counts


def build_sequences(dataset: Dataset, vocab: Vocab) -> Sequences:
    """Group the (already time-sorted) interactions into one index array per user."""
    inter = dataset.interactions
    idx = vocab.index(inter["item_id"].unique())
    lookup = dict(zip(inter["item_id"].unique(), idx))
    codes = inter["item_id"].map(lookup).to_numpy(dtype=np.int64)
    users = inter["user_id"].to_numpy()
    # interactions are sorted by user, so each user is one contiguous run
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    ends = np.r_[starts[1:], len(users)]
    return Sequences(
        users=tuple(str(users[s]) for s in starts),
        seqs=tuple(codes[s:e] for s, e in zip(starts, ends)),
    )


def leave_one_out(sequences: Sequences, n_items: int) -> Split:
    """Hold out each user's last item for test and the one before for validation."""
    train, vin, vt, tin, tt = [], [], [], [], []
    for s in sequences.seqs:
        if len(s) < MIN_SPLIT_LENGTH:
            train.append(s)
            continue
        train.append(s[:-2])
        vin.append(s[:-2])
        vt.append(s[-2])
        tin.append(s[:-1])
        tt.append(s[-1])
    return Split(tuple(train), tuple(vin), np.array(vt, dtype=np.int64), tuple(tin), np.array(tt, dtype=np.int64),
                 n_items)


def left_pad(seqs, max_len: int) -> np.ndarray:
    """The last `max_len` items of each sequence, right-aligned, zeros on the left: (batch, max_len)."""
    out = np.zeros((len(seqs), max_len), dtype=np.int64)
    for row, s in enumerate(seqs):
        tail = s[-max_len:]
        if len(tail):
            out[row, max_len - len(tail):] = tail
    return out
