"""Model name -> model class and trainer class: the plugin's models first, then RecBole's."""

import difflib
import importlib

from recbole.utils import ModelType
from recbole.utils import get_model as recbole_get_model

# name -> (module of the model, module and class of its trainer)
_PLUGIN_MODELS = {
    "SSCTL": ("recbole_ssctl.model.ssctl", "recbole_ssctl.trainer.ssctl", "SSCTLTrainer"),
    "SharedBottom": ("recbole_ssctl.model.shared_bottom", "recbole_ssctl.trainer.multi_domain", "MultiDomainTrainer"),
    "MMoE": ("recbole_ssctl.model.mmoe", "recbole_ssctl.trainer.multi_domain", "MultiDomainTrainer"),
    "PLE": ("recbole_ssctl.model.ple", "recbole_ssctl.trainer.multi_domain", "MultiDomainTrainer"),
    "STAR": ("recbole_ssctl.model.star", "recbole_ssctl.trainer.multi_domain", "MultiDomainTrainer"),
    "EPNet": ("recbole_ssctl.model.pepnet", "recbole_ssctl.trainer.multi_domain", "MultiDomainTrainer"),
    "PEPNet": ("recbole_ssctl.model.pepnet", "recbole_ssctl.trainer.multi_domain", "MultiDomainTrainer"),
}
_DEFAULT_TRAINER = ("recbole_ssctl.trainer.multi_domain", "MultiDomainTrainer")


def register_model(name, model_module, trainer_module=None, trainer_class=None):
    """Make a plugin model available by name.

    Args:
        name (str): class name of the model inside ``model_module``.
        model_module (str): import path of the module that defines the model.
        trainer_module, trainer_class (str, optional): its trainer; default
            :class:`~recbole_ssctl.trainer.multi_domain.MultiDomainTrainer`.
    """
    trainer_module = trainer_module or _DEFAULT_TRAINER[0]
    trainer_class = trainer_class or _DEFAULT_TRAINER[1]
    _PLUGIN_MODELS[name] = (model_module, trainer_module, trainer_class)


def plugin_model_names():
    """Return the names of the plugin's models."""
    return sorted(_PLUGIN_MODELS)


def get_model(name):
    """Return the model class called ``name``: a plugin model, else a RecBole model."""
    if name in _PLUGIN_MODELS:
        return getattr(importlib.import_module(_PLUGIN_MODELS[name][0]), name)
    try:
        return recbole_get_model(name)
    except (ValueError, ImportError, AttributeError):
        # RecBole raises ValueError for unknown names, AttributeError for a known module
        # with the wrong case (deepfm), and ImportError when its optional lightgbm or
        # xgboost wrappers cannot be imported on the way.
        pass
    raise ValueError(_unknown_model_message(name))


def _recbole_context_model_names():
    import recbole.model.context_aware_recommender as context_models

    return sorted(name for name, value in vars(context_models).items() if isinstance(value, type))


def _unknown_model_message(name):
    plugin_names = plugin_model_names()
    recbole_names = _recbole_context_model_names()
    candidates = plugin_names + recbole_names
    same_letters = [candidate for candidate in candidates if candidate.lower() == name.lower()]
    if same_letters:
        hint = f" Model names are case-sensitive: did you mean '{same_letters[0]}'?"
    else:
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"Model '{name}' is neither a recbole-ssctl model nor a RecBole model.{hint} "
        f"recbole-ssctl models: {', '.join(plugin_names)}; RecBole's context-aware models: "
        f"{', '.join(recbole_names)}."
    )


def get_trainer(model_class):
    """Return the trainer class for ``model_class``.

    Plugin models use their registered trainer; RecBole's context-aware models use the
    multi-domain trainer, so every model is evaluated per domain the same way.
    """
    name = model_class.__name__
    if name in _PLUGIN_MODELS:
        module, trainer_class = _PLUGIN_MODELS[name][1:]
    elif getattr(model_class, "type", None) == ModelType.CONTEXT:
        module, trainer_class = _DEFAULT_TRAINER
    else:
        raise ValueError(
            f"Model '{name}' is not a context-aware (CTR) model; recbole-ssctl trains "
            f"and evaluates context-aware models per domain. Use RecBole's run_recbole "
            f"for other model types."
        )
    return getattr(importlib.import_module(module), trainer_class)
