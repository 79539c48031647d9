"""Several models on one history and on one evaluation protocol: their lists side by side, how much the lists
overlap, where each model ranks each item, the metrics table and what the sampled-vs-full gap says.

Pure functions (rankings and metrics in, tables out; `Recommender.ranking` gives a model's list); the CLI's
`compare` (recattn/training/compare.py) trains models, this module reads models that exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from recattn.i18n import N_, _


@dataclass(frozen=True)
class Protocol:
    """One choice of the protocol switch: how `evaluate` is called."""

    label: str
    protocol: str  # recattn.results.evaluate.PROTOCOLS
    exclude_seen: bool

    @property
    def sampled(self) -> bool:
        return self.protocol != "full"


# labels are the switch's stored values (English); `_(label)` shows them
FULL = Protocol(N_("full"), "full", True)
PROTOCOL_CHOICES = (FULL, Protocol(N_("full, seen items kept"), "full", False),
                    Protocol("uniform100", "uniform100", True), Protocol("popular100", "popular100", True))


@dataclass(frozen=True)
class RankedList:
    """One model's ranking of the catalogue after a history: its top-k and the rank of every item it can suggest."""

    name: str
    top: tuple[str, ...]  # ids, best first
    ranks: Mapping[str, int]  # 1-based rank of every item not in the history


def ranked_list(name: str, ranking: Sequence[str], k: int = 10) -> RankedList:
    """One model's list after a history: its whole `ranking` (Recommender.ranking: every unseen item, best first),
    the top-k and every item's rank. The ranks outside the top-k are what makes rank differences meaningful: "12th
    for SASRec, 640th for popularity" rather than "not in the list"."""
    return RankedList(name, tuple(ranking[:k]), {item: rank for rank, item in enumerate(ranking, 1)})


def overlap(a: Sequence[str], b: Sequence[str]) -> float:
    """Share of items two top lists have in common: |A ∩ B| / the longer list's length (1 identical, 0 disjoint)."""
    longest = max(len(a), len(b))
    return len(set(a) & set(b)) / longest if longest else 0.0


def overlap_matrix(lists: Sequence[RankedList]) -> pd.DataFrame:
    """Overlap of every pair of top lists: a symmetric models × models table with 1 on the diagonal."""
    names = [rl.name for rl in lists]
    values = [[overlap(a.top, b.top) for b in lists] for a in lists]
    return pd.DataFrame(values, index=names, columns=names)


def side_by_side(lists: Sequence[RankedList], titles: Mapping[str, str]) -> pd.DataFrame:
    """One column per model, one row per rank (index 1..k), each cell the title of the item at that rank."""
    depth = max((len(rl.top) for rl in lists), default=0)
    table = pd.DataFrame({rl.name: [titles.get(i, i) for i in rl.top] + [""] * (depth - len(rl.top))
                          for rl in lists}, index=pd.RangeIndex(1, depth + 1, name="rank"))
    return table


def rank_table(lists: Sequence[RankedList], titles: Mapping[str, str]) -> pd.DataFrame:
    """Every item in any top list, with its rank in every model and the spread of those ranks.

    Columns: "item" (title), one per model (1-based rank in that model's full ranking), "spread" (worst rank minus
    best rank: 0 when all models agree). Rows: the items most models put high first (best rank, then mean rank).
    A model that cannot rank an item (it is in the history) has no rank for it.
    """
    ids = list(dict.fromkeys(i for rl in lists for i in rl.top))
    ranks = pd.DataFrame({rl.name: [rl.ranks.get(i, np.nan) for i in ids] for rl in lists}, index=ids, dtype=float)
    table = pd.DataFrame({"item": [titles.get(i, i) for i in ids]}, index=ids).join(ranks)
    table["spread"] = ranks.max(axis=1) - ranks.min(axis=1)
    order = np.lexsort((ranks.mean(axis=1).to_numpy(), ranks.min(axis=1).to_numpy()))
    return table.iloc[order].astype({name: "Int64" for name in [*ranks.columns, "spread"]})


def metrics_table(results: Mapping[str, Mapping[str, float]], seconds: Mapping[str, float]) -> pd.DataFrame:
    """One row per model: NDCG@10, HR@10, MRR@10, coverage@10 (only when the results have it: full ranking) and
    the seconds the evaluation took."""
    covered = any("coverage@10" in m for m in results.values())
    rows = {name: {"NDCG@10": m["ndcg@10"], "HR@10": m["hr@10"], "MRR@10": m["mrr@10"]}
            | ({"coverage@10": m.get("coverage@10", np.nan)} if covered else {}) | {"seconds": seconds[name]}
            for name, m in results.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    return table


def _ndcg(results: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    return {name: float(m["ndcg@10"]) for name, m in results.items()}


def _order(scores: Mapping[str, float]) -> list[str]:
    return sorted(scores, key=lambda name: -scores[name])


def protocol_gap(chosen: Protocol, results: Mapping[str, Mapping[str, float]],
                 full: Mapping[str, Mapping[str, float]], baseline: str | None) -> list[str]:
    """Plain-text sentences (model names as given) on what the chosen protocol does to NDCG@10 compared with full
    ranking, and where the popularity baseline `baseline` (a model name, or None) stands. Every number is computed
    from `results` (the chosen protocol) and `full` (full ranking, seen items excluded)."""
    new, ref = _ndcg(results), _ndcg(full)
    learned = [n for n in new if n != baseline]
    if not learned:
        return []
    best = _order({n: ref[n] for n in learned})[0]
    sentences = []
    protocol = _(chosen.label)
    if chosen != FULL:
        ratios = {n: new[n] / ref[n] for n in new if ref[n] > 0}
        lo, hi = min(ratios.values()), max(ratios.values())
        if chosen.sampled:
            said = (_("Under {protocol}, {model}'s NDCG@10 is {score:.2f} against {full:.2f} under full ranking: "
                      "ranking the true item among 100 sampled ones inflates every model, by ×{low:.1f} to "
                      "×{high:.1f}.") if lo > 1 else
                    _("Under {protocol}, {model}'s NDCG@10 is {score:.2f} against {full:.2f} under full ranking: "
                      "ranking the true item among 100 sampled ones changes the models' scores, by ×{low:.1f} to "
                      "×{high:.1f}."))
            sentences.append(said.format(protocol=protocol, model=best, score=new[best], full=ref[best], low=lo,
                                         high=hi))
        else:
            sentences.append(_("With the history's own items left in the ranking, {model}'s NDCG@10 is {score:.2f} "
                               "against {full:.2f} when they are excluded (×{low:.2f} to ×{high:.2f} across models): "
                               "a model that re-suggests what was seen wastes places.").format(
                model=best, score=new[best], full=ref[best], low=lo, high=hi))
        if baseline is not None and new[best] > 0 and ref[best] > 0:
            share_new, share_ref = new[baseline] / new[best], ref[baseline] / ref[best]
            said = (_("{baseline}, which ignores the history, gets {score:.2f} under {protocol}, {share:.0%} of "
                      "{model}'s score, against {full:.2f} ({full_share:.0%}) under full ranking: the protocol makes "
                      "a model that ignores the history look closer to one that reads it.")
                    if share_new > share_ref else
                    _("{baseline}, which ignores the history, gets {score:.2f} under {protocol}, {share:.0%} of "
                      "{model}'s score, against {full:.2f} ({full_share:.0%}) under full ranking."))
            sentences.append(said.format(baseline=baseline, score=new[baseline], protocol=protocol, share=share_new,
                                         model=best, full=ref[baseline], full_share=share_ref))
        before, after = _order(ref), _order(new)
        sentences.append(_("The models keep their order.") if before == after else
                         _("The order changes: {here} here, {full} under full ranking.").format(
                             here=" > ".join(after), full=" > ".join(before)))
    elif baseline is not None:
        above = [n for n in learned if ref[n] > ref[baseline]]
        said = (_("{baseline}, which recommends the same items to everyone, gets NDCG@10 {score:.2f}; the best "
                  "model, {model}, gets {best:.2f} (×{ratio:.1f}). {above} of {n} models beat it.")
                if ref[baseline] > 0 else
                _("{baseline}, which recommends the same items to everyone, gets NDCG@10 {score:.2f}; the best "
                  "model, {model}, gets {best:.2f}. {above} of {n} models beat it."))
        sentences.append(said.format(baseline=baseline, score=ref[baseline], model=best, best=ref[best],
                                     ratio=ref[best] / ref[baseline] if ref[baseline] > 0 else 0.0,
                                     above=len(above), n=len(learned)))
    return sentences
