"""Checks of user settings: misspelt keys are reported with a suggestion."""

import logging

from conftest import planted_config
from recbole_ssctl.config_checks import warn_unknown_settings
from recbole_ssctl.quick_start import build_config, properties_dir


def test_misspelt_key_is_reported_with_suggestion(planted_data_path, caplog):
    config = build_config("SSCTL", "planted", config_dict=planted_config(planted_data_path, warmup_epoch=3))
    with caplog.at_level(logging.WARNING):
        unknown = warn_unknown_settings(config, properties_dir())
    assert unknown == ["warmup_epoch"]
    assert "Did you mean 'warmup_epochs'?" in caplog.text


def test_known_keys_are_not_reported(planted_data_path):
    config = build_config("SSCTL", "planted", config_dict=planted_config(planted_data_path))
    assert warn_unknown_settings(config, properties_dir()) == []


def test_recbole_model_keys_are_known(planted_data_path):
    settings = planted_config(planted_data_path, mlp_hidden_size=[32], dropout_prob=0.1)
    config = build_config("DeepFM", "planted", config_dict=settings)
    assert warn_unknown_settings(config, properties_dir()) == []
