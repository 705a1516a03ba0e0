"""Trainers: per-domain evaluation for every model, and SSCTL's staged training."""

from recbole_ssctl.trainer.multi_domain import MultiDomainTrainer
from recbole_ssctl.trainer.ssctl import SSCTLTrainer

__all__ = ["MultiDomainTrainer", "SSCTLTrainer"]
