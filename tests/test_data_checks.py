"""Warnings about loaded data: unscaled numerical features."""

import logging

from conftest import build_run, write_planted_dataset


def scale_price(dataset_dir, factor):
    for path in dataset_dir.glob("*.inter"):
        lines = path.read_text(encoding="utf-8").splitlines()
        rows = [line.split("\t") for line in lines[1:]]
        for row in rows:
            row[4] = f"{float(row[4]) * factor:.2f}"
        path.write_text("\n".join([lines[0]] + ["\t".join(r) for r in rows]) + "\n", encoding="utf-8")


def test_large_numerical_feature_is_reported(tmp_path, caplog):
    scale_price(write_planted_dataset(tmp_path, rows=(300, 50, 50)), 500.0)
    with caplog.at_level(logging.WARNING):
        build_run("DeepFM", tmp_path)
    assert "Numerical feature 'price' reaches" in caplog.text
    assert "normalize_field" in caplog.text


def test_normalized_feature_is_not_reported(tmp_path, caplog):
    scale_price(write_planted_dataset(tmp_path, rows=(300, 50, 50)), 500.0)
    with caplog.at_level(logging.WARNING):
        build_run("DeepFM", tmp_path, normalize_field=["price"])
    assert "Numerical feature 'price'" not in caplog.text


def test_small_numerical_feature_is_not_reported(planted_data_path, caplog):
    with caplog.at_level(logging.WARNING):
        build_run("DeepFM", planted_data_path)
    assert "Numerical feature 'price'" not in caplog.text
