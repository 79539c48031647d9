"""Train: a model trains off the script thread, saves into runs/ and becomes the session's model."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from recattn.defaults import train_config
from tests.app.conftest import APP, ATTENTION, DATA, TRAIN, finish_training, go, plotly_specs
from ui import training


def test_uploaded_files_become_the_source_and_train(at, runs_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("RECATTN_UPLOADS_DIR", str(tmp_path / "uploads"))
    go(at, DATA)
    at.segmented_control(key="data_source").set_value("upload").run()
    assert "up to 200 MB each" in at.file_uploader(key="data_uploads").label
    rows = "".join(f"u{u},i{(u * 7 + t) % 30},{1_600_000_000 + t}\n" for u in range(20) for t in range(6))
    at.file_uploader(key="data_uploads").set_value([("interactions.csv", b"user,item,timestamp\n" + rows.encode(),
                                                "text/csv")]).run()
    at.button(key="data_load_upload").click().run()
    assert not at.exception
    source = Path(at.session_state["source"])
    assert (source / "interactions.csv").is_file() and source.name.startswith("upload-")
    assert {m.label: m.value for m in at.metric}["Users"] == "20"
    assert "No model is trained on this data yet" in at.info[0].value
    assert [k for k in plotly_specs(at) if k.startswith("data_")] == ["data_lengths", "data_popularity"]
    assert "This catalogue has no genres." in [c.value for c in at.caption]

    # A tiny SASRec trains on it in seconds, for every epoch asked (the progress callback must not stop it).
    go(at, TRAIN)
    at.number_input(key="train_epochs").set_value(2)
    at.button[0].click().run()  # the form's submit button
    finish_training(at)
    assert "Trained SASRec in" in at.success[0].value and "2 epochs" in at.success[0].value
    (run,) = runs_dir.iterdir()
    assert run.name.startswith(source.name + "-sasrec-") and at.session_state["model_dir"] == str(run)


def test_the_train_button_saves_a_model_and_makes_it_current(at, runs_dir):
    go(at, TRAIN)
    at.selectbox(key="train_kind").set_value("pop")
    at.button[0].click().run()
    finish_training(at)
    (run,) = runs_dir.iterdir()
    assert run.name.startswith("films-pop-") and (run / "config.json").is_file()
    assert at.session_state["model_dir"] == str(run)
    assert "Trained Popularity" in at.success[0].value
    stored = json.loads((run / "metrics.json").read_text())["test"]
    assert f"test NDCG@10 {stored['ndcg@10']:.3f}" in at.success[0].value
    assert at.page_link[-1].proto.page == "attention"
    # The picker lists the new model after the shipped one and shows it as the current one.
    picker = at.selectbox(key="sidebar_model")
    assert picker.options[0] == "SASRec · shipped"
    assert [o for o in picker.options if o.startswith("Popularity · ") and o != "Popularity · shipped"]
    assert picker.value == str(run)
    assert at.sidebar.caption[-1].value.startswith(f"test NDCG@10 {stored['ndcg@10']:.3f} · ranks items by popularity")


def test_training_runs_off_the_script_thread_and_stops_on_request(at, runs_dir):
    """While one session trains, another session's run completes; Stop ends the job after its epoch and the best
    epoch so far is saved and adopted."""
    go(at, TRAIN)
    at.number_input(key="train_epochs").set_value(200)
    at.button[0].click().run()
    job = at.session_state["_training_job"]
    assert not job.done and job.thread.is_alive()

    other = AppTest.from_file(APP, default_timeout=60)
    other.session_state["history"] = ["1", "2", "3"]
    other.run()
    other.switch_page(ATTENTION).run()
    assert not other.exception and other.get("plotly_chart")
    assert not job.done, "the other session waited for the training to end"

    at.run()  # the page while it trains: progress and a Stop button
    assert at.button(key="train_stop") and at.progress
    at.button(key="train_stop").click().run()
    finish_training(at)
    assert job.stopped and len(job.reports) < 200
    assert "stopped by you" in at.success[0].value
    (run,) = runs_dir.iterdir()
    assert at.session_state["model_dir"] == str(run)



def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def busy_server():
    """Both training slots taken by two other visitors' jobs; `free()` ends one of them."""
    held = []
    for _ in range(training.MAX_RUNNING):
        held.append(object())
        assert training._QUEUE.acquire(held[-1], threading.Event())

    def free() -> None:
        held.pop()
        training._QUEUE.release()

    yield free
    while held:
        free()


def queue_note(at: AppTest) -> str:
    return next(i.value for i in at.info if "in the queue" in i.value)


def test_jobs_wait_in_a_first_come_queue_and_see_their_place(at, runs_dir, busy_server):
    other = AppTest.from_file(APP, default_timeout=60).run()
    for session, kind in ((at, "sasrec"), (other, "pop")):
        go(session, TRAIN)
        session.selectbox(key="train_kind").set_value(kind)
        session.number_input(key="train_epochs").set_value(200)
        session.button[0].click().run()
    first, second = at.session_state["_training_job"], other.session_state["_training_job"]
    wait_for(lambda: first.place == 1 and second.place == 2)
    at.run()
    other.run()
    assert queue_note(at).startswith("1st in the queue: this server trains 2 models at a time")
    assert queue_note(other).startswith("2nd in the queue")
    assert not first.reports and not first.training and not list(runs_dir.glob("*"))

    busy_server()  # a slot frees: the first to come trains, the second moves up
    wait_for(lambda: first.training)
    assert second.place == 1 and not second.training
    other.run()
    assert queue_note(other).startswith("1st in the queue")
    at.run()
    assert not [i for i in at.info if "in the queue" in i.value] and at.button(key="train_stop")

    at.button(key="train_stop").click().run()  # the first one ends: its slot goes to the second
    finish_training(at)
    assert "Trained SASRec" in at.success[0].value
    finish_training(other)
    assert "Trained Popularity" in other.success[0].value and len(list(runs_dir.iterdir())) == 2


def test_a_queued_job_can_be_stopped_and_leaves_the_queue(at, runs_dir, busy_server):
    go(at, TRAIN)
    at.selectbox(key="train_kind").set_value("pop")
    at.button[0].click().run()
    job = at.session_state["_training_job"]
    wait_for(lambda: job.place == 1)
    at.button(key="train_stop").click().run()
    finish_training(at)
    assert job.place == 0 and at.error[0].value == "stopped before it started"
    assert not runs_dir.exists() or not list(runs_dir.iterdir())


def test_the_time_limit_has_a_server_side_maximum(at):
    go(at, TRAIN)
    assert at.number_input(key="train_minutes").max == training.MAX_MINUTES == 10.0
    asked = train_config("sasrec", n_items=100, epochs=5, max_minutes=600.0)
    assert training.time_limited(asked).max_minutes == 10.0 and training.time_limited(asked).epochs == 5
    assert training.time_limited(train_config("sasrec", n_items=100)).max_minutes <= 10.0
    short = train_config("sasrec", n_items=100, max_minutes=2.0)
    assert training.time_limited(short) is short


def test_runs_keep_the_newest_app_trained_models_only(at, runs_dir, monkeypatch):
    monkeypatch.setattr(training, "RUNS_MAX_COUNT", 2)
    for age, name in ((300, "old-app"), (200, "mid-app"), (400, "cli")):
        (runs_dir / name).mkdir(parents=True)
        (runs_dir / name / "model.safetensors").write_bytes(b"x")
        if name != "cli":
            (runs_dir / name / training.APP_MARK).touch()
        os.utime(runs_dir / name, (time.time() - age,) * 2)
    go(at, TRAIN)
    at.selectbox(key="train_kind").set_value("pop")
    at.button[0].click().run()
    finish_training(at)
    new = Path(at.session_state["model_dir"])
    assert sorted(p.name for p in runs_dir.iterdir()) == sorted(["mid-app", "cli", new.name])
    assert (new / training.APP_MARK).is_file()
    assert at.success[0].value.endswith("To keep runs/ within 2 models and 500 MB, the oldest app-trained ones were "
                                        "removed: old-app.")


@pytest.mark.parametrize("n, text", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"),
                                     (13, "13th"), (21, "21st"), (22, "22nd"), (101, "101st"), (111, "111th")])
def test_ordinal(n, text):
    assert training.ordinal(n) == text
