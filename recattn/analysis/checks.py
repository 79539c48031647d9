"""Model checks for practitioners, on any model and a set of histories: the usual bugs and biases in one sentence
each.

Public API (seqs: left-padded histories of item indices (B, T), 0 = padding; counts: training interactions per
item index (n_items + 1,), e.g. `Split.item_counts()`):
    Check(name, applicable, passed, value, said, details, args)  .reading: `said` in the current language, with args
    sample_histories(inputs, max_len, n=200, seed=0) -> np.ndarray (n, max_len)
    causal_leak(model, seqs, seed=0) -> Check          value: the largest change of an earlier output
    positions_used(model, seqs, k=10, seed=0, out=None) -> Check     value: mean share of the top-k kept with the
                                                                       order shuffled
    attention_collapse(model, seqs, out=None) -> Check                 value: share of heads collapsed
    popularity_bias(model, seqs, counts, k=10, out=None) -> Check      value: mean popularity percentile of the top-k
    run_checks(model, seqs, counts, k=10) -> tuple[Check, ...]         one traced forward shared by the last three
    attention_needed(model, histories, targets, n_items) -> Check      value: relative NDCG@10 drop with every
                                                                       layer's attention made uniform
`out` is the model's ModelOutput on `seqs` when the caller already has it (with attention for the collapse check):
the additive model scores every candidate separately, so each forward on 200 histories costs seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from recattn.data.sequences import left_pad
from recattn.analysis.explain import as_batch, device_of, evaluating, score_batch, top_k
from recattn.i18n import N_, _
from recattn.models import registry
from recattn.models.attention import uniform_attention
from recattn.models.output import ModelOutput
from recattn.models.transformer import TransformerOutput

LEAK_TOLERANCE = 1e-5  # relative to the outputs' scale: float32 noise, far below any real leak
ORDER_IGNORED = 0.9  # shuffling the order keeps at least this share of the top-k: positions are ignored
UNIFORM_ENTROPY = 0.95  # a row whose entropy is at least this share of log(visible keys) is near-uniform
ONE_HOT_WEIGHT = 0.95  # a row whose largest weight is at least this is near one-hot
COLLAPSED_ROWS = 0.9  # a head collapses when at least this share of its rows is near-uniform (or near one-hot)
# Where the top-k sits between what people pick (0) and a most-popular chart (1), in mean popularity percentile:
# from half way it is closer to the chart than to people (films: SASRec 0.80, BERT4Rec 0.49, ItemKNN 0.76; news:
# SASRec 0.22, on 200 test histories).
CHART_SHARE = 0.5
# A model "needs its attention" when uniform weights over the visible items cost it at least this share of NDCG@10
NEEDS_ATTENTION = 0.05


@dataclass(frozen=True)
class Check:
    """One check's verdict: `passed` False flags a problem; `reading` says it in one sentence.

    The name and the sentence are kept in English (`name` is an identifier too: the CLI's JSON has it) and shown
    through the catalogue: `_(check.name)`, and `reading`, translated when read. So a verdict cached for one reader
    reads in the language of whoever shows it."""

    name: str  # English, marked with N_: show it as _(name)
    applicable: bool  # False: the check does not apply to this model (then `passed` is True)
    passed: bool
    value: float
    said: str  # the sentence's English message (marked), with named placeholders filled from `args`
    details: dict = field(default_factory=dict)
    args: dict = field(default_factory=dict)

    @property
    def reading(self) -> str:
        """The verdict in one sentence, in the current language."""
        return _(self.said).format(**self.args)


def sample_histories(inputs: Sequence[np.ndarray], max_len: int, n: int = 200, seed: int = 0) -> np.ndarray:
    """Up to n histories (seeded draw, at least 2 items each), left-padded to max_len: (n, max_len)."""
    pool = [s for s in inputs if len(s) >= 2]
    pick = np.random.default_rng(seed).permutation(len(pool))[:n]
    return left_pad([pool[i] for i in sorted(pick)], max_len)


def _hidden(model: nn.Module, seqs: torch.Tensor, traced: bool) -> torch.Tensor | None:
    """Per-position outputs (B, T, D) from the model's forward, or None for a model that has none."""
    if type(model).forward is nn.Module.forward:  # score-only models (additive, the baselines)
        return None
    with evaluating(model), torch.inference_mode():
        out = model(seqs, return_attention=traced)
    return out.hidden if isinstance(out, TransformerOutput) and out.hidden.shape[:2] == seqs.shape else None


def causal_leak(model: nn.Module, seqs, seed: int = 0) -> Check:
    """Change every item after a random cut in each history: a causal model's outputs at and before the cut must
    not move (both the fused and the traced attention path). BERT4Rec reads the whole history by design, and a
    model without per-position outputs cannot be tested this way: not applicable."""
    seqs = as_batch(seqs)
    name = N_("causal leak")
    x = torch.as_tensor(seqs, device=device_of(model))
    fused = _hidden(model, x, False)
    if fused is None:
        return Check(name, False, True, 0.0, N_("This model gives no per-position outputs to test for a leak."))
    rng = np.random.default_rng(seed)
    changed, keep = seqs.copy(), np.zeros(seqs.shape, dtype=bool)
    n_items = model.config.n_items
    for row, s in enumerate(seqs):
        real = np.flatnonzero(s)
        if len(real) < 2:
            continue
        cut = rng.integers(real[0], real[-1])  # keep positions up to the cut, change every later one
        later = np.arange(cut + 1, len(s))
        changed[row, later] = (s[later] + rng.integers(1, n_items, len(later)) - 1) % n_items + 1  # never the same
        keep[row, real[real <= cut]] = True
    if not keep.any():
        return Check(name, False, True, 0.0, N_("No history has two items: nothing to test for a leak."))
    y, kept = torch.as_tensor(changed, device=x.device), torch.as_tensor(keep, device=x.device)
    worst = 0.0
    for traced in (False, True):  # the fused fast path and the hand-written one
        a = (_hidden(model, x, traced) if traced else fused)[kept]  # (N, D) the positions up to the cuts
        b = _hidden(model, y, traced)[kept]
        worst = max(worst, float((a - b).abs().max() / a.abs().max().clamp_min(1e-12)))
    details = {"kept_positions": int(keep.sum())}
    if not registry.get(model.config.kind).causal:
        return Check(name, False, True, worst, N_("This model reads the whole history by design: changing later "
                                                  "items moves earlier outputs by up to {worst:.2g} of their scale, as "
                                                  "expected."), details, {"worst": worst})
    if worst <= LEAK_TOLERANCE:
        return Check(name, True, True, worst, N_("No leak: changing later items leaves every earlier position's "
                                                 "output unchanged (largest change {worst:.1g} of the outputs' "
                                                 "scale)."), details, {"worst": worst})
    return Check(name, True, False, worst, N_("Leak: changing later items moves earlier positions' outputs by up to "
                                              "{worst:.2g} of their scale, so training sees the items it should "
                                              "predict."), details, {"worst": worst})


def positions_used(model: nn.Module, seqs, k: int = 10, seed: int = 0, out: ModelOutput | None = None) -> Check:
    """Shuffle the items of each history (same items, another order) and compare the top-k: a model whose top-k
    barely moves ignores the order (positions); `value` is the mean share of the top-k kept."""
    seqs = as_batch(seqs)
    rng = np.random.default_rng(seed)
    shuffled = seqs.copy()
    for row, s in enumerate(seqs):
        real = np.flatnonzero(s)
        shuffled[row, real] = s[real][rng.permutation(len(real))]
    before, after = (out or score_batch(model, seqs)).scores, score_batch(model, shuffled).scores
    top_b, top_a = top_k(before, seqs, k).cpu().numpy(), top_k(after, shuffled, k).cpu().numpy()
    kept = float(np.mean([len(set(p) & set(q)) / len(p) for p, q in zip(top_b, top_a)]))
    rows = torch.arange(len(seqs))[:, None]
    idx = torch.as_tensor(top_b)
    change = float((after[rows, idx] - before[rows, idx]).abs().mean())
    details = {"mean_score_change": change}
    args = {"kept": kept, "k": k, "change": change}
    if kept >= ORDER_IGNORED:
        return Check(N_("positions"), True, False, kept, N_("Order ignored: shuffling the history keeps {kept:.0%} of "
                                                            "the top-{k}, so the model reads it as a bag of items."),
                     details, args)
    return Check(N_("positions"), True, True, kept, N_("Order used: shuffling the history keeps only {kept:.0%} of the "
                                                       "top-{k} (the top-{k}'s scores move by {change:.2f} on "
                                                       "average)."), details, args)


def _visible(kind: str, seqs: np.ndarray, Q: int, K: int) -> np.ndarray:
    """Which keys each attention row could see, (B, Q, K) bool, from the histories alone: keys align with the end of
    what the model read (BERT4Rec's last key is its mask slot); a square causal map also hides later keys."""
    present = seqs != 0
    if kind == "bidirectional":
        present = np.c_[present, np.ones(len(seqs), dtype=bool)]
    visible = np.broadcast_to(present[:, -K:][:, None, :], (len(seqs), Q, K))
    return visible & np.tri(Q, K, dtype=bool) if kind == "causal" and Q == K else visible


def attention_collapse(model: nn.Module, seqs, out: ModelOutput | None = None) -> Check:
    """Per (layer, head), the share of attention rows (that may see at least two keys) that are near-uniform or
    near one-hot across the histories; a head collapses when almost all its rows are one or the other."""
    seqs = as_batch(seqs)
    if out is None or out.attention is None:
        out = score_batch(model, seqs, attention=True)
    if out.attention is None:
        return Check(N_("attention collapse"), False, True, 0.0, N_("This model has no attention to collapse."))
    heads = {}
    for layer, m in enumerate(out.attention):
        w = m.float().cpu().numpy()  # (B, H, Q, K)
        visible = _visible(out.kind, seqs, *w.shape[-2:]).sum(-1)[:, None]  # (B, 1, Q) keys each row may see
        rows = np.broadcast_to(visible >= 2, w.shape[:-1])
        entropy = -(w * np.log(np.where(w > 0, w, 1.0))).sum(-1) / np.log(np.maximum(visible, 2))  # (B, H, Q)
        for h in range(w.shape[1]):
            r = rows[:, h]
            if r.any():
                heads[f"L{layer + 1}H{h + 1}"] = (float((entropy[:, h][r] >= UNIFORM_ENTROPY).mean()),
                                                  float((w[:, h].max(-1)[r] >= ONE_HOT_WEIGHT).mean()))
    uniform = [n for n, (u, _) in heads.items() if u >= COLLAPSED_ROWS]
    one_hot = [n for n, (_, o) in heads.items() if o >= COLLAPSED_ROWS]
    share = (len(uniform) + len(one_hot)) / max(len(heads), 1)
    details = {"uniform_rows": {n: u for n, (u, _) in heads.items()},
               "one_hot_rows": {n: o for n, (_, o) in heads.items()},
               "uniform_heads": uniform, "one_hot_heads": one_hot}
    args = {"total": len(heads), "collapsed": len(uniform) + len(one_hot), "uniform": ", ".join(uniform),
            "one_hot": ", ".join(one_hot)}
    if not uniform and not one_hot:
        said = N_("No collapse: none of the {total} heads is near-uniform or near one-hot on most histories.")
    elif not one_hot:
        said = N_("{collapsed} of {total} heads collapsed, near-uniform (averaging the history): {uniform}.")
    elif not uniform:
        said = N_("{collapsed} of {total} heads collapsed, near one-hot (one item each): {one_hot}.")
    else:
        said = N_("{collapsed} of {total} heads collapsed, near-uniform (averaging the history): {uniform}; near "
                  "one-hot (one item each): {one_hot}.")
    return Check(N_("attention collapse"), True, not uniform and not one_hot, share, said, details, args)


def popularity_bias(model: nn.Module, seqs, counts, k: int = 10, out: ModelOutput | None = None) -> Check:
    """The mean popularity percentile (0 = least, 1 = most interacted with in training; ties share one) of each
    history's top-k, placed between that of the items people pick (the interactions) and that of a most-popular
    chart (each history's top-k by count); `details["chart_share"]` is where it sits, 0 = people, 1 = the chart."""
    seqs = as_batch(seqs)
    counts = np.asarray(counts, dtype=np.float64)
    percentile = np.zeros(len(counts))
    percentile[1:] = pd.Series(counts[1:]).rank(pct=True, method="average").to_numpy()
    top = top_k((out or score_batch(model, seqs)).scores, seqs, k).cpu().numpy()
    chart = top_k(torch.as_tensor(counts).expand(len(seqs), -1), seqs, k).numpy()
    value, ceiling = float(percentile[top].mean()), float(percentile[chart].mean())
    people = float((counts * percentile).sum() / max(counts.sum(), 1.0))
    share = (value - people) / (ceiling - people) if ceiling - people > 1e-9 else 0.0
    details = {"interactions_percentile": people, "chart_percentile": ceiling, "chart_share": share,
               "top_decile_share": float((percentile[top] > 0.9).mean())}
    args = {"k": k, "value": value, "people": people, "chart": ceiling}
    if share >= CHART_SHARE:
        return Check(N_("popularity bias"), True, False, value, N_(
            "The top-{k} sits at the {value:.0%} popularity percentile on average, the items people pick at "
            "{people:.0%} and a most-popular chart at {chart:.0%}: it is closer to the chart than to what people "
            "pick."), details, args)
    return Check(N_("popularity bias"), True, True, value, N_(
        "The top-{k} sits at the {value:.0%} popularity percentile on average, the items people pick at {people:.0%} "
        "and a most-popular chart at {chart:.0%}: it is closer to what people pick."), details, args)


def run_checks(model: nn.Module, seqs, counts, k: int = 10) -> tuple[Check, ...]:
    """Every check on one model and one set of histories."""
    seqs = as_batch(seqs)
    out = score_batch(model, seqs, attention=True)
    return (causal_leak(model, seqs), positions_used(model, seqs, k, out=out), attention_collapse(model, seqs, out),
            popularity_bias(model, seqs, counts, k, out))


def attention_needed(model: nn.Module, histories: Sequence[np.ndarray], targets: np.ndarray, n_items: int,
                     users: int = 500, seed: int = 0) -> Check:
    """Does the model need its attention? Every layer's weights replaced by uniform weights over the items each query
    may see (Wiegreffe & Pinter, 2019, their first test), NDCG@10 (full ranking, seen items excluded) on up to
    `users` of the given (history, target) pairs, a seeded sample, before and after."""
    if model.attention_kind == "none":
        return Check(N_("needs its attention"), False, True, 0.0, N_("The model has no attention to replace."))
    from recattn.results.evaluate import evaluate
    from recattn.training.fit import model_scorer

    pick = np.sort(np.random.default_rng(seed).permutation(len(targets))[:users])
    chosen, goals = [histories[i] for i in pick], np.asarray(targets)[pick]
    scorer = model_scorer(model.eval(), device_of(model))
    learned = evaluate(scorer, chosen, goals, n_items)["ndcg@10"]
    with uniform_attention():
        uniform = evaluate(scorer, chosen, goals, n_items)["ndcg@10"]
    drop = (learned - uniform) / learned if learned > 0 else 0.0
    details = {"ndcg@10": learned, "ndcg@10_uniform": uniform, "users": len(goals)}
    args = {"users": len(goals), "learned": learned, "uniform": uniform, "change": -drop}
    if drop >= NEEDS_ATTENTION:
        return Check(N_("needs its attention"), True, True, drop, N_(
            "With every layer's attention made uniform over the items it may see, NDCG@10 on {users} held-out items "
            "goes from {learned:.4f} to {uniform:.4f} ({change:+.0%}): where it looks matters to it."), details, args)
    return Check(N_("needs its attention"), True, False, drop, N_(
        "With every layer's attention made uniform over the items it may see, NDCG@10 on {users} held-out items goes "
        "from {learned:.4f} to {uniform:.4f} ({change:+.0%}): it barely uses where it looks, so its attention maps "
        "explain little of its choices."), details, args)
