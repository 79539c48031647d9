"""Figure builders in recattn.viz: shape of the grid, masked cells, hover text, axis labels."""

import base64
import json

import numpy as np
import pytest

from recattn import viz
from recattn.trace import causal_mask


def _z(trace_json: dict) -> np.ndarray:
    """A heatmap's z as the browser gets it: plotly 7 sends arrays as base64 typed arrays."""
    z = trace_json["z"]
    if isinstance(z, dict):
        shape = tuple(int(n) for n in z["shape"].split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(shape)
    return np.asarray(z, dtype=float)


def _weights(layers=2, heads=3, n=4, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.random((layers, heads, n, n)) * (1 - causal_mask(n, n))  # causal: zero above the diagonal
    return w / w.sum(-1, keepdims=True)


TITLES = ["The Wandering Engine (1993)", "Yarrow: Savage Meadow (2006)", "A very long title that must be cut (1999)",
          "Up (2009)"]


def test_causal_mask_is_the_strict_upper_triangle():
    m = causal_mask(3, 3)
    assert m.tolist() == [[False, True, True], [False, False, True], [False, False, False]]
    # Rows aligned at the end when there are more keys than queries.
    assert causal_mask(1, 3).tolist() == [[False, False, False]]


def test_short_label_keeps_the_end_that_tells_titles_apart():
    assert viz.short_label("Up (2009)") == "Up (2009)"
    cut = viz.short_label(TITLES[2], 22)
    assert len(cut) <= 22 and "…" in cut and cut.endswith("(1999)")
    parts = [viz.short_label(f"Calder: Distant Garden {p} (19{60 + i})") for i, p in enumerate(["II", "III", "IV"])]
    assert len(set(parts)) == 3 and all(len(p) <= viz.LABEL_WIDTH and "…" in p for p in parts)
    assert parts[0].endswith("II (1960)")
    assert viz.short_label("x" * 40, 10) == "x" * 9 + "…"


def test_one_heatmap_per_layer_and_head():
    fig = viz.attention_grid(_weights(2, 3), TITLES, TITLES, causal_mask(4, 4))
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 2 * 3
    assert [a.text for a in fig.layout.annotations][:3] == ["Layer 1 · head 1", "Layer 1 · head 2", "Layer 1 · head 3"]
    # Rows are layers, columns heads: the last trace sits in row 2, column 3 (its own x/y axes).
    assert {t.xaxis for t in heatmaps} == {"x", "x2", "x3", "x4", "x5", "x6"}
    one = viz.attention_grid(_weights(2, 3), TITLES, TITLES, layers=[1])
    assert len(one.data) == 3 and one.data[0].name == "Layer 2 · head 1"


def test_masked_cells_are_nan_and_the_rest_exact():
    w = _weights(2, 2)
    mask = causal_mask(4, 4)
    fig = viz.attention_grid(w, TITLES, TITLES, mask)
    for idx, trace in enumerate(fig.data):
        z = np.asarray(trace.z, dtype=float)
        assert np.isnan(z[mask]).all()
        np.testing.assert_array_equal(z[~mask], w[idx // 2, idx % 2][~mask])
        assert trace.hoverongaps is False  # a masked cell has no hover
    # One colour scale for all maps, from 0 to the largest visible weight.
    assert fig.layout.coloraxis.cmin == 0 and fig.layout.coloraxis.cmax == pytest.approx(w.max())
    # What goes to the browser: NaN (drawn blank) where masked, the exact weights elsewhere.
    sent = _z(json.loads(fig.to_json())["data"][0])
    assert np.isnan(sent[mask]).all() and np.array_equal(sent[~mask], w[0, 0][~mask])


def test_without_mask_nothing_is_blank():
    fig = viz.attention_grid(np.full((1, 1, 2, 2), 0.5), TITLES[:2], TITLES[:2])
    assert not np.isnan(np.asarray(fig.data[0].z, dtype=float)).any()


def test_hover_gives_full_titles_and_exact_weight():
    fig = viz.attention_grid(_weights(1, 1), TITLES, TITLES, causal_mask(4, 4))
    t = fig.data[0]
    assert "%{z:.4f}" in t.hovertemplate and "%{customdata[0]}" in t.hovertemplate
    assert "%{customdata[1]}" in t.hovertemplate
    custom = np.asarray(t.customdata)
    assert custom[2, 1, 0] == f"3. {TITLES[2]}"  # the query (row) title, in full
    assert custom[2, 1, 1] == f"2. {TITLES[1]}"  # the key (column) title
    # The hover formats the z value itself, to 4 decimals: the exact weight, not a rounded copy.
    assert _z(json.loads(fig.to_json())["data"][0])[2, 1] == float(t.z[2][1])


def test_axes_carry_the_numbered_truncated_titles():
    fig = viz.attention_grid(_weights(1, 2), TITLES, TITLES, causal_mask(4, 4))
    expected = [f"{i + 1}. {viz.short_label(t)}" for i, t in enumerate(TITLES)]
    assert list(fig.layout.xaxis.ticktext) == expected and list(fig.layout.xaxis.tickvals) == [0, 1, 2, 3]
    assert list(fig.layout.yaxis.ticktext) == expected
    assert "…" in fig.layout.yaxis.ticktext[2]
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1]  # oldest on top, last row at the bottom


def test_repeated_titles_stay_separate_rows():
    w = _weights(1, 1, n=3)
    fig = viz.attention_grid(w, ["Up (2009)"] * 3, ["Up (2009)"] * 3)
    assert len(set(fig.layout.yaxis.ticktext)) == 3 and np.asarray(fig.data[0].z).shape == (3, 3)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError):
        viz.attention_grid(np.zeros((2, 4, 4)), TITLES, TITLES)
    with pytest.raises(ValueError):
        viz.attention_grid(_weights(1, 1), TITLES[:3], TITLES)
    with pytest.raises(ValueError):
        viz.attention_grid(_weights(1, 1), TITLES, TITLES, np.zeros((3, 3), bool))


def test_the_budget_curves_draw_every_seed_with_one_colour_and_one_legend_entry_per_model():
    from recattn.viz.compare import budget_figure

    panels = {"At the search's budget (1 min)": {"sasrec": [[(5, 0.1), (30, 0.2)], [(6, 0.12)]], "gru": [[(4, 0.15)]]},
              "Trained to early stop": {"sasrec": [[(300, 0.25)]], "gru": [[(200, 0.22)]]}}
    fig = budget_figure(panels, {"sasrec": "SASRec", "gru": "GRU4Rec"}).to_plotly_json()
    traces = fig["data"]
    assert len(traces) == 5 and [t["xaxis"] for t in traces] == ["x", "x", "x", "x2", "x2"]
    assert [t["name"] for t in traces if t["showlegend"]] == ["SASRec", "GRU4Rec"]
    colours = {t["name"]: set() for t in traces}
    for t in traces:
        colours[t["name"]].add(t["line"]["color"])
    assert all(len(c) == 1 for c in colours.values()) and colours["SASRec"] != colours["GRU4Rec"]
    assert all("validation NDCG@10" in t["hovertemplate"] for t in traces)
    left, right = fig["layout"]["xaxis"]["domain"], fig["layout"]["xaxis2"]["domain"]
    assert left[1] < right[0] and fig["layout"]["yaxis2"]["matches"] == "y"
    assert list(traces[0]["x"]) == [5, 30] and list(traces[0]["y"]) == [0.1, 0.2]
