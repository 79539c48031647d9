"""recattn/analysis/ab.py and viz/ab.py: two traces compared on the cells they share, by hand and on a real model."""

from __future__ import annotations

import numpy as np
import pytest

from recattn.analysis.ab import attention_change
from recattn.data import load
from recattn.recommend import Recommender
from recattn.trace import AttentionTrace, causal_mask
from recattn.viz.ab import change_grid
from tests.app.conftest import MODELS


def _trace(ids, weights, kind="causal"):
    n = len(ids)
    mask = causal_mask(n, n) if kind == "causal" else None
    return AttentionTrace(np.asarray(weights, dtype=float)[None, None], tuple(f"t{i}" for i in ids),
                          tuple(f"t{i}" for i in ids), tuple(ids), tuple(ids), kind, mask)


def test_the_shared_cells_in_bs_order_and_nan_where_a_map_masks():
    a = _trace(["x", "y", "z"], [[1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]])
    b = _trace(["y", "x", "w"], [[1, 0, 0], [0.6, 0.4, 0], [0.1, 0.1, 0.8]])  # x and y swapped, z dropped, w added
    change = attention_change(a, b)
    assert change.row_ids == change.column_ids == ("y", "x") and change.row_labels == ("ty", "tx")
    # in B, y (first) cannot see x (second); in A, x cannot see y: each map blanks its own future
    np.testing.assert_array_equal(change.b[0, 0], [[1, np.nan], [0.6, 0.4]])
    np.testing.assert_array_equal(change.a[0, 0], [[0.5, 0.5], [np.nan, 1]])
    np.testing.assert_allclose(change.diff[0, 0], [[0.5, np.nan], [np.nan, -0.6]])
    assert change.largest() == (0, 0, 1, 1)


def test_different_models_are_refused():
    with pytest.raises(ValueError, match="same model"):
        attention_change(_trace(["x"], [[1]]), _trace(["x"], [[1]], kind="bidirectional"))


def test_a_swap_on_the_shipped_model_and_its_figure():
    r = Recommender.from_checkpoint(MODELS / "films-sasrec", load("builtin:films"))
    a_hist = ["915", "341", "5", "336", "880"]
    b_hist = ["915", "341", "5", "880", "336"]  # the last two swapped
    a, b = r.recommend(a_hist).trace, r.recommend(b_hist).trace
    change = attention_change(a, b)
    assert set(change.row_ids) == set(a_hist) and change.a.shape == (2, 2, 5, 5)
    i, j = change.row_ids.index("880"), change.column_ids.index("915")  # a cell both maps hold
    np.testing.assert_allclose(change.b[:, :, i, j], b.weights[:, :, 3, 0], rtol=1e-6)
    np.testing.assert_allclose(change.a[:, :, i, j], a.weights[:, :, 4, 0], rtol=1e-6)
    fig = change_grid(change, "B − A").to_plotly_json()
    assert len(fig["data"]) == 4 and fig["layout"]["coloraxis"]["cmid"] == 0
    top = np.nanmax(np.abs(change.diff))
    assert fig["layout"]["coloraxis"]["cmin"] == pytest.approx(-top) and fig["layout"]["coloraxis"]["cmax"] == top
    assert all("A %{customdata[2]:.3f} → B %{customdata[3]:.3f}" in t["hovertemplate"] for t in fig["data"])
