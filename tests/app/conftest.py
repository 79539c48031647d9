"""Fixtures and helpers of the app tests (AppTest, no browser): a fresh cache and runs folder per test, the app
after its first run, page switches that fail on an exception, and readers for the charts a page sent."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")  # AppTest resolves relative paths against this file
MODELS = ROOT / "assets" / "models"
HOME, DATA, HISTORY, ATTENTION, TRAIN = ("pages/home.py", "pages/data.py", "pages/history.py", "pages/attention.py",
                                         "pages/train.py")
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


def plotly_specs(at: AppTest) -> dict[str, dict]:
    """The plotly figures on the page by their keys."""
    return {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def heatmaps(at: AppTest, key: str = "attention") -> list[dict]:
    """The heatmap traces of the plotly chart with `key`."""
    return [t for t in plotly_specs(at)[key]["data"] if t["type"] == "heatmap"]


def z_of(trace: dict) -> np.ndarray:
    """A heatmap's z as an array (plotly 7 sends numpy arrays as base64 typed arrays)."""
    z = trace["z"]
    if isinstance(z, dict):
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(
            tuple(int(n) for n in z["shape"].split(",")))
    return np.asarray(z, dtype=float)


def finish_training(at: AppTest, timeout: float = 120.0) -> AppTest:
    """Wait for the session's training job to end, then run the page as its polling fragment would."""
    job = at.session_state["_training_job"]
    job.thread.join(timeout)
    assert job.done, "training did not finish in time"
    at.run()
    assert not at.exception, at.exception[0].stack_trace if at.exception else ""
    return at
