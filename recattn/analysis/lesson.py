"""The lesson's sentences, computed from the live numbers of one history: where attention looks hardest, how much of a
top-10 survives a change of order, what the additive model's candidates read. Arrays and labels in, plain text out
(titles in quotes; the page makes the text literal)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recattn.analysis.contrast import ListChange
from recattn.analysis.walkthrough import CrossAttention
from recattn.i18n import N_, _, count_of
from recattn.trace import AttentionTrace

# The seed's order: each step's title and the question it leaves with the class (English, marked: the page shows
# them through _()).
STEPS = (
    (N_("Additive attention"), N_("The score is a small network of both items, not a dot product. What can it express "
                                  "that a dot product cannot, and what does it cost per pair?")),
    (N_("Dot-product and multi-head attention"), N_("Two heads of one layer read the same history. Why would they "
                                                    "look at different items, and what would be lost with one head?")),
    (N_("Positions"), N_("A model that kept all ten recommendations when the history is reversed: what would it be "
                         "ignoring, and is that always wrong?")),
    (N_("The layer"), N_("Attention mixes the items; the residual adds the item back. What would the scores lose "
                         "without the residual?")),
    (N_("Cross-attention"), N_("Each candidate reads the history with its own weights. Why is that better for "
                               "ranking, and why is it too slow to score a whole catalogue?")),
    (N_("News and films"), N_("Stories come out in parts hours apart; films are watched at each person's pace. Which "
                              "head role should matter more in each world?")),
    (N_("Transformer vs RNN"), N_("One model learns faster, the other may end higher. Which would you deploy if you "
                                  "could retrain every hour, and which with a week of compute?")),
)


def back(position: int, length: int) -> str:
    """How far back a key of the scoring row lies, in words: the newest item is the last of `length`."""
    n = length - 1 - position
    return (_("the newest item") if n == 0 else _("the item just before the newest") if n == 1 else
            count_of(n, "{n} item before the newest", "{n} items before the newest"))


def strongest_look(trace: AttentionTrace) -> tuple[int, int, int, float]:
    """(layer, head, key position, weight) of the largest weight in the row that scored the recommendations (the
    last row of self-attention; the #1 candidate's row of target attention)."""
    row = trace.weights[:, :, 0 if trace.kind == "target" else -1, :]  # (layers, heads, keys)
    layer, head, key = np.unravel_index(int(np.nanargmax(row)), row.shape)
    return int(layer), int(head), int(key), float(row[layer, head, key])


def look_sentence(trace: AttentionTrace) -> str:
    """ "Head 2 of layer 1 puts 0.91 of its weight on “X”, the item just before the newest." (plain text) """
    layer, head, key, weight = strongest_look(trace)
    length = len(trace.key_ids) - (1 if trace.kind == "bidirectional" else 0)  # BERT4Rec's mask slot: no item
    where = _("its own mask slot") if key >= length else back(key, length)
    return _("Head {head} of layer {layer} puts {weight:.2f} of its weight on “{title}”, {where}.").format(
        head=head + 1, layer=layer + 1, weight=weight, title=trace.key_labels[key], where=where)


def order_sentence(changes: Sequence[ListChange], k: int = 10) -> str:
    """How much of the original top-k each variant of the history keeps: "Reversed, 3 of the top 10 stay; …" """
    text = _("; ").join(_("{variant}, {kept} of the top {k} stay").format(variant=_(c.variant), kept=c.overlap, k=k)
                        for c in changes[1:])
    return _("{clauses}.").format(clauses=text[:1].upper() + text[1:]) if text else ""


def cross_sentence(cross: CrossAttention, candidates: Sequence[str], history: Sequence[str]) -> str:
    """What the first two candidates read hardest: "For its #1, “A”, it puts 0.40 on “X”; for its #2, …" """
    shown = history[-cross.weights.shape[1]:]
    parts = []
    for rank in range(min(2, len(candidates))):
        j = int(np.argmax(cross.weights[rank]))
        parts.append(_("for its #{rank}, “{candidate}”, it puts {weight:.2f} on “{title}”").format(
            rank=rank + 1, candidate=candidates[rank], weight=cross.weights[rank, j], title=shown[j]))
    text = _("; ").join(parts)
    return _("{clauses}.").format(clauses=text[0].upper() + text[1:])
