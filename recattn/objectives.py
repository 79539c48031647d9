"""Training targets and losses: the only place where next-item (SASRec) and masked-item (BERT4Rec) differ.

A batch is (inputs, targets), both (batch, T) with 0 where there is nothing to predict.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from recattn.data.sequences import left_pad


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


class _CatalogueCrossEntropy(torch.autograd.Function):
    """The loss and its gradient (softmax minus target) in one pass over the scores, a block of rows at a time.

    Autograd's log_softmax -> gather -> mean chain writes five or six N x items tensors in each direction;
    this writes one. Rows are processed in blocks that fit a CPU core's cache: with bfloat16 scores on
    ml-latest-small the loss and its backward take about a third of the chain's time.
    """

    @staticmethod
    def forward(ctx, logits, targets, smoothing):
        n, width = logits.shape
        dtype = torch.promote_types(logits.dtype, torch.float32)
        rows = n if logits.is_cuda else max(1, 2**19 // width)  # ~2 MB of float32 scores per block on CPU
        lse = torch.empty(n, dtype=dtype, device=logits.device)
        total = torch.zeros((), dtype=torch.float64, device=logits.device)
        for s in range(0, n, rows):
            x = logits[s: s + rows].to(dtype)
            lse[s: s + rows] = torch.logsumexp(x, -1)
            nll = lse[s: s + rows] - x.gather(1, targets[s: s + rows, None])[:, 0]
            if smoothing:
                nll = (1.0 - smoothing) * nll + smoothing * (lse[s: s + rows] - x[:, 1:].mean(-1))
            total += nll.sum()
        ctx.save_for_backward(logits, targets, lse)
        ctx.smoothing, ctx.rows = smoothing, rows
        return (total / n).to(dtype)

    @staticmethod
    def backward(ctx, grad):
        logits, targets, lse = ctx.saved_tensors
        n, width = logits.shape
        out = torch.empty_like(logits)
        hit = torch.full((min(ctx.rows, n), 1), ctx.smoothing - 1.0, dtype=lse.dtype, device=logits.device)
        for s in range(0, n, ctx.rows):
            p = (logits[s: s + ctx.rows].to(lse.dtype) - lse[s: s + ctx.rows, None]).exp_()  # column 0: exp(-inf) = 0
            if ctx.smoothing:
                p[:, 1:] -= ctx.smoothing / (width - 1)
            p.scatter_add_(1, targets[s: s + ctx.rows, None], hit[: len(p)])
            out[s: s + ctx.rows] = p.mul_(grad / n)
        return out, None, None


def catalogue_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """Full-softmax cross-entropy of (N, n_items + 1) scores whose column 0 (padding) is -inf, averaged over N.

    With `smoothing` the target distribution gives that share of its mass evenly to every catalogue item,
    which keeps the scores of rarely seen items from being pushed ever lower; column 0 is left out of it.
    Computed in float32 (or wider) whatever the scores' dtype.
    """
    return _CatalogueCrossEntropy.apply(logits, targets, float(smoothing))


def loss(model, inputs: torch.Tensor, targets: torch.Tensor, objective: str, negatives: int,
         generator: torch.Generator | None = None, label_smoothing: float = 0.0) -> torch.Tensor:
    """Mean loss over the positions that have a target. objective: ce, bce or sampled_softmax;
    `label_smoothing` applies to ce."""
    if hasattr(model, "train_loss"):  # models without one hidden state per position (additive) score themselves
        return model.train_loss(inputs, targets, objective, negatives, generator, label_smoothing)
    hidden = model(inputs).hidden
    where = targets != 0
    h = hidden[where]  # (N, D): only positions with a target, so logits stay N x items
    y = targets[where]
    n_items = model.config.n_items
    table = model.item_emb.weight
    seen = model.seen_items(inputs, where) if hasattr(model, "seen_items") else None

    def plus_repeat(logit, candidates):  # the learned repeat offset of (N, K) candidates, when the model has one
        return logit if seen is None else logit + model.repeat_offset(seen, candidates)

    if objective == "ce":
        return catalogue_cross_entropy(model.logits(h) if seen is None else model.logits(h, seen), y, label_smoothing)
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
