"""Item embeddings: the rows a model learned, PCA with known variance shares, and the map's marked points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recattn import checkpoint
from recattn.analysis.embeddings import item_embeddings, pca
from recattn.viz.embeddings import embedding_map

MODELS = Path(__file__).resolve().parents[1] / "assets" / "models"


def test_points_on_a_line_have_all_their_variance_on_the_first_component():
    t = np.linspace(-2, 5, 30)[:, None]
    points = np.array([1.0, -2.0, 0.5, 3.0]) * t + np.array([7.0, 1.0, 0.0, -4.0])
    p = pca(points)
    assert p.explained[0] == pytest.approx(1.0) and p.explained[1] == pytest.approx(0.0, abs=1e-12)
    # The first coordinate is the distance along the line from the centre (up to the sign SVD picks).
    along = (t[:, 0] - t.mean()) * np.linalg.norm([1.0, -2.0, 0.5, 3.0])
    np.testing.assert_allclose(np.abs(p.coords[:, 0]), np.abs(along), atol=1e-9)


def test_variance_shares_of_a_known_cloud():
    points = np.array([[3.0, 0, 0], [-3.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0]])
    p = pca(points)
    np.testing.assert_allclose(p.explained, [0.9, 0.1])  # variances 18 and 2 out of 20
    assert p.coords.shape == (4, 2)


def test_item_embeddings_are_the_catalogue_rows_of_the_table():
    ckpt = checkpoint.load(MODELS / "films-bert4rec")
    emb = item_embeddings(ckpt.model)
    n = ckpt.model_config.n_items
    assert emb.shape == (n, ckpt.model_config.hidden)  # no padding row, no mask slot
    np.testing.assert_array_equal(emb, ckpt.model.item_emb.weight[1:n + 1].detach().numpy())
    with pytest.raises(ValueError, match="no item embeddings"):
        item_embeddings(checkpoint.load(MODELS / "films-pop").model)


def test_map_marks_exactly_the_history_and_the_recommendations():
    coords = np.arange(12, dtype=float).reshape(6, 2)
    titles = ["<b>Bold</b> & co", "B", "C", "D", "E", "F"]
    genres = ["Drama|War", "Drama", "Comedy", "Comedy", "", "Noir"]
    fig = embedding_map(coords, titles, genres, [0.4, 0.2], history={3: 2, 0: 1}, recommended={5: 1, 1: 2})
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"Drama", "Comedy", "(none)", "Noir", "history", "recommended"}
    assert list(by_name["history"].x) == [0.0, 6.0]  # rows 0 then 3, in history order
    assert list(by_name["recommended"].x) == [10.0, 2.0]  # rows 5 then 1, by rank
    assert by_name["history"].marker.symbol != by_name["recommended"].marker.symbol
    bold = by_name["history"].customdata[0]
    assert bold[0] == "&lt;b&gt;Bold&lt;/b&gt; &amp; co" and bold[1] == "Drama · War"
    assert bold[2] == "in the history (position 1)"
    assert fig.layout.xaxis.title.text == "component 1 (40% of the variance)"
    assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)" and fig.layout.title.text


def test_map_without_history_has_no_marked_points():
    fig = embedding_map(np.zeros((3, 2)), ["a", "b", "c"], ["X", "Y", "X"], [0.5, 0.5], {}, {})
    assert [t.name for t in fig.data] == ["X", "Y"]
