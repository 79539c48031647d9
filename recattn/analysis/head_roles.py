"""What each attention head does over a corpus of histories: where its scoring row puts its weight (its role) and how
much the model needs it (the NDCG@10 lost when it alone is zeroed).

A role is a set of history items, per history: the newest item, the oldest one the model reads, the items of the same
franchise or story as the held-out next item (the built-in worlds), on real data the items whose usual followers
include the next item (item-to-item neighbours, ItemKNN's follower counts), those sharing a genre or topic with it,
and the catalogue's most popular items; each item belongs to the first role it fits, in that order. A head's mass on a role is the weight its scoring row puts on that set, averaged over the histories where the
set is not empty; chance is the share of the visible items in the set (what a uniform row would put there). The
dominant role is the one with the largest lift (mass − chance); a head whose every lift is under CLEAR is diffuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from recattn.analysis.explain import attention_layers, device_of, evaluating, heads_masked
from recattn.data.sequences import left_pad
from recattn.i18n import N_, _

# Role names are keys (kept in English) and shown with _(role).
NEWEST, FIRST, GROUP, NEIGHBOUR, GENRE, POPULAR = (
    N_("newest item"), N_("first position"), N_("same franchise or story"), N_("item-to-item neighbour"),
    N_("same genre or topic"), N_("popular items"))
ROLES = (NEWEST, FIRST, GROUP, NEIGHBOUR, GENRE, POPULAR)
DIFFUSE = N_("diffuse")
PHRASES = {NEWEST: N_("the newest item"), FIRST: N_("the oldest item it reads"),
           GROUP: N_("items of the next item's franchise or story"),
           NEIGHBOUR: N_("items whose usual followers include the next item"),
           GENRE: N_("items sharing a genre or topic with the next item"),
           POPULAR: N_("the most popular items")}
CLEAR = 0.1  # a lift over chance below this on every role: no role stands out
POPULAR_SHARE = 0.05  # the most-interacted 5% of the catalogue count as popular
GROUP_COLUMNS = ("franchise", "story")  # the built-in worlds' series columns (-1: none)
NEIGHBOURS = 20  # an item's most frequent followers that count as its item-to-item neighbours


@dataclass(frozen=True)
class HeadRole:
    """One head (layer and head 0-based): its mass and chance per role, mean normalised entropy of its scoring row
    (1: uniform over the visible items), its dominant role, and NDCG@10 with it zeroed."""

    layer: int
    head: int
    mass: dict[str, float]
    chance: dict[str, float]
    entropy: float
    role: str
    ndcg_without: float
    importance: float  # NDCG@10 with every head − with this one zeroed

    def lift(self, role: str) -> float:
        return self.mass[role] - self.chance[role]


@dataclass(frozen=True)
class HeadRoles:
    heads: tuple[HeadRole, ...]
    ndcg: float  # NDCG@10 of the corpus with every head
    histories: int
    roles: tuple[str, ...]  # the roles this data can tell (no series column: no GROUP)


def item_properties(items: pd.DataFrame, counts: np.ndarray, train: Sequence[np.ndarray] | None = None
                    ) -> dict[str, np.ndarray]:
    """Per catalogue index (row i of `items` is index i + 1; index 0 is padding): "group" (series id, -1 for none),
    "genres" (a boolean matrix, index × genre) and "popular" (boolean), from `counts` (training interactions per
    index); for data without a series column and with its training sequences `train`, "followers": each index's
    NEIGHBOURS most frequent followers (index × NEIGHBOURS, 0 where it has fewer)."""
    n = len(items) + 1
    out: dict[str, np.ndarray] = {}
    column = next((c for c in GROUP_COLUMNS if c in items.columns), None)
    if column is not None:
        out["group"] = np.concatenate([[-1], items[column].fillna(-1).to_numpy(dtype=np.int64)])
    genres = items["genres"].fillna("").astype(str).str.split("|")
    names = sorted({g for gs in genres for g in gs if g and g != "(no genres listed)"})
    where = {g: j for j, g in enumerate(names)}
    matrix = np.zeros((n, len(names)), dtype=bool)
    for i, gs in enumerate(genres, start=1):
        matrix[i, [where[g] for g in gs if g in where]] = True
    out["genres"] = matrix
    top = max(1, int(round(POPULAR_SHARE * (n - 1))))
    popular = np.zeros(n, dtype=bool)
    popular[np.argsort(-counts[1:], kind="stable")[:top] + 1] = True
    out["popular"] = popular
    if column is None and train is not None:
        from recattn.models.baselines import follower_matrix

        crow, col, val = follower_matrix(train, n - 1)
        followers = np.zeros((n, NEIGHBOURS), dtype=np.int64)
        for a in range(n):
            row_col, row_val = col[crow[a]:crow[a + 1]], val[crow[a]:crow[a + 1]]
            top = row_col[np.argsort(-row_val, kind="stable")[:NEIGHBOURS]]
            followers[a, :len(top)] = top
        out["followers"] = followers
    return out


def role_sets(seqs: np.ndarray, targets: np.ndarray, props: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per role, which positions of each left-padded history (B, T) belong to it: booleans (B, T). The sets do not
    overlap: an item counts for the first role it fits in ROLES order, so a head that reads the newest item is not
    also credited with following a franchise whenever the newest item happens to be its previous part."""
    real = seqs != 0
    B, T = seqs.shape
    newest = np.zeros_like(real)
    newest[:, -1] = real[:, -1]
    first = np.zeros_like(real)
    starts = real.argmax(1)
    first[np.arange(B), starts] = real[np.arange(B), starts]
    sets = {NEWEST: newest, FIRST: first}
    if "group" in props:
        group, goal = props["group"][seqs], props["group"][targets][:, None]
        sets[GROUP] = real & (group == goal) & (goal >= 0)
    if "followers" in props:
        sets[NEIGHBOUR] = real & (props["followers"][seqs] == targets[:, None, None]).any(-1)
    shared = props["genres"][seqs] & props["genres"][targets][:, None, :]  # (B, T, G)
    sets[GENRE] = real & shared.any(-1)
    sets[POPULAR] = real & props["popular"][seqs]
    taken = np.zeros_like(real)
    for role, members in sets.items():  # each item counts for the first role it fits, in ROLES order
        sets[role] = members & ~taken
        taken |= members
    return sets


def scoring_rows(model: nn.Module, seqs: np.ndarray) -> np.ndarray:
    """Every layer's scoring row for each history (B, T) left-padded to the model's window: (B, layers, heads, T),
    BERT4Rec's own mask slot dropped, aligned with the history's last positions."""
    with evaluating(model), torch.inference_mode():
        out = model.score(torch.as_tensor(seqs, device=device_of(model)), return_attention=True)
    rows = []
    for m in out.attention:
        row = m[:, :, -1, :].float().cpu().numpy()  # (B, H, K)
        row = row[..., :-1] if out.kind == "bidirectional" else row
        aligned = np.zeros(row.shape[:2] + (seqs.shape[1],))
        aligned[..., seqs.shape[1] - row.shape[-1]:] = row[..., -seqs.shape[1]:]
        rows.append(aligned)
    return np.stack(rows, axis=1)


def _entropy(rows: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Entropy of each row ÷ log(visible items): (B, L, H); 0 where a history has one visible item."""
    h = -(rows * np.log(np.where(rows > 0, rows, 1.0))).sum(-1)
    visible = real.sum(-1)[:, None, None]
    return np.where(visible > 1, h / np.log(np.maximum(visible, 2)), 0.0)


def head_roles(model: nn.Module, histories: Sequence[np.ndarray], targets: np.ndarray, n_items: int,
               props: dict[str, np.ndarray], users: int = 300, seed: int = 0) -> HeadRoles:
    """Each layer × head's role and importance over up to `users` (history, next item) pairs, a seeded sample of
    those with at least two items. ValueError for a model without self-attention layers."""
    from recattn.results.evaluate import evaluate
    from recattn.training.fit import model_scorer

    layers = attention_layers(model)
    if not layers or model.attention_kind not in ("causal", "bidirectional"):
        raise ValueError("head roles need self-attention layers with heads")
    pool = [i for i, h in enumerate(histories) if len(h) >= 2]
    pick = np.sort(np.random.default_rng(seed).permutation(pool)[:users]) if pool else np.array([], dtype=int)
    chosen, goals = [np.asarray(histories[i]) for i in pick], np.asarray(targets)[pick]
    if not chosen:
        raise ValueError("no history of two items or more to measure the heads on")
    seqs = left_pad(chosen, model.config.max_len)
    rows = scoring_rows(model, seqs)  # (B, L, H, T)
    sets = role_sets(seqs, goals, props)
    real = seqs != 0
    entropy = _entropy(rows, real).mean(0)  # (L, H)
    mass, chance = {}, {}
    for role, members in sets.items():
        present = members.any(-1)  # the histories where the role has an item
        if not present.any():
            continue
        mass[role] = (rows[present] * members[present][:, None, None, :]).sum(-1).mean(0)  # (L, H)
        chance[role] = float((members[present].sum(-1) / real[present].sum(-1)).mean())
    scorer = model_scorer(model.eval(), device_of(model))
    base = evaluate(scorer, chosen, goals, n_items)["ndcg@10"]
    L, H = rows.shape[1:3]
    heads = []
    for layer in range(L):
        for head in range(H):
            keep = np.ones((L, H), dtype=np.float32)
            keep[layer, head] = 0.0
            with heads_masked(model, keep):
                without = evaluate(scorer, chosen, goals, n_items)["ndcg@10"]
            m = {r: float(v[layer, head]) for r, v in mass.items()}
            lifts = {r: m[r] - chance[r] for r in m}
            best = max(lifts, key=lifts.get) if lifts else DIFFUSE
            heads.append(HeadRole(layer, head, m, dict(chance), float(entropy[layer, head]),
                                  best if lifts and lifts[best] >= CLEAR else DIFFUSE, without, base - without))
    return HeadRoles(tuple(heads), base, len(chosen), tuple(mass))


def lead(roles: HeadRoles) -> str:
    """The head the model needs most, with its role: the first clause of `describe` (no closing punctuation)."""
    need = max(roles.heads, key=lambda h: h.importance)
    if need.role == DIFFUSE:
        return _("Head {head} of layer {layer} spreads its weight (entropy {entropy:.2f} of 1) with no role standing "
                 "out").format(head=need.head + 1, layer=need.layer + 1, entropy=need.entropy)
    return _("Head {head} of layer {layer} puts {mass:.2f} of its weight on {phrase}, where chance would put "
             "{chance:.2f}").format(head=need.head + 1, layer=need.layer + 1, mass=need.mass[need.role],
                                    phrase=_(PHRASES[need.role]), chance=need.chance[need.role])


def describe(roles: HeadRoles) -> str:
    """The grid in two sentences, from its numbers: the head the model needs most, with its role, and how the heads
    divide among the roles."""
    need = max(roles.heads, key=lambda h: h.importance)
    needed = (_("without it NDCG@10 falls from {before:.4f} to {after:.4f}").format(
        before=roles.ndcg, after=need.ndcg_without) if need.importance > 0 else
        _("no head alone costs NDCG@10 when zeroed ({ndcg:.4f} with all)").format(ndcg=roles.ndcg))
    counts: dict[str, int] = {}
    for h in roles.heads:
        counts[h.role] = counts.get(h.role, 0) + 1
    # TRANSLATORS: the separator of a list ("3 newest item, 1 diffuse")
    split = _(", ").join(_("{n} {role}").format(n=n, role=_(role))
                         for role, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    # TRANSLATORS: two clauses of one sentence, "<the head and its role>; <what the model loses without it>."
    first = _("{lead}; {needed}.").format(lead=lead(roles), needed=needed)
    second = _("Over {histories} test histories the {heads} heads divide as: {split}.").format(
        histories=roles.histories, heads=len(roles.heads), split=split)
    # TRANSLATORS: two sentences in a row (Chinese puts no space after "。")
    return _("{first} {second}").format(first=first, second=second)
