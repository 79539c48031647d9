"""Several training processes under torchrun: the process group, which rank this is, its device, its shard.

`torchrun --nproc_per_node N -m recattn train …` starts N copies of the CLI with RANK, WORLD_SIZE and
LOCAL_RANK set. `session` joins them into one process group (NCCL on GPUs, gloo on CPU) for the length of a
run; without those variables, or with WORLD_SIZE=1, it does nothing and everything below answers as the one
and only process (rank 0 of 1), so single-process training builds no distributed object at all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist

# Rank 0 validates while the others wait at the next collective: a full-ranking validation of a large data set
# can outlast the default 10-minute timeout.
TIMEOUT = timedelta(hours=2)


@dataclass(frozen=True)
class Launch:
    """What torchrun tells a process about itself."""

    rank: int
    world_size: int
    local_rank: int


def from_env(env: dict[str, str] | None = None) -> Launch | None:
    """The torchrun launch this process belongs to; None when it runs alone (no WORLD_SIZE, or 1)."""
    env = os.environ if env is None else env
    world_size = int(env.get("WORLD_SIZE", "1") or 1)
    if world_size <= 1:
        return None
    return Launch(int(env["RANK"]), world_size, int(env.get("LOCAL_RANK", env["RANK"])))


def active() -> bool:
    """Whether this process trains together with others (a process group of two or more is up)."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """Rank 0: the process that validates, prints, and writes checkpoints and metrics."""
    return rank() == 0


@contextmanager
def session(device_type: str) -> Iterator[Launch | None]:
    """Join the torchrun process group for the block (NCCL when `device_type` is "cuda", else gloo) and leave it
    afterwards; on GPUs each process takes the GPU of its LOCAL_RANK as its current device. Without torchrun
    the block just runs."""
    launch = from_env()
    if launch is None:
        yield None
        return
    if device_type == "cuda":
        torch.cuda.set_device(launch.local_rank)  # "cuda" now means this rank's GPU, in fit and after it
    dist.init_process_group("nccl" if device_type == "cuda" else "gloo", timeout=TIMEOUT)
    try:
        yield launch
    finally:
        dist.destroy_process_group()


def local_device(device: torch.device) -> torch.device:
    """In a distributed run, `device` pinned to this process's GPU (cuda → cuda:k, the current device, which
    DistributedDataParallel needs by index); otherwise, and for other devices, `device` unchanged."""
    if active() and device.type == "cuda" and device.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return device


def shard(order: np.ndarray) -> np.ndarray:
    """This rank's equal share of an epoch's shuffled order (the same order on every rank): every
    world_size-th entry from its rank on, after dropping the last len % world_size entries so that no rank
    takes a step the others do not. Batch k of rank r then holds order[W·b·k + r :: W] for W ranks and batch
    size b, so the W batches of one step are exactly batch k of a single process with batch size W·b."""
    world = world_size()
    if world == 1:
        return order
    return order[: len(order) - len(order) % world][rank()::world]


def from_main(values: list[float], device: torch.device) -> list[float]:
    """Rank 0's `values` on every rank (collective: every rank calls it with a list of the same length). Numbers
    only: the decisions ranks must share (stop or go, the validation score) travel as one small tensor."""
    if not active():
        return list(values)
    box = torch.tensor(values, dtype=torch.float64, device=device)
    dist.broadcast(box, src=0)
    return box.tolist()


def all_sum(values: list[float], device: torch.device) -> list[float]:
    """The element-wise sum of `values` over the ranks (collective)."""
    if not active():
        return list(values)
    total = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(total)
    return total.tolist()
