"""Large catalogues: the synthetic MovieLens writer, and count models that stay sparse (small sizes only)."""

import numpy as np
import torch

from benchmarks.scale import MIN_PER_USER, write_movielens
from recattn.config import ModelConfig
from recattn.data import load
from recattn.data.sequences import Split
from recattn.models.baselines import ItemKNN, Popularity, follower_matrix


def test_synthetic_movielens_loads_with_the_movielens_reader(tmp_path):
    folder = write_movielens(tmp_path / "ml", 20_000, n_items=500, seed=1)
    data = load(str(folder))
    assert data.format == "ml-latest"
    assert len(data.interactions) == 20_000 and len(data.items) == 500
    per_user = data.interactions.groupby("user_id").size()
    assert per_user.min() >= MIN_PER_USER and per_user.max() > 3 * per_user.median()  # a long tail of activity
    per_item = data.interactions["item_id"].value_counts()
    assert per_item.iloc[0] > 20 * per_item.median()  # Zipf popularity: a few films take many ratings
    times = data.interactions.groupby("user_id")["timestamp"].is_monotonic_increasing
    assert times.all()


def test_item_to_item_stays_sparse_for_a_huge_catalogue():
    # 200,000 items: a dense items x items float32 matrix would take 160 GB; the fitted one holds one entry a pair
    n_items = 200_000
    train = (np.array([5, 7, 9]), np.array([5, 7]), np.array([199_999, 1]))
    crow, col, val = follower_matrix(train, n_items)
    # pairs at distance 1..3 within one sequence: (5,7) twice at 1, (5,9) at 2, (7,9) at 1, (199999,1) at 1
    assert col.tolist() == [7, 9, 9, 1] and len(crow) == n_items + 2
    np.testing.assert_allclose(val, [2 / 2.5, 0.5 / 2.5, 1.0, 1.0])

    split = Split(train, (), np.zeros(0, dtype=np.int64), (), np.zeros(0, dtype=np.int64), n_items)
    knn = ItemKNN(ModelConfig(kind="itemknn", n_items=n_items))
    knn.fit_counts(split)
    stored = sum(t.numel() * t.element_size() for t in knn.buffers())
    assert stored < 10 * (n_items + 2) * 8  # O(items + pairs), nowhere near items²
    scores = knn.score(torch.tensor([[0, 5], [0, 199_999]])).scores  # (batch, n_items + 1)
    assert scores.shape == (2, n_items + 1)
    assert scores[0].argmax().item() == 7 and scores[1].argmax().item() == 1

    pop = Popularity(ModelConfig(kind="pop", n_items=n_items))
    pop.fit_counts(split)
    assert pop.counts.shape == (n_items + 1,)
    assert pop.score(torch.tensor([[9]])).scores.argmax().item() == 5  # 5 and 7 seen twice: the first

