"""Explanations of one recommendation, one weight per history item, by several methods; head diagnostics and
ablation; the smallest removal from the history that pushes an item out of the top-k.

Conventions: `seq` is one history of item indices, oldest first, left-padded with 0 (an array, list or tensor of
shape (T,)); the model reads its last `max_len` positions. `item` is a catalogue index (1..n_items). Every weight
vector is a numpy array of shape (T,) aligned with `seq`: 0 at padding, and 0 from the attention methods for
positions before the model's window. Ranks are 1-based and ranked as the app ranks: the history's own items are
left out (each variant of a history by its own items). Layers and heads are 0-based here; people read them +1.

Public API:
    METHODS = (ATTENTION, VALUE_NORM, ROLLOUT, OCCLUSION, GRAD_X_INPUT, INTEGRATED_GRADIENTS)
            = ("attention", "rollout", "occlusion", "grad_x_input", "integrated_gradients")
    IG_STEPS = 32, TARGET_IG_STEPS = 4                                     integrated-gradients steps by default
    Explanation(method, weights (T,), signed)
    applicable_methods(model) -> tuple[str, ...]
    explain(model, seq, item, methods=None) -> tuple[Explanation, ...]     every applicable method (or `methods`)
    explain_all(model, seq, item) -> dict[str, np.ndarray]                 method name -> weights (T,), including
        per-layer "attention_L{l}" and per-head "attention_L{l}H{h}" rows (1-based) for self-attention models
    attention_rows(model, seq, item) -> np.ndarray (layers, heads, T)      the row that scored `item`
    rollout(maps) -> np.ndarray (Q, Q)                                     maps: per layer (heads, Q, Q)
    attention_rollout(model, seq, item) -> np.ndarray (T,)
    value_norms(model, seq) -> np.ndarray (T,)                             ‖Σ_h α f_h(x_j)‖ of the scoring row
    occlusion(model, seq, item) -> Occlusion(score_before, rank_before, score_drop (T,), rank_change (T,))
    contrastive_occlusion(model, seq, item, other) -> np.ndarray (T,)      drop of score(item) − score(other)
    gradients(model, seq, item, steps=None) -> Gradients(grad_x_input (T,), integrated (T,), score, baseline)
    ranks(scores (B, V), seqs (B, T), item) -> torch.Tensor (B,)           1-based, seen items left out
    top_k(scores (B, V), seqs (B, T), k) -> torch.Tensor (B, k)
    removal_rows(seq) -> np.ndarray (T, T)                                 row i: seq without position i
    attention_layers(model) -> list of its self-attention layers (dot-product or additive), first first
    heads_masked(model, mask)                                              context: scale each head's output
    head_stats(model, seqs) -> tuple[HeadStats, ...]                       per (layer, head); seqs (T,) or (B, T)
    ablate_heads(model, seq, item, k=10) -> tuple[HeadAblation, ...]       most consequential head first
    counterfactual(model, seq, item, k=10, max_removals=5) -> Counterfactual(item, k, removed_positions,
        removed_items, rank_before, rank_after, history_after (T,), found)
    score_batch(model, rows (B, T), attention=False) -> ModelOutput     eval mode, no gradients
    as_batch(seqs) -> np.ndarray (B, T); device_of(model); evaluating(model): context, eval mode then restored
HeadStats(layer, head, entropy_last, entropy_rows, newest_weight, lookback);
HeadAblation(layer, head, overlap, rank_before, rank, score_change).

Nothing here changes the model: hooks live only inside a call and act only in the calling thread (a model shared
by several app sessions is untouched for the others), gradients are taken with autograd.grad (no .grad left on
the parameters), and the train/eval mode is restored.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from recattn.models.attention import AdditiveSelfAttention, MultiHeadSelfAttention
from recattn import ranking
from recattn.models import registry
from recattn.models.output import ModelOutput

ATTENTION = "attention"  # the scoring row of the last layer, mean over heads (additive: the item's own row)
ROLLOUT = "rollout"
# the scoring row of the last layer read as the layer uses it: ‖Σ_h α_h,j f_h(x_j)‖, each head's weight times the
# norm of what it carries from item j (its value through its slice of the output projection; Kobayashi et al., 2020)
VALUE_NORM = "value_norm"
OCCLUSION = "occlusion"
GRAD_X_INPUT = "grad_x_input"
INTEGRATED_GRADIENTS = "integrated_gradients"
METHODS = (ATTENTION, VALUE_NORM, ROLLOUT, OCCLUSION, GRAD_X_INPUT, INTEGRATED_GRADIENTS)
# Midpoint Riemann steps of integrated gradients. Target attention scores every candidate with its own row, so a
# step costs ~100x a Transformer's (0.1 s on the shipped films-additive); its paths are smooth enough that 4 steps
# keep completeness within 0.3% there, and 32 steps keep a Transformer within 1% in ~30 ms.
IG_STEPS = 32
TARGET_IG_STEPS = 4
# Rows of embeddings x candidates x positions x hidden one gradient pass may hold (target attention scores
# every candidate separately: 2**25 float32 is 128 MiB per saved intermediate).
GRADIENT_ELEMENTS = 1 << 25


@dataclass(frozen=True)
class Explanation:
    """One method's weight for each history position of one recommendation."""

    method: str  # a name from METHODS, or "attention_L{l}" / "attention_L{l}H{h}" (1-based)
    weights: np.ndarray  # (T,), oldest first; 0 at padding
    signed: bool  # True when a weight can be negative (the item pushed the recommendation down)


@dataclass(frozen=True)
class Occlusion:
    """What removing each history item does to one item's score and rank (one batched forward)."""

    score_before: float
    rank_before: int
    score_drop: np.ndarray  # (T,) score with the history − score without position i (0 at padding)
    rank_change: np.ndarray  # (T,) rank without position i − rank with it (> 0: the item falls; 0 at padding)


@dataclass(frozen=True)
class Gradients:
    """Gradient × input and integrated gradients on the history's item embeddings, for one item's score."""

    grad_x_input: np.ndarray  # (T,) Σ_hidden ∂score/∂e_i · e_i
    integrated: np.ndarray | None  # (T,) e_i · mean over the path α e of ∂score/∂e_i (zero-embedding baseline);
    # None when asked for no steps
    score: float  # the score with the history's embeddings
    baseline: float  # the score with every history embedding zeroed (positions and masks kept)


@dataclass(frozen=True)
class HeadStats:
    """How one head reads histories (means over the histories given)."""

    layer: int
    head: int
    entropy_last: float  # nats, of the row that scores the next item
    entropy_rows: float  # nats, mean over every query row that sees at least one key
    newest_weight: float  # the scoring row's weight on the newest history item
    lookback: float  # the scoring row's mean distance back, in items (0 = the newest), over history keys


@dataclass(frozen=True)
class HeadAblation:
    """The top-k and one item's rank with one head's output zeroed."""

    layer: int
    head: int
    overlap: float  # share of the top-k that stays in the top-k
    rank_before: int
    rank: int  # the item's rank with the head zeroed
    score_change: float  # the item's score with the head zeroed − without


@dataclass(frozen=True)
class Counterfactual:
    """The fewest history items (greedy) whose removal pushes `item` out of the top-k."""

    item: int
    k: int
    removed_positions: tuple[int, ...]  # positions in the original `seq`, in the order they were removed
    removed_items: tuple[int, ...]  # the item indices at those positions
    rank_before: int
    rank_after: int  # from a fresh forward on `history_after`, not from the search's batch
    history_after: np.ndarray  # (T,) the history without them, left-padded to the same length
    found: bool  # whether rank_after > k (False: max_removals were not enough; the best attempt is kept)


# ----------------------------------------------------------------------------------------------------------------
# shared pieces


def _as_seq(seq) -> np.ndarray:
    """One history as an int64 array (T,)."""
    if isinstance(seq, torch.Tensor):
        seq = seq.detach().cpu().numpy()
    seq = np.array(seq, dtype=np.int64)  # a writable copy: torch refuses read-only arrays
    if seq.ndim != 1:
        raise ValueError(f"a history is one sequence of shape (T,), not {seq.shape}")
    return seq


def as_batch(seqs) -> np.ndarray:
    """Histories as an int64 array (B, T); one history (T,) becomes (1, T)."""
    if isinstance(seqs, torch.Tensor):
        seqs = seqs.detach().cpu().numpy()
    seqs = np.array(seqs, dtype=np.int64)
    return seqs[None] if seqs.ndim == 1 else seqs


def device_of(model: nn.Module) -> torch.device:
    """Where the model's parameters (or, for the count-based baselines, its buffers) live."""
    for t in (*model.parameters(), *model.buffers()):
        return t.device
    return torch.device("cpu")


@contextmanager
def evaluating(model: nn.Module) -> Iterator[None]:
    """Eval mode (no dropout) for the duration, then the mode it had."""
    was = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was)


def score_batch(model: nn.Module, rows: np.ndarray, attention: bool = False) -> ModelOutput:
    """model.score on histories (B, T) without gradients, in eval mode."""
    with evaluating(model), torch.inference_mode():
        return model.score(torch.tensor(rows, device=device_of(model)), return_attention=attention)


def _thread_hook(hook):
    """A module hook that acts only in the thread that made it: other sessions sharing the model are untouched."""
    owner = threading.get_ident()

    def guarded(*args):
        return hook(*args) if threading.get_ident() == owner else None

    return guarded


def ranks(scores: torch.Tensor, seqs, item: int) -> torch.Tensor:
    """The 1-based rank of `item` in each row of scores (B, n_items + 1), each row's own history (B, T) left out:
    1 + how many eligible items score strictly higher. Padding and non-finite scores never count."""
    own = scores.detach().float()[:, item]
    s = ranking.eligible(scores, as_batch(seqs))
    s[:, item] = float("-inf")
    return 1 + (s > own[:, None]).sum(1)


def top_k(scores: torch.Tensor, seqs, k: int) -> torch.Tensor:
    """The indices of the k best items per row (B, k), each row's own history (B, T) and padding left out."""
    return ranking.eligible(scores, as_batch(seqs)).topk(k, dim=1).indices


def removal_rows(seq) -> np.ndarray:
    """(T, T): row i is `seq` without position i, left-padded again (the older items move one step right)."""
    seq = _as_seq(seq)
    T = len(seq)
    rows = np.zeros((T, T), dtype=np.int64)
    for i in range(T):
        rows[i, 1:] = np.delete(seq, i)
    return rows


def _tail(values: np.ndarray, T: int) -> np.ndarray:
    """Values (..., K) for the last K positions placed in a zero array (..., T)."""
    out = np.zeros(values.shape[:-1] + (T,), dtype=np.float64)
    K = values.shape[-1]
    if K:
        out[..., T - K:] = values
    return out


def _has_item_embedding(model: nn.Module) -> bool:
    """Whether the kind learns a vector per item (gradient methods perturb them)."""
    return registry.get(model.config.kind).item_vectors


def attention_layers(model: nn.Module) -> list[MultiHeadSelfAttention | AdditiveSelfAttention]:
    """The self-attention layers, dot-product or additive: both put their heads side by side before `out`."""
    return [m for m in model.modules() if isinstance(m, (MultiHeadSelfAttention, AdditiveSelfAttention))]


# ----------------------------------------------------------------------------------------------------------------
# attention and rollout


def _scoring_rows(out: ModelOutput, item: int, T: int) -> np.ndarray:
    """The attention row that scored `item`, per layer and head, over a history of T positions: (layers, heads, T).

    Self-attention scores with its last query row; BERT4Rec's last key is its own mask slot, not a history item,
    and is dropped. Target attention scores each candidate with that candidate's own row."""
    rows = []
    for m in out.attention:
        row = m[0, :, item if out.kind == "target" else -1, :].float().cpu().numpy()  # (H, K)
        rows.append(_tail(row[:, :-1] if out.kind == "bidirectional" else row, T))
    return np.stack(rows)


def attention_rows(model: nn.Module, seq, item: int) -> np.ndarray:
    """The attention row that scored `item`, per layer and head, over the history: (layers, heads, T).
    ValueError for a model without attention."""
    seq = _as_seq(seq)
    out = score_batch(model, seq[None], attention=True)
    if out.attention is None:
        raise ValueError(f"a model with attention kind {out.kind!r} has no attention to explain with")
    return _scoring_rows(out, item, len(seq))


def rollout(maps: Sequence[np.ndarray]) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020) of self-attention maps, one (heads, Q, Q) per layer, first layer
    first: per layer Â = rows-renormalised 0.5·mean_heads(A) + 0.5·I (the residual), then Â_L ··· Â_1: (Q, Q).
    A query row that sees nothing (left padding under a causal mask) keeps only its residual."""
    flow = None
    for m in maps:
        a = np.asarray(m, dtype=np.float64).mean(0)  # (Q, Q)
        a = 0.5 * a + 0.5 * np.eye(len(a))
        a = a / a.sum(-1, keepdims=True)
        flow = a if flow is None else a @ flow
    return flow


def _rollout_row(out: ModelOutput, T: int) -> np.ndarray:
    """The scoring (last) row of the rollout over a history of T positions, the mask slot's own column dropped."""
    if out.attention is None or out.kind not in ("causal", "bidirectional") or any(
            m.shape[-2] != m.shape[-1] for m in out.attention):
        raise ValueError(f"rollout needs self-attention over the history, not attention kind {out.kind!r}")
    row = rollout([m[0].float().cpu().numpy() for m in out.attention])[-1]
    return _tail(row[:-1] if out.kind == "bidirectional" else row, T)


def attention_rollout(model: nn.Module, seq, item: int) -> np.ndarray:
    """The scoring row of the rollout over the history (T,); the same for every item of self-attention.
    ValueError for a model without square self-attention maps (target attention, no attention)."""
    seq = _as_seq(seq)
    return _rollout_row(score_batch(model, seq[None], attention=True), len(seq))


def _carried(layer: MultiHeadSelfAttention | AdditiveSelfAttention, x: torch.Tensor) -> torch.Tensor:
    """f_h(x_j) for one history (x: (1, K, D), what the layer read): each head's value vector through its columns of
    the output projection, (H, K, D); the projection's bias is shared by every key and left out."""
    _, K, D = x.shape
    H = layer.heads
    v = layer.qkv(x)[..., 2 * D:] if isinstance(layer, MultiHeadSelfAttention) else layer.value(x)
    return torch.einsum("khd,ohd->hko", v.view(K, H, D // H), layer.out.weight.view(D, H, D // H))


def value_norms(model: nn.Module, seq) -> np.ndarray:
    """The last layer's scoring row weighted by what each key carries: ‖Σ_h α_h,j f_h(x_j)‖ per history position
    (T,), from the same forward pass as the weights (the layer's input is captured there). ValueError for a model
    without self-attention layers."""
    seq = _as_seq(seq)
    layers = attention_layers(model)
    if not layers or model.attention_kind not in ("causal", "bidirectional"):
        raise ValueError(f"the value-norm reading needs self-attention layers, not attention kind "
                         f"{model.attention_kind!r}")
    read: list[torch.Tensor] = []
    handle = layers[-1].register_forward_pre_hook(_thread_hook(lambda module, args: read.append(args[0])))
    try:
        out = score_batch(model, seq[None], attention=True)
    finally:
        handle.remove()
    with evaluating(model), torch.inference_mode():
        carried = _carried(layers[-1], read[-1].float())  # (H, K, D)
        alpha = out.attention[-1][0, :, -1, :].float()  # (H, K): the scoring row
        norms = torch.einsum("hk,hko->ko", alpha, carried).norm(dim=-1).cpu().numpy()
    return _tail(norms[:-1] if out.kind == "bidirectional" else norms, len(seq))  # BERT4Rec: not its own slot


# ----------------------------------------------------------------------------------------------------------------
# occlusion


def occlusion(model: nn.Module, seq, item: int) -> Occlusion:
    """Remove each history item in turn (re-packed, left-padded) and re-score, all in ONE batched forward."""
    seq = _as_seq(seq)
    real = np.flatnonzero(seq)
    rows = np.concatenate([seq[None], removal_rows(seq)[real]])  # (1 + n, T)
    scores = score_batch(model, rows).scores
    s = scores[:, item].float().cpu().numpy()
    r = ranks(scores, rows, item).cpu().numpy()
    drop, change = np.zeros(len(seq)), np.zeros(len(seq), dtype=np.int64)
    drop[real], change[real] = s[0] - s[1:], r[1:] - r[0]
    return Occlusion(float(s[0]), int(r[0]), drop, change)


def contrastive_occlusion(model: nn.Module, seq, item: int, other: int) -> np.ndarray:
    """Why `item` rather than `other`: how much score(item) − score(other) drops when each history item is removed
    (T,), 0 at padding; above 0 the item pushed `item` ahead of `other`. One batched forward."""
    seq = _as_seq(seq)
    real = np.flatnonzero(seq)
    rows = np.concatenate([seq[None], removal_rows(seq)[real]])
    scores = score_batch(model, rows).scores.float()
    gap = (scores[:, item] - scores[:, other]).cpu().numpy()
    drop = np.zeros(len(seq))
    drop[real] = gap[0] - gap[1:]
    return drop


# ----------------------------------------------------------------------------------------------------------------
# gradients


@contextmanager
def _scaled_history(model: nn.Module, alphas: torch.Tensor, captured: list) -> Iterator[None]:
    """Within the context, the first embedding lookup of a batch of histories (the model's history embedding;
    2-D ids) returns α_b · e for every history item of row b (padding and a mask slot keep theirs), as a leaf
    that requires grad. `captured` receives (ids (B, L), e (B, L, D), the leaf). A forward hook: no model change."""
    n_items = model.config.n_items

    def hook(module, args, out):
        ids = args[0]
        if captured or ids.dim() != 2:  # candidate lookups (1-D ids) and later calls are left alone
            return None
        e = out.detach()
        history = ((ids >= 1) & (ids <= n_items))[..., None]  # (B, L, 1)
        leaf = torch.where(history, e * alphas[:, None, None].to(e.dtype), e).requires_grad_()
        captured.append((ids, e, leaf))
        return leaf

    handle = model.item_emb.register_forward_hook(_thread_hook(hook))
    try:
        yield
    finally:
        handle.remove()


def _path_attributions(model: nn.Module, seq: np.ndarray, item: int, alphas: np.ndarray):
    """For each α: item's score with the history embeddings scaled by α, and Σ_hidden ∂score/∂(αe)_i · e_i per
    history position (T,). Rows go in groups whose size bounds memory (target attention scores every candidate)."""
    T = len(seq)
    device = device_of(model)
    cfg = model.config
    per_row = max(1, min(T, cfg.max_len)) * cfg.hidden * ((cfg.n_items + 1) if model.attention_kind == "target" else 1)
    group = max(1, GRADIENT_ELEMENTS // per_row)
    scores, attributions = [], []
    with evaluating(model), torch.inference_mode(False), torch.enable_grad():
        for start in range(0, len(alphas), group):
            a = torch.as_tensor(alphas[start:start + group], dtype=torch.float32, device=device)
            rows = torch.as_tensor(np.repeat(seq[None], len(a), 0), device=device)
            captured: list = []
            with _scaled_history(model, a, captured):
                f = model.score(rows).scores[:, item]  # (G,)
            ids, e, leaf = captured[0]
            (grad,) = torch.autograd.grad(f.sum(), leaf)  # rows are independent: each gets its own gradient
            slots = ((ids >= 1) & (ids <= cfg.n_items))[0].cpu().numpy()  # (L,) the history items' slots
            per_slot = (grad * e).sum(-1).float().cpu().numpy()[:, slots]  # (G, n) in history order
            out = np.zeros((len(a), T))
            # the model embeds the last n history items in order (padding may move, as in the GRU's rotation)
            real = np.flatnonzero(seq)
            out[:, real[len(real) - per_slot.shape[1]:]] = per_slot
            scores.append(f.detach().float().cpu().numpy())
            attributions.append(out)
    return np.concatenate(scores), np.concatenate(attributions)


def gradients(model: nn.Module, seq, item: int, steps: int | None = None) -> Gradients:
    """Gradient × input and integrated gradients (zero-embedding baseline, `steps` midpoint steps, by default
    IG_STEPS or TARGET_IG_STEPS for target attention; 0: none) on the item embeddings of the history, for `item`'s
    score: one batched forward and backward of steps + 2 rows.
    ValueError for a model without item embeddings (the count-based baselines)."""
    if not _has_item_embedding(model):
        raise ValueError(f"{type(model).__name__} has no item embeddings to take gradients on")
    seq = _as_seq(seq)
    if steps is None:
        steps = TARGET_IG_STEPS if model.attention_kind == "target" else IG_STEPS
    alphas = np.concatenate([[1.0, 0.0], (np.arange(steps) + 0.5) / steps])
    f, attr = _path_attributions(model, seq, item, alphas)
    return Gradients(attr[0], attr[2:].mean(0) if steps else None, float(f[0]), float(f[1]))


# ----------------------------------------------------------------------------------------------------------------
# every method at once


def applicable_methods(model: nn.Module) -> tuple[str, ...]:
    """The methods of METHODS that apply to this model: attention needs attention, the value-norm reading and
    rollout self-attention layers,
    gradients item embeddings; occlusion applies to every model."""
    kind = model.attention_kind
    methods = [ATTENTION] if kind != "none" else []
    if kind in ("causal", "bidirectional") and len(attention_layers(model)) > 0:
        methods += [VALUE_NORM, ROLLOUT]
    methods.append(OCCLUSION)
    if _has_item_embedding(model):
        methods += [GRAD_X_INPUT, INTEGRATED_GRADIENTS]
    return tuple(methods)


def explain(model: nn.Module, seq, item: int, methods: Sequence[str] | None = None) -> tuple[Explanation, ...]:
    """The explanations of `item` after `seq` by `methods` (default: every applicable one). Self-attention models
    also get their per-layer and per-head rows ("attention_L{l}", "attention_L{l}H{h}", 1-based) with ATTENTION."""
    methods = applicable_methods(model) if methods is None else tuple(methods)
    seq = _as_seq(seq)
    out: list[Explanation] = []
    traced = score_batch(model, seq[None], attention=True) if {ATTENTION, ROLLOUT} & set(methods) else None
    if ATTENTION in methods:
        if traced.attention is None:
            raise ValueError(f"a model with attention kind {traced.kind!r} has no attention to explain with")
        rows = _scoring_rows(traced, item, len(seq))  # (L, H, T)
        out.append(Explanation(ATTENTION, rows[-1].mean(0), False))
        if rows.shape[0] * rows.shape[1] > 1:
            for layer, heads in enumerate(rows):
                out.append(Explanation(f"attention_L{layer + 1}", heads.mean(0), False))
                out += [Explanation(f"attention_L{layer + 1}H{h + 1}", w, False) for h, w in enumerate(heads)]
    if VALUE_NORM in methods:
        out.append(Explanation(VALUE_NORM, value_norms(model, seq), False))
    if ROLLOUT in methods:
        out.append(Explanation(ROLLOUT, _rollout_row(traced, len(seq)), False))
    if OCCLUSION in methods:
        out.append(Explanation(OCCLUSION, occlusion(model, seq, item).score_drop, True))
    if GRAD_X_INPUT in methods or INTEGRATED_GRADIENTS in methods:
        g = gradients(model, seq, item, None if INTEGRATED_GRADIENTS in methods else 0)  # one pass for both
        if GRAD_X_INPUT in methods:
            out.append(Explanation(GRAD_X_INPUT, g.grad_x_input, True))
        if INTEGRATED_GRADIENTS in methods:
            out.append(Explanation(INTEGRATED_GRADIENTS, g.integrated, True))
    return tuple(out)


def explain_all(model: nn.Module, seq, item: int) -> dict[str, np.ndarray]:
    """Every applicable method's weights (T,) for `item` after `seq`, by name (see `explain`)."""
    return {e.method: e.weights for e in explain(model, seq, item)}


# ----------------------------------------------------------------------------------------------------------------
# heads


@contextmanager
def heads_masked(model: nn.Module, mask) -> Iterator[None]:
    """Within the context, each self-attention head's output is multiplied by `mask` before the output
    projection: mask (layers, heads) for every row, or (B, layers, heads) per row of the batch. 0 ablates a
    head, 1 keeps it. A forward pre-hook on each layer's output projection: no model change, nothing when unused."""
    layers = attention_layers(model)
    mask = torch.as_tensor(mask, dtype=torch.float32, device=device_of(model))
    handles = []
    for index, attn in enumerate(layers):
        def pre(module, args, index=index, heads=attn.heads):
            (y,) = args  # (B, T, D): the heads side by side
            B, T, D = y.shape
            m = mask[..., index, :].reshape(-1, 1, heads, 1).to(y.dtype)  # (1 or B, 1, H, 1)
            return ((y.view(B, T, heads, D // heads) * m).reshape(B, T, D),)

        handles.append(attn.out.register_forward_pre_hook(_thread_hook(pre)))
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def _entropy(w: np.ndarray) -> np.ndarray:
    """Entropy in nats of each row of w (..., K), zero weights contributing nothing."""
    return -(w * np.log(np.where(w > 0, w, 1.0))).sum(-1)


def head_stats(model: nn.Module, seqs) -> tuple[HeadStats, ...]:
    """Per (layer, head), means over the histories seqs ((T,) or (B, T)): entropy of the scoring row and of every
    row that sees something, the scoring row's weight on the newest item and its mean look-back distance.
    Empty for a model without self-attention (target attention has a row per candidate, no scoring row)."""
    seqs = as_batch(seqs)
    out = score_batch(model, seqs, attention=True)
    if out.attention is None or out.kind == "target":
        return ()
    stats = []
    for layer, m in enumerate(out.attention):
        w = m.float().cpu().numpy()  # (B, H, Q, K)
        last = w[:, :, -1, :]  # (B, H, K)
        if out.kind == "bidirectional":
            last = last[..., :-1]  # the mask slot's weight on itself is no history item
        K = last.shape[-1]
        distance = np.arange(K)[::-1]  # 0 = the newest history key
        mass = np.maximum(last.sum(-1), 1e-12)
        seen = w.sum(-1) > 0  # (B, H, Q) rows that see at least one key
        rows_entropy = np.where(seen, _entropy(w), 0).sum((0, 2)) / np.maximum(seen.sum((0, 2)), 1)  # (H,)
        for h in range(w.shape[1]):
            stats.append(HeadStats(
                layer, h,
                entropy_last=float(_entropy(w[:, h, -1, :]).mean()),
                entropy_rows=float(rows_entropy[h]),
                newest_weight=float(last[:, h, -1].mean()),
                lookback=float(((last[:, h] * distance).sum(-1) / mass[:, h]).mean()),
            ))
    return tuple(stats)


def ablate_heads(model: nn.Module, seq, item: int, k: int = 10) -> tuple[HeadAblation, ...]:
    """Zero each head in turn (one batched forward of 1 + layers × heads rows) and compare the top-k and
    `item`'s rank with the intact model's; the head whose ablation changes the most comes first (top-k overlap
    lost, then the rank moved, then the score moved). Empty for a model without multi-head self-attention."""
    seq = _as_seq(seq)
    layers = attention_layers(model)
    if not layers:
        return ()
    L, H = len(layers), layers[0].heads
    mask = np.ones((1 + L * H, L, H), dtype=np.float32)
    for j in range(L * H):
        mask[1 + j, j // H, j % H] = 0.0
    rows = np.repeat(seq[None], len(mask), 0)
    with heads_masked(model, mask):
        scores = score_batch(model, rows).scores
    top = top_k(scores, rows, k).cpu().numpy()
    r = ranks(scores, rows, item).cpu().numpy()
    s = scores[:, item].float().cpu().numpy()
    found = [HeadAblation(j // H, j % H, len(set(top[0]) & set(top[1 + j])) / top.shape[1], int(r[0]),
                          int(r[1 + j]), float(s[1 + j] - s[0])) for j in range(L * H)]
    return tuple(sorted(found, key=lambda a: (a.overlap, -abs(a.rank - a.rank_before), -abs(a.score_change))))


# ----------------------------------------------------------------------------------------------------------------
# counterfactual


def counterfactual(model: nn.Module, seq, item: int, k: int = 10, max_removals: int = 5) -> Counterfactual:
    """Greedily remove the history item whose removal ranks `item` lowest (one batched forward over the remaining
    items a step) until `item` leaves the top-k or `max_removals` are gone. The final rank comes from a fresh
    forward on the history without them, so `found` is what the app will show when the removal is applied."""
    seq = _as_seq(seq)
    current, origin = seq.copy(), np.arange(len(seq))  # origin: each slot's position in `seq` (-1: new padding)
    rank_before = int(ranks(score_batch(model, seq[None]).scores, seq[None], item)[0])
    removed: list[int] = []
    rank = rank_before
    while rank <= k and len(removed) < max_removals and current.any():
        real = np.flatnonzero(current)
        rows = removal_rows(current)[real]
        scores = score_batch(model, rows).scores
        r = ranks(scores, rows, item).cpu().numpy()
        s = scores[:, item].float().cpu().numpy()
        best = max(range(len(real)), key=lambda j: (r[j], -s[j]))  # lowest rank, then lowest score
        removed.append(int(origin[real[best]]))
        current, rank = rows[best], int(r[best])
        origin = np.concatenate([[-1], np.delete(origin, real[best])])
    rank_after = int(ranks(score_batch(model, current[None]).scores, current[None], item)[0])
    return Counterfactual(item, k, tuple(removed), tuple(int(seq[p]) for p in removed), rank_before, rank_after,
                          current, rank_after > k)
