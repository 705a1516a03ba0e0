"""Run a model the RecBole way and report results per domain.

:func:`run_recbole_ssctl` mirrors RecBole's ``run_recbole`` without importing
``recbole.quick_start`` (which imports ray).
"""

import os
from logging import getLogger
from pathlib import Path

import torch
from recbole.config import Config
from recbole.data import create_dataset, data_preparation
from recbole.utils import get_environment, init_logger, init_seed, set_color

from recbole_ssctl import config_checks, distributed, registry
from recbole_ssctl.compat import trusted_checkpoint_loading
from recbole_ssctl.data.checks import warn_unscaled_numerical_features
from recbole_ssctl.data.domain import DomainSpace, domain_field_name, log_domain_counts
from recbole_ssctl.evaluation import check_valid_metric, format_domain_table

PACKAGE_ROOT = Path(__file__).resolve().parent


def properties_dir():
    """Return the folder of the shipped ``.yaml`` property files."""
    for candidate in (PACKAGE_ROOT.parent / "properties", PACKAGE_ROOT / "properties"):
        if (candidate / "overall.yaml").is_file():
            return candidate
    raise FileNotFoundError(
        f"The recbole-ssctl property files were not found next to {PACKAGE_ROOT}; "
        f"reinstall the package (pip install -e .)."
    )


def property_files(model_name, dataset_name, config_file_list=None):
    """Return the property files for a run, lowest priority first.

    The plugin's defaults, then the model's and the dataset's files (a dataset file in
    ``./properties/dataset/`` wins over the shipped one), then the user's files.
    """
    shipped = properties_dir()
    files = [shipped / "overall.yaml"]
    model_file = shipped / "model" / f"{model_name}.yaml"
    if model_file.is_file():
        files.append(model_file)
    for folder in (Path("properties") / "dataset", shipped / "dataset"):
        dataset_file = folder / f"{dataset_name}.yaml"
        if dataset_file.is_file():
            files.append(dataset_file)
            break
    for path in config_file_list or []:
        if not Path(path).is_file():
            raise FileNotFoundError(f"Config file '{path}' does not exist.")
        files.append(Path(path))
    return [str(path) for path in files]


def build_config(model, dataset, config_file_list=None, config_dict=None):
    """Return a RecBole ``Config`` for a plugin or RecBole model."""
    model_class = registry.get_model(model)
    files = property_files(model_class.__name__, dataset, config_file_list)
    return Config(model=model_class, dataset=dataset, config_file_list=files, config_dict=config_dict)


def prepare_builtin_dataset(config):
    """Prepare a built-in dataset preset (multi-domain ml-100k) on first use."""
    from dataset_prep import movielens

    name = config["dataset"]
    if name not in movielens.PRESETS:
        return
    data_root = os.path.dirname(os.path.normpath(config["data_path"]))
    # The property file goes to ./properties/dataset/, which property_files() reads first;
    # in a checkout that is the shipped file, and an installed package is left untouched.
    if movielens.ensure_prepared(name, data_root, str(Path("properties") / "dataset")):
        getLogger().info(f"Prepared dataset '{name}' in {config['data_path']}")


def check_dataset_folder(config):
    """Raise ``ValueError`` with the ways to get a dataset when its folder is missing."""
    from dataset_prep import movielens

    if os.path.isdir(config["data_path"]):
        return
    raise ValueError(
        f"Dataset '{config['dataset']}' not found: the folder '{config['data_path']}' does "
        f"not exist. Use a built-in dataset ({', '.join(movielens.PRESETS)}), prepare "
        f"Ali-CCP with 'python -m dataset_prep.aliccp raw|processed --input DIR', or set "
        f"data_path to the folder that contains '{config['dataset']}/'."
    )


def load_data(config):
    """Create the dataset and its train / valid / test loaders, logging domain counts."""
    logger = getLogger()
    check_dataset_folder(config)
    dataset = create_dataset(config)
    logger.info(dataset)
    warn_unscaled_numerical_features(config, dataset)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    domains = DomainSpace(dataset, domain_field_name(config))
    splits = {"train": train_data._dataset, "valid": valid_data._dataset, "test": test_data._dataset}
    counts = log_domain_counts(domains, splits)
    return dataset, (train_data, valid_data, test_data), domains, counts


def run_recbole_ssctl(model, dataset, config_file_list=None, config_dict=None, saved=True, nproc=1):
    """Train and test one model on one dataset; log the per-domain test table.

    Args:
        model (str): a plugin model (e.g. ``SSCTL``) or a RecBole context-aware model.
        dataset (str): dataset name; ``ml-100k-md`` presets are prepared on first use.
        config_file_list (list of str, optional): extra ``.yaml`` files, highest priority.
        config_dict (dict, optional): settings that override the files.
        saved (bool): save checkpoints and reload the best one for testing.
        nproc (int): number of training processes on this machine; above 1 they train
            with torch DistributedDataParallel (gloo on CPU, NCCL on GPUs).

    Returns:
        dict: ``model_file`` (the best checkpoint, when saved), ``best_valid_score``,
        ``valid_score_bigger``, ``best_valid_result``, ``test_result``, ``test_table`` (the
        text table), ``trainer`` (its ``train_epoch_seconds`` and ``model``) and
        ``test_data``. With several processes: the first process's result, without
        ``trainer`` and ``test_data``.
    """
    if nproc > 1:
        return _run_processes(model, dataset, config_file_list, config_dict, saved, nproc)
    config = build_config(model, dataset, config_file_list, config_dict)
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    logger = getLogger()
    config_checks.warn_unknown_settings(config, properties_dir())
    logger.info(config)
    prepare_builtin_dataset(config)

    _, (train_data, valid_data, test_data), domains, counts = load_data(config)
    check_valid_metric(config["valid_metric"], config["metrics"], domains.tokens)
    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model_class = registry.get_model(config["model"])
    model = model_class(config, train_data._dataset).to(config["device"])
    logger.info(model)
    trainer = registry.get_trainer(model_class)(config, model)

    best_valid_score, best_valid_result = trainer.fit(
        train_data, valid_data, saved=saved, show_progress=config["show_progress"]
    )
    test_result = trainer.evaluate(test_data, load_best_model=saved, show_progress=config["show_progress"])

    test_counts = dict(zip(domains.tokens, (int(c) for c in counts["test"])))
    table = format_domain_table(test_result, domains.tokens, test_counts)
    environment = get_environment(config)
    logger.info("The running environment of this training is as follows:\n" + environment.draw())
    logger.info(set_color("best valid ", "yellow") + f": {best_valid_result}")
    logger.info(set_color("test result per domain", "yellow") + f" ({domains.field}):\n{table}")
    return {
        "model_file": trainer.saved_model_file if saved else None,
        "best_valid_score": best_valid_score,
        "valid_score_bigger": trainer.valid_metric_bigger,
        "best_valid_result": best_valid_result,
        "test_result": test_result,
        "test_table": table,
        "trainer": trainer,
        "test_data": test_data,
    }


def _run_processes(model, dataset, config_file_list, config_dict, saved, nproc):
    """Train in ``nproc`` processes that meet on a free port of 127.0.0.1."""
    import torch.multiprocessing as mp

    # Prepare built-in data once, before several processes would write the same files.
    config = build_config(model, dataset, config_file_list, config_dict)
    prepare_builtin_dataset(config)

    context = mp.get_context("spawn")
    results = context.SimpleQueue()
    port = distributed.free_local_port()
    mp.spawn(
        _process_main,
        args=(model, dataset, config_file_list, config_dict or {}, saved, nproc, port, results),
        nprocs=nproc,
        join=True,
    )
    return results.get()


def _process_main(rank, model, dataset, config_file_list, config_dict, saved, nproc, port, results):
    settings = {**config_dict, **distributed.distributed_settings(nproc, rank, port)}
    try:
        result = run_recbole_ssctl(model, dataset, config_file_list, settings, saved)
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    if rank == 0:
        results.put({key: value for key, value in result.items() if key not in ("trainer", "test_data")})


def load_data_and_model(model_file):
    """Load a checkpoint written by a run, with its config, data and model.

    Unlike RecBole's function of the same name, this one resolves plugin models and does
    not import ray.

    Returns:
        tuple: ``config``, ``model``, ``dataset``, ``train_data``, ``valid_data``, ``test_data``.
    """
    with trusted_checkpoint_loading():
        checkpoint = torch.load(model_file, map_location="cpu")
    config = checkpoint["config"]
    if not config["single_spec"] and distributed.world_size() == 1:
        # A checkpoint of a multi-process run, loaded in one process.
        config["single_spec"] = True
        config["world_size"] = 1
        use_cuda = torch.cuda.is_available() and config["dist_backend"] == "nccl"
        config["device"] = torch.device("cuda" if use_cuda else "cpu")
    init_seed(config["seed"], config["reproducibility"])
    init_logger(config)
    dataset, (train_data, valid_data, test_data), _, _ = load_data(config)
    init_seed(config["seed"], config["reproducibility"])
    model = registry.get_model(config["model"])(config, train_data._dataset).to(config["device"])
    model.load_state_dict(checkpoint["state_dict"])
    model.load_other_parameter(checkpoint.get("other_parameter"))
    return config, model, dataset, train_data, valid_data, test_data
