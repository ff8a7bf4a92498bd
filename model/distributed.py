"""Data-parallel training across processes started by torchrun (gloo on CPU, NCCL on GPUs).

Each process trains on its own random windows; DistributedDataParallel averages gradients, so
all replicas stay equal. Only rank 0 reports progress and writes files. Outside torchrun these
helpers report a world of one and do nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class World:
    """Where this process stands among its peers."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def launched_by_torchrun() -> bool:
    """Tell whether the environment says this process is one of several (torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def setup(device: torch.device) -> World:
    """Join the process group torchrun described; a world of one outside torchrun."""
    if not launched_by_torchrun():
        return World()
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    return World(dist.get_rank(), dist.get_world_size(), local_rank)


def any_true(flag: bool, world: World, device: torch.device) -> bool:
    """Return True on every rank when `flag` is True on any rank (so all stop together)."""
    if not world.distributed:
        return flag
    import torch.distributed as dist

    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def barrier(world: World) -> None:
    """Wait for every rank."""
    if world.distributed:
        import torch.distributed as dist

        dist.barrier()


def teardown(world: World) -> None:
    """Leave the process group."""
    if world.distributed:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
