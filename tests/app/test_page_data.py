"""Data: both worlds, switching sources, local folders, uploads, downloaded sets, the model picker."""

from __future__ import annotations

import json
from pathlib import Path

from tests.app.conftest import ATTENTION, DATA, HOME, charts, go, has_tooltips


def test_data_page_shows_both_builtin_worlds(at):
    go(at, DATA)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Users"] == "3,000" and metrics["Catalogue"] == "1,000" and metrics["Interactions"] == "92,000"
    assert {"Items with interactions", "Median history", "Density", "First interaction", "Last interaction"} <= \
        set(metrics)
    specs = charts(at)
    assert len(specs) == 4 and all(has_tooltips(s) for s in specs)  # lengths, long tail, genres, causes
    assert [spec["title"] for spec in specs] == ["History lengths", "The long tail of popularity", "Top genres",
                                                 "Why the simulated users picked what they picked"]

    at.segmented_control(key="data_source").set_value("builtin:news").run()
    assert not at.exception and at.session_state["source"] == "builtin:news"
    assert {m.label: m.value for m in at.metric}["Users"] == "3,000"
    assert len(charts(at)) == 4 and "Top categories" in [spec["title"] for spec in charts(at)]


def test_switching_to_news_drops_the_films_and_picks_its_model(at):
    at.session_state["history"] = ["1", "2", "3"]
    go(at, DATA)
    at.segmented_control(key="data_source").set_value("builtin:news").run()
    assert not at.exception
    assert at.session_state["history"] == []
    note = at.warning[0].value
    assert "Kept 0 items of the history; dropped: The Wandering Engine (1993)" in note
    assert "Model: SASRec · shipped" in note and Path(at.session_state["model_dir"]).name == "news-sasrec"

    # Back to films: the shipped SASRec is picked again.
    at.segmented_control(key="data_source").set_value("builtin:films").run()
    assert Path(at.session_state["model_dir"]).name == "films-sasrec"
    assert "Model: SASRec · shipped" in at.info[0].value


def test_data_without_a_model_says_where_to_train_one(at, tmp_path):
    folder = tmp_path / "log"
    folder.mkdir()
    rows = "".join(f"u{u},i{(u * 7 + t) % 30},{1_600_000_000 + t}\n" for u in range(20) for t in range(6))
    (folder / "interactions.csv").write_text("user,item,timestamp\n" + rows)
    at.session_state["history"] = ["1"]  # a film: dropped, so the note is a warning
    go(at, DATA)
    at.segmented_control(key="data_source").set_value("folder").run()
    at.text_input(key="data_folder").input(str(folder)).run()
    at.button(key="data_load_folder").click().run()
    assert not at.exception and at.session_state["source"] == str(folder)
    assert "No model is trained on this data yet" in at.warning[0].value
    # The sidebar, Home and Attention say where to train one.
    assert not at.sidebar.selectbox and "none trained on this data" in at.sidebar.caption[-1].value
    at.session_state["history"] = ["i1", "i2"]
    go(at, ATTENTION)
    assert "No model is trained on" in at.info[0].value and at.page_link[0].proto.page == "train"
    go(at, HOME)
    assert {m.label: m.value for m in at.metric}["Model"] == "—" and at.page_link[0].proto.page == "train"


def test_a_bad_local_folder_is_an_error_and_the_source_stays(at, tmp_path):
    at.session_state["history"] = ["1", "2"]
    go(at, DATA)
    at.segmented_control(key="data_source").set_value("folder").run()
    at.text_input(key="data_folder").input(str(tmp_path / "nowhere")).run()
    at.button(key="data_load_folder").click().run()
    assert not at.exception
    assert "no such file or folder" in at.error[0].value
    assert at.session_state["source"] == "builtin:films" and at.session_state["history"] == ["1", "2"]
    assert {m.label: m.value for m in at.metric}["Users"] == "3,000"  # the films still shown, nothing half-loaded

    (tmp_path / "empty").mkdir()
    at.text_input(key="data_folder").input(str(tmp_path / "empty")).run()
    at.button(key="data_load_folder").click().run()
    assert "no known data layout" in at.error[0].value and at.session_state["source"] == "builtin:films"


def test_a_local_folder_of_real_data_loads(at, shared_data_dir):
    folder = shared_data_dir("ml-latest-small")
    go(at, DATA)
    at.segmented_control(key="data_source").set_value("folder").run()
    at.text_input(key="data_folder").input("../shared/data/ml-latest-small").run()  # relative to the repo root
    at.selectbox(key="data_format").set_value("ml-100k").run()  # a forced layout that does not fit
    at.button(key="data_load_folder").click().run()
    assert "u.data" in at.error[0].value and at.session_state["source"] == "builtin:films"

    at.selectbox(key="data_format").set_value(None).run()
    at.button(key="data_load_folder").click().run()
    assert not at.exception and at.session_state["source"] == str(folder.resolve())
    assert {m.label: m.value for m in at.metric}["Users"] == "610"
    assert len(charts(at)) == 3  # no planted causes in real data
    assert at.subheader[0].value == "ml-latest-small"


def test_downloaded_data_sets_are_listed_or_the_command_is_given(at, tmp_path, monkeypatch):
    monkeypatch.setenv("RECATTN_DATA_DIR", str(tmp_path / "data"))
    go(at, DATA)
    at.segmented_control(key="data_source").set_value("downloaded").run()
    assert "python -m recattn data download ml-latest-small" in at.info[0].value
    (tmp_path / "data" / "not-data").mkdir(parents=True)
    (tmp_path / "data" / "tiny").mkdir()
    (tmp_path / "data" / "tiny" / "interactions.csv").write_text("user,item,timestamp\nu1,i1,1\nu1,i2,2\n")
    at.run()
    assert at.selectbox(key="data_downloaded").options == ["tiny"]  # only the folders of a known layout
    at.button(key="data_load_downloaded").click().run()
    assert at.session_state["source"] == str(tmp_path / "data" / "tiny")


def test_the_model_picker_lists_the_shipped_sasrec_and_sets_model_dir(at, runs_dir):
    shipped = Path(at.session_state["model_dir"])
    stored = json.loads((shipped / "metrics.json").read_text())["test"]
    from ui import sources

    listed = [(c.name, c.score, c.path) for c in sources.checkpoints("builtin:films")]
    assert listed[0] == ("SASRec", f"test NDCG@10 {stored['ndcg@10']:.3f}", str(shipped))
    # every shipped films checkpoint, and nothing trained on another catalogue (the news ones)
    films = sorted(str(p.parent) for p in (shipped.parent).glob("films-*/config.json"))
    assert sorted(path for _, _, path in listed) == films
    picker = at.selectbox(key="sidebar_model")
    assert picker.options[0] == "SASRec · shipped" and picker.value == str(shipped)
    assert len(picker.options) == len(films)
    assert at.sidebar.caption[-1].value == f"test NDCG@10 {stored['ndcg@10']:.3f} · 2 layers × 2 heads · " \
                                           "reads the last 50 items"

    # A model trained elsewhere on the films shows up too (config.json is all that is read), and picking it
    # makes it the session's model; a checkpoint for another catalogue is left out.
    for name, fingerprint in (("films-copy", None), ("other", "0000")):
        (runs_dir / name).mkdir(parents=True)
        config = json.loads((shipped / "config.json").read_text())
        config["catalogue_fingerprint"] = fingerprint or config["catalogue_fingerprint"]
        (runs_dir / name / "config.json").write_text(json.dumps(config))
        (runs_dir / name / "model.safetensors").write_bytes(b"")
    at.run()
    picker = at.selectbox(key="sidebar_model")
    assert len(picker.options) == len(films) + 1
    assert [o for o in picker.options if o.startswith("SASRec · ") and o != "SASRec · shipped"]
    picker.set_value(str(runs_dir / "films-copy")).run()
    assert at.session_state["model_dir"] == str(runs_dir / "films-copy")
