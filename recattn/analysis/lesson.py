"""The lesson's sentences, computed from the live numbers of one history: where attention looks hardest, how much of a
top-10 survives a change of order, what the additive model's candidates read. Arrays and labels in, plain text out
(titles in quotes; the page makes the text literal)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recattn.analysis.contrast import ListChange
from recattn.analysis.walkthrough import CrossAttention
from recattn.trace import AttentionTrace

# The seed's order: each step's title and the question it leaves with the class.
STEPS = (
    ("Additive attention", "The score is a small network of both items, not a dot product. What can it express that "
                           "a dot product cannot, and what does it cost per pair?"),
    ("Dot-product and multi-head attention", "Two heads of one layer read the same history. Why would they look at "
                                             "different items, and what would be lost with one head?"),
    ("Positions", "A model that kept all ten recommendations when the history is reversed: what would it be "
                  "ignoring, and is that always wrong?"),
    ("The layer", "Attention mixes the items; the residual adds the item back. What would the scores lose without "
                  "the residual?"),
    ("Cross-attention", "Each candidate reads the history with its own weights. Why is that better for ranking, and "
                        "why is it too slow to score a whole catalogue?"),
    ("News and films", "Stories come out in parts hours apart; films are watched at each person's pace. Which head "
                       "role should matter more in each world?"),
    ("Transformer vs RNN", "One model learns faster, the other may end higher. Which would you deploy if you could "
                           "retrain every hour, and which with a week of compute?"),
)


def back(position: int, length: int) -> str:
    """How far back a key of the scoring row lies, in words: the newest item is the last of `length`."""
    n = length - 1 - position
    return ("the newest item" if n == 0 else "the item just before the newest" if n == 1 else
            f"{n} items before the newest")


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
    where = "its own mask slot" if key >= length else back(key, length)
    return (f"Head {head + 1} of layer {layer + 1} puts {weight:.2f} of its weight on “{trace.key_labels[key]}”, "
            f"{where}.")


def order_sentence(changes: Sequence[ListChange], k: int = 10) -> str:
    """How much of the original top-k each variant of the history keeps: "Reversed, 3 of the top 10 stay; …" """
    text = "; ".join(f"{c.variant}, {c.overlap} of the top {k} stay" for c in changes[1:])
    return text[:1].upper() + text[1:] + "." if text else ""


def cross_sentence(cross: CrossAttention, candidates: Sequence[str], history: Sequence[str]) -> str:
    """What the first two candidates read hardest: "For its #1, “A”, it puts 0.40 on “X”; for its #2, …" """
    shown = history[-cross.weights.shape[1]:]
    parts = []
    for rank in range(min(2, len(candidates))):
        j = int(np.argmax(cross.weights[rank]))
        parts.append(f"for its #{rank + 1}, “{candidates[rank]}”, it puts {cross.weights[rank, j]:.2f} on "
                     f"“{shown[j]}”")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."
