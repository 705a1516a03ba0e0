"""Model name -> model class and trainer class: the plugin's models first, then RecBole's."""

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
    except (ValueError, ImportError) as error:
        # RecBole's lookup imports its optional lightgbm/xgboost wrappers on the way and
        # raises ImportError for any unknown name when those packages are absent.
        raise ValueError(
            f"Model '{name}' is neither a recbole-ssctl model ({plugin_model_names()}) "
            f"nor a RecBole model ({error}). Model names are case-sensitive, e.g. DeepFM."
        ) from None


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
