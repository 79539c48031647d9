"""A kind registered from outside the library (tests/toy_kind.py, by the `toy` fixture) is offered by the Train page and, once a model of
it is trained on the data, by the Attention page's selector."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from recattn import defaults
from recattn.config import TrainConfig
from recattn.data import load
from recattn.training.workflow import train_and_save
from tests.app.conftest import APP, ATTENTION, TRAIN, go


def test_the_pages_offer_the_toy_kind(toy, runs_dir):
    films = load("builtin:films")
    train_and_save(films, defaults.model_config("toy", n_items=len(films.items)), TrainConfig(), runs_dir / "toy",
                   None)
    at = AppTest.from_file(APP, default_timeout=60).run()
    go(at, TRAIN)
    assert "Toy (recent popular)" in at.selectbox(key="train_kind").options
    at.session_state["history"] = ["2", "10", "11"]
    go(at, ATTENTION)
    assert any("Toy (recent popular)" in option for option in at.selectbox(key="attention_model").options)
