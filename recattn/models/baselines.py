"""Count-based baselines: Popularity and ItemKNN (next-item co-occurrence). They learn in one pass over the
training sequences (`fit_counts`), keep their counts as buffers so checkpoints store them like weights, and
have no attention to show."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from recattn.config import ModelConfig
from recattn.data.sequences import Split
from recattn.models.output import ModelOutput

WINDOW = 3  # b follows a when it comes 1..WINDOW steps later, weighted 1 / distance
RECENT = 5  # the last RECENT items of a history vote for what comes next ...
DECAY = 0.5  # ... the latest with weight 1, each earlier one DECAY times less
TIE_BREAK = 1e-6  # popularity, scaled to [0, TIE_BREAK], orders items the co-occurrences leave tied


def _no_padding(scores: torch.Tensor) -> ModelOutput:
    scores[:, 0] = float("-inf")
    return ModelOutput(scores, None, "none")


class Popularity(nn.Module):
    """Every history gets the same scores: how often each item was interacted with in training."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        self.register_buffer("counts", torch.zeros(cfg.n_items + 1))

    def fit_counts(self, split: Split) -> None:
        """Count the training interactions of each item."""
        self.counts.copy_(torch.as_tensor(split.item_counts(), dtype=torch.float32))

    attention_kind = "none"

    def score(self, seqs: torch.Tensor, return_attention: bool = False) -> ModelOutput:
        """Scores (B, n_items + 1), column 0 -inf; no attention."""
        return _no_padding(self.counts.expand(len(seqs), -1).clone())


def follower_matrix(train, n_items: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-normalised next-item co-occurrence as CSR (crow (n_items + 2,), col, val).

    Row a holds, for each item b seen 1..WINDOW steps after a in one sequence, the distance-weighted count
    divided by the row total: an estimate of P(next is b | a).
    """
    n = n_items + 1
    flat = np.concatenate(train) if len(train) else np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(train), dtype=np.int32), [len(s) for s in train])
    keys, weight = [], []
    for d in range(1, WINDOW + 1):
        same = owner[:-d] == owner[d:]  # both ends in one user's sequence
        # each distance counted on its own before the merge: at MovieLens-25M size the working set stays a few
        # copies of the interactions rather than WINDOW copies with a weight and an inverse index for each
        pair, count = np.unique(flat[:-d][same] * n + flat[d:][same], return_counts=True)
        keys.append(pair)
        weight.append(count / d)
    pairs, inverse = np.unique(np.concatenate(keys), return_inverse=True)  # sorted: CSR order
    val = np.bincount(inverse, weights=np.concatenate(weight), minlength=len(pairs))
    rows, col = pairs // n, pairs % n
    val /= np.bincount(rows, weights=val, minlength=n)[rows]
    crow = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
    return crow, col, val


class ItemKNN(nn.Module):
    """Scores a history by the followers of its last RECENT items (recency-decayed), plus a popularity tie-break.

    The follower matrix is sparse (CSR buffers crow, col, val) so 10k items stay small; col and val only
    get their size when fitted, and loading resizes them to what the checkpoint holds.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        self.register_buffer("crow", torch.zeros(cfg.n_items + 2, dtype=torch.long))
        self.register_buffer("col", torch.zeros(0, dtype=torch.long))
        self.register_buffer("val", torch.zeros(0))
        self.register_buffer("counts", torch.zeros(cfg.n_items + 1))

    def fit_counts(self, split: Split) -> None:
        """Build the follower matrix and the popularity tie-break from the training sequences."""
        device = self.crow.device
        crow, col, val = follower_matrix(split.train, self.config.n_items)
        self.crow.copy_(torch.as_tensor(crow))
        self.col = torch.as_tensor(col, dtype=torch.long, device=device)
        self.val = torch.as_tensor(val, dtype=torch.float32, device=device)
        self.counts.copy_(torch.as_tensor(split.item_counts(), dtype=torch.float32))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for name in ("col", "val"):  # sized by fitting: take the stored size, then load as usual (strict)
            stored = state_dict.get(prefix + name)
            if stored is not None:
                mine = self._buffers[name]
                self._buffers[name] = torch.empty(stored.shape, dtype=mine.dtype, device=mine.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    attention_kind = "none"

    def score(self, seqs: torch.Tensor, return_attention: bool = False) -> ModelOutput:
        """Scores (B, n_items + 1), column 0 -inf; no attention."""
        recent = seqs[:, -RECENT:]  # (B, m), latest last
        B, m = recent.shape
        vote = DECAY ** torch.arange(m - 1, -1, -1, device=seqs.device) * (recent != 0)  # (B, m)
        rows, vote = recent.reshape(-1), vote.reshape(-1)  # (B * m,)
        # gather every stored entry of the voting rows: entry e belongs to voter owner[e]
        start = self.crow[rows]
        length = self.crow[rows + 1] - start
        owner = torch.repeat_interleave(torch.arange(B * m, device=seqs.device), length)  # (E,)
        offset = torch.arange(len(owner), device=seqs.device) - (torch.cumsum(length, 0) - length)[owner]
        entry = start[owner] + offset
        scores = (TIE_BREAK * self.counts / self.counts.max().clamp_min(1)).expand(B, -1).clone()
        scores.index_put_((owner // m, self.col[entry]), vote[owner] * self.val[entry], accumulate=True)
        return _no_padding(scores)
