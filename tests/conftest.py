"""Shared fixtures: small multi-domain datasets written as RecBole atomic files."""

import os
from pathlib import Path

import numpy as np
import pytest

import recbole_ssctl  # noqa: F401  (patches RecBole before any test builds a dataset)

SHARED_DATA_VARIABLE = "RECBOLE_SSCTL_SHARED_DATA"

# Domain tokens and shares of the planted dataset: one dominant, one mid-size, one sparse.
PLANTED_DOMAINS = {"big": 0.70, "mid": 0.25, "tiny": 0.05}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds; run with -m slow")


def write_planted_dataset(folder, name="planted", rows=(3000, 600, 600), seed=7):
    """Write a three-domain CTR dataset with a learnable signal as atomic files.

    Splits are ``<name>.train.inter``, ``.valid.inter`` and ``.test.inter``. Each row has a
    user, an item, a domain, a ``price`` float in [0, 1] and a ``tags`` token sequence. The
    click probability depends on the item and on a user preference that differs by domain,
    so per-domain towers have something to learn.

    Returns:
        Path: the dataset folder ``folder / name``.
    """
    rng = np.random.default_rng(seed)
    tokens = list(PLANTED_DOMAINS)
    shares = np.array(list(PLANTED_DOMAINS.values()))
    item_bias = rng.normal(0.0, 1.0, size=60)
    domain_shift = {"big": 0.0, "mid": 1.0, "tiny": -1.0}
    dataset_dir = Path(folder) / name
    dataset_dir.mkdir(parents=True, exist_ok=True)
    header = "user_id:token\titem_id:token\tlabel:float\tdomain_id:token\tprice:float\ttags:token_seq\n"

    for part, count in zip(("train", "valid", "test"), rows):
        domain = rng.choice(len(tokens), size=count, p=shares)
        user = rng.integers(0, 200, size=count)
        item = rng.integers(0, 60, size=count)
        price = rng.random(count)
        logit = item_bias[item] + np.array([domain_shift[tokens[d]] for d in domain]) * (user % 2 * 2 - 1)
        label = (rng.random(count) < 1.0 / (1.0 + np.exp(-logit))).astype(float)
        with open(dataset_dir / f"{name}.{part}.inter", "w", encoding="utf-8") as out:
            out.write(header)
            for i in range(count):
                tags = " ".join(f"t{t}" for t in sorted(set(rng.integers(0, 8, size=rng.integers(0, 4)))))
                out.write(
                    f"u{user[i]}\ti{item[i]}\t{label[i]:.0f}\t{tokens[domain[i]]}\t{price[i]:.4f}\t{tags}\n"
                )
    return dataset_dir


def planted_config(data_path, **overrides):
    """Return a ``config_dict`` that loads the planted dataset quickly on CPU."""
    config = {
        "data_path": str(data_path),
        "benchmark_filename": ["train", "valid", "test"],
        "load_col": None,
        "numerical_features": ["price"],
        "epochs": 2,
        "train_batch_size": 256,
        "eval_batch_size": 1024,
        "embedding_size": 8,
        "show_progress": False,
        "state": "WARNING",
        "checkpoint_dir": str(Path(data_path) / "saved"),
        "seed": 2020,
        "reproducibility": True,
        "warmup_epochs": 1,
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def planted_data_path(tmp_path_factory):
    """Folder holding the planted dataset ``planted`` (see :func:`write_planted_dataset`)."""
    folder = tmp_path_factory.mktemp("data")
    write_planted_dataset(folder)
    return folder


@pytest.fixture
def shared_data_dir():
    """Folder of the real sample files, from the ``RECBOLE_SSCTL_SHARED_DATA`` variable."""
    value = os.environ.get(SHARED_DATA_VARIABLE)
    if not value:
        pytest.skip(f"set {SHARED_DATA_VARIABLE} to the folder of the real data samples to run this test")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"{SHARED_DATA_VARIABLE}={value} is not a folder")
    return path


def build_run(model, data_path, dataset="planted", **overrides):
    """Build config, data loaders, model and trainer the way a run does, without training.

    Returns:
        dict: ``config``, ``dataset``, ``train``, ``valid``, ``test``, ``model``, ``trainer``.
    """
    from recbole.utils import init_seed

    from recbole_ssctl import registry
    from recbole_ssctl.quick_start import build_config, load_data

    config = build_config(model, dataset, config_dict=planted_config(data_path, **overrides))
    init_seed(config["seed"], config["reproducibility"])
    full_dataset, (train, valid, test), _, _ = load_data(config)
    init_seed(config["seed"], config["reproducibility"])
    model_class = registry.get_model(model)
    model_instance = model_class(config, train._dataset)
    trainer = registry.get_trainer(model_class)(config, model_instance)
    return {
        "config": config,
        "dataset": full_dataset,
        "train": train,
        "valid": valid,
        "test": test,
        "model": model_instance,
        "trainer": trainer,
    }
