"""Models train on prepared Ali-CCP data: the real processed sample and generated raw files."""

import math
import subprocess
import sys
from pathlib import Path

import pytest

from test_cli import parse_table

SCRIPT = Path(__file__).resolve().parents[1] / "run_recbole_ssctl.py"


def run(command, cwd):
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout + completed.stderr


def train(cwd, model, dataset, *settings):
    command = [sys.executable, str(SCRIPT), f"--model={model}", f"--dataset={dataset}",
               "--epochs=1", "--show_progress=False", *settings]
    return parse_table(run(command, cwd))


def test_ssctl_trains_on_processed_sample(shared_data_dir, tmp_path):
    sample = shared_data_dir / "ali-ccp-processed-sample"
    run([sys.executable, "-m", "dataset_prep.aliccp", "processed", "--input", str(sample),
         "--progress", "off"], tmp_path)
    table = train(tmp_path, "SSCTL", "ali-ccp", "--train_batch_size=32")
    assert set(table) == {"1", "2", "3", "overall"}
    for row in table.values():
        assert math.isfinite(float(row["logloss"]))


@pytest.fixture(scope="module")
def synthetic_raw_prepared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aliccp")
    run([sys.executable, "-m", "dataset_prep.synthetic_aliccp", "--rows", "4000", "--users", "500",
         "--output", "raw", "--tar"], folder)
    run([sys.executable, "-m", "dataset_prep.aliccp", "raw", "--input", "raw", "--progress", "off"], folder)
    return folder


@pytest.mark.parametrize("model", ["SSCTL", "DeepFM"])
def test_model_trains_on_generated_raw_files(synthetic_raw_prepared, model):
    table = train(synthetic_raw_prepared, model, "ali-ccp", "--train_batch_size=512")
    assert set(table) == {"1", "2", "3", "overall"}
    for row in table.values():
        assert math.isfinite(float(row["auc"]))
        assert math.isfinite(float(row["logloss"]))
