"""Shared-Bottom: one network shared by all domains, one tower per domain.

Reference: Rich Caruana, "Multitask Learning", Machine Learning 28, 1997 (hard parameter
sharing), used as the standard multi-domain baseline.
"""

import torch
import torch.nn as nn
from recbole.model.layers import MLPLayers

from recbole_ssctl import config_checks
from recbole_ssctl.model.base import MultiDomainRecommender
from recbole_ssctl.model.layers import tower


class SharedBottom(MultiDomainRecommender):
    """A shared bottom MLP over all field embeddings feeds one tower per domain.

    Settings: ``properties/model/SharedBottom.yaml``.
    """

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        check = config_checks
        self.bottom_hidden_sizes = check.size_list(
            config, "bottom_hidden_sizes", [128, 64], allow_empty=False
        )
        self.tower_hidden_sizes = check.size_list(config, "tower_hidden_sizes", [32])
        self.dropout_prob = check.number(config, "dropout_prob", 0.0, low=0.0, high=1.0)

        input_size = self.num_feature_field * self.embedding_size
        self.bottom = MLPLayers([input_size] + self.bottom_hidden_sizes, self.dropout_prob)
        self.towers = nn.ModuleList(
            tower(self.bottom_hidden_sizes[-1], self.tower_hidden_sizes, self.dropout_prob)
            for _ in range(self.num_domains)
        )
        self.apply(self._init_weights)

    def domain_logits(self, interaction):
        shared = self.bottom(self.field_embeddings(interaction).flatten(1))  # [B, H]
        return torch.cat([tower(shared) for tower in self.towers], dim=1)
