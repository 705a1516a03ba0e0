"""The comparison runner: child runs, stored results, skipping, failures and reports."""

import csv
import json
import logging

import pytest

from conftest import planted_config
from recbole_ssctl.benchmark import (
    main,
    paired_p_value,
    parse_overrides,
    rela_impr,
    run_benchmark,
)

DOMAINS = {"big", "mid", "tiny", "overall", "mean"}


@pytest.fixture(scope="module")
def settings(planted_data_path):
    """One-epoch settings for the planted dataset, without a seed (the runner sets it)."""
    config = planted_config(planted_data_path, epochs=1)
    del config["seed"]
    return config


def _rows(output):
    with open(output / "results.csv", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _test_results(outcome):
    return {(r["model"], r["seed"]): r["test_result"] for r in outcome.results}


@pytest.fixture(scope="module")
def one_run(tmp_path_factory, settings):
    """The output folder of one model x one seed, trained for one epoch."""
    output = tmp_path_factory.mktemp("bench-one")
    run_benchmark(["SharedBottom"], "planted", [2020], output, overrides=settings)
    return output


def test_runner_writes_every_output(one_run):
    assert {p.name for p in one_run.iterdir()} >= {"results.csv", "summary.md", "auc_per_domain.png", "runs"}


def test_runner_reports_every_domain_and_metric(one_run):
    cells = {(r["domain"], r["metric"]) for r in _rows(one_run) if r["metric"] in ("auc", "logloss")}
    assert cells == {(domain, metric) for domain in DOMAINS for metric in ("auc", "logloss")}


def test_runner_reports_cost_of_the_run(one_run):
    cost = {r["metric"]: float(r["value"]) for r in _rows(one_run) if r["domain"] == "overall"}
    assert cost["parameters"] > 0
    assert cost["train_seconds_per_epoch"] > 0
    assert cost["inference_ms_per_1000"] > 0


def test_stored_result_names_domains_by_token(one_run):
    (stored,) = (one_run / "runs").glob("SharedBottom-seed2020-*.json")
    assert sorted(json.loads(stored.read_text())["domains"]) == ["big", "mid", "tiny"]


def test_failing_model_is_recorded_and_the_others_complete(tmp_path, settings):
    outcome = run_benchmark(["NoSuchModel", "SharedBottom"], "planted", [2020], tmp_path, overrides=settings)
    rows = _rows(tmp_path)
    failed = [r for r in rows if r["model"] == "NoSuchModel"]
    assert [r["status"] for r in failed] == ["failed"]
    assert "NoSuchModel" in failed[0]["error"]
    assert {r["status"] for r in rows if r["model"] == "SharedBottom"} == {"ok"}
    assert "NoSuchModel seed 2020" in (tmp_path / "summary.md").read_text()
    assert len(outcome.failed) == 1


def test_command_line_exits_nonzero_when_every_run_fails(tmp_path, capsys):
    code = main(["--models", "NoSuchModel", "--dataset", "planted", "--seeds", "1", "--output", str(tmp_path), "--epochs=1"])
    assert code == 1
    assert capsys.readouterr().out.strip() == str(tmp_path / "summary.md")


@pytest.fixture(scope="module")
def two_by_two(tmp_path_factory, settings):
    """Two models x two seeds, run once for the tests below."""
    output = tmp_path_factory.mktemp("bench")
    outcome = run_benchmark(["SharedBottom", "DeepFM"], "planted", [2020, 2021], output, overrides=settings)
    return output, outcome


@pytest.mark.slow
def test_results_have_one_row_per_cell(two_by_two):
    output, _ = two_by_two
    keys = [(r["model"], r["seed"], r["domain"], r["metric"]) for r in _rows(output) if r["metric"] in ("auc", "logloss")]
    assert len(keys) == len(set(keys)) == 2 * 2 * len(DOMAINS) * 2


@pytest.mark.slow
def test_summary_compares_with_the_reference(two_by_two):
    output, _ = two_by_two
    summary = (output / "summary.md").read_text()
    assert "## AUC against SharedBottom" in summary
    assert "(p=" in summary


@pytest.mark.slow
def test_rerun_skips_finished_pairs(two_by_two, settings, caplog):
    output, _ = two_by_two
    stamps = {p.name: p.stat().st_mtime_ns for p in (output / "runs").iterdir()}
    with caplog.at_level(logging.INFO):
        outcome = run_benchmark(["SharedBottom", "DeepFM"], "planted", [2020, 2021], output, overrides=settings)
    assert outcome.ran == []
    assert len(outcome.skipped) == 4
    assert {p.name: p.stat().st_mtime_ns for p in (output / "runs").iterdir()} == stamps
    assert caplog.text.count("skip ") == 4


@pytest.mark.slow
def test_changed_setting_runs_again(two_by_two, settings):
    output, _ = two_by_two
    outcome = run_benchmark(["DeepFM"], "planted", [2020], output, overrides={**settings, "learning_rate": 0.01})
    assert outcome.ran == ["DeepFM seed 2020"]


@pytest.mark.slow
def test_same_seeds_give_identical_numbers(two_by_two, settings, tmp_path):
    _, first = two_by_two
    second = run_benchmark(["SharedBottom", "DeepFM"], "planted", [2020, 2021], tmp_path, overrides=settings)
    assert _test_results(second) == _test_results(first)


@pytest.mark.slow
def test_different_seeds_give_different_numbers(two_by_two):
    results = _test_results(two_by_two[1])
    assert results[("DeepFM", 2020)] != results[("DeepFM", 2021)]


def test_rela_impr_formula():
    assert rela_impr(0.8, 0.75) == pytest.approx(20.0)


def test_paired_p_value_needs_two_shared_seeds():
    assert paired_p_value({1: 0.71}, {1: 0.70}) is None


def test_paired_p_value_pairs_by_seed():
    model = {1: 0.71, 2: 0.74, 3: 0.70}
    reference = {3: 0.69, 1: 0.70, 2: 0.72}
    # differences 0.01, 0.02, 0.01: t = 4 with 2 degrees of freedom, p = 1 - 4 / sqrt(18)
    assert paired_p_value(model, reference) == pytest.approx(0.0572, abs=1e-4)


def test_settings_are_parsed_as_values():
    overrides = parse_overrides(["--epochs=3", "--learning_rate=1e-3", "--sizes=[64, 32]", "--flag=false", "--name=dataset/"])
    assert overrides == {"epochs": 3, "learning_rate": 0.001, "sizes": [64, 32], "flag": False, "name": "dataset/"}


def test_settings_need_key_equals_value():
    with pytest.raises(ValueError, match="--key=value"):
        parse_overrides(["--epochs", "3"])


def test_seed_setting_is_rejected(tmp_path, settings):
    with pytest.raises(ValueError, match="seed=1"):
        run_benchmark(["SharedBottom"], "planted", [2020], tmp_path, overrides={**settings, "seed": 1})


def test_unknown_reference_is_rejected(tmp_path, settings):
    with pytest.raises(ValueError, match="reference='DCNV2'"):
        run_benchmark(["SharedBottom"], "planted", [2020], tmp_path, overrides=settings, reference="DCNV2")
