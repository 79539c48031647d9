"""Train: a model trains off the script thread, saves into runs/ and becomes the session's model."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, ATTENTION, DATA, TRAIN, charts, finish_training, go


def test_uploaded_files_become_the_source_and_train(at, runs_dir):
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
    assert len(charts(at)) == 2 and "This catalogue has no genres." in [c.value for c in at.caption]

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

