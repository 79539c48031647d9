"""A and B: pin, edit, both lists with B's rank moves, and the per-head change of attention, each the library's."""

from __future__ import annotations

import numpy as np

from recattn.analysis.ab import attention_change
from recattn.data import load
from recattn.recommend import Recommender
from tests.app.conftest import MODELS, go, plotly_specs, z_of

AB = "pages/ab.py"
A_HIST = ["915", "341", "5", "336", "880"]
B_HIST = ["915", "341", "5", "880", "336"]


def test_pin_edit_and_compare(at):
    at.session_state["history"] = A_HIST
    go(at, AB)
    assert "ab_change" not in plotly_specs(at) and at.button(key="ab_pin")  # nothing pinned yet
    at.button(key="ab_pin").click().run()
    assert at.session_state["ab_pinned"][1] == tuple(A_HIST) and at.success
    assert any("B is A unchanged" in m.value for m in at.markdown)
    at.session_state["history"] = B_HIST  # the edit: the last two swapped
    at.run()
    assert not at.exception
    r = Recommender.from_checkpoint(MODELS / "films-sasrec", load("builtin:films"))
    a, b = r.recommend(A_HIST), r.recommend(B_HIST)
    a_list, b_list = [m.value for m in at.markdown if m.value.startswith("1. **")]
    assert a_list.count("\n") == b_list.count("\n") == 19  # ten entries, two lines each
    a_ranks = {i.id: n for n, i in enumerate(a.items, 1)}
    for n, (item, line) in enumerate(zip(b.items, b_list.split("\n")[::2]), 1):
        before = a_ranks.get(item.id)
        badge = ("new" if before is None else f"▲{before - n}" if before > n else f"▼{n - before}" if before < n
                 else None)
        assert (f"badge[{badge}]" in line) if badge else "badge[" not in line
    assert any("B holds A's items in another order" in m.value for m in at.markdown)
    change = attention_change(a.trace, b.trace)
    drawn = [t for t in plotly_specs(at)["ab_change"]["data"] if t["type"] == "heatmap"]
    assert len(drawn) == 4
    np.testing.assert_allclose(z_of(drawn[0]), change.diff[0, 0], rtol=1e-6)
    layer, head, row, column = change.largest()
    assert any(f"The largest change: layer {layer + 1}, head {head + 1}" in c.value for c in at.caption)
    at.button(key="ab_reset").click().run()
    assert at.session_state["history"] == A_HIST
    at.button(key="ab_unpin").click().run()
    assert "ab_pinned" not in at.session_state and at.button(key="ab_pin")
