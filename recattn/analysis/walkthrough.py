"""SASRec's forward pass recomputed by hand from the model's own parameters, keeping every intermediate value.

This is what the Learn page shows: each operation of `SequentialTransformer.score` for one history, written out
(the qkv Linear split into W_q, W_k, W_v; LN1 and LN2 before attention and the feed-forward (pre-norm, then a final
LayerNorm) or after each residual (post-norm, the seed's and RecBole's, with a LayerNorm on the embeddings); scores
tied to the item embeddings plus the repeat bias). `block_formulas` gives the formulas of the model's own layout. A test checks that the final scores equal
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

from recattn.models.additive import AdditiveAttention
from recattn.models.transformer import SequentialTransformer, sinusoidal_positions


@dataclass(frozen=True)
class LayerSteps:
    """One block's values for one history (T items, hidden D, H heads of size d = D / H), as float32 arrays."""

    post: bool  # post-norm (LN after each residual) rather than pre-norm (LN before each sub-layer)
    activation: str  # the feed-forward's: "gelu" or "relu"
    x: np.ndarray  # (T, D) the block's input
    ln1: np.ndarray  # (T, D) what attention reads: LN1(x) (pre-norm), or x itself (post-norm)
    q: np.ndarray  # (H, T, d) Q = LN1(x) W_q + b_q, split into heads
    k: np.ndarray  # (H, T, d)
    v: np.ndarray  # (H, T, d)
    scores: np.ndarray  # (H, T, T) Q Kᵀ / √d, before the mask
    allowed: np.ndarray  # (T, T) bool: the causal mask, True where a query may look
    weights: np.ndarray  # (H, T, T) softmax over the allowed keys
    mixed: np.ndarray  # (H, T, d) weights @ V: each head's weighted sum
    concat: np.ndarray  # (T, D) the heads side by side
    attention: np.ndarray  # (T, D) concat W_Oᵀ + b_O
    residual: np.ndarray  # (T, D) x + attention (pre-norm), LN1(x + attention) (post-norm)
    ln2: np.ndarray  # (T, D) what the feed-forward reads: LN2(residual) (pre-norm), or the residual (post-norm)
    ffn: np.ndarray  # (T, D) W_2 act(W_1 · + b_1) + b_2, act GELU or ReLU
    out: np.ndarray  # (T, D) residual + ffn (pre-norm), LN2(residual + ffn) (post-norm): the next block's input


@dataclass(frozen=True)
class Walkthrough:
    """SASRec's computation for one history, from the embeddings to the final scores."""

    item_part: np.ndarray  # (T, D) item embeddings (× √D unless the model does not scale them)
    position_part: np.ndarray  # (T, D) the position rows added (the table's last T rows, or its first T when
    # positions count from the oldest item; zeros when off)
    layers: tuple[LayerSteps, ...]
    final: np.ndarray  # (T, D) LN_f of the last block's output (pre-norm), the output itself (post-norm)
    scores: np.ndarray  # (n_items + 1,) final scores of the last position; column 0 (padding) is -inf
    repeat_bias: float | None  # added to the score of every item already in the history
    scaled: bool  # item embeddings × √D
    position_from: str  # "last": the latest item takes the table's last row; "first": the oldest read takes row 0

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


def block_formulas(norm: str) -> tuple[str, str, str]:
    """The block and the final step as LaTeX, for a model with `norm` "pre" or "post"."""
    if norm == "post":
        return (r"x \leftarrow \mathrm{LN}_1\big(x + \mathrm{MHA}(x)\big)",
                r"x \leftarrow \mathrm{LN}_2\big(x + \mathrm{FFN}(x)\big)", r"h = x")
    return (r"x \leftarrow x + \mathrm{MHA}(\mathrm{LN}_1(x))", r"x \leftarrow x + \mathrm{FFN}(\mathrm{LN}_2(x))",
            r"h = \mathrm{LN}_f(x)")


def _block(block: nn.Module, x: torch.Tensor, allowed: torch.Tensor) -> LayerSteps:
    """One block, operation by operation: pre-norm x + MHA(LN1(x)), then + FFN(LN2(·)); post-norm LN1(x + MHA(x)),
    then LN2(· + FFN(·))."""
    attn, post = block.attn, block.post
    D = x.shape[1]
    a = x if post else _layer_norm(x, block.ln1)
    w_q, w_k, w_v = attn.qkv.weight.split(D)  # the fused Linear holds W_q, W_k, W_v stacked
    b_q, b_k, b_v = attn.qkv.bias.split(D)
    q, k, v = (_heads(a @ w.T + b, attn.heads) for w, b in ((w_q, b_q), (w_k, b_k), (w_v, b_v)))
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
    mixed = weights @ v
    concat = mixed.transpose(0, 1).reshape(x.shape)
    attention = concat @ attn.out.weight.T + attn.out.bias
    residual = _layer_norm(x + attention, block.ln1) if post else x + attention
    n2 = residual if post else _layer_norm(residual, block.ln2)
    up, act, down = block.ffn
    hidden = F.linear(n2, up.weight, up.bias)
    hidden = F.gelu(hidden, approximate=act.approximate) if isinstance(act, nn.GELU) else F.relu(hidden)
    ffn = F.linear(hidden, down.weight, down.bias)
    out = _layer_norm(residual + ffn, block.ln2) if post else residual + ffn
    arrays = [t.detach().numpy() for t in (x, a, q, k, v, scores, allowed, weights, mixed, concat, attention,
                                           residual, n2, ffn, out)]
    return LayerSteps(post, "gelu" if isinstance(act, nn.GELU) else "relu", *arrays)


def walkthrough(model: SequentialTransformer, seq: Sequence[int], positions: bool = True) -> Walkthrough:
    """SASRec's forward pass on one history of model indices (oldest first), recomputed step by step.

    Like `model.score`, the blocks read the last max_len items and the repeat bias applies to every item of the
    whole history. `positions=False` adds zeros instead of the position embeddings: the same model, blind to
    order, computed here without touching the (shared) model.
    """
    cfg = model.config
    if cfg.kind != "sasrec" or cfg.output_head:
        raise ValueError("the walkthrough follows SASRec (dot-product, causal); this model is a " + cfg.kind)
    history = torch.as_tensor(np.asarray(seq, dtype=np.int64))
    idx = history[-cfg.max_len:]
    T, D = len(idx), cfg.hidden
    with torch.no_grad():
        item = model.item_emb.weight[idx] * (math.sqrt(D) if cfg.scale_embeddings else 1.0)
        rows = model.pos_emb[:T] if cfg.position_from == "first" else model.pos_emb[-T:]
        pos = rows.detach().clone() if positions else torch.zeros(T, D)
        allowed = torch.ones(T, T, dtype=torch.bool).tril()  # a query sees itself and the items before it
        x, layers = item + pos, []
        if cfg.norm == "post":
            x = _layer_norm(x, model.ln_emb)
        for block in model.blocks:
            steps = _block(block, x, allowed)
            layers.append(steps)
            x = torch.from_numpy(steps.out)
        final = x if cfg.norm == "post" else _layer_norm(x, model.ln_f)
        scores = model.item_emb.weight[: cfg.n_items + 1] @ final[-1]
        scores[0] = float("-inf")
        bias = None if model.repeat_bias is None else float(model.repeat_bias)
        if bias is not None:
            scores[torch.unique(history)] += bias
    return Walkthrough(item.numpy(), pos.numpy(), tuple(layers), final.numpy(), scores.numpy(), bias,
                       cfg.scale_embeddings, cfg.position_from)


@dataclass(frozen=True)
class CrossAttention:
    """Candidates (rows) reading the history (columns) in the additive model."""

    energies: np.ndarray  # (C, T) w_o · tanh(W1 x_i + b + W2 y_j), before the softmax
    weights: np.ndarray  # (C, T) softmax over the history


def cross_attention(model: AdditiveAttention, seq: Sequence[int], candidates: Sequence[int]) -> CrossAttention:
    """The additive model's energies and weights for some candidate indices over one history of indices,
    recomputed from its parameters: x_i = item × √D + position, W1 = key, W2 = query, w_o = energy."""
    idx = torch.as_tensor(np.asarray(seq, dtype=np.int64))[-model.config.max_len:]
    cand = torch.as_tensor(np.asarray(candidates, dtype=np.int64))
    with torch.no_grad():
        x = model.item_emb.weight[idx] * math.sqrt(model.config.hidden) + model.pos_emb[-len(idx):]
        keys = x @ model.key.weight.T + model.key.bias  # (T, D)
        queries = model.item_emb.weight[cand] @ model.query.weight.T  # (C, D)
        energies = torch.tanh(keys[None] + queries[:, None]) @ model.energy.weight[0]  # (C, T)
        weights = torch.softmax(energies, dim=-1)
    return CrossAttention(energies.numpy(), weights.numpy())


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
