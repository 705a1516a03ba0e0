"""Warnings about loaded data that would silently hurt training."""

from logging import getLogger

import numpy as np
from recbole.utils import FeatureType

# A numerical feature enters a context-aware model as its embedding times the raw value.
# Values beyond this magnitude saturate the logits unless the field is normalised.
UNSCALED_LIMIT = 10.0


def warn_unscaled_numerical_features(config, dataset):
    """Warn about ``numerical_features`` whose values are far from [0, 1] and not normalised.

    Returns:
        list of str: the fields warned about.
    """
    if config["normalize_all"]:
        return []
    normalized = set(config["normalize_field"] or [])
    flagged = []
    for field in config["numerical_features"] or []:
        if field in normalized or dataset.field2type.get(field) != FeatureType.FLOAT:
            continue
        if field not in dataset.inter_feat:
            continue
        # After loading, each value is stored as the pair [value, 1.0].
        values = np.asarray(list(dataset.inter_feat[field]), dtype=np.float64).reshape(-1, 2)[:, 0]
        largest = float(np.nanmax(np.abs(values))) if len(values) else 0.0
        if largest > UNSCALED_LIMIT:
            flagged.append(field)
            getLogger().warning(
                f"Numerical feature '{field}' reaches {largest:g} and is not normalised; "
                f"models multiply its embedding by the raw value, which can saturate the "
                f"logits. Add it to normalize_field or set normalize_all: True."
            )
    return flagged
