"""The Streamlit app through streamlit.testing's AppTest: every page runs, widgets change the shared state,
the attention page draws one heatmap per layer × head, the Data page switches sources, draws its charts and
trains a model. No browser; about 20 s."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import ui

APP = str(Path(__file__).resolve().parents[1] / "app.py")  # AppTest resolves relative paths against this file
HOME, DATA, HISTORY, ATTENTION = "pages/home.py", "pages/data.py", "pages/history.py", "pages/attention.py"
logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)


@pytest.fixture(autouse=True)
def fresh_caches():
    """st caches are process-wide: a model cached by one test must not leak into the next."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch) -> Path:
    """The app trains into (and lists models from) a fresh folder, never the repository's runs/."""
    runs = tmp_path / "runs"
    monkeypatch.setenv("RECATTN_RUNS_DIR", str(runs))
    return runs


@pytest.fixture
def at() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception[0].stack_trace if at.exception else ""
    return at


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception[0].message
    return at


def heatmaps(at: AppTest) -> list[dict]:
    charts = at.get("plotly_chart")
    assert len(charts) == 1 and charts[0].key == "attention"
    return [t for t in json.loads(charts[0].proto.spec)["data"] if t["type"] == "heatmap"]


def z_of(trace: dict) -> np.ndarray:
    z = trace["z"]  # plotly 7 sends numpy arrays as base64 typed arrays
    if isinstance(z, dict):
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(
            tuple(int(n) for n in z["shape"].split(",")))
    return np.asarray(z, dtype=float)


def test_home_shows_data_model_and_stored_metrics(at):
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Data"] == "builtin:films" and metrics["Model"] == "SASRec"
    stored = json.loads((Path(APP).parent / "assets/models/films-sasrec/metrics.json").read_text())["test"]
    assert metrics["Test NDCG@10"] == f"{stored['ndcg@10']:.3f}"
    assert metrics["Test HR@10"] == f"{stored['hr@10']:.3f}"
    assert [(link.value, link.proto.page) for link in at.page_link] == [
        ("Build a history", "history"), ("See the attention", "attention")]
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


def test_history_widgets_edit_the_shared_history(at):
    go(at, HISTORY)
    at.text_input(key="search").input("Storm").run()
    adds = [b.key for b in at.button if b.key and b.key.startswith("add_")]
    assert adds, "the search found nothing"
    at.button(key=adds[0]).click().run()
    at.button(key=adds[1]).click().run()
    first, second = adds[0][4:], adds[1][4:]
    assert at.session_state["history"] == [first, second]
    at.button(key="up_1").click().run()
    assert at.session_state["history"] == [second, first]
    at.button(key="remove_0").click().run()
    assert at.session_state["history"] == [first]
    at.button(key="clear").click().run()
    assert at.session_state["history"] == []

    at.button(key="random_user").click().run()
    assert not at.exception
    real = at.session_state["history"]
    assert 0 < len(real) <= 50 and at.caption and any("Loaded the last" in c.value for c in at.caption)
    at.button(key="random_user").click().run()
    assert at.session_state["history"] != real  # a new draw, a new user


def test_attention_page_draws_every_layer_and_head(at):
    go(at, HISTORY)
    at.text_input(key="search").input("Storm").run()
    for key in [b.key for b in at.button if b.key and b.key.startswith("add_")][:3]:
        at.button(key=key).click().run()
    go(at, ATTENTION)
    maps = heatmaps(at)
    assert len(maps) == 2 * 2  # the shipped SASRec: 2 layers × 2 heads
    z = z_of(maps[0])
    assert z.shape == (3, 3)
    assert np.isnan(z[np.triu_indices(3, 1)]).all()  # masked: blank
    np.testing.assert_allclose(np.nansum(z, axis=1), 1.0, rtol=1e-5)
    assert "%{z:.4f}" in maps[0]["hovertemplate"]
    top = at.markdown[[i for i, m in enumerate(at.markdown) if m.value.startswith("1. **")][0]].value
    assert top.count("\n") == 9 * 2 + 1  # ten entries, two lines each

    # The inline editor adds a film; the maps grow with the history.
    at.selectbox(key="quick_add").set_value("5").run()
    assert not at.exception and at.session_state["history"][-1] == "5"
    assert z_of(heatmaps(at)[0]).shape == (4, 4)
    assert at.selectbox(key="quick_add").value is None  # reset for the next film
    at.button(key="remove_last").click().run()
    assert len(at.session_state["history"]) == 3

    at.segmented_control(key="layer_view").set_value("Layer 2").run()
    assert [t["name"] for t in heatmaps(at)] == ["Layer 2 · head 1", "Layer 2 · head 2"]


def test_history_survives_page_switches(at):
    at.session_state["history"] = ["1", "2", "3"]
    for page in (ATTENTION, HOME, HISTORY, ATTENTION):
        go(at, page)
        assert at.session_state["history"] == ["1", "2", "3"]
    assert len(heatmaps(at)) == 4


def test_a_bad_model_folder_is_an_error_box_and_state_is_kept(at, tmp_path):
    at.session_state["history"] = ["1", "2"]
    at.session_state["model_dir"] = str(tmp_path)
    go(at, ATTENTION)
    assert at.error and "not a recattn checkpoint" in at.error[0].value
    assert at.session_state["history"] == ["1", "2"]


def _switch_source_script():
    import streamlit as st

    import ui
    from recattn.errors import RecAttnError

    ui.init_state()
    st.session_state["history"] = ["1", "no-such-film", "2"]
    st.session_state["dropped"] = ui.set_source("builtin:films")
    try:
        ui.set_source("builtin:nope")
    except RecAttnError as e:
        st.session_state["refused"] = str(e)


def test_set_source_keeps_known_items_and_returns_dropped():
    at = AppTest.from_function(_switch_source_script, default_timeout=60).run()
    assert not at.exception
    assert at.session_state["dropped"] == ["no-such-film"]
    assert at.session_state["history"] == ["1", "2"]
    assert at.session_state["source"] == "builtin:films"  # the refused switch changed nothing
    assert "unknown" in at.session_state["refused"]


# ---------------------------------------------------------------- Data page and model picker
def charts(at: AppTest) -> list[dict]:
    """The Vega-Lite specs on the page (st.altair_chart)."""
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def has_tooltips(spec: dict) -> bool:
    return any("tooltip" in layer.get("encoding", {}) for layer in spec.get("layer", [spec]))


def test_data_page_shows_both_builtin_worlds(at):
    go(at, DATA)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Users"] == "3,000" and metrics["Catalogue"] == "1,000" and metrics["Interactions"] == "92,000"
    assert {"Items with interactions", "Median history", "Density", "First interaction", "Last interaction"} <= \
        set(metrics)
    specs = charts(at)
    assert len(specs) == 4 and all(has_tooltips(s) for s in specs)  # lengths, long tail, genres, causes
    assert "Top genres" in [m.value.strip("*") for m in at.markdown]

    at.segmented_control(key="source_choice").set_value("builtin:news").run()
    assert not at.exception and at.session_state["source"] == "builtin:news"
    assert {m.label: m.value for m in at.metric}["Users"] == "3,000"
    assert len(charts(at)) == 4 and "Top categories" in [m.value.strip("*") for m in at.markdown]


def test_switching_to_news_drops_the_films_and_picks_its_model(at):
    at.session_state["history"] = ["1", "2", "3"]
    go(at, DATA)
    at.segmented_control(key="source_choice").set_value("builtin:news").run()
    assert not at.exception
    assert at.session_state["history"] == []
    note = at.warning[0].value
    assert "Kept 0 items of the history; dropped: The Wandering Engine (1993)" in note
    assert "Model: SASRec · shipped" in note and Path(at.session_state["model_dir"]).name == "news-sasrec"

    # Back to films: the shipped SASRec is picked again.
    at.segmented_control(key="source_choice").set_value("builtin:films").run()
    assert Path(at.session_state["model_dir"]).name == "films-sasrec"
    assert "Model: SASRec · shipped" in at.info[0].value


def test_data_without_a_model_says_where_to_train_one(at, tmp_path):
    folder = tmp_path / "log"
    folder.mkdir()
    rows = "".join(f"u{u},i{(u * 7 + t) % 30},{1_600_000_000 + t}\n" for u in range(20) for t in range(6))
    (folder / "interactions.csv").write_text("user,item,timestamp\n" + rows)
    at.session_state["history"] = ["1"]  # a film: dropped, so the note is a warning
    go(at, DATA)
    at.segmented_control(key="source_choice").set_value("folder").run()
    at.text_input(key="folder_path").input(str(folder)).run()
    at.button(key="load_folder").click().run()
    assert not at.exception and at.session_state["source"] == str(folder)
    assert "No model is trained on this data yet" in at.warning[0].value
    # The sidebar, Home and Attention say where to train one.
    assert not at.sidebar.selectbox and "none trained on this data" in at.sidebar.caption[-1].value
    at.session_state["history"] = ["i1", "i2"]
    go(at, ATTENTION)
    assert "No model is trained on" in at.info[0].value and at.page_link[0].proto.page == "data"
    go(at, HOME)
    assert {m.label: m.value for m in at.metric}["Model"] == "—" and at.page_link[0].proto.page == "data"


def test_a_bad_local_folder_is_an_error_and_the_source_stays(at, tmp_path):
    at.session_state["history"] = ["1", "2"]
    go(at, DATA)
    at.segmented_control(key="source_choice").set_value("folder").run()
    at.text_input(key="folder_path").input(str(tmp_path / "nowhere")).run()
    at.button(key="load_folder").click().run()
    assert not at.exception
    assert "no such file or folder" in at.error[0].value
    assert at.session_state["source"] == "builtin:films" and at.session_state["history"] == ["1", "2"]
    assert {m.label: m.value for m in at.metric}["Users"] == "3,000"  # the films still shown, nothing half-loaded

    (tmp_path / "empty").mkdir()
    at.text_input(key="folder_path").input(str(tmp_path / "empty")).run()
    at.button(key="load_folder").click().run()
    assert "no known data layout" in at.error[0].value and at.session_state["source"] == "builtin:films"


def test_a_local_folder_of_real_data_loads(at, shared_data_dir):
    folder = shared_data_dir("ml-latest-small")
    go(at, DATA)
    at.segmented_control(key="source_choice").set_value("folder").run()
    at.text_input(key="folder_path").input("../shared/data/ml-latest-small").run()  # relative to the repo root
    at.selectbox(key="folder_format").set_value("ml-100k").run()  # a forced layout that does not fit
    at.button(key="load_folder").click().run()
    assert "u.data" in at.error[0].value and at.session_state["source"] == "builtin:films"

    at.selectbox(key="folder_format").set_value(None).run()
    at.button(key="load_folder").click().run()
    assert not at.exception and at.session_state["source"] == str(folder.resolve())
    assert {m.label: m.value for m in at.metric}["Users"] == "610"
    assert len(charts(at)) == 3  # no planted causes in real data
    assert at.subheader[0].value == "ml-latest-small"


def test_uploaded_files_become_the_source_and_train(at, runs_dir):
    go(at, DATA)
    at.segmented_control(key="source_choice").set_value("upload").run()
    assert "up to 200 MB each" in at.file_uploader(key="uploads").label
    rows = "".join(f"u{u},i{(u * 7 + t) % 30},{1_600_000_000 + t}\n" for u in range(20) for t in range(6))
    at.file_uploader(key="uploads").set_value([("interactions.csv", b"user,item,timestamp\n" + rows.encode(),
                                                "text/csv")]).run()
    at.button(key="load_upload").click().run()
    assert not at.exception
    source = Path(at.session_state["source"])
    assert (source / "interactions.csv").is_file() and source.name.startswith("upload-")
    assert {m.label: m.value for m in at.metric}["Users"] == "20"
    assert "No model is trained on this data yet" in at.info[0].value
    assert len(charts(at)) == 2 and "This catalogue has no genres." in [c.value for c in at.caption]

    # A tiny SASRec trains on it in seconds, for every epoch asked (the progress callback must not stop it).
    at.number_input(key="train_epochs").set_value(2).run()
    at.button(key="train").click().run()
    assert not at.exception
    assert "Trained SASRec in" in at.success[0].value and "2 epochs" in at.success[0].value
    (run,) = runs_dir.iterdir()
    assert run.name.startswith(source.name + "-sasrec-") and at.session_state["model_dir"] == str(run)


def test_downloaded_data_sets_are_listed_or_the_command_is_given(at, tmp_path, monkeypatch):
    monkeypatch.setenv("RECATTN_DATA_DIR", str(tmp_path / "data"))
    go(at, DATA)
    at.segmented_control(key="source_choice").set_value("downloaded").run()
    assert "python -m recattn data download ml-latest-small" in at.info[0].value
    (tmp_path / "data" / "not-data").mkdir(parents=True)
    (tmp_path / "data" / "tiny").mkdir()
    (tmp_path / "data" / "tiny" / "interactions.csv").write_text("user,item,timestamp\nu1,i1,1\nu1,i2,2\n")
    at.run()
    assert at.selectbox(key="downloaded").options == ["tiny"]  # only the folders of a known layout
    at.button(key="load_downloaded").click().run()
    assert at.session_state["source"] == str(tmp_path / "data" / "tiny")


def test_the_train_button_saves_a_model_and_makes_it_current(at, runs_dir):
    go(at, DATA)
    at.selectbox(key="train_kind").set_value("pop").run()
    assert at.button(key="train").label == "Train Popularity on this data"
    at.button(key="train").click().run()
    assert not at.exception
    (run,) = runs_dir.iterdir()
    assert run.name.startswith("films-pop-") and (run / "config.json").is_file()
    assert at.session_state["model_dir"] == str(run)
    assert "Trained Popularity" in at.success[0].value
    stored = json.loads((run / "metrics.json").read_text())["test"]
    assert {m.label: m.value for m in at.metric}["Test NDCG@10"] == f"{stored['ndcg@10']:.3f}"
    assert at.page_link[-1].proto.page == "attention"
    # The picker lists the new model after the shipped one and shows it as the current one.
    picker = at.selectbox(key="model_picker")
    assert picker.options[0] == "SASRec · shipped"
    assert [o for o in picker.options if o.startswith("Popularity · ") and o != "Popularity · shipped"]
    assert picker.value == str(run)
    assert at.sidebar.caption[-1].value.startswith(f"test NDCG@10 {stored['ndcg@10']:.3f} · ranks items by popularity")


def test_the_model_picker_lists_the_shipped_sasrec_and_sets_model_dir(at, runs_dir):
    shipped = Path(at.session_state["model_dir"])
    stored = json.loads((shipped / "metrics.json").read_text())["test"]
    listed = ui.available_models("builtin:films")
    assert listed[0] == (f"SASRec · shipped · test NDCG@10 {stored['ndcg@10']:.3f}", str(shipped))
    # every shipped films checkpoint, and nothing trained on another catalogue (the news ones)
    films = sorted(str(p.parent) for p in (shipped.parent).glob("films-*/config.json"))
    assert sorted(path for _, path in listed) == films
    picker = at.selectbox(key="model_picker")
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
    picker = at.selectbox(key="model_picker")
    assert len(picker.options) == len(films) + 1
    assert [o for o in picker.options if o.startswith("SASRec · ") and o != "SASRec · shipped"]
    picker.set_value(str(runs_dir / "films-copy")).run()
    assert at.session_state["model_dir"] == str(runs_dir / "films-copy")


def test_target_attention_and_attention_free_models(at):
    """Additive attention shows one row per recommended film over the history; GRU says it has no attention."""
    models = Path(APP).parent / "assets" / "models"
    at.session_state["history"] = ["2", "10", "11"]
    at.session_state["model_dir"] = str(models / "films-additive")
    go(at, ATTENTION)
    assert not at.exception
    (grid,) = heatmaps(at)  # one layer, one head
    z = z_of(grid)
    assert z.shape == (10, 3)  # the top-10 candidates × the three history films
    np.testing.assert_allclose(z.sum(axis=1), 1.0, rtol=1e-5)
    assert not np.isnan(z).any()  # nothing is masked: every candidate may read the whole history
    at.session_state["model_dir"] = str(models / "films-gru")
    at.run()
    assert not at.exception and not at.get("plotly_chart")
    assert any("no attention" in i.value for i in at.info)
