"""Up-front checks of model settings, with messages that name the key, value and fix."""

import difflib
import numbers
from logging import getLogger
from pathlib import Path


def _value(config, key, default):
    value = config[key]
    return default if value is None else value


def choice(config, key, allowed, default):
    """Return ``config[key]`` (or ``default``) after checking it is one of ``allowed``."""
    value = _value(config, key, default)
    if value not in allowed:
        raise ValueError(f"{key}={value!r} is invalid; allowed values: {list(allowed)}.")
    return value


def flag(config, key, default):
    """Return ``config[key]`` as a bool; reject anything but True/False."""
    value = _value(config, key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{key}={value!r} is invalid; expected True or False.")
    return value


def number(config, key, default, low=None, high=None, low_open=False, integer=False):
    """Return ``config[key]`` after checking it is a number within ``[low, high]``.

    ``low_open`` excludes ``low`` itself; ``integer`` requires an int.
    """
    value = _value(config, key, default)
    expected = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, expected):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{key}={value!r} is invalid; expected {kind}.")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        lower = "(" if low_open else "["
        raise ValueError(
            f"{key}={value!r} is out of range; expected a value in "
            f"{lower}{'-inf' if low is None else low}, {'inf' if high is None else high}]."
        )
    return value


def size_list(config, key, default, allow_empty=True):
    """Return ``config[key]`` as a list of positive ints (layer sizes)."""
    value = _value(config, key, default)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = [value]
    valid = isinstance(value, (list, tuple)) and all(
        isinstance(size, numbers.Integral) and not isinstance(size, bool) and size > 0
        for size in value
    )
    if not valid or (not allow_empty and not value):
        raise ValueError(
            f"{key}={value!r} is invalid; expected a list of positive layer sizes, "
            f"for example [64, 32]."
        )
    return list(value)


def name_list(config, key):
    """Return ``config[key]`` as a list of field names (empty when unset)."""
    value = config[key]
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key}={value!r} is invalid; expected a list of field names.")
    return list(value)


# Settings RecBole reads although no shipped .yaml file lists them.
_RECBOLE_EXTRA_KEYS = {
    "model", "dataset", "config_files", "benchmark_filename", "nproc", "world_size", "ip",
    "port", "offset", "local_rank", "single_spec", "device", "gpu_id", "use_gpu",
    "MODEL_TYPE", "MODEL_INPUT_TYPE", "eval_type", "valid_metric_bigger",
    "valid_neg_sample_args", "test_neg_sample_args", "double_tower", "numerical_features",
    "discretization", "seq_len", "threshold", "load_col", "unload_col", "unused_col",
}


def _yaml_keys(folder):
    import yaml

    keys = set()
    for path in Path(folder).rglob("*.yaml"):
        with open(path, encoding="utf-8") as handle:
            content = yaml.safe_load(handle)
        if isinstance(content, dict):
            keys.update(content)
    return keys


def known_setting_keys(plugin_properties_dir):
    """Return every setting name RecBole or the plugin reads from a config."""
    import recbole

    keys = set(_RECBOLE_EXTRA_KEYS)
    keys |= _yaml_keys(Path(recbole.__file__).parent / "properties")
    keys |= _yaml_keys(plugin_properties_dir)
    return keys


def warn_unknown_settings(config, plugin_properties_dir):
    """Warn about settings given by the user that no part of RecBole or the plugin reads.

    A misspelt key (``warmup_epoch`` for ``warmup_epochs``) would otherwise be ignored
    silently. Returns the unknown keys.
    """
    user_keys = set(config.file_config_dict) | set(config.variable_config_dict) | set(config.cmd_config_dict)
    known = known_setting_keys(plugin_properties_dir)
    unknown = sorted(key for key in user_keys if key not in known)
    for key in unknown:
        suggestion = difflib.get_close_matches(key, known, n=1)
        hint = f" Did you mean '{suggestion[0]}'?" if suggestion else ""
        getLogger().warning(f"Setting '{key}' is not read by RecBole or recbole-ssctl and has no effect.{hint}")
    return unknown
