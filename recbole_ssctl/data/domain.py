"""The domain field of a multi-domain dataset: validation, original tokens, counts.

RecBole remaps the tokens of a ``token`` field to ids 1..N and keeps 0 for padding. The
plugin works with domain indices 0..N-1 (``id - 1``) and shows every domain to a person by
its original token.
"""

from logging import getLogger

import numpy as np
from recbole.utils import FeatureType

DEFAULT_DOMAIN_FIELD = "domain_id"


def domain_field_name(config):
    """Return the configured ``DOMAIN_FIELD`` (default ``domain_id``)."""
    return config["DOMAIN_FIELD"] or DEFAULT_DOMAIN_FIELD


def check_domain_field(dataset, field):
    """Raise ``ValueError`` unless ``field`` is a usable domain field of ``dataset``.

    Usable means: loaded from the interaction file, of type ``token``, with at least two
    domains.
    """
    if field not in dataset.field2type:
        raise ValueError(
            f"Domain field '{field}' is not in dataset '{dataset.dataset_name}' "
            f"(loaded fields: {sorted(dataset.field2type)}). Add it to the interaction "
            f"file and to load_col, or set DOMAIN_FIELD to the field that holds the domain."
        )
    field_type = dataset.field2type[field]
    if field_type != FeatureType.TOKEN:
        raise ValueError(
            f"Domain field '{field}' has type '{field_type.value}', expected 'token'. "
            f"Declare it as '{field}:token' in the atomic file header."
        )
    if dataset.inter_feat is None or field not in dataset.inter_feat:
        raise ValueError(
            f"Domain field '{field}' must be a column of the interaction file "
            f"(.inter), not of the user or item file."
        )
    num_domains = dataset.num(field) - 1
    if num_domains < 2:
        raise ValueError(
            f"Domain field '{field}' has {num_domains} domain(s); a multi-domain model "
            f"needs at least two. Check the field's values or choose another DOMAIN_FIELD."
        )


class DomainSpace:
    """The domains of a dataset, in index order 0..N-1.

    Args:
        dataset (recbole.data.dataset.Dataset): any split of the dataset; the token mapping
            is shared by all splits.
        field (str): the domain field.
    """

    def __init__(self, dataset, field):
        check_domain_field(dataset, field)
        self.field = field
        self.tokens = [str(token) for token in dataset.field2id_token[field][1:]]
        self._index_of_token = {token: index for index, token in enumerate(self.tokens)}

    def __len__(self):
        return len(self.tokens)

    def index_of(self, token):
        """Return the domain index of an original token; ``ValueError`` if unknown."""
        token = str(token)
        if token not in self._index_of_token:
            raise ValueError(
                f"Unknown domain '{token}' in field '{self.field}'; "
                f"known domains: {self.tokens}."
            )
        return self._index_of_token[token]

    def indices(self, dataset):
        """Return the domain index of every interaction of ``dataset`` as an int64 array."""
        ids = dataset.inter_feat[self.field]
        return np.asarray(ids, dtype=np.int64) - 1

    def counts(self, dataset):
        """Return the number of interactions per domain of ``dataset`` (index order)."""
        return np.bincount(self.indices(dataset), minlength=len(self))

    def resolve_dominant(self, setting, train_counts):
        """Turn the ``dominant_domains`` setting into a sorted list of domain indices.

        Args:
            setting: ``"auto"`` (the domain with the most training interactions) or a list of
                original tokens.
            train_counts (numpy.ndarray): training interactions per domain.
        """
        if setting is None or (isinstance(setting, str) and setting.lower() == "auto"):
            return [int(np.argmax(train_counts))]
        if isinstance(setting, (str, int)):
            setting = [setting]
        if not isinstance(setting, (list, tuple)) or not setting:
            raise ValueError(
                f"dominant_domains={setting!r} is invalid; use 'auto' or a non-empty list "
                f"of domain tokens from {self.tokens}."
            )
        dominant = sorted({self.index_of(token) for token in setting})
        if len(dominant) == len(self):
            raise ValueError(
                f"dominant_domains={list(setting)} names every domain; at least one "
                f"domain must be non-dominant for pseudo-labels to have a target."
            )
        return dominant


def log_domain_counts(domains, splits):
    """Log a table of interactions per domain for each named split.

    Warn about domains that have no interactions in a split, since their metrics (or, for
    training, their tower) cannot be learned or measured.

    Args:
        domains (DomainSpace): the domains.
        splits (dict): split name -> RecBole dataset.
    """
    logger = getLogger()
    counts = {name: domains.counts(dataset) for name, dataset in splits.items()}
    width = max(len(token) for token in domains.tokens + ["domain"])
    header = f"{'domain':<{width}}" + "".join(f"{name:>12}" for name in counts)
    lines = [header]
    for index, token in enumerate(domains.tokens):
        row = f"{token:<{width}}"
        for name in counts:
            total = counts[name].sum()
            share = 100.0 * counts[name][index] / total if total else 0.0
            row += f"{counts[name][index]:>7} {share:3.0f}%"
        lines.append(row)
    logger.info(f"Interactions per domain ({domains.field}):\n" + "\n".join(lines))

    for name, split_counts in counts.items():
        for index in np.flatnonzero(split_counts == 0):
            logger.warning(
                f"Domain '{domains.tokens[index]}' has no interactions in the {name} split; "
                f"its metrics there are missing."
            )
    return counts
