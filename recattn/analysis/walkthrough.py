"""SASRec's forward pass recomputed by hand from the model's own parameters, keeping every intermediate value.

This is what the Learn page shows: each operation of `SequentialTransformer.score` for one history, written out
(the qkv Linear split into W_q, W_k, W_v; pre-norm LN1 before attention and LN2 before the feed-forward; the final
LayerNorm; scores tied to the item embeddings plus the repeat bias). A test checks that the final scores equal
`model.score(...)` and that the softmax weights equal the Attention page's trace, so the walkthrough is the real
computation, not an illustration. Nothing here changes the model: parameters are only read, under no_grad.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from recattn.models.transformer import SequentialTransformer, sinusoidal_positions


@dataclass(frozen=True)
class LayerSteps:
    """One block's values for one history (T items, hidden D, H heads of size d = D / H), as float32 arrays."""

    x: np.ndarray  # (T, D) the block's input
    ln1: np.ndarray  # (T, D) LN1(x): what attention reads (pre-norm)
    q: np.ndarray  # (H, T, d) Q = LN1(x) W_q + b_q, split into heads
    k: np.ndarray  # (H, T, d)
    v: np.ndarray  # (H, T, d)
    scores: np.ndarray  # (H, T, T) Q Kᵀ / √d, before the mask
    allowed: np.ndarray  # (T, T) bool: the causal mask, True where a query may look
    weights: np.ndarray  # (H, T, T) softmax over the allowed keys
    mixed: np.ndarray  # (H, T, d) weights @ V: each head's weighted sum
    concat: np.ndarray  # (T, D) the heads side by side
    attention: np.ndarray  # (T, D) concat W_Oᵀ + b_O
    residual: np.ndarray  # (T, D) x + attention
    ln2: np.ndarray  # (T, D) LN2(residual): what the feed-forward reads
    ffn: np.ndarray  # (T, D) W_2 GELU(W_1 LN2 + b_1) + b_2
    out: np.ndarray  # (T, D) residual + ffn: the next block's input


@dataclass(frozen=True)
class Walkthrough:
    """SASRec's computation for one history, from the embeddings to the final scores."""

    item_part: np.ndarray  # (T, D) item embeddings × √D
    position_part: np.ndarray  # (T, D) the position rows added (the last T rows of the table; zeros when off)
    layers: tuple[LayerSteps, ...]
    final: np.ndarray  # (T, D) LN_f of the last block's output
    scores: np.ndarray  # (n_items + 1,) final scores of the last position; column 0 (padding) is -inf
    repeat_bias: float | None  # added to the score of every item already in the history

    @property
    def weights(self) -> np.ndarray:
        """Softmax weights of every layer and head: (layers, heads, T, T), as in an AttentionTrace."""
        return np.stack([layer.weights for layer in self.layers])


def _layer_norm(x: torch.Tensor, ln: nn.LayerNorm) -> torch.Tensor:
    return F.layer_norm(x, ln.normalized_shape, ln.weight, ln.bias, ln.eps)


def _heads(t: torch.Tensor, heads: int) -> torch.Tensor:
    """(T, D) → (H, T, d): head h reads dimensions h·d … (h + 1)·d − 1."""
    T, D = t.shape
    return t.view(T, heads, D // heads).transpose(0, 1)


def _block(block: nn.Module, x: torch.Tensor, allowed: torch.Tensor) -> LayerSteps:
    """One pre-norm block, operation by operation: x + MHA(LN1(x)), then + FFN(LN2(·))."""
    attn = block.attn
    D = x.shape[1]
    a = _layer_norm(x, block.ln1)
    w_q, w_k, w_v = attn.qkv.weight.split(D)  # the fused Linear holds W_q, W_k, W_v stacked
    b_q, b_k, b_v = attn.qkv.bias.split(D)
    q, k, v = (_heads(a @ w.T + b, attn.heads) for w, b in ((w_q, b_q), (w_k, b_k), (w_v, b_v)))
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
    mixed = weights @ v
    concat = mixed.transpose(0, 1).reshape(x.shape)
    attention = concat @ attn.out.weight.T + attn.out.bias
    residual = x + attention
    n2 = _layer_norm(residual, block.ln2)
    up, act, down = block.ffn
    ffn = F.linear(F.gelu(F.linear(n2, up.weight, up.bias), approximate=act.approximate), down.weight, down.bias)
    arrays = [t.detach().numpy() for t in (x, a, q, k, v, scores, allowed, weights, mixed, concat, attention,
                                           residual, n2, ffn, residual + ffn)]
    return LayerSteps(*arrays)


def walkthrough(model: SequentialTransformer, seq: Sequence[int], positions: bool = True) -> Walkthrough:
    """SASRec's forward pass on one history of model indices (oldest first), recomputed step by step.

    Like `model.score`, the blocks read the last max_len items and the repeat bias applies to every item of the
    whole history. `positions=False` adds zeros instead of the position embeddings: the same model, blind to
    order, computed here without touching the (shared) model.
    """
    if not model.causal:
        raise ValueError("the walkthrough follows SASRec (causal); BERT4Rec reads a mask slot as well")
    cfg = model.config
    history = torch.as_tensor(np.asarray(seq, dtype=np.int64))
    idx = history[-cfg.max_len:]
    T, D = len(idx), cfg.hidden
    with torch.no_grad():
        item = model.item_emb.weight[idx] * math.sqrt(D)
        pos = model.pos_emb[-T:].detach().clone() if positions else torch.zeros(T, D)
        allowed = torch.ones(T, T, dtype=torch.bool).tril()  # a query sees itself and the items before it
        x, layers = item + pos, []
        for block in model.blocks:
            steps = _block(block, x, allowed)
            layers.append(steps)
            x = torch.from_numpy(steps.out)
        final = _layer_norm(x, model.ln_f)
        scores = model.item_emb.weight[: cfg.n_items + 1] @ final[-1]
        scores[0] = float("-inf")
        bias = None if model.repeat_bias is None else float(model.repeat_bias)
        if bias is not None:
            scores[torch.unique(history)] += bias
    return Walkthrough(item.numpy(), pos.numpy(), tuple(layers), final.numpy(), scores.numpy(), bias)


def position_tables(model: nn.Module) -> tuple[np.ndarray, np.ndarray | None]:
    """The sinusoidal table for the model's shape, and its learned table (None when it uses the sinusoidal one)."""
    cfg = model.config
    sinusoidal = sinusoidal_positions(cfg.max_len, cfg.hidden).numpy()
    learned = model.pos_emb.detach().numpy().copy() if cfg.position == "learned" else None
    return sinusoidal, learned


def cosine_similarity(table: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row with every other: (n, D) → (n, n)."""
    unit = table / np.maximum(np.linalg.norm(table, axis=1, keepdims=True), 1e-12)
    return unit @ unit.T
