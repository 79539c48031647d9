"""Home: data, model and stored metrics; every page runs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.app.conftest import APP, ATTENTION, HISTORY, HOME, go


def test_home_shows_data_model_and_stored_metrics(at):
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Data"] == "builtin\\:films" and metrics["Model"] == "SASRec"  # shown as typed: md() escapes it
    stored = json.loads((Path(APP).parent / "assets/models/films-sasrec/metrics.json").read_text())["test"]
    assert metrics["Test NDCG@10"] == f"{stored['ndcg@10']:.3f}"
    assert metrics["Test HR@10"] == f"{stored['hr@10']:.3f}"
    assert [(link.value, link.proto.page) for link in at.page_link] == [
        ("Build a history", "history"), ("Learn how it computes", "learn"), ("Teach a lesson", "lesson"),
        ("See the attention", "attention"), ("Compare the models", "compare"),
        ("Compare two histories", "ab")]  # two columns, filled left to right: the left one comes first
    assert at.session_state["source"] == "builtin:films" and at.session_state["history"] == []
    assert Path(at.session_state["model_dir"]).is_absolute()
    assert Path(at.session_state["model_dir"], "config.json").is_file()


def test_every_page_runs(at):
    go(at, HISTORY)
    assert at.title[0].value == "Build a history"
    go(at, ATTENTION)  # empty history: a hint and a link, no error
    assert at.info and "history is empty" in at.info[0].value
    go(at, HOME)
    assert at.title[0].value.startswith("recattn")
