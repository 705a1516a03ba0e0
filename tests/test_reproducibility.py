"""Same seed, same numbers; domains missing from a split are reported."""

import logging

from conftest import planted_config, write_planted_dataset
from recbole_ssctl.quick_start import run_recbole_ssctl


def run_ssctl(data_path, **overrides):
    settings = planted_config(data_path, epochs=2, **overrides)
    return run_recbole_ssctl("SSCTL", "planted", config_dict=settings, saved=False)["test_result"]


def test_same_seed_gives_identical_results(planted_data_path):
    assert run_ssctl(planted_data_path) == run_ssctl(planted_data_path)


def test_other_seed_gives_other_results(planted_data_path):
    assert run_ssctl(planted_data_path) != run_ssctl(planted_data_path, seed=7)


def test_domain_absent_from_training_is_reported(tmp_path, caplog):
    dataset_dir = write_planted_dataset(tmp_path, rows=(800, 200, 200))
    train_file = dataset_dir / "planted.train.inter"
    lines = train_file.read_text(encoding="utf-8").splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split("\t")[3] != "tiny"]
    train_file.write_text("\n".join(kept) + "\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        result = run_ssctl(tmp_path)
    assert "Domain 'tiny' has no interactions in the train split" in caplog.text
    assert result["logloss[tiny]"] is not None
