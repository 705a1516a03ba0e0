"""Multi-process training with torch.distributed: helpers and the process launcher.

RecBole 1.2.1 runs one process per GPU with the NCCL backend only. The compat layer adds
the gloo backend, so the same path runs on CPU machines (one process per core group).
Evaluation loaders then give each process a shard of the data. :func:`gather_in_order`
puts the shards back together, so metrics cover every row of the split once (a
two-process test compares them with a single-process evaluation).
"""

import socket

import torch
import torch.distributed as dist


def world_size():
    """Return the number of processes, 1 when torch.distributed is not initialised."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def all_reduce_sum(tensor):
    """Sum ``tensor`` over all processes in place and return it (no-op in one process)."""
    if world_size() > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def barrier():
    """Wait for every process (no-op in one process)."""
    if world_size() > 1:
        dist.barrier()


def gather_in_order(tensor, dataset_size):
    """Return the rows of a sharded evaluation in dataset order, each row once.

    RecBole's evaluation loaders use ``DistributedSampler(shuffle=False, drop_last=False)``:
    process r receives positions r, r + W, r + 2W, … of the index list, padded at the end
    with repeats of the first indices so that every process gets the same count. This
    gathers every process's rows, interleaves them back and drops the padding.

    Args:
        tensor (torch.Tensor): this process's rows, in the order its loader produced them.
        dataset_size (int): number of rows in the evaluated split.
    """
    processes = world_size()
    if processes == 1:
        return tensor
    shards = [None] * processes
    dist.all_gather_object(shards, tensor.cpu())
    interleaved = torch.stack(shards, dim=1)  # [rows per process, W, ...]
    return interleaved.reshape(-1, *tensor.shape[1:])[:dataset_size]


def free_local_port():
    """Return a TCP port on 127.0.0.1 that is free now, for the process group rendezvous."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def distributed_settings(nproc, rank, port, backend=None):
    """Return the RecBole settings that make process ``rank`` join an ``nproc`` group."""
    settings = {
        "nproc": nproc,
        "world_size": nproc,
        "local_rank": rank,
        "offset": 0,
        "ip": "127.0.0.1",
        "port": str(port),
    }
    if backend is not None:
        settings["dist_backend"] = backend
    return settings
