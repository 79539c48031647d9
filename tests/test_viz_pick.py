"""The picked item (linked views): every figure that shows history items outlines the picked one, and only it."""

from __future__ import annotations

import numpy as np

from recattn.trace import AttentionTrace, causal_mask
from recattn.viz.attention import PICKED, positions, trace_figure
from recattn.viz.embeddings import embedding_map
from recattn.viz.explain import method_bars
from recattn.viz.heads import head_figure, row_bars


def _trace(ids=("a", "b", "a", "c")) -> AttentionTrace:
    n = len(ids)
    w = np.random.default_rng(0).random((2, 2, n, n))
    w = np.where(causal_mask(n, n), 0.0, w)
    w = w / w.sum(-1, keepdims=True)
    titles = tuple(f"Title {i}" for i in ids)
    return AttentionTrace(w, titles, titles, tuple(ids), tuple(ids), "causal", causal_mask(n, n))


def _picked_rects(fig) -> list[dict]:
    return [s for s in fig.to_dict()["layout"].get("shapes", []) if s["line"]["color"] == PICKED]


def test_positions_finds_every_place_of_the_item():
    assert positions(["a", "b", "a"], "a") == [0, 2]
    assert positions(["a", "b"], "z") == [] and positions(["a"], None) == []


def test_heatmaps_outline_the_picked_rows_and_columns_in_every_panel():
    trace = _trace()
    assert _picked_rects(trace_figure(trace)) == []
    rects = _picked_rects(trace_figure(trace, picked="a"))
    assert len(rects) == 2 * 2 * (2 + 2)  # 4 panels × (2 rows + 2 columns): "a" stands at 0 and 2
    rows = {(r["y0"], r["y1"]) for r in rects if r["x0"] == -0.5 and r["x1"] == 3.5}
    columns = {(r["x0"], r["x1"]) for r in rects if r["y0"] == -0.5 and r["y1"] == 3.5}
    assert rows == {(-0.5, 0.5), (1.5, 2.5)} and columns == {(-0.5, 0.5), (1.5, 2.5)}
    assert {r["xref"] for r in rects} == {"x", "x2", "x3", "x4"}
    assert len(_picked_rects(trace_figure(trace, layers=[1], picked="c"))) == 2 * 2  # one layer: 2 panels
    assert len(_picked_rects(head_figure(trace, 1, 0, picked="b"))) == 2


def test_bars_outline_the_picked_item():
    trace = _trace()
    for bars in row_bars(trace, picked="b").data:
        assert list(bars.marker.line.width) == [0, 2.5, 0, 0]
        assert bars.marker.line.color[1] == PICKED
    assert set(row_bars(trace).data[0].marker.line.width) == {0}
    fig = method_bars({"attention": np.array([0.1, 0.5, 0.4])}, ["x", "y", "z"], "Item", picked=[2])
    assert list(fig.data[0].marker.line.width) == [0, 0, 2.5]


def test_the_map_rings_the_picked_point_and_every_point_names_its_row():
    coords = np.random.default_rng(1).random((6, 2))
    fig = embedding_map(coords, list("abcdef"), ["g"] * 6, [0.4, 0.2], {0: 1}, {1: 1}, picked=4)
    ring = fig.data[-1]
    assert ring.marker.color == PICKED and list(ring.x) == [coords[4, 0]] and ring.customdata[0][-1] == 4
    assert all(int(t.customdata[k][-1]) in range(6) for t in fig.data for k in range(len(t.customdata)))
    assert all(t.marker.color != PICKED for t in embedding_map(coords, list("abcdef"), ["g"] * 6, [0.4, 0.2], {},
                                                                {}).data)
