"""Item embeddings in two dimensions: the learned item vectors of a model, projected by PCA (numpy's SVD)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from recattn.models import registry


@dataclass(frozen=True)
class Projection:
    """Points projected on their first principal components."""

    coords: np.ndarray  # (n, components)
    explained: np.ndarray  # (components,) share of the total variance each component explains


def item_embeddings(model: torch.nn.Module) -> np.ndarray:
    """The learned vector of every catalogue item, (n_items, hidden), in catalogue order (index 0, padding, and
    BERT4Rec's mask slot left out). Only for kinds registered with `item_vectors`."""
    if not registry.get(model.config.kind).item_vectors:
        raise ValueError(f"a {model.config.kind} model has no item embeddings")
    n = model.config.n_items
    return model.item_emb.weight[1:n + 1].detach().float().cpu().numpy()


def pca(points: np.ndarray, components: int = 2) -> Projection:
    """Project `points` (n, d) on their first principal components, centred; `explained` is each component's share
    of the total variance (1.0 for the first when the points lie on a line). Signs follow the SVD."""
    x = np.asarray(points, dtype=np.float64)
    x = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    variance = s ** 2
    total = variance.sum()
    shares = variance / total if total > 0 else np.zeros_like(variance)
    k = min(components, len(s))
    return Projection(coords=u[:, :k] * s[:k], explained=shares[:k])
