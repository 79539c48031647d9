"""GRU4Rec-style baseline: item embeddings → dropout → a GRU → scores tied to the item embeddings.

It shares the Transformers' scoring (TiedScoring: logits, the repeat offset) so the same objectives train it, and has
no attention to show. With `item_dim` (RecBole's GRU4Rec) the item vectors are that wide and a dense layer maps the
GRU's state to them.
"""

from __future__ import annotations

import torch
from torch import nn

from recattn.config import ModelConfig
from recattn.models.output import ModelOutput
from recattn.models.scoring import TiedScoring, TransformerOutput


class GRU4Rec(TiedScoring):
    """A `layers`-deep GRU over the history; the state after item t predicts item t + 1."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        # n_items + 2 rows: the layout every gradient model shares (index n_items + 1 is BERT4Rec's mask slot)
        width = cfg.item_dim or cfg.hidden
        self.item_emb = nn.Embedding(cfg.n_items + 2, width, padding_idx=0)
        self.drop = nn.Dropout(cfg.dropout)
        self.gru = nn.GRU(width, cfg.hidden, num_layers=cfg.layers, batch_first=True,
                          dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.dense = nn.Linear(cfg.hidden, width) if cfg.item_dim else None
        self.init_repeat_bias()

    def forward(self, seqs: torch.Tensor, return_attention: bool = False) -> TransformerOutput:
        """seqs: (B, T) left-padded → hidden (B, T, hidden), zeros at padding; attention is always None.

        A GRU fed padding does not keep its zero state (the biases move it), so each row is rotated to put its
        items first, run, and rotated back: the padding then comes after the items and cannot touch them.
        """
        B, T = seqs.shape
        present = seqs != 0
        pad = (~present).sum(1, keepdim=True)  # (B, 1) left padding of each row
        steps = torch.arange(T, device=seqs.device)
        x = self.drop(self.item_emb(seqs.gather(1, (steps + pad) % T)))  # (B, T, D), items first
        h, _ = self.gru(x)
        if self.dense is not None:
            h = self.dense(h)
        back = ((steps - pad) % T)[..., None].expand(B, T, h.shape[-1])
        return TransformerOutput(h.gather(1, back) * present[..., None])

    attention_kind = "none"

    def score(self, seqs: torch.Tensor, return_attention: bool = False) -> ModelOutput:
        """Next-item scores (B, n_items + 1) for left-padded histories; a GRU has no attention to return. The GRU
        reads the last max_len items; the repeat offset applies to every item of `seqs`."""
        hidden = self.forward(seqs[:, -self.config.max_len:]).hidden[:, -1]
        return ModelOutput(self.logits(hidden, self.history_items(seqs)), None, self.attention_kind)
