"""Data: both worlds, switching sources, local folders, uploads, downloaded sets, the model picker."""

from __future__ import annotations

import json
from pathlib import Path

import os

import pytest
from streamlit.runtime import caching

from recattn import paths
from recattn.data import load
from tests.app.conftest import ATTENTION, DATA, HISTORY, HOME, go, plotly_specs
from ui.text import md


@pytest.fixture
def roots(tmp_path, monkeypatch) -> Path:
    """tmp_path/allowed as the one extra data root (RECATTN_DATA_ROOTS); uploads in tmp_path/uploads."""
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    monkeypatch.setenv(paths.ROOTS_ENV, str(allowed))
    monkeypatch.setenv("RECATTN_UPLOADS_DIR", str(tmp_path / "uploads"))
    return allowed


def write_log(folder: Path) -> Path:
    """A small interactions.csv: 20 users, 6 items each, 30 items."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"u{u},i{(u * 7 + t) % 30},{1_600_000_000 + t}\n" for u in range(20) for t in range(6))
    (folder / "interactions.csv").write_text("user,item,timestamp\n" + rows)
    return folder


def data_charts(at) -> dict[str, dict]:
    """The Data page's charts (plotly figures keyed data_<name>) by their keys, in the page's order."""
    return {key: spec for key, spec in plotly_specs(at).items() if key.startswith("data_")}


def answers_hover(spec: dict) -> bool:
    """Every mark of a figure has hover text (a baseline that draws nothing to point at may skip it)."""
    return all(t.get("hovertemplate") or t.get("hoverinfo") == "skip" for t in spec["data"])


def load_folder(at, typed: str) -> None:
    at.segmented_control(key="data_source").set_value("folder").run()
    at.text_input(key="data_folder").input(typed).run()
    at.button(key="data_load_folder").click().run()
    assert not at.exception


def test_data_page_shows_both_builtin_worlds(at):
    go(at, DATA)
    metrics = {m.label: m.value for m in at.metric}
    interactions = len(load("builtin:films").interactions)  # the world's count, as generated
    assert metrics["Users"] == "3,000" and metrics["Catalogue"] == "1,000"
    assert metrics["Interactions"] == f"{interactions:,}" and 85_000 < interactions < 95_000
    assert {"Items with interactions", "Median history", "Density", "First interaction", "Last interaction"} <= \
        set(metrics)
    specs = data_charts(at)
    assert list(specs) == ["data_lengths", "data_popularity", "data_genres", "data_causes"]
    assert all(answers_hover(s) for s in specs.values())
    assert [spec["layout"]["title"]["text"] for spec in specs.values()] == [
        "History lengths", "The long tail of popularity", "Top genres",
        "Why the simulated users picked what they picked"]
    # The camera saves each at print resolution, named after the chart (ui.charts: the sidebar's format).
    configs = {c.key: json.loads(c.proto.config) for c in at.get("plotly_chart") if c.key.startswith("data_")}
    assert configs["data_causes"]["toImageButtonOptions"] == {"format": "png", "scale": 3,
                                                              "filename": "recattn-causes"}
    at.segmented_control(key="chart_format").set_value("SVG").run()  # the replayed summary follows it
    configs = {c.key: json.loads(c.proto.config) for c in at.get("plotly_chart") if c.key.startswith("data_")}
    assert {c["toImageButtonOptions"]["format"] for c in configs.values()} == {"svg"} and len(configs) == 4

    at.segmented_control(key="data_source").set_value("builtin:news").run()
    assert not at.exception and at.session_state["source"] == "builtin:news"
    assert {m.label: m.value for m in at.metric}["Users"] == "3,000"
    specs = data_charts(at)
    assert len(specs) == 4 and specs["data_genres"]["layout"]["title"]["text"] == "Top categories"
    assert specs["data_genres"]["data"][0]["hovertemplate"].startswith("category: ")


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


def test_data_without_a_model_says_where_to_train_one(at, roots):
    folder = write_log(roots / "log")
    at.session_state["history"] = ["1"]  # a film: dropped, so the note is a warning
    go(at, DATA)
    load_folder(at, str(folder))
    assert at.session_state["source"] == str(folder)
    assert "No model is trained on this data yet" in at.warning[0].value
    # The sidebar, Home and Attention say where to train one.
    assert not at.sidebar.selectbox and "none trained on this data" in at.sidebar.caption[-1].value
    at.session_state["history"] = ["i1", "i2"]
    go(at, ATTENTION)
    assert "No model is trained on" in at.info[0].value and at.page_link[0].proto.page == "train"
    go(at, HOME)
    assert {m.label: m.value for m in at.metric}["Model"] == "—" and at.page_link[0].proto.page == "train"


def test_a_bad_local_folder_is_an_error_and_the_source_stays(at, roots):
    tmp_path = roots
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


def test_a_local_folder_of_real_data_loads(at, shared_data_dir, monkeypatch):
    folder = shared_data_dir("ml-latest-small")
    monkeypatch.setenv(paths.ROOTS_ENV, str(folder.parent))  # how a lecturer allows ../shared/data
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
    specs = data_charts(at)
    assert list(specs) == ["data_lengths", "data_popularity", "data_genres"]  # no planted causes in real data
    assert specs["data_lengths"]["layout"]["xaxis"]["type"] == "log"  # a few users with thousands of ratings
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


def refused(typed: str, names: str) -> str:
    """The error a user sees for a path outside the allowed folders (as markdown: md-escaped)."""
    return md(f"“{typed}” is outside the folders this app may read ({names}). Put the data in one of them, or ask "
              f"the person running the server to add its folder to the {paths.ROOTS_ENV} setting (folders separated "
              f"by “{os.pathsep}”) and restart the app.")


def test_paths_outside_the_allowed_folders_are_refused_alike(at, roots, tmp_path):
    outside = write_log(tmp_path / "outside")  # readable data, just not under a root
    (roots / "escape").symlink_to(outside, target_is_directory=True)
    (roots / "alias").symlink_to(write_log(roots / "log"), target_is_directory=True)
    at.session_state["history"] = ["1", "2"]
    go(at, DATA)
    names = f"data/, {roots}/"
    for typed in ("/etc", "/etc/passwd", "/no/such/folder", "data/../../../etc", str(outside),
                  str(roots / "log" / ".." / ".." / "outside"), str(roots / "escape"), "~"):
        load_folder(at, typed)
        assert [e.value for e in at.error] == [refused(typed, names)], typed
        assert at.session_state["source"] == "builtin:films" and at.session_state["history"] == ["1", "2"]
        assert {m.label: m.value for m in at.metric}["Users"] == "3,000"
    # the same words whether the path exists or not: nothing to probe with
    assert refused("/etc", names).replace("/etc", "X") == refused("/etc-nope", names).replace("/etc-nope", "X")
    assert md(str(roots)) in at.text_input(key="data_folder").help and paths.ROOTS_ENV in at.text_input(
        key="data_folder").help

    load_folder(at, str(roots / "alias"))  # a symlink inside the roots, to a folder inside them: fine
    assert not at.error and at.session_state["source"] == str((roots / "log").resolve())


def test_downloaded_symlinks_and_share_links_out_of_the_roots_are_refused(tmp_path, monkeypatch, roots):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP

    monkeypatch.setenv("RECATTN_DATA_DIR", str(tmp_path / "data"))
    write_log(tmp_path / "data" / "tiny")
    (tmp_path / "data" / "evil").symlink_to(write_log(tmp_path / "outside"), target_is_directory=True)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["source"] = str(tmp_path / "data" / "evil")
    at.query_params["history"] = "i1"
    at.run()
    assert not at.exception and at.session_state["source"] == "builtin:films"
    go(at, HISTORY)
    assert any("Unknown data source" in w.value for w in at.warning)
    go(at, DATA)
    at.segmented_control(key="data_source").set_value("downloaded").run()
    assert at.selectbox(key="data_downloaded").options == ["tiny"]


def test_data_too_large_for_the_app_points_to_the_cli(at, roots, monkeypatch):
    big = roots / "big"
    big.mkdir()
    with open(big / "interactions.csv", "wb") as f:  # sparse: its size without the disk
        f.truncate(2 * paths.MAX_DATA_BYTES)
    go(at, DATA)
    load_folder(at, str(big))
    assert at.error[0].value == md("big: 200 MB of data files is more than this app loads (100 MB, about 2,000,000 "
                                   "interactions); train on it from a terminal instead: python -m recattn train "
                                   "--data PATH")
    assert at.session_state["source"] == "builtin:films"
    assert any("Up to 2,000,000 interactions" in c.value for c in at.caption)

    monkeypatch.setattr(paths, "MAX_INTERACTIONS", 100)  # the count, once loaded (120 interactions here)
    load_folder(at, str(write_log(roots / "log")))
    assert at.error[0].value == md("log: 120 interactions is more than this app handles (100); train on it from a "
                                   "terminal instead: python -m recattn train --data PATH")
    assert at.session_state["source"] == "builtin:films"


def upload(at, name: str = "interactions.csv", rows: int = 20) -> None:
    body = "".join(f"u{u},i{(u * 7 + t) % 30},{1_600_000_000 + t}\n" for u in range(rows) for t in range(6))
    at.segmented_control(key="data_source").set_value("upload").run()
    at.file_uploader(key="data_uploads").set_value([(name, ("user,item,timestamp\n" + body).encode(),
                                                     "text/csv")]).run()
    at.button(key="data_load_upload").click().run()
    assert not at.exception


def test_uploads_are_bounded_private_and_removed_when_the_session_ends(at, roots, tmp_path, monkeypatch):
    from ui import sources

    go(at, DATA)
    upload(at)
    source = Path(at.session_state["source"])
    assert source.parent.parent == tmp_path / "uploads" and (source / "interactions.csv").is_file()
    assert {m.label: m.value for m in at.metric}["Users"] == "20"
    assert at.segmented_control(key="data_source").value == "upload"

    # Another session's upload is not a folder to type in: the uploads folder is no data root.
    load_folder(at, str(source))
    assert at.error[0].value == refused(str(source), f"data/, {roots}/")

    # Past the bound on all uploads, a new upload is refused and the source stays.
    monkeypatch.setattr(sources, "UPLOADS_MAX_MB", 0)
    upload(at, rows=21)
    assert at.error[0].value.startswith(md("the server's space for uploads is full (0 of 0 MB in use, this upload "
                                           "needs 0.0 MB more)"))
    assert at.session_state["source"] == str(source)

    # The session ends (Streamlit releases its session-scoped resources): its uploads go, the data stays loaded.
    caching.clear_session_resource_cache("test session id")  # AppTest's session id
    assert not source.parent.exists() and (tmp_path / "uploads").is_dir()


def test_what_the_reader_changed_is_said_on_the_page(at, roots):
    """Timestamps in milliseconds and a duplicated row: the data loads, and the page says what was converted and
    dropped."""
    folder = roots / "ms"
    folder.mkdir(parents=True)
    rows = "".join(f"u{u},i{(u * 7 + t) % 30},{(1_600_000_000 + t) * 1000}\n" for u in range(20) for t in range(6))
    (folder / "interactions.csv").write_text("user,item,timestamp\n" + rows + rows.splitlines(keepends=True)[0])
    go(at, DATA)
    load_folder(at, str(folder))
    notes = " ".join(i.value for i in at.info)
    assert at.session_state["source"] == str(folder)
    assert "milliseconds" in notes and "duplicated row" in notes
    assert {m.label: m.value for m in at.metric}["Interactions"] == "120"
