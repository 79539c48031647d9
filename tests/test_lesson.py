"""recattn/analysis/lesson.py: the lesson's sentences from known numbers."""

from __future__ import annotations

import numpy as np

from recattn.analysis import lesson
from recattn.analysis.contrast import ListChange
from recattn.analysis.walkthrough import CrossAttention
from recattn.trace import AttentionTrace, causal_mask


def test_the_strongest_look_of_the_scoring_row_in_words():
    w = np.zeros((2, 2, 3, 3))
    w[:, :, -1] = [1 / 3, 1 / 3, 1 / 3]
    w[0, 1, -1] = [0.05, 0.91, 0.04]  # head 2 of layer 1: the item just before the newest
    w[1, 0, 0] = [1.0, 0, 0]  # a larger weight in a row that did not score: not counted
    trace = AttentionTrace(w, ("a", "b", "c"), ("a", "b", "c"), ("1", "2", "3"), ("1", "2", "3"), "causal",
                           causal_mask(3, 3))
    assert lesson.strongest_look(trace) == (0, 1, 1, 0.91)
    assert lesson.look_sentence(trace) == ("Head 2 of layer 1 puts 0.91 of its weight on “b”, the item just before "
                                           "the newest.")
    assert [lesson.back(p, 5) for p in (4, 3, 0)] == ["the newest item", "the item just before the newest",
                                                     "4 items before the newest"]


def test_bert4rec_looking_at_its_own_slot_is_said_so():
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, -1] = [0.1, 0.2, 0.7]
    trace = AttentionTrace(w, ("a", "b", "[next?]"), ("a", "b", "[next?]"), ("1", "2", "[next?]"),
                           ("1", "2", "[next?]"), "bidirectional")
    assert lesson.look_sentence(trace).endswith("on “[next?]”, its own mask slot.")


def test_order_and_cross_sentences():
    changes = [ListChange("original", (), (), 10), ListChange("reversed", (), (), 3),
               ListChange("shuffled", (), (), 5)]
    assert lesson.order_sentence(changes) == "Reversed, 3 of the top 10 stay; shuffled, 5 of the top 10 stay."
    cross = CrossAttention(np.zeros((2, 3)), np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]]))
    said = lesson.cross_sentence(cross, ["A", "B"], ["x", "y", "z", "w"][1:])
    assert said == "For its #1, “A”, it puts 0.60 on “z”; for its #2, “B”, it puts 0.50 on “y”."
    assert len(lesson.STEPS) == 7 and all(q.endswith("?") for _, q in lesson.STEPS)
