"""Adding a model kind is one class and one registration: a toy kind declared here, in the test file, shows up in the
CLI's choices, compare, the Train page's model select and the Attention page's selector, and trains, saves, loads and
recommends like any other."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from recattn import checkpoint, cli, defaults
from recattn.config import ModelConfig, TrainConfig
from recattn.data import prepare
from recattn.models import registry
from recattn.models.output import ModelOutput
from recattn.recommend import Recommender
from recattn.results.compare import compare


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


@pytest.fixture
def toy():
    registry.register(TOY)
    yield TOY
    registry.unregister(TOY.name)


def test_the_toy_kind_is_everywhere_a_kind_is_listed(toy, small_world):
    assert isinstance(RecentPopular(defaults.model_config("toy", n_items=3)), registry.Model)
    train_choices = next(a for a in cli.build_parser()._subparsers._group_actions[0].choices["train"]._actions
                         if a.dest == "model").choices
    assert "toy" in train_choices
    report = compare(small_world, ["toy", "pop"], ["full"])
    assert set(report["models"]) == {"toy", "pop"} and report["models"]["toy"]["ndcg@10"] >= 0
    assert report["models"]["toy"]["ndcg@10"] == pytest.approx(report["models"]["pop"]["ndcg@10"])  # same counts


def test_the_toy_kind_trains_saves_loads_and_shows_its_attention(toy, small_world, tmp_path):
    from recattn.training.workflow import train_and_save

    _, split = prepare(small_world)
    cfg = defaults.model_config("toy", n_items=len(small_world.items))
    train_and_save(small_world, cfg, TrainConfig(), tmp_path / "toy", None)
    ckpt = checkpoint.load(tmp_path / "toy")
    assert ckpt.model_config.kind == "toy" and checkpoint.info(tmp_path / "toy").name == "Toy (recent popular)"
    rec = Recommender(ckpt.model, small_world.items).recommend(small_world.items["item_id"].head(4).tolist(), k=3)
    assert rec.kind == "causal" and rec.trace.weights.shape == (1, 1, 1, 4)
