"""What every model with one hidden state per position shares: scores tied to its item vectors, and a learned
offset for the items already in the history (the repeat offset)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from recattn.config import ModelConfig
from recattn.models import registry


@dataclass
class TransformerOutput:
    """hidden: (batch, T, hidden). attention: one (batch, heads, T, T) tensor per layer, or None."""

    hidden: torch.Tensor
    attention: tuple[torch.Tensor, ...] | None = None


def unique_per_row(items: torch.Tensor) -> torch.Tensor:
    """Each row's items once (duplicates become 0, the padding index), sorted: (N, S) -> (N, S)."""
    items = items.sort(dim=1).values
    dup = torch.zeros_like(items, dtype=torch.bool)
    dup[:, 1:] = items[:, 1:] == items[:, :-1]
    return items.masked_fill(dup, 0)


def seen_items(inputs: torch.Tensor, where: torch.Tensor, n_items: int, causal: bool) -> torch.Tensor:
    """For each position in `where` (N of them, row-major), the items it can see in its input, each once,
    0-padded: (N, T). Causal: the items at or before the position; bidirectional: every visible item of
    the sequence. Padding and BERT4Rec's mask token are not items.

    A list rather than an (N, n_items + 1) mask, so the repeat offset costs O(N * T), not O(N * n_items).
    """
    B, T = inputs.shape
    items = torch.where((inputs != 0) & (inputs <= n_items), inputs, 0)
    seen = items[:, None, :].expand(B, T, T)  # (B, query t, key j)
    if causal:
        later = ~torch.ones(T, T, dtype=torch.bool, device=inputs.device).tril()
        seen = seen.masked_fill(later, 0)
    return unique_per_row(seen[where])


def scoring_table(model: nn.Module) -> torch.Tensor:
    """`model.item_emb`'s catalogue rows as one contiguous (hidden, n_items + 1) table, for scoring without
    gradients: a row times it streams the table once, about 4× faster on a CPU than times the row-major
    weight's transpose over 60k items. A copy kept beside the model (never in its state dict), made again
    whenever the weights change: an in-place update bumps their version, a move changes their storage."""
    weight = model.item_emb.weight
    key = (weight.device, weight.data_ptr(), weight._version)
    cached = model.__dict__.get("_scoring_table")  # (key, table): one tuple, so a reader never sees a torn pair
    if cached is None or cached[0] != key:
        with torch.inference_mode(False), torch.no_grad():  # a normal tensor, usable in any mode
            cached = (key, weight[: model.config.n_items + 1].T.contiguous())
        model.__dict__["_scoring_table"] = cached
    return cached[1]


class TiedScoring(nn.Module):
    """Scores a hidden state against the item vectors (`item_emb`, index 0 padding, n_items + 1 BERT4Rec's mask slot),
    plus the learned repeat offset when `config.repeat_bias`. A subclass sets `config` and `item_emb` and calls
    `init_repeat_bias()`."""

    config: ModelConfig
    item_emb: nn.Embedding
    repeat_bias: nn.Parameter | None
    item_bias: nn.Parameter | None

    def __init__(self) -> None:
        super().__init__()
        self.register_parameter("item_bias", None)  # a score offset per item (RecBole's BERT4Rec head has one)

    def init_repeat_bias(self) -> None:
        self.repeat_bias = nn.Parameter(torch.zeros(())) if self.config.repeat_bias else None

    def logits(self, hidden: torch.Tensor, seen: torch.Tensor | None = None) -> torch.Tensor:
        """Scores of every catalogue item: (..., n_items + 1); column 0 (padding) is -inf.

        With `seen` ((N, S) item indices, 0-padded; an item may be listed more than once; hidden (N, D)) the
        learned repeat offset is added once to each row's seen items.
        """
        weight = self.item_emb.weight
        if torch.is_grad_enabled() and weight.requires_grad:
            out = hidden @ weight[: self.config.n_items + 1].T
        else:
            out = hidden @ scoring_table(self)
        if self.item_bias is not None:
            out = out + self.item_bias
        out[..., 0] = float("-inf")
        if seen is not None and self.repeat_bias is not None:
            # a mask of the seen cells: a repeated item sets its cell twice, so no sort to list it once, and each
            # seen item takes the offset (and passes back its gradient) once; column 0 (padding) is left out
            seen_cells = torch.zeros_like(out, dtype=torch.bool).scatter_(-1, seen, True)
            seen_cells[..., 0] = False
            out = torch.where(seen_cells, out + self.repeat_bias.to(out.dtype), out)
        return out

    def seen_items(self, inputs: torch.Tensor, where: torch.Tensor) -> torch.Tensor | None:
        """What the repeat offset applies to at each position in `where`, or None without a repeat bias."""
        if self.repeat_bias is None:
            return None
        return seen_items(inputs, where, self.config.n_items, registry.get(self.config.kind).causal)

    def repeat_offset(self, seen: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        """The repeat offset of some candidates per row: candidates (N, K) -> (N, K)."""
        return self.repeat_bias * (candidates[..., None] == seen[:, None, :]).any(-1)

    def history_items(self, seqs: torch.Tensor) -> torch.Tensor | None:
        """What the repeat offset applies to when scoring after whole histories (B, S): each row's items, (B, S),
        0 where there is none (padding, BERT4Rec's mask slot); None without a repeat bias."""
        if self.repeat_bias is None:
            return None
        return torch.where(seqs <= self.config.n_items, seqs, 0)
