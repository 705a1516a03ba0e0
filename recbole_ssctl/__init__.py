"""Multi-domain recommendation for RecBole 1.2.1: SSCTL, multi-domain baselines and
per-domain evaluation.

Importing the package patches RecBole for numpy 2, pandas 3 and torch >= 2.6
(see :mod:`recbole_ssctl.compat`).
"""

from recbole_ssctl import compat

compat.apply()

__version__ = "0.1.0"
