"""Saved checkpoints load back with their config, data and model."""

import torch

from conftest import build_run
from recbole_ssctl.quick_start import load_data_and_model


def test_checkpoint_reload_predicts_the_same(planted_data_path):
    run = build_run("SSCTL", planted_data_path, epochs=1)
    run["trainer"].fit(run["train"], run["valid"], saved=True, show_progress=False)
    batch = next(iter(run["test"]))[0]
    run["model"].eval()
    with torch.no_grad():
        expected = run["model"].predict(batch)

    config, model, _, _, _, test_data = load_data_and_model(run["trainer"].saved_model_file)
    model.eval()
    with torch.no_grad():
        reloaded = model.predict(next(iter(test_data))[0])
    assert config["model"] == "SSCTL"
    assert torch.allclose(expected, reloaded)


def test_checkpoint_keeps_confidence_statistics(planted_data_path):
    run = build_run("SSCTL", planted_data_path, epochs=2, warmup_epochs=1)
    run["trainer"].fit(run["train"], run["valid"], saved=False, show_progress=False)
    run["trainer"]._save_checkpoint(1, verbose=False)  # the state after the joint epoch
    expected = run["model"].confidence_weighting.confidence_mean.item()
    _, model, _, _, _, _ = load_data_and_model(run["trainer"].saved_model_file)
    assert model.confidence_weighting.num_updates.item() > 0
    assert model.confidence_weighting.confidence_mean.item() == expected
