"""Training targets and losses: the only place where next-item (SASRec) and masked-item (BERT4Rec) differ.

A batch is (inputs, targets), both (batch, T) with 0 where there is nothing to predict.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from recattn.data.sequences import left_pad
from recattn.models import registry


def training_windows(train_seqs, max_len: int, causal: bool, stride: int | None = None) -> list[tuple[np.ndarray, int]]:
    """Cut each training sequence into windows so that long histories are used whole, not only their tail.

    Returns (window, fresh) pairs: a causal window holds max_len + 1 items (inputs and shifted targets) and
    only its last `fresh` targets are trained. Windows start every `stride` items (default max_len), so
    with a shorter stride each target is predicted once, from at least max_len - stride + 1 items of
    context, as it is at recommendation time, instead of from a context cut short by the window's start.
    Masked windows hold max_len items, every item a candidate target; they never overlap.
    """
    span = max_len + 1 if causal else max_len
    step = min(stride or max_len, max_len) if causal else max_len  # masked windows have no fresh part: no overlap
    out = []
    for s in train_seqs:
        end = len(s)
        while end >= 2:
            start = max(0, end - span)
            fresh = (end - start - 1 if start == 0 else step) if causal else end - start
            out.append((s[start:end], fresh))
            if start == 0:  # this window reaches the first item: nothing earlier is left to train
                break
            end -= step
    return out


def next_item_batch(windows: list[tuple[np.ndarray, int]], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """SASRec: predict item t + 1 from items up to t, at each window's fresh positions."""
    inputs = left_pad([w[:-1] for w, _ in windows], max_len)
    targets = left_pad([w[1:] for w, _ in windows], max_len)
    fresh = np.array([f for _, f in windows])
    targets[np.arange(max_len)[None, :] < max_len - fresh[:, None]] = 0
    return inputs, targets


def masked_item_batch(windows: list[tuple[np.ndarray, int]], max_len: int, mask_token: int, mask_prob: float,
                      rng: np.random.Generator):
    """BERT4Rec (cloze): hide a random mask_prob of the items and predict them. Each window also has its
    last item hidden, so the model learns the position it is asked about at recommendation time."""
    inputs = left_pad([w for w, _ in windows], max_len)
    present = inputs != 0
    hide = (rng.random(inputs.shape) < mask_prob) & present
    hide[:, -1] |= present[:, -1]
    targets = np.where(hide, inputs, 0)
    inputs = np.where(hide, mask_token, inputs)
    return inputs, targets


class ScoreBuffer:
    """Memory for `catalogue_cross_entropy`'s N × items scores, kept from one training step to the next.

    On a CPU, fresh memory of that size (66 MB a step on ml-latest-small) is mapped by the allocator and faulted
    in page by page on every step, a sixth of the loss's time there; a training loop keeps one buffer instead.
    Held from a forward pass until its backward pass; a forward pass that finds it held gets fresh memory.
    """

    def __init__(self):
        self._data: torch.Tensor | None = None
        self.held = False

    def take(self, n: int, width: int, device: torch.device) -> torch.Tensor:
        """An (n, width) float32 tensor to write into: the kept memory when it is free, large enough and there."""
        if self.held:
            return torch.empty(n, width, dtype=torch.float32, device=device)
        if self._data is None or self._data.numel() < n * width or self._data.device != device:
            self._data = torch.empty(n * width, dtype=torch.float32, device=device)
        self.held = True
        return self._data[: n * width].view(n, width)


class _CatalogueCrossEntropy(torch.autograd.Function):
    """The scores, the loss and its gradient in one N × items tensor, written once and read twice.

    Autograd's chain (matmul, the in-place -inf column and repeat offset, log_softmax, gather) writes five or six
    N × items tensors each way. Here the forward pass turns each block of rows' scores into d loss / d scores in
    place (blocks of about 8 MB on a CPU, where the passes over a block stay in cache) and the backward pass only
    scales it through two matrix products: on ml-latest-small about half the chain's time (benchmarks/README.md).
    """

    @staticmethod
    def forward(ctx, hidden, table, targets, smoothing, seen, bias, buffer):
        n, width = len(hidden), len(table)
        rows = n if hidden.is_cuda else max(1, 2**21 // width)
        grad = buffer.take(n, width, hidden.device) if buffer is not None else torch.empty(
            n, width, dtype=torch.float32, device=hidden.device)
        total = torch.zeros((), dtype=torch.float64, device=hidden.device)
        hit = torch.full((min(rows, n), 1), smoothing - 1.0, device=hidden.device)
        for s in range(0, n, rows):
            block = slice(s, s + rows)
            z = grad[block]  # (b, width): the scores, then the loss's gradient
            if hidden.dtype == torch.float32:
                torch.mm(hidden[block], table.T, out=z)
            else:  # autocast's (or the caller's) dtype: the product in it, everything after in float32
                z.copy_(hidden[block] @ table.T)
            if seen is not None:  # the repeat offset; 0 entries land on column 0, set to -inf below
                z.scatter_add_(1, seen[block], bias.float().expand(seen[block].shape))
            picked = z.gather(1, targets[block, None])[:, 0]
            spread = (z.sum(-1) - z[:, 0]) / (width - 1) if smoothing else None  # mean score over the catalogue
            z[:, 0] = float("-inf")
            top = z.amax(-1, keepdim=True)
            mass = z.sub_(top).exp_().sum(-1, keepdim=True)  # column 0: exp(-inf) = 0
            lse = top[:, 0] + mass[:, 0].log()
            nll = lse - picked
            if smoothing:
                nll = (1.0 - smoothing) * nll + smoothing * (lse - spread)
            total += nll.sum()
            z.div_(mass)  # softmax, minus the target distribution below
            if smoothing:
                z.sub_(smoothing / (width - 1))
                z[:, 0] = 0.0
            z.scatter_add_(1, targets[block, None], hit[: len(z)])
        ctx.save_for_backward(hidden, table, grad, seen)
        ctx.has_bias, ctx.buffer = bias is not None, buffer
        return (total / n).float()

    @staticmethod
    def backward(ctx, out_grad):
        hidden, table, grad, seen = ctx.saved_tensors
        scale = out_grad / len(hidden)
        g = grad.to(table.dtype)
        grad_hidden, grad_table = (g @ table) * scale, (g.T @ hidden) * scale
        # the repeat offset's gradient: its seen entries' (0 entries read column 0, whose gradient is 0)
        grad_bias = (grad.gather(1, seen).sum() * scale).to(out_grad.dtype) if ctx.has_bias else None
        if ctx.buffer is not None:
            ctx.buffer.held = False
        return grad_hidden, grad_table, None, None, None, grad_bias, None


def catalogue_cross_entropy(hidden: torch.Tensor, table: torch.Tensor, targets: torch.Tensor,
                            smoothing: float = 0.0, seen: torch.Tensor | None = None,
                            repeat_bias: torch.Tensor | None = None, buffer: ScoreBuffer | None = None
                            ) -> torch.Tensor:
    """Full-softmax cross-entropy of the scores `hidden @ table.T`, averaged over the N rows: a model's `logits`
    (column 0, padding, at -inf; with `seen` ((N, S) item lists, each item once) and `repeat_bias`, the learned
    repeat offset on each row's seen items), made and consumed a block at a time. hidden (N, D), table
    (n_items + 1, D); `buffer` lends the N × items memory from one call to the next.

    With `smoothing` the target distribution gives that share of its mass evenly to every catalogue item,
    which keeps the scores of rarely seen items from being pushed ever lower; column 0 is left out of it.
    Under autocast the products run in its dtype; the softmax and the loss are computed in float32.
    """
    device = hidden.device.type
    dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else hidden.dtype
    if seen is None or repeat_bias is None:  # the offset needs both
        seen = repeat_bias = None
    with torch.autocast(device, enabled=False):
        return _CatalogueCrossEntropy.apply(hidden.to(dtype), table.to(dtype), targets, float(smoothing), seen,
                                            repeat_bias, buffer)


def loss(model, inputs: torch.Tensor, targets: torch.Tensor, objective: str, negatives: int,
         generator: torch.Generator | None = None, label_smoothing: float = 0.0,
         buffer: ScoreBuffer | None = None) -> torch.Tensor:
    """Mean loss over the positions that have a target. objective: ce, bce or sampled_softmax;
    `label_smoothing` and a training loop's `buffer` apply to ce."""
    if registry.get(model.config.kind).training == "own-loss":  # no one hidden state per position: it scores itself
        return model.train_loss(inputs, targets, objective, negatives, generator, label_smoothing)
    hidden = model(inputs).hidden
    where = targets != 0
    h = hidden[where]  # (N, D): only positions with a target, so logits stay N x items
    y = targets[where]
    n_items = model.config.n_items
    table = model.item_emb.weight
    seen = model.seen_items(inputs, where)

    def plus_repeat(logit, candidates):  # the learned repeat offset of (N, K) candidates, when the model has one
        return logit if seen is None else logit + model.repeat_offset(seen, candidates)

    if objective == "ce":
        return catalogue_cross_entropy(h, table[: n_items + 1], y, label_smoothing, seen,
                                       model.repeat_bias, buffer)
    if objective == "bce":
        # The original SASRec recipe: each positive against `negatives` uniformly drawn items.
        neg = torch.randint(1, n_items + 1, (len(y), negatives), device=y.device, generator=generator)
        pos_logit = plus_repeat((h * table[y]).sum(-1, keepdim=True), y[:, None])[:, 0]
        neg_logit = plus_repeat(torch.einsum("nd,nkd->nk", h, table[neg]), neg)
        return (F.binary_cross_entropy_with_logits(pos_logit.float(), torch.ones_like(pos_logit, dtype=torch.float))
                + F.binary_cross_entropy_with_logits(neg_logit.float(), torch.zeros_like(neg_logit, dtype=torch.float)))
    if objective == "sampled_softmax":
        # Softmax over the positive and `negatives` shared uniform negatives; uniform sampling needs no
        # log-q correction because every negative has the same proposal probability.
        neg = torch.randint(1, n_items + 1, (negatives,), device=y.device, generator=generator)
        pos_logit = plus_repeat((h * table[y]).sum(-1, keepdim=True), y[:, None])
        neg_logit = plus_repeat(h @ table[neg].T, neg.expand(len(y), -1))
        neg_logit = neg_logit.masked_fill(neg[None, :] == y[:, None], float("-inf"))  # a negative equal to the positive
        logits = torch.cat([pos_logit, neg_logit], dim=1).float()
        return F.cross_entropy(logits, torch.zeros(len(y), dtype=torch.long, device=y.device))
    raise ValueError(f"unknown objective {objective!r}")
