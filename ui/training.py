"""Training off the script thread: a worker thread per job watching a training process of its own
(recattn.training.background), its epoch reports, a stop flag, and a fair share of a machine many visitors use at once: at
most MAX_RUNNING jobs train at a time (the others wait in a first-come queue and know their place), a run lasts at
most MAX_MINUTES whatever the form says, and runs/ keeps at most RUNS_MAX_COUNT app-trained models in RUNS_MAX_MB
(the oldest app-trained ones go; shipped and CLI-trained models are never touched).

The page starts a job with `start`, draws `job()` from a fragment that reruns every second, and calls `adopt` on
the script thread once the job is done: only the script thread writes the session contract.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import streamlit as st

from recattn import paths
from recattn.training import background
from recattn.config import ModelConfig, TrainConfig
from recattn.models import registry
from recattn.data import Dataset
from recattn.errors import RecAttnError
from recattn import i18n
from recattn.i18n import N_, _
from recattn.training.fit import EpochReport
from ui import sources, state
from ui.text import md

MAX_RUNNING = 2  # training jobs at once on this server; a third waits in the queue
MAX_MINUTES = 10.0  # the longest run the app starts, whatever the form was sent with
TRAIN_THREADS = 1  # torch threads of each training process: the pages keep a core while MAX_RUNNING jobs train
RUNS_MAX_COUNT, RUNS_MAX_MB = 20, 500  # what app-trained models may take in runs/
APP_MARK = ".trained-in-app"  # a file in each folder the app trained: only those are ever pruned
_JOB = "_training_job"


class Queue:
    """Training slots handed out first come, first served (a semaphore wakes waiters in no set order)."""

    def __init__(self, slots: int):
        self.slots = slots
        self._running = 0
        self._waiting: deque[object] = deque()
        self._changed = threading.Condition()

    def acquire(self, who: object, give_up: threading.Event) -> bool:
        """Wait for a slot in arrival order; False (and out of the queue) once `give_up` is set first."""
        with self._changed:
            self._waiting.append(who)
            while not (self._waiting[0] is who and self._running < self.slots):
                if give_up.is_set():
                    self._waiting.remove(who)
                    self._changed.notify_all()
                    return False
                self._changed.wait(0.2)
            self._waiting.popleft()
            self._running += 1
            self._changed.notify_all()
            return True

    def release(self) -> None:
        with self._changed:
            self._running -= 1
            self._changed.notify_all()

    def place(self, who: object) -> int:
        """1 for the next to start, 2 for the one after it...; 0 when not waiting."""
        with self._changed:
            return next((i + 1 for i, w in enumerate(self._waiting) if w is who), 0)


_QUEUE = Queue(MAX_RUNNING)


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
    error: str | None = None  # a marked message, or a RecAttnError's text already in `lang`; `adopt` translates it
    lang: str = field(default_factory=i18n.current)  # the language of the session that started it
    thread: threading.Thread | None = None
    adopted: bool = False
    pruned: list[str] = field(default_factory=list)  # app-trained models removed to make room for this one

    @property
    def name(self) -> str:
        """The model's name in the current language."""
        return _(registry.label(self.kind))

    @property
    def done(self) -> bool:
        return self.metrics is not None or self.error is not None

    @property
    def stopped(self) -> bool:
        return self.stop.is_set()

    @property
    def place(self) -> int:
        """Its place in the queue for a training slot (1: next); 0 once training or done."""
        return _QUEUE.place(self)


def _run(job: Job, dataset: Dataset, model_config: ModelConfig, train_config: TrainConfig) -> None:
    """The job's thread: wait for a slot, then watch the training in its own process (recattn.training.background)."""
    def on_epoch_end(report: EpochReport) -> bool:
        job.reports.append(report)
        return job.stop.is_set()

    try:
        if not _QUEUE.acquire(job, job.stop):
            job.error = N_("stopped before it started")
            return
        try:
            job.training = True
            job.started = time.monotonic()
            metrics = background.train_and_save(dataset, model_config, train_config, job.out, on_epoch_end,
                                                should_stop=job.stop.is_set, threads=TRAIN_THREADS, lang=job.lang)
            (job.out / APP_MARK).touch()
            job.pruned = prune_runs(sources.runs_dir())
            job.seconds = metrics["train_seconds"]
            job.metrics = metrics
        finally:
            _QUEUE.release()
    except RecAttnError as e:
        job.error = str(e)
    except Exception as e:  # a bug: say so on the page instead of losing it in a thread
        job.error = f"training failed: {type(e).__name__}: {e}"
    finally:
        job.training = False


def prune_runs(runs: Path) -> list[str]:
    """Remove the oldest app-trained models in `runs` beyond RUNS_MAX_COUNT or RUNS_MAX_MB; return their names.
    Only folders holding APP_MARK count, so shipped and CLI-trained models are never removed."""
    trained = paths.entries(folder for folder in runs.glob("*/") if (folder / APP_MARK).is_file())
    old = paths.oldest_over(trained, RUNS_MAX_COUNT, int(RUNS_MAX_MB * 2**20))
    for folder in old:
        shutil.rmtree(folder, ignore_errors=True)
    return [folder.name for folder in old]


def time_limited(train_config: TrainConfig) -> TrainConfig:
    """`train_config` with its time limit cut to MAX_MINUTES (also when it has none): the server's own bound,
    whatever a form sent."""
    if train_config.max_minutes is not None and train_config.max_minutes <= MAX_MINUTES:
        return train_config
    return replace(train_config, max_minutes=MAX_MINUTES)


ORDINALS = {"st": N_("{n}st"), "nd": N_("{n}nd"), "rd": N_("{n}rd"), "th": N_("{n}th")}  # 中文: 第 {n} 位


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 21st... in the current language."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return _(ORDINALS[suffix]).format(n=n)


def out_folder(source: str, kind: str) -> Path:
    """runs/<source>-<kind>-<time>/ for a new model."""
    slug = re.sub(r"[^a-z0-9]+", "-", sources.source_label(source).removeprefix("builtin:").lower()).strip("-")
    return sources.runs_dir() / f"{slug or 'data'}-{kind}-{datetime.now():%Y%m%d-%H%M%S}"


def start(model_config: ModelConfig, train_config: TrainConfig) -> Job:
    """Start training `model_config` on the session's data in a worker thread; the job becomes the session's."""
    train_config = time_limited(train_config)
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
        state.flash("error", md(_(finished.error)), "train")
        return
    if finished.source == state.source():
        state.set_model_dir(str(finished.out))
    test = finished.metrics["test"]
    folder = finished.out.relative_to(paths.ROOT) if finished.out.is_relative_to(paths.ROOT) else finished.out
    trained = (_("Trained {model} in {seconds:.0f} s ({epochs} epochs, best on epoch {best}, stopped by you): test "
                 "NDCG@10 {ndcg:.3f}. Saved in {folder}; it is now the app's model.") if finished.stopped else
               _("Trained {model} in {seconds:.0f} s ({epochs} epochs, best on epoch {best}): test NDCG@10 {ndcg:.3f}. "
                 "Saved in {folder}; it is now the app's model."))
    text = trained.format(model=finished.name, seconds=finished.seconds, epochs=finished.metrics["epochs_run"],
                          best=finished.metrics["best_epoch"], ndcg=test.get("ndcg@10", float("nan")),
                          folder=md(folder))
    if finished.pruned:
        text += " " + _("To keep runs/ within {count} models and {mb} MB, the oldest app-trained ones were removed: "
                        "{names}.").format(count=RUNS_MAX_COUNT, mb=RUNS_MAX_MB,
                                           names=", ".join(md(n) for n in finished.pruned))
    state.flash("success", text, "train")
