"""A toy model kind for the tests that add a kind from outside the library (tests/test_registry.py,
tests/app/test_registered_kind.py): popularity with one flat attention row, fitted by counting."""

from __future__ import annotations

import torch
from torch import nn

from recattn.config import ModelConfig
from recattn.models import registry
from recattn.models.output import ModelOutput


class RecentPopular(nn.Module):
    """Popularity, with one attention row that looks at the history's items equally: a kind with attention, fitted by
    counting."""

    attention_kind = "causal"

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        self.register_buffer("counts", torch.zeros(cfg.n_items + 1))

    def fit_counts(self, split) -> None:
        self.counts.copy_(torch.as_tensor(split.item_counts(), dtype=torch.float32))

    def score(self, seqs: torch.Tensor, return_attention: bool = False) -> ModelOutput:
        seqs = seqs[:, -self.config.max_len:]
        scores = self.counts.expand(len(seqs), -1).clone()
        scores[:, 0] = float("-inf")
        visible = (seqs != 0).float()
        weights = (visible / visible.sum(-1, keepdim=True).clamp_min(1))[:, None, None, :]  # (B, 1 head, 1 row, T)
        return ModelOutput(scores, (weights,) if return_attention else None, self.attention_kind)


TOY = registry.ModelKind("toy", "Toy (recent popular)", RecentPopular, "causal", "counts",
                         "Popularity with a flat look at the history.", item_vectors=False,
                         model_defaults={"max_len": 20})
