"""Hand-written multi-head self-attention that can hand out exactly the weights it used: scaled dot-product scores
(SASRec, BERT4Rec) or the seed's additive scores (the same Transformer with `AdditiveSelfAttention`)."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math

import torch
import torch.nn.functional as F
from torch import nn


def attention_mask(seqs: torch.Tensor, causal: bool) -> torch.Tensor:
    """Which keys each query may see: (batch, 1, T, T) bool. Padding keys (index 0) are never visible."""
    keys = (seqs != 0)[:, None, None, :]  # (B, 1, 1, T)
    if not causal:
        return keys.expand(-1, 1, seqs.shape[1], -1)
    return keys & _lower_triangle(seqs.shape[1], seqs.device)  # (B, 1, T, T)


@functools.lru_cache(maxsize=64)
def _lower_triangle(T: int, device: torch.device) -> torch.Tensor:
    """(T, T) bool, True on and below the diagonal: made once per length, not on every forward pass."""
    with torch.inference_mode(False):  # a normal tensor, usable inside and outside inference mode
        return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def additive_energies(keys: torch.Tensor, queries: torch.Tensor, w_o: torch.Tensor) -> torch.Tensor:
    """The seed's energies w_o · tanh(W1 x_i + b + W2 y_j) of every query against every key: keys (..., T, d) hold
    W1 x_i + b, queries (..., Q, d) hold W2 y_j, w_o (..., d) → (..., Q, T).

    The (..., Q, T, d) sum is the whole cost: tanh runs in place on it, and w_o is applied as a matrix product
    (about 1.5× faster than an einsum or a Linear over that tensor on a CPU).
    """
    return ((queries.unsqueeze(-2) + keys.unsqueeze(-3)).tanh_() @ w_o.unsqueeze(-1)).squeeze(-1)


_UNIFORM = contextvars.ContextVar("recattn_uniform_attention", default=False)


@contextlib.contextmanager
def uniform_attention():
    """Inside this block every attention layer of every model weighs the keys it may see equally, whatever its scores
    (Wiegreffe & Pinter's first test of whether a model needs its attention). Per thread, so other sessions of the
    app are untouched."""
    token = _UNIFORM.set(True)
    try:
        yield
    finally:
        _UNIFORM.reset(token)


def masked_softmax(scores: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Softmax over the keys each query may see; a query row that may see none gets all-zero weights. Under
    `uniform_attention`, equal weights over the keys each query may see instead."""
    if _UNIFORM.get():
        visible = allowed.to(scores.dtype).expand_as(scores)
        return visible / visible.sum(-1, keepdim=True).clamp_min(1)
    # a large finite negative, not -inf: rows with no visible key stay finite (and are zeroed after)
    weights = torch.softmax(torch.where(allowed, scores, torch.finfo(scores.dtype).min), dim=-1)
    return torch.where(allowed, weights, 0.0)


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
        p = self.dropout if self.training else 0.0
        if need_weights or _UNIFORM.get():
            # masking the scores, not adding a bias tensor: the same weights, one (B, H, T, T) op fewer
            weights = masked_softmax((q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1]), allowed)  # (B, H, T, T)
            y = F.dropout(weights, p, self.training) @ v
        else:
            weights = None
            hidden_key = torch.finfo(q.dtype).min
            bias = torch.zeros(allowed.shape, dtype=q.dtype, device=q.device).masked_fill(~allowed, hidden_key)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=p)
            y = y * allowed.any(-1, keepdim=True)  # match the zeroed rows of the traced path
        y = y.transpose(1, 2).reshape(B, T, D)
        return self.out(y), weights


# The attention size of one additive head. Energies cost batch × heads × T × T × this: on ml-latest-small (SASRec's
# defaults, seed 0, 2.5 minutes, 2 threads, validation NDCG@10) 8 reached 0.065 in 7 epochs and 16 reached 0.053 in
# 6; the head's full width (32) costs about 4× 16's per step (a first version of it: 0.030 in 3 epochs).
ADDITIVE_HEAD_DIM = 8


class AdditiveSelfAttention(nn.Module):
    """The seed's additive attention as a Transformer's self-attention: in head h, the query at position i (y_i)
    reads the keys at positions j (x_j) with

        A_ij = softmax_j(w_o · tanh(W1 x_j + W2 y_i + b)),   out_i = Σ_j A_ij V x_j

    Everything else is MultiHeadSelfAttention's: heads, output projection, masks, zeroed rows that see nothing.
    The weights returned are the ones applied (after masking and softmax, before dropout); there is no fused path.
    """

    def __init__(self, hidden: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.key = nn.Linear(hidden, heads * ADDITIVE_HEAD_DIM)  # W1 x_j + b, every head at once
        self.query = nn.Linear(hidden, heads * ADDITIVE_HEAD_DIM, bias=False)  # W2 y_i
        self.energy = nn.Parameter(torch.empty(heads, ADDITIVE_HEAD_DIM))  # w_o, one per head
        nn.init.normal_(self.energy, std=ADDITIVE_HEAD_DIM ** -0.5)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)
        self.dropout = dropout

    def forward(self, x: torch.Tensor, allowed: torch.Tensor, need_weights: bool = False):
        B, T, D = x.shape
        H = self.heads

        def per_head(t: torch.Tensor) -> torch.Tensor:  # (B, T, H * d) -> (B, H, T, d)
            return t.view(B, T, H, -1).transpose(1, 2)

        # float32 even under bfloat16 autocast: the tanh over (B, H, T, T, d) runs 2-3× slower in bfloat16 on a CPU
        with torch.autocast(x.device.type, enabled=False):
            e = additive_energies(per_head(self.key(x).float()), per_head(self.query(x).float()),
                                  self.energy[:, None])  # (B, H, T, T)
        weights = masked_softmax(e, allowed)
        v = per_head(self.value(x))
        y = F.dropout(weights.to(v.dtype), self.dropout, self.training) @ v
        return self.out(y.transpose(1, 2).reshape(B, T, D)), weights if need_weights else None
