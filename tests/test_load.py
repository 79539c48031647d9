"""A class at once against a real server: 30 sessions (RECATTN_LOAD_SESSIONS sets the count) speak Streamlit's
websocket protocol, as browser tabs do, open their own share links, read their top 10, add a film and read the new
top 10, while one more session trains a SASRec.

Zero errors, each session sees its own history only, the training keeps going; the rerun latencies (p50/p95) are
printed (`pytest -s`) and written to e2e-artifacts/load.json. The driving is benchmarks/load.py's.
"""

from __future__ import annotations

import asyncio
import math
import os

import pytest

from benchmarks import load
from recattn.data import load as load_data
from tests.e2e import ROOT, serve

pytestmark = pytest.mark.load

SESSIONS = int(os.environ.get("RECATTN_LOAD_SESSIONS", "30"))
DEADLINE_S = 170  # the sessions; the training gets up to TRAIN_WAIT_S more to show progress
TRAIN_WAIT_S = 30


def test_a_class_of_sessions_while_one_trains(tmp_path):
    log = ROOT / "e2e-artifacts" / "load-server.log"
    with serve(log, env={"RECATTN_RUNS_DIR": str(tmp_path / "runs")}) as url:
        report, sessions = asyncio.run(load.drive(url, SESSIONS, DEADLINE_S, TRAIN_WAIT_S))
    load.write(report, sessions)

    errors = {i: s.errors for i, s in enumerate(sessions) if s.errors}
    assert report.errors == 0 and not errors, f"sessions with errors: {errors}"
    assert report.sessions == report.reruns == SESSIONS
    assert "Traceback" not in log.read_text(), f"the server logged an exception: see {log}"

    titles = load_data(load.SOURCE).items.astype({"item_id": str}).set_index("item_id")["title"]
    for s in sessions:
        own = [*s.plan.history, s.plan.add[0]]
        assert s.top_changed
        assert s.url_history == ",".join(own)  # the session's share link: its state on the server
        assert s.heading == "Your history · 4"
        assert s.shown_titles == [titles[i] for i in own], f"session {s.plan.history} saw {s.shown_titles}"

    # The training session: no error, and it got further while the others worked (a later epoch, or done).
    assert not any(t.startswith(("page error", "exception box", "error")) for t in report.training), report.training
    assert load.progressed(report.training), report.training
    assert not math.isnan(report.rerun_p95_ms)


def test_the_server_skips_the_full_collection_after_every_run():
    """docs/scale.md: Streamlit's gc.collect(2) after each run took 44% of the server's CPU under this load."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
