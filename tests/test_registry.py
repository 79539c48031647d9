"""Adding a model kind is one class and one registration: a toy kind declared outside the library (tests/toy_kind.py,
registered by the `toy` fixture) shows up in the CLI's choices and compare (the Train page's model select and the
Attention page's selector: tests/app/test_registered_kind.py), and trains, saves, loads and recommends like any
other."""

from __future__ import annotations

import pytest

from recattn import checkpoint, cli, defaults
from recattn.config import TrainConfig
from recattn.data import prepare
from recattn.models import registry
from recattn.recommend import Recommender
from recattn.training.compare import compare
from tests.toy_kind import RecentPopular


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
