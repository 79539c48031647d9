"""fit(): train a model on a leave-one-out split with early stopping on validation NDCG@10."""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from recattn.config import TrainConfig
from recattn.errors import RecAttnError
from recattn.i18n import _
from recattn.models import registry
from recattn.data.sequences import Split, left_pad
from recattn.results.evaluate import evaluate_seen_both
from recattn.training import distributed, objectives


@dataclass
class EpochReport:
    """What the progress callback receives after each epoch."""

    epoch: int
    epochs: int
    loss: float
    valid: dict[str, float]
    seconds: float
    best_epoch: int
    best_ndcg: float
    lr: float = 0.0  # the learning rate of the epoch's last step


@dataclass
class FitResult:
    model: torch.nn.Module
    best_epoch: int
    best_valid: dict[str, float]
    history: list[EpochReport] = field(default_factory=list)
    seconds: float = 0.0
    stopped: str = "epochs"


def resolve_device(name: str) -> torch.device:
    """auto → cuda when present, else cpu; asking for cuda without one is an error that says so."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        from recattn.errors import RecAttnError

        raise RecAttnError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu or auto")
    return torch.device(name)


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for training, or None for plain float32.

    "auto" uses bfloat16 where the hardware computes it natively (CUDA, and CPUs with AVX512-BF16 or AMX):
    the full-softmax output layer then runs about 1.8x faster on such a CPU. Elsewhere bfloat16 is emulated
    and slower, so auto stays in float32 there.
    """
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    native = (getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
              or getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)())
    return torch.bfloat16 if device.type == "cpu" and native else None


def lr_factor(schedule: str, step: int, warmup_steps: int, progress: float) -> float:
    """The multiplier of the base learning rate at optimiser `step`, with `progress` in [0, 1] of the run."""
    if schedule == "constant":
        return 1.0
    warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps else 1.0
    return warm * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def model_scorer(model: torch.nn.Module, device: torch.device):
    """A scorer for recattn.results.evaluate: histories (index arrays) → (batch, n_items + 1) scores.

    Models get whole histories: they read their last max_len items, and a repeat offset covers all."""

    def score(histories):
        seqs = torch.as_tensor(left_pad(histories, max(map(len, histories), default=1)), device=device)
        with torch.no_grad():
            return model.score(seqs).scores

    return score


def validate(model, split: Split, device) -> dict:
    """Validation under the test's two full-ranking protocols: seen items excluded (its `ndcg@10` is what early
    stopping selects on) with the seen-kept figures nested under "seen_kept", so that choices which only move
    seen items (the repeat offset) can be judged on validation too."""
    model.eval()
    return evaluate_seen_both(model_scorer(model, device), split.valid_inputs, split.valid_targets, split.n_items,
                              item_counts=split.item_counts())


class _Loss(torch.nn.Module):
    """A model's training loss as a module's forward. DistributedDataParallel synchronises the gradients of what
    its wrapper's forward computes, and the objectives reach the model through more than its forward (the item
    table, `logits`, the additive model's own `train_loss`): wrapping the whole loss keeps them all inside."""

    def __init__(self, model: torch.nn.Module, cfg: TrainConfig, generator: torch.Generator):
        super().__init__()
        self.model, self.cfg, self.generator = model, cfg, generator
        self.buffer = objectives.ScoreBuffer()  # the full softmax's scores, reused from step to step

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        return objectives.loss(self.model, inputs, targets, cfg.objective, cfg.negatives, self.generator,
                               cfg.label_smoothing, self.buffer)


class _Clock:
    """The run's time budget. The last validation's and the last step's seconds are held in reserve so that the whole
    run fits it; inside a process group under a budget rank 0's clock decides for all ranks (one that stopped a step
    early would leave the others waiting for its gradients)."""

    def __init__(self, cfg: TrainConfig, device: torch.device, total_steps: int, started: float):
        self.started = started
        self.budget = 60 * cfg.max_minutes if cfg.max_minutes is not None else float("inf")
        self.valid_cost = self.step_cost = 0.0
        self.synced = distributed.active() and cfg.max_minutes is not None
        self.device, self.total_steps, self.step = device, total_steps, 0

    def out_of_budget(self) -> bool:
        late = time.perf_counter() - self.started > self.budget - self.valid_cost - self.step_cost
        return bool(distributed.from_main([late], self.device)[0]) if self.synced else late

    def progress(self) -> float:
        """How far through the run: the epochs or the time budget, whichever ends it first."""
        done = max(self.step / self.total_steps, (time.perf_counter() - self.started) / self.budget)
        return distributed.from_main([done], self.device)[0] if self.synced else done

    def seconds(self) -> float:
        return time.perf_counter() - self.started


def _fit_counted(model: torch.nn.Module, split: Split, device: torch.device, started: float) -> FitResult:
    """A count-based baseline learns in one pass."""
    model.fit_counts(split)
    return FitResult(model, 0, validate(model, split, device), [], time.perf_counter() - started, "counted")


def _batch(chunk: list, model: torch.nn.Module, cfg: TrainConfig, draw_rng, device: torch.device):
    """One step's inputs and targets on `device`: next items (causal kinds) or masked items (BERT4Rec)."""
    mcfg = model.config
    if registry.get(mcfg.kind).causal:
        x, y = objectives.next_item_batch(chunk, mcfg.max_len)
    else:
        x, y = objectives.masked_item_batch(chunk, mcfg.max_len, model.mask_token, cfg.mask_prob, draw_rng)
    return torch.as_tensor(x, device=device), torch.as_tensor(y, device=device)


def _judge(figures: Callable[[torch.nn.Module], dict], judged: torch.nn.Module, device: torch.device) -> dict:
    """Rank 0 validates; the other ranks learn its NDCG@10, all that they decide by."""
    valid = figures(judged) if distributed.is_main() else {}
    if not distributed.active():
        return valid
    ndcg = distributed.from_main([valid.get("ndcg@10", 0.0)], device)[0]
    return valid if distributed.is_main() else {"ndcg@10": ndcg}


class _Run:
    """The optimisation of one model: its optimiser, the weight average it is judged by (when asked), the loss of a
    step (under DistributedDataParallel inside a process group), and the best weights so far."""

    def __init__(self, model: torch.nn.Module, cfg: TrainConfig, device: torch.device):
        self.model, self.cfg, self.device = model, cfg, device
        self.opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.amp_dtype = autocast_dtype(cfg.precision, device)
        gen = torch.Generator(device=device).manual_seed(cfg.seed + distributed.rank())
        step_loss = _Loss(model, cfg, gen)
        if distributed.active():  # every parameter takes part in every loss, so no search for unused ones
            step_loss = DistributedDataParallel(step_loss, device_ids=[device.index] if device.type == "cuda" else None)
        self.step_loss = step_loss
        # validation and the kept weights use an exponential moving average of the weights when asked:
        # it smooths the step-to-step noise that a small dataset's gradients carry
        self.averaged = (AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
                         if cfg.ema_decay else None)
        self.judged = self.averaged.module if self.averaged is not None else model
        self.best_ndcg, self.best_epoch, self.best_state, self.best_valid = -1.0, 0, None, {}

    def epoch(self, windows: list, clock: _Clock, draw_rng) -> tuple[float, int, bool]:
        """One pass over this rank's windows in batches: (summed loss, windows, whether the budget ran out), the
        loss and count summed over every rank."""
        cfg, model = self.cfg, self.model
        model.train()
        total, count, out_of_time = 0.0, 0, False
        for start in range(0, len(windows), cfg.batch_size):
            if clock.out_of_budget():  # checked every step: one epoch may outlast the budget
                out_of_time = True
                break
            step_start = time.perf_counter()
            chunk = windows[start: start + cfg.batch_size]
            x, y = _batch(chunk, model, cfg, draw_rng, self.device)
            for group in self.opt.param_groups:
                group["lr"] = cfg.lr * lr_factor(cfg.schedule, clock.step, cfg.warmup_steps, clock.progress())
            with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
                loss = self.step_loss(x, y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            clock.step += 1
            if self.averaged is not None:
                self.averaged.update_parameters(model)
            total += loss.item() * len(chunk)
            count += len(chunk)
            clock.step_cost = time.perf_counter() - step_start
        if out_of_time and count == 0:
            return total, count, out_of_time
        total, count = distributed.all_sum([total, count], self.device)  # the epoch's loss over all ranks
        return total, count, out_of_time

    def keep_if_best(self, valid: dict, epoch: int) -> None:
        if valid and valid["ndcg@10"] > self.best_ndcg:
            self.best_ndcg, self.best_epoch, self.best_valid = valid["ndcg@10"], epoch, valid
            self.best_state = copy.deepcopy(self.judged.state_dict())

    def restore_best(self) -> None:
        """The model takes the best weights judged (the average's, when there is one) and goes to eval mode."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        self.model.eval()


def fit(model: torch.nn.Module, split: Split, cfg: TrainConfig,
        on_epoch_end: Callable[[EpochReport], bool | None] | None = None,
        validator: Callable[[torch.nn.Module], dict] | None = None) -> FitResult:
    """Train in place and return the model holding its best-validation weights.

    `on_epoch_end` gets an EpochReport after every epoch; returning True stops training. `validator` turns the
    weights being judged into validation figures whose "ndcg@10" decides (default `validate`: the model's own full
    ranking); e.g. a re-ranker judged by the two stages it serves in (benchmarks/search.py's `--rerank`).

    Inside a process group of several ranks (see recattn.training.distributed) each rank trains on its shard of every
    epoch's windows, the gradients are averaged by DistributedDataParallel, and rank 0 alone validates and
    calls `on_epoch_end`; its score, its callback's answer and its clock decide for all, so every rank keeps the
    same weights and stops at the same step.
    """
    started = time.perf_counter()
    device = distributed.local_device(resolve_device(cfg.device))
    torch.manual_seed(cfg.seed + distributed.rank())  # dropout differs between ranks
    model.to(device)
    if registry.get(model.config.kind).counted:
        return _fit_counted(model, split, device, started)
    if model.config.output_head:  # its per-item bias is not in the training losses
        raise RecAttnError(_("a model with RecBole's BERT4Rec output head (an imported one) is for reading, not for "
                             "training here: train a BERT4Rec of recattn's own instead"))
    windows = objectives.training_windows(split.train, model.config.max_len, registry.get(model.config.kind).causal,
                                          cfg.window_stride)
    steps = cfg.epochs * math.ceil(len(windows) // distributed.world_size() / cfg.batch_size)
    clock = _Clock(cfg, device, steps, started)
    run = _Run(model, cfg, device)
    figures = validator or (lambda weights: validate(weights, split, device))
    rng = np.random.default_rng(cfg.seed)  # the epochs' order: the same on every rank, which shards it
    # masking draws of its own on each rank, or the ranks would hide the same positions of different windows
    draw_rng = np.random.default_rng([cfg.seed, distributed.rank()]) if distributed.active() else rng
    history: list[EpochReport] = []
    stopped = "epochs"
    for epoch in range(1, cfg.epochs + 1):
        t0 = time.perf_counter()
        order = distributed.shard(rng.permutation(len(windows)))
        total, count, out_of_time = run.epoch([windows[i] for i in order], clock, draw_rng)
        if out_of_time and count == 0:
            stopped = "time"
            break
        valid = {}
        if out_of_time or epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
            v0 = time.perf_counter()
            valid = _judge(figures, run.judged, device)
            clock.valid_cost = time.perf_counter() - v0
        run.keep_if_best(valid, epoch)
        report = EpochReport(epoch, cfg.epochs, total / max(count, 1), valid, time.perf_counter() - t0,
                             run.best_epoch, run.best_ndcg, run.opt.param_groups[0]["lr"])
        history.append(report)
        asked = bool(on_epoch_end(report)) if on_epoch_end is not None and distributed.is_main() else False
        if distributed.from_main([asked], device)[0]:
            stopped = "callback"
            break
        if valid and epoch - run.best_epoch >= cfg.patience:
            stopped = "early"
            break
        if out_of_time or clock.out_of_budget():
            stopped = "time"
            break
    run.restore_best()
    return FitResult(model, run.best_epoch, run.best_valid, history, clock.seconds(), stopped)
