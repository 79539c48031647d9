"""Hand-written multi-head self-attention that can hand out exactly the weights it used."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def attention_mask(seqs: torch.Tensor, causal: bool) -> torch.Tensor:
    """Which keys each query may see: (batch, 1, T, T) bool. Padding keys (index 0) are never visible."""
    keys = (seqs != 0)[:, None, None, :]  # (B, 1, 1, T)
    if not causal:
        return keys.expand(-1, 1, seqs.shape[1], -1)
    T = seqs.shape[1]
    lower = torch.ones(T, T, dtype=torch.bool, device=seqs.device).tril()
    return keys & lower  # (B, 1, T, T)


class MultiHeadSelfAttention(nn.Module):
    """Scaled dot-product attention over `heads` heads.

    With `need_weights` the weights are computed by hand and returned: after masking and softmax, before
    dropout. A query row that may see no key gets all-zero weights (never NaN). Without it the fused
    `scaled_dot_product_attention` runs the same maths faster (a test checks they agree).
    """

    def __init__(self, hidden: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, allowed: torch.Tensor, need_weights: bool = False):
        B, T, D = x.shape
        q, k, v = self.qkv(x).split(D, dim=-1)
        q, k, v = (t.view(B, T, self.heads, D // self.heads).transpose(1, 2) for t in (q, k, v))  # (B, H, T, d)
        # A large finite negative, not -inf: rows with no visible key stay finite (and get zeroed below).
        hidden_key = torch.finfo(q.dtype).min
        p = self.dropout if self.training else 0.0
        if need_weights:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])  # (B, H, T, T)
            # masking the scores, not adding a bias tensor: the same weights, one (B, H, T, T) op fewer
            weights = torch.softmax(scores.masked_fill(~allowed, hidden_key), dim=-1)
            weights = torch.where(allowed, weights, 0.0)  # zero the rows that see nothing
            y = F.dropout(weights, p, self.training) @ v
        else:
            weights = None
            bias = torch.zeros(allowed.shape, dtype=q.dtype, device=q.device).masked_fill(~allowed, hidden_key)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=p)
            y = y * allowed.any(-1, keepdim=True)  # match the zeroed rows of the traced path
        y = y.transpose(1, 2).reshape(B, T, D)
        return self.out(y), weights
