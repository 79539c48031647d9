"""Training in a child process: `workflow.train_and_save` runs in a fresh interpreter while the caller gets its epoch
reports through a pipe and can stop it between epochs.

A server that trains in one of its own threads shares Python's lock with every page it renders: a class of visitors
waits on each training step. A child process has its own interpreter, its own lock and a set number of torch
threads. Only objects this process made cross the pipe (the data set, the configs, epoch reports, metrics); nothing
read from a file is ever unpickled.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from pathlib import Path

from recattn.config import ModelConfig, TrainConfig
from recattn.data.dataset import Dataset
from recattn.errors import RecAttnError
from recattn.i18n import _, current, language
from recattn.training.fit import EpochReport

# "spawn": a fresh interpreter. A fork of a server would copy its threads' locks in whatever state they were in.
_CONTEXT = mp.get_context("spawn")
POLL_S = 0.2  # how often the caller looks for a report or a stop request


def _child(conn, stop, dataset: Dataset, model_config: ModelConfig, train_config: TrainConfig, out: str,
           threads: int, lang: str) -> None:
    import torch

    from recattn.training import workflow

    torch.set_num_threads(threads)

    def on_epoch_end(report: EpochReport) -> bool:
        conn.send(("epoch", report))
        return stop.is_set()

    # a fresh interpreter knows no session: its errors are written in the language of the one that started it
    with language(lang):
        try:
            _result, metrics = workflow.train_and_save(dataset, model_config, train_config, out, on_epoch_end)
            conn.send(("done", metrics))
        except RecAttnError as e:
            conn.send(("error", str(e)))
        except Exception as e:  # a bug: the caller shows it instead of losing it with the process
            conn.send(("error", _("training failed: {error}").format(error=f"{type(e).__name__}: {e}")))
        finally:
            conn.close()


def train_and_save(dataset: Dataset, model_config: ModelConfig, train_config: TrainConfig, out: str | Path,
                   on_epoch_end: Callable[[EpochReport], bool | None] | None = None,
                   should_stop: Callable[[], bool] = lambda: False, threads: int = 1, lang: str | None = None) -> dict:
    """`workflow.train_and_save` in a child process with `threads` torch threads; blocks until it ends and returns
    its metrics. `on_epoch_end` gets every epoch's report here, in the caller's process (a true return stops the
    run after that epoch, as `should_stop()` does whenever it turns true). RecAttnError with the child's message
    when training fails, or when the process dies without one (killed, out of memory). Messages are in `lang`
    (default: the current language, recattn.i18n; a thread of the app outside a script run must pass the session's)."""
    lang = lang or current()
    reports, child_end = _CONTEXT.Pipe(duplex=False)
    stop = _CONTEXT.Event()
    process = _CONTEXT.Process(target=_child, name=f"recattn-train-{Path(out).name}", daemon=True,
                               args=(child_end, stop, dataset, model_config, train_config, str(out), threads, lang))
    process.start()
    child_end.close()  # the child holds the only writing end: its exit ends the pipe
    try:
        while True:
            if should_stop():
                stop.set()
            if not reports.poll(POLL_S):
                continue
            try:
                kind, payload = reports.recv()
            except EOFError:
                process.join(5)
                with language(lang):
                    message = _("the training process ended without a result (exit code {code}): it may have run out "
                                "of memory; try a smaller model or shorter histories").format(code=process.exitcode)
                raise RecAttnError(message) from None
            if kind == "epoch":
                if on_epoch_end is not None and on_epoch_end(payload):
                    stop.set()
            elif kind == "done":
                return payload
            else:
                raise RecAttnError(payload)
    finally:
        reports.close()
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join()
