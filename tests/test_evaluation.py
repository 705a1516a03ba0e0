"""Per-domain evaluation: agreement with RecBole, missing AUC, valid_metric keys."""

import logging
import math

import pytest
from recbole.trainer import Trainer

from conftest import build_run, planted_config, write_planted_dataset
from recbole_ssctl.evaluation import format_domain_table, is_bigger_better, normalize_metric_key


def make_single_class_domain(dataset_dir, domain, parts=("valid", "test")):
    """Set every label of ``domain`` to 0 in the given splits."""
    for part in parts:
        path = dataset_dir / f"{dataset_dir.name}.{part}.inter"
        lines = path.read_text(encoding="utf-8").splitlines()
        rows = [line.split("\t") for line in lines[1:]]
        for row in rows:
            if row[3] == domain:
                row[2] = "0"
        path.write_text("\n".join([lines[0]] + ["\t".join(r) for r in rows]) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def trained_deepfm(tmp_path_factory):
    folder = tmp_path_factory.mktemp("eval")
    write_planted_dataset(folder)
    run = build_run("DeepFM", folder, epochs=1)
    run["trainer"].fit(run["train"], run["valid"], saved=False, show_progress=False)
    return run


def test_overall_metrics_equal_recbole_evaluator(trained_deepfm):
    ours = trained_deepfm["trainer"].evaluate(trained_deepfm["test"], load_best_model=False)
    plain = Trainer(trained_deepfm["config"], trained_deepfm["model"])
    theirs = plain.evaluate(trained_deepfm["test"], load_best_model=False)
    assert ours["auc"] == theirs["auc"]
    assert ours["logloss"] == theirs["logloss"]


def test_every_domain_has_finite_metrics(trained_deepfm):
    result = trained_deepfm["trainer"].evaluate(trained_deepfm["test"], load_best_model=False)
    for token in ("big", "mid", "tiny"):
        assert math.isfinite(result[f"auc[{token}]"])
        assert math.isfinite(result[f"logloss[{token}]"])


def test_mean_domain_auc_is_mean_of_domains(trained_deepfm):
    result = trained_deepfm["trainer"].evaluate(trained_deepfm["test"], load_best_model=False)
    domain_auc = [result[f"auc[{token}]"] for token in ("big", "mid", "tiny")]
    assert result["mean_domain_auc"] == pytest.approx(sum(domain_auc) / 3, abs=1e-4)


def test_single_class_domain_has_missing_auc(tmp_path, caplog):
    dataset_dir = write_planted_dataset(tmp_path, rows=(600, 200, 200))
    make_single_class_domain(dataset_dir, "tiny")
    run = build_run("DeepFM", tmp_path, epochs=1)
    with caplog.at_level(logging.WARNING):
        result = run["trainer"].evaluate(run["test"], load_best_model=False)
    assert result["auc[tiny]"] is None
    assert math.isfinite(result["logloss[tiny]"])
    assert "AUC of domain 'tiny' is missing" in caplog.text


def test_mean_domain_auc_skips_missing_domain(tmp_path):
    dataset_dir = write_planted_dataset(tmp_path, rows=(600, 200, 200))
    make_single_class_domain(dataset_dir, "tiny")
    run = build_run("DeepFM", tmp_path, epochs=1)
    result = run["trainer"].evaluate(run["test"], load_best_model=False)
    expected = (result["auc[big]"] + result["auc[mid]"]) / 2
    assert result["mean_domain_auc"] == pytest.approx(expected, abs=1e-4)


def test_valid_metric_on_single_class_domain_fails_clearly(tmp_path):
    dataset_dir = write_planted_dataset(tmp_path, rows=(600, 200, 200))
    make_single_class_domain(dataset_dir, "tiny")
    run = build_run("DeepFM", tmp_path, epochs=1, valid_metric="AUC[tiny]")
    with pytest.raises(ValueError, match="'AUC\\[tiny\\]' has no value on the validation set"):
        run["trainer"].fit(run["train"], run["valid"], saved=False, show_progress=False)


def test_valid_metric_can_name_a_domain(planted_data_path):
    run = build_run("DeepFM", planted_data_path, epochs=1, valid_metric="AUC[mid]")
    score, result = run["trainer"].fit(run["train"], run["valid"], saved=False, show_progress=False)
    assert score == result["auc[mid]"]


def test_unknown_valid_metric_lists_available_keys(planted_data_path):
    run = build_run("DeepFM", planted_data_path, epochs=1, valid_metric="AUC[nowhere]")
    with pytest.raises(ValueError, match="not among the results"):
        run["trainer"].fit(run["train"], run["valid"], saved=False, show_progress=False)


def test_ranking_metric_is_rejected(planted_data_path):
    with pytest.raises(ValueError, match="not value metrics"):
        build_run("DeepFM", planted_data_path, metrics=["Recall"], topk=[10], valid_metric="Recall@10")


@pytest.mark.parametrize(
    "name, key, bigger",
    [
        ("AUC", "auc", True),
        ("LogLoss[Young]", "logloss[Young]", False),
        ("mean_domain_auc", "mean_domain_auc", True),
    ],
)
def test_metric_key_and_direction(name, key, bigger):
    assert normalize_metric_key(name) == key
    assert is_bigger_better(key) is bigger


def test_table_shows_missing_value_as_na():
    result = {"auc": 0.7, "logloss": 0.5, "auc[a]": None, "logloss[a]": 0.4, "auc[b]": 0.7,
              "logloss[b]": 0.6, "mean_domain_auc": 0.7}
    table = format_domain_table(result, ["a", "b"], {"a": 3, "b": 5})
    row_a = [line for line in table.splitlines() if line.startswith("a ")][0]
    assert "n/a" in row_a


def test_unknown_valid_metric_fails_before_training(planted_data_path):
    from recbole_ssctl.quick_start import run_recbole_ssctl

    settings = planted_config(planted_data_path, valid_metric="AUC[nowhere]")
    with pytest.raises(ValueError, match="not among the results"):
        run_recbole_ssctl("DeepFM", "planted", config_dict=settings, saved=False)
