"""One Transformer backbone for sequences: `causal=True` is SASRec, `causal=False` is BERT4Rec.

The two differ only in the attention mask and in the objective (see recattn/training/objectives.py). "sasrec-additive" is
SASRec with the seed's additive score in every head instead of the scaled dot product (AdditiveSelfAttention).
"""

from __future__ import annotations

import math
import torch
from torch import nn

from recattn.config import ModelConfig
from recattn.models import registry
from recattn.models.attention import AdditiveSelfAttention, MultiHeadSelfAttention, attention_mask
from recattn.models.output import AttentionKind, ModelOutput
from recattn.models.scoring import TiedScoring, TransformerOutput


def activation(name: str) -> nn.Module:
    """The feed-forward net's non-linearity: GELU (the exact, erf form) or ReLU."""
    return nn.GELU() if name == "gelu" else nn.ReLU()


class Block(nn.Module):
    """A Transformer block: attention then a feed-forward net, each with a residual, normalised before each
    (`norm="pre"`: x + f(LN(x))) or after each residual (`norm="post"`, the seed's and RecBole's: LN(x + f(x)))."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.post = cfg.norm == "post"
        inner = cfg.inner or 4 * cfg.hidden
        self.ln1 = nn.LayerNorm(cfg.hidden, eps=cfg.norm_eps)
        attention = AdditiveSelfAttention if cfg.kind == "sasrec-additive" else MultiHeadSelfAttention
        self.attn = attention(cfg.hidden, cfg.heads, cfg.dropout)
        self.ln2 = nn.LayerNorm(cfg.hidden, eps=cfg.norm_eps)
        self.ffn = nn.Sequential(nn.Linear(cfg.hidden, inner), activation(cfg.activation), nn.Linear(inner, cfg.hidden))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, allowed, need_weights, last_only: bool = False):
        """x: (B, T, hidden) -> (B, T, hidden), or (B, 1, hidden) with `last_only` (the attention still reads and
        weighs every position); and the attention weights when `need_weights`."""
        if self.post:
            a, w = self.attn(x, allowed, need_weights)
            x = self.ln1(x + self.drop(a))
            if last_only:  # scoring reads the last position alone: skip the feed-forward of the others
                x = x[:, -1:]
            return self.ln2(x + self.drop(self.ffn(x))), w
        a, w = self.attn(self.ln1(x), allowed, need_weights)
        x = x + self.drop(a)
        if last_only:
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


class SequentialTransformer(TiedScoring):
    """Item + position embeddings, `layers` blocks, scores tied to the item embeddings. Pre-norm ends with a
    LayerNorm; post-norm starts with one on the embeddings (as BERT and RecBole do) and ends without."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        self.causal = registry.get(cfg.kind).causal  # build_model has checked the config
        # index 0: padding; n_items + 1: BERT4Rec's mask token (unused by SASRec, kept for one layout)
        self.item_emb = nn.Embedding(cfg.n_items + 2, cfg.hidden, padding_idx=0)
        if cfg.position == "learned":
            self.pos_emb = nn.Parameter(torch.zeros(cfg.max_len, cfg.hidden))
            nn.init.normal_(self.pos_emb, std=0.02)
        else:
            self.register_buffer("pos_emb", sinusoidal_positions(cfg.max_len, cfg.hidden), persistent=False)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        post = cfg.norm == "post"
        self.ln_emb = nn.LayerNorm(cfg.hidden, eps=cfg.norm_eps) if post else nn.Identity()
        self.ln_f = nn.Identity() if post else nn.LayerNorm(cfg.hidden, eps=cfg.norm_eps)
        if cfg.output_head:  # RecBole's BERT4Rec: dense → activation → LayerNorm, then a bias per item
            self.head = nn.Sequential(nn.Linear(cfg.hidden, cfg.hidden), activation(cfg.activation),
                                      nn.LayerNorm(cfg.hidden, eps=cfg.norm_eps))
            self.item_bias = nn.Parameter(torch.zeros(cfg.n_items + 1))
        nn.init.normal_(self.item_emb.weight, std=0.02)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()
        self.init_repeat_bias()

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
        cfg = self.config
        x = self.item_emb(seqs) * (math.sqrt(cfg.hidden) if cfg.scale_embeddings else 1.0) + self.positions(seqs)
        present = (seqs != 0)[..., None].to(x.dtype)  # (B, T, 1); a float 0/1 once, not a bool cast per layer
        x = self.drop(self.ln_emb(x)) * present
        allowed = attention_mask(seqs, self.causal)
        maps = []
        for i, block in enumerate(self.blocks):
            x, w = block(x, allowed, return_attention, last_only and i == len(self.blocks) - 1)
            x = x * present[:, -x.shape[1]:]  # padding positions carry nothing forward
            maps.append(w)
        hidden = self.ln_f(x)
        if cfg.output_head:
            hidden = self.head(hidden)
        return TransformerOutput(hidden, tuple(maps) if return_attention else None)

    def positions(self, seqs: torch.Tensor) -> torch.Tensor:
        """The position vectors of left-padded inputs: (T, hidden) counted back from the latest item, or with
        `position_from="first"` (B, T, hidden) counted from each row's oldest item (padding takes position 0)."""
        if self.config.position_from == "last":
            return self.pos_emb[-seqs.shape[1]:]
        return self.pos_emb[((seqs != 0).cumsum(1) - 1).clamp(min=0)]

    def query_inputs(self, seqs: torch.Tensor) -> torch.Tensor:
        """What the model reads to predict the next item: the history, plus a mask slot for BERT4Rec."""
        max_len = self.config.max_len
        if self.causal:
            return seqs[:, -max_len:]
        if self.config.mask_slot == "replace-oldest":  # the window's oldest item gives way to the mask slot
            seqs = seqs[:, -max_len:].clone()
            rows = torch.arange(len(seqs), device=seqs.device)
            seqs[rows, (seqs != 0).int().argmax(1)] = 0  # a row without items stays all padding
        mask = torch.full_like(seqs[:, :1], self.mask_token)
        return torch.cat([seqs, mask], dim=1)[:, -max_len:]

    def score(self, seqs: torch.Tensor, return_attention: bool = False) -> ModelOutput:
        """Next-item scores for left-padded histories: (batch, n_items + 1), and the attention if asked.

        The Transformer reads the last max_len items; the repeat offset applies to every item of `seqs`,
        so pass whole histories to push down what was seen long ago too.
        """
        inputs = self.query_inputs(seqs)
        out = self.forward(inputs, return_attention, last_only=True)
        return ModelOutput(self.logits(out.hidden[:, -1], self.history_items(seqs)), out.attention,
                           self.attention_kind)
