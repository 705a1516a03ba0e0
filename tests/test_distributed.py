"""Multi-process training over gloo on CPU: exact evaluation and shared ISCT statistics."""

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from conftest import planted_config
from recbole_ssctl import distributed
from recbole_ssctl.model.pseudo_label import batch_statistics
from recbole_ssctl.quick_start import load_data_and_model, run_recbole_ssctl
from recbole_ssctl.trainer.multi_domain import MultiDomainTrainer


def _group_main(rank, world, port, dataset_size, results):
    dist.init_process_group("gloo", rank=rank, world_size=world, init_method=f"tcp://127.0.0.1:{port}")
    try:
        sampler = torch.utils.data.distributed.DistributedSampler(
            list(range(dataset_size)), num_replicas=world, rank=rank, shuffle=False, drop_last=False
        )
        shard = torch.tensor(list(iter(sampler)))
        gathered = distributed.gather_in_order(shard, dataset_size)
        confidence = torch.tensor([0.1, 0.2, 0.9]) if rank == 0 else torch.tensor([0.4])
        statistics = batch_statistics(confidence)
        if rank == 0:
            results.put((gathered.tolist(), statistics))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def two_process_results():
    context = mp.get_context("spawn")
    results = context.SimpleQueue()
    mp.spawn(_group_main, args=(2, distributed.free_local_port(), 7, results), nprocs=2, join=True)
    return results.get()


def test_gather_restores_order_and_drops_padding(two_process_results):
    gathered, _ = two_process_results
    assert gathered == list(range(7))


def test_batch_statistics_cover_all_processes(two_process_results):
    _, (mean, variance, count) = two_process_results
    union = torch.tensor([0.1, 0.2, 0.9, 0.4], dtype=torch.double)
    assert count == 4
    assert mean == pytest.approx(union.mean().item())
    assert variance == pytest.approx(union.var(unbiased=True).item())


@pytest.mark.slow
def test_two_process_evaluation_equals_single_process(planted_data_path):
    settings = planted_config(planted_data_path, epochs=2)
    result = run_recbole_ssctl("SSCTL", "planted", config_dict=settings, nproc=2)

    config, model, _, _, _, test_data = load_data_and_model(result["model_file"])
    single = MultiDomainTrainer(config, model).evaluate(test_data, load_best_model=False)
    assert single == result["test_result"]
