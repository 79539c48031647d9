"""Training off the script thread: a worker per job, its epoch reports, a stop flag, and a server-wide cap on how
many jobs train at once (the others wait for a slot and say so).

The page starts a job with `start`, draws `job()` from a fragment that reruns every second, and calls `adopt` on
the script thread once the job is done: only the script thread writes the session contract.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import streamlit as st

from recattn import workflow
from recattn.config import MODEL_NAMES, ModelConfig, TrainConfig
from recattn.data import Dataset
from recattn.errors import RecAttnError
from recattn.train import EpochReport
from ui import sources, state
from ui.text import md

MAX_RUNNING = 2  # training jobs at once on this server; a third waits for a slot
_SLOTS = threading.BoundedSemaphore(MAX_RUNNING)
_JOB = "_training_job"


@dataclass
class Job:
    """One training run. The worker appends to `reports` and fills `metrics` or `error`; the page only reads."""

    kind: str
    source: str
    out: Path
    epochs: int
    reports: list[EpochReport] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    training: bool = False  # holds a slot (False while queued)
    metrics: dict | None = None
    seconds: float = 0.0
    error: str | None = None
    thread: threading.Thread | None = None
    adopted: bool = False

    @property
    def name(self) -> str:
        return MODEL_NAMES.get(self.kind, self.kind)

    @property
    def done(self) -> bool:
        return self.metrics is not None or self.error is not None

    @property
    def stopped(self) -> bool:
        return self.stop.is_set()


def _run(job: Job, dataset: Dataset, model_config: ModelConfig, train_config: TrainConfig) -> None:
    def on_epoch_end(report: EpochReport) -> bool:
        job.reports.append(report)
        return job.stop.is_set()

    try:
        with _SLOTS:
            if job.stop.is_set():
                job.error = "stopped before it started"
                return
            job.training = True
            job.started = time.monotonic()
            result, metrics = workflow.train_and_save(dataset, model_config, train_config, job.out, on_epoch_end)
            job.seconds = result.seconds
            job.metrics = {**metrics, "best_epoch": result.best_epoch, "epochs_run": len(result.history)}
    except RecAttnError as e:
        job.error = str(e)
    except Exception as e:  # a bug: say so on the page instead of losing it in a thread
        job.error = f"training failed: {type(e).__name__}: {e}"
    finally:
        job.training = False


def out_folder(source: str, kind: str) -> Path:
    """runs/<source>-<kind>-<time>/ for a new model."""
    slug = re.sub(r"[^a-z0-9]+", "-", sources.source_label(source).removeprefix("builtin:").lower()).strip("-")
    return sources.runs_dir() / f"{slug or 'data'}-{kind}-{datetime.now():%Y%m%d-%H%M%S}"


def start(model_config: ModelConfig, train_config: TrainConfig) -> Job:
    """Start training `model_config` on the session's data in a worker thread; the job becomes the session's."""
    source = state.source()
    dataset = sources.dataset(source)  # loaded here: the cache lives on the script thread
    job = Job(model_config.kind, source, out_folder(source, model_config.kind), train_config.epochs)
    job.thread = threading.Thread(target=_run, args=(job, dataset, model_config, train_config), daemon=True,
                                  name=f"recattn-train-{job.out.name}")
    st.session_state[_JOB] = job
    job.thread.start()
    return job


def job() -> Job | None:
    """The session's latest training job, running or done."""
    return st.session_state.get(_JOB)


def adopt(finished: Job) -> None:
    """Once a job is done (script thread only): make its model the session's and flash how it went, once."""
    if finished.adopted or not finished.done:
        return
    finished.adopted = True
    if finished.error:
        state.flash("error", md(finished.error), "train")
        return
    if finished.source == state.source():
        state.set_model_dir(str(finished.out))
    test = finished.metrics["test"]
    folder = finished.out.relative_to(state.ROOT) if finished.out.is_relative_to(state.ROOT) else finished.out
    state.flash("success", f"Trained {finished.name} in {finished.seconds:.0f} s ({finished.metrics['epochs_run']} "
                f"epochs, best on epoch {finished.metrics['best_epoch']}{', stopped by you' if finished.stopped else ''})"
                f": test NDCG@10 {test.get('ndcg@10', float('nan')):.3f}. Saved in {md(folder)}; it is now the "
                "app's model.", "train")
