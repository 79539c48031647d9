"""One Transformer backbone for sequences: `causal=True` is SASRec, `causal=False` is BERT4Rec.

The two differ only in the attention mask and in the objective (see recattn/objectives.py). "sasrec-additive" is
SASRec with the seed's additive score in every head instead of the scaled dot product (AdditiveSelfAttention).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from recattn.config import ModelConfig
from recattn.models.attention import AdditiveSelfAttention, MultiHeadSelfAttention, attention_mask
from recattn.models.output import AttentionKind, ModelOutput


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


class Block(nn.Module):
    """Pre-norm Transformer block: attention then a feed-forward net, each with a residual."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.hidden)
        attention = AdditiveSelfAttention if cfg.kind == "sasrec-additive" else MultiHeadSelfAttention
        self.attn = attention(cfg.hidden, cfg.heads, cfg.dropout)
        self.ln2 = nn.LayerNorm(cfg.hidden)
        self.ffn = nn.Sequential(
            nn.Linear(cfg.hidden, 4 * cfg.hidden), nn.GELU(), nn.Linear(4 * cfg.hidden, cfg.hidden)
        )
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, allowed, need_weights, last_only: bool = False):
        """x: (B, T, hidden) -> (B, T, hidden), or (B, 1, hidden) with `last_only` (the attention still reads and
        weighs every position); and the attention weights when `need_weights`."""
        a, w = self.attn(self.ln1(x), allowed, need_weights)
        x = x + self.drop(a)
        if last_only:  # scoring reads the last position alone: skip the feed-forward of the others
            x = x[:, -1:]
        x = x + self.drop(self.ffn(self.ln2(x)))
        return x, w


def sinusoidal_positions(max_len: int, hidden: int) -> torch.Tensor:
    """The fixed sin/cos position encoding of "Attention Is All You Need": (max_len, hidden)."""
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, hidden, 2, dtype=torch.float32) * (-math.log(10_000.0) / hidden))
    table = torch.zeros(max_len, hidden)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: hidden // 2])
    return table


class SequentialTransformer(nn.Module):
    """Item + position embeddings, `layers` blocks, scores tied to the item embeddings."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        self.causal = cfg.causal
        # index 0: padding; n_items + 1: BERT4Rec's mask token (unused by SASRec, kept for one layout)
        self.item_emb = nn.Embedding(cfg.n_items + 2, cfg.hidden, padding_idx=0)
        if cfg.position == "learned":
            self.pos_emb = nn.Parameter(torch.zeros(cfg.max_len, cfg.hidden))
            nn.init.normal_(self.pos_emb, std=0.02)
        else:
            self.register_buffer("pos_emb", sinusoidal_positions(cfg.max_len, cfg.hidden), persistent=False)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.ln_f = nn.LayerNorm(cfg.hidden)
        nn.init.normal_(self.item_emb.weight, std=0.02)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()
        self.repeat_bias = nn.Parameter(torch.zeros(())) if cfg.repeat_bias else None

    @property
    def attention_kind(self) -> AttentionKind:
        return "causal" if self.causal else "bidirectional"

    @property
    def mask_token(self) -> int:
        return self.config.n_items + 1

    def forward(self, seqs: torch.Tensor, return_attention: bool = False,
                last_only: bool = False) -> TransformerOutput:
        """seqs: (batch, T) left-padded indices, T <= max_len. `last_only`: hidden holds the last position alone
        (batch, 1, hidden), which is all scoring reads; every layer's attention maps stay whole."""
        T = seqs.shape[1]
        x = self.item_emb(seqs) * math.sqrt(self.config.hidden) + self.pos_emb[-T:]
        present = (seqs != 0)[..., None].to(x.dtype)  # (B, T, 1); a float 0/1 once, not a bool cast per layer
        x = self.drop(x) * present
        allowed = attention_mask(seqs, self.causal)
        maps = []
        for i, block in enumerate(self.blocks):
            x, w = block(x, allowed, return_attention, last_only and i == len(self.blocks) - 1)
            x = x * present[:, -x.shape[1]:]  # padding positions carry nothing forward
            maps.append(w)
        hidden = self.ln_f(x)
        return TransformerOutput(hidden, tuple(maps) if return_attention else None)

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
        return seen_items(inputs, where, self.config.n_items, self.config.causal)

    def repeat_offset(self, seen: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        """The repeat offset of some candidates per row: candidates (N, K) -> (N, K)."""
        return self.repeat_bias * (candidates[..., None] == seen[:, None, :]).any(-1)

    def query_inputs(self, seqs: torch.Tensor) -> torch.Tensor:
        """What the model reads to predict the next item: the history, plus a mask slot for BERT4Rec."""
        if self.causal:
            return seqs[:, -self.config.max_len:]
        mask = torch.full_like(seqs[:, :1], self.mask_token)
        return torch.cat([seqs, mask], dim=1)[:, -self.config.max_len:]

    def score(self, seqs: torch.Tensor, return_attention: bool = False) -> ModelOutput:
        """Next-item scores for left-padded histories: (batch, n_items + 1), and the attention if asked.

        The Transformer reads the last max_len items; the repeat offset applies to every item of `seqs`,
        so pass whole histories to push down what was seen long ago too.
        """
        inputs = self.query_inputs(seqs)
        out = self.forward(inputs, return_attention, last_only=True)
        return ModelOutput(self.logits(out.hidden[:, -1], self.history_items(seqs)), out.attention,
                           self.attention_kind)

    def history_items(self, seqs: torch.Tensor) -> torch.Tensor | None:
        """What the repeat offset applies to when scoring after whole histories (B, S): each row's items, (B, S),
        0 where there is none (padding, BERT4Rec's mask slot); None without a repeat bias."""
        if self.repeat_bias is None:
            return None
        return torch.where(seqs <= self.config.n_items, seqs, 0)
