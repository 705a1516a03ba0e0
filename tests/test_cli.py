"""The command line: SSCTL and a RecBole model end with a per-domain test table."""

import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import planted_config, write_planted_dataset

SCRIPT = Path(__file__).resolve().parents[1] / "run_recbole_ssctl.py"


def run_command_line(tmp_path, model, *extra):
    data_path = tmp_path / "data"
    write_planted_dataset(data_path, rows=(1500, 400, 400))
    settings = planted_config(data_path, epochs=2, state="INFO")
    config_file = tmp_path / "planted.yaml"
    config_file.write_text(yaml.safe_dump(settings), encoding="utf-8")
    command = [sys.executable, str(SCRIPT), f"--model={model}", "--dataset=planted",
               f"--config_files={config_file}", *extra]
    completed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout + completed.stderr


def parse_table(output):
    """Return {row name: {column: text}} from the per-domain test table in ``output``."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "test result per domain" in line)
    header = lines[start + 1].split()
    table = {}
    for line in lines[start + 3:]:
        if not line.strip() or line.startswith("mean of domains"):
            break
        cells = line.split()
        table[cells[0]] = dict(zip(header, cells))
    return table


@pytest.mark.parametrize("model", ["SSCTL", "DeepFM"])
def test_command_line_prints_finite_metrics_per_domain(tmp_path, model):
    table = parse_table(run_command_line(tmp_path, model))
    assert set(table) == {"big", "mid", "tiny", "overall"}
    for row in table.values():
        assert math.isfinite(float(row["auc"]))
        assert math.isfinite(float(row["logloss"]))


def test_command_line_logs_ssctl_stages(tmp_path):
    output = run_command_line(tmp_path, "SSCTL")
    assert "SSCTL stage: warm-up" in output
    assert "SSCTL stage: joint" in output
    assert "pseudo-assigned samples [" in output


def test_command_line_rejects_unknown_model(tmp_path):
    command = [sys.executable, str(SCRIPT), "--model=NoSuchModel", "--dataset=planted"]
    completed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert completed.returncode != 0
    assert "Model 'NoSuchModel' is neither" in completed.stderr


def test_command_line_suggests_case_of_model_name(tmp_path):
    command = [sys.executable, str(SCRIPT), "--model=deepfm", "--dataset=planted"]
    completed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert "did you mean 'DeepFM'?" in completed.stderr


def test_unknown_model_message_names_no_optional_package(tmp_path):
    command = [sys.executable, str(SCRIPT), "--model=SSCLT", "--dataset=planted"]
    completed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "Did you mean 'SSCTL'" in completed.stderr
    assert "lightgbm" not in completed.stderr


def test_missing_dataset_folder_names_the_options(tmp_path):
    command = [sys.executable, str(SCRIPT), "--model=DeepFM", "--dataset=nowhere", f"--data_path={tmp_path}"]
    completed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2
    assert "Dataset 'nowhere' not found" in completed.stderr
    assert "ml-100k-md" in completed.stderr
