"""recattn/training/background.py: training in a child process gives the same model as in this one, streams its epochs,
stops on request, and turns a failure or a dead process into the project's error."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading

import pytest
import torch

from recattn import checkpoint, defaults
from recattn.training import background, workflow
from recattn.data.builtin import generate_films
from recattn.errors import RecAttnError


@pytest.fixture(scope="module")
def world():
    return generate_films(seed=5, n_films=60, n_users=80, n_franchises=10)


def configs(epochs: int = 3, **train):
    model = defaults.model_config("gru", hidden=16)
    return model, defaults.train_config("gru", n_items=60, epochs=epochs, seed=0, device="cpu", **train)


def test_a_child_process_trains_the_same_model_and_reports_every_epoch(world, tmp_path):
    model, train = configs()
    seen = []
    metrics = background.train_and_save(world, model, train, tmp_path / "child", on_epoch_end=seen.append,
                                        threads=torch.get_num_threads())
    _, here = workflow.train_and_save(world, model, train, tmp_path / "here")
    assert [r.epoch for r in seen] == [1, 2, 3] and metrics["epochs_run"] == here["epochs_run"] == 3
    assert metrics["test"]["ndcg@10"] == pytest.approx(here["test"]["ndcg@10"])  # same seed, same thread count
    child, here = (checkpoint.load(tmp_path / name).model.state_dict() for name in ("child", "here"))
    assert child.keys() == here.keys()
    assert all(torch.allclose(child[k], here[k], atol=1e-5) for k in child)


def test_a_stop_request_ends_the_run_after_an_epoch_and_saves_the_best(world, tmp_path):
    model, train = configs(epochs=200)
    seen = []
    stop = threading.Event()

    def on_epoch_end(report):
        seen.append(report)
        if len(seen) == 2:
            stop.set()

    metrics = background.train_and_save(world, model, train, tmp_path / "out", on_epoch_end, should_stop=stop.is_set)
    assert metrics["stopped"] == "callback" and 2 <= metrics["epochs_run"] < 200
    assert (tmp_path / "out" / "model.safetensors").is_file()


def test_a_failure_in_the_child_is_the_project_error(world, tmp_path):
    model, train = configs()
    tiny = dataclasses.replace(world, interactions=world.interactions.head(1))  # nobody to split
    with pytest.raises(RecAttnError, match="3 or more interactions"):
        background.train_and_save(tiny, model, train, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_killed_training_process_is_reported_not_waited_for(world, tmp_path):
    model, train = configs(epochs=500)

    def kill_child(report):  # the child is the process that sent this report: end it without a word
        for child in _children():
            os.kill(child, signal.SIGKILL)

    with pytest.raises(RecAttnError, match="ended without a result"):
        background.train_and_save(world, model, train, tmp_path / "out", on_epoch_end=kill_child)


def _children() -> list[int]:
    import multiprocessing

    return [p.pid for p in multiprocessing.active_children() if p.name.startswith("recattn-train-")]
