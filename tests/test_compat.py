"""RecBole 1.2.1 on numpy 2, pandas 3 and torch >= 2.6, through the compat layer.

Each test drives the RecBole code path that breaks without its patch.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from recbole.config import Config
from recbole.data import create_dataset

from conftest import build_run

ATOMIC_ROWS = [
    # user, item, label, domain, price (may be missing), tags (may be empty)
    ("u1", "i1", "1", "a", "2.0", "x y"),
    ("u2", "i2", "0", "b", "", ""),
    ("u3", "i1", "1", "a", "4.0", "z"),
    ("u1", "i3", "0", "b", "6.0", "y z x"),
    ("u2", "i2", "1", "a", "", "w"),
]


@pytest.fixture
def small_dataset_config(tmp_path):
    folder = tmp_path / "small"
    folder.mkdir()
    header = "user_id:token\titem_id:token\tlabel:float\tdomain_id:token\tprice:float\ttags:token_seq\n"
    with open(folder / "small.inter", "w", encoding="utf-8") as out:
        out.write(header)
        for row in ATOMIC_ROWS:
            out.write("\t".join(row) + "\n")
    return Config(
        model="DeepFM",
        dataset="small",
        config_dict={
            "data_path": str(tmp_path),
            "load_col": None,
            "numerical_features": [],
            "eval_args": {"split": {"RS": [0.6, 0.2, 0.2]}, "order": "RO", "mode": "labeled", "group_by": None},
            "train_neg_sample_args": None,
            "state": "WARNING",
        },
    )


def test_config_builds_on_numpy_2(small_dataset_config):
    assert small_dataset_config["model"] == "DeepFM"


def test_missing_float_values_are_filled_with_mean(small_dataset_config):
    dataset = create_dataset(small_dataset_config)
    price = np.asarray(dataset.inter_feat["price"], dtype=float)
    assert not np.isnan(price).any()
    assert price[1] == pytest.approx(4.0)  # mean of 2, 4, 6


def test_empty_token_seq_cell_loads_as_empty_sequence(small_dataset_config):
    dataset = create_dataset(small_dataset_config)
    assert len(dataset.inter_feat["tags"][1]) == 0


def test_token_seq_remap_round_trips_every_row(small_dataset_config):
    dataset = create_dataset(small_dataset_config)
    for row, ids in zip(ATOMIC_ROWS, dataset.inter_feat["tags"]):
        tokens = [str(token) for token in dataset.id2token("tags", np.asarray(ids, dtype=int))]
        assert tokens == row[5].split()


def test_float_seq_normalization_keeps_rows(tmp_path):
    folder = tmp_path / "seqf"
    folder.mkdir()
    with open(folder / "seqf.inter", "w", encoding="utf-8") as out:
        out.write("user_id:token\titem_id:token\tlabel:float\tdomain_id:token\tscores:float_seq\n")
        out.write("u1\ti1\t1\ta\t1 3\nu2\ti2\t0\tb\t5\nu3\ti3\t1\ta\t\n")
    config = Config(
        model="DeepFM",
        dataset="seqf",
        config_dict={
            "data_path": str(tmp_path),
            "load_col": None,
            "normalize_all": True,
            "eval_args": {"split": {"RS": [0.6, 0.2, 0.2]}, "order": "RO", "mode": "labeled", "group_by": None},
            "train_neg_sample_args": None,
            "state": "WARNING",
        },
    )
    dataset = create_dataset(config)
    lengths = [len(row) for row in dataset.inter_feat["scores"]]
    assert lengths == [2, 1, 0]


def test_best_model_reload_after_fit(planted_data_path):
    run = build_run("DeepFM", planted_data_path, epochs=1)
    run["trainer"].fit(run["train"], run["valid"], saved=True, show_progress=False)
    result = run["trainer"].evaluate(run["test"], load_best_model=True)
    assert result["auc"] is not None


def test_resume_checkpoint_loads_recbole_checkpoint(planted_data_path):
    run = build_run("DeepFM", planted_data_path, epochs=1)
    run["trainer"].fit(run["train"], run["valid"], saved=True, show_progress=False)
    resumed = build_run("DeepFM", planted_data_path, epochs=1)["trainer"]
    resumed.resume_checkpoint(run["trainer"].saved_model_file)
    assert resumed.start_epoch == 1


def test_training_epoch_emits_no_grad_scaler_deprecation(planted_data_path):
    run = build_run("DeepFM", planted_data_path, epochs=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run["trainer"]._train_epoch(run["train"], 0)
    messages = [str(w.message) for w in caught if issubclass(w.category, FutureWarning)]
    assert not [m for m in messages if "GradScaler" in m]


def test_import_does_not_import_ray():
    code = "import sys, recbole_ssctl, recbole_ssctl.quick_start; print('ray' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "False"


def test_plain_recbole_trainer_reloads_best_model(planted_data_path):
    from recbole.trainer import Trainer

    run = build_run("DeepFM", planted_data_path, epochs=1)
    trainer = Trainer(run["config"], run["model"])
    trainer.fit(run["train"], run["valid"], saved=True, show_progress=False)
    result = trainer.evaluate(run["test"], load_best_model=True)
    assert 0.0 < result["auc"] < 1.0
