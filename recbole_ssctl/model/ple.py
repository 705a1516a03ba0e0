"""PLE: Progressive Layered Extraction, with domains in place of tasks.

Reference: Hongyan Tang et al., "Progressive Layered Extraction (PLE): A Novel Multi-Task
Learning (MTL) Model for Personalized Recommendations", RecSys 2020.
"""

import torch
import torch.nn as nn

from recbole_ssctl import config_checks
from recbole_ssctl.model.base import MultiDomainRecommender
from recbole_ssctl.model.layers import ExtractionLevel, tower


class PLE(MultiDomainRecommender):
    """A stack of ``num_levels`` extraction levels, then one tower per domain.

    Level 1 reads all field embeddings. At every level, domain k's gate mixes the shared
    experts and domain k's own experts, and domain k's output is the input of domain k's
    experts and gate at the next level. Every level but the last also has a shared gate
    that mixes all experts of the level into the input of the next level's shared experts.
    With ``num_levels: 1`` the model is a single CGC. Settings: ``properties/model/PLE.yaml``.
    """

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        check = config_checks
        self.num_levels = check.number(config, "num_levels", 2, low=1, integer=True)
        self.num_shared_experts = check.number(config, "num_shared_experts", 2, low=1, integer=True)
        self.num_specific_experts = check.number(
            config, "num_specific_experts", 1, low=1, integer=True
        )
        self.expert_hidden_sizes = check.size_list(
            config, "expert_hidden_sizes", [64], allow_empty=False
        )
        self.tower_hidden_sizes = check.size_list(config, "tower_hidden_sizes", [32])
        self.dropout_prob = check.number(config, "dropout_prob", 0.0, low=0.0, high=1.0)

        input_size = self.num_feature_field * self.embedding_size
        self.levels = nn.ModuleList()
        for level in range(self.num_levels):
            self.levels.append(
                ExtractionLevel(
                    input_size,
                    self.num_domains,
                    self.num_shared_experts,
                    self.num_specific_experts,
                    self.expert_hidden_sizes,
                    self.dropout_prob,
                    shared_gate=level < self.num_levels - 1,
                )
            )
            input_size = self.levels[-1].output_size
        self.towers = nn.ModuleList(
            tower(input_size, self.tower_hidden_sizes, self.dropout_prob)
            for _ in range(self.num_domains)
        )
        self.apply(self._init_weights)

    def domain_logits(self, interaction):
        shared = self.field_embeddings(interaction).flatten(1)  # [B, F*E]
        domain_inputs = shared.unsqueeze(1).expand(-1, self.num_domains, -1)  # [B, N, F*E]
        for level in self.levels:
            domain_inputs, shared = level(shared, domain_inputs)
        return torch.cat(
            [tower(domain_inputs[:, domain]) for domain, tower in enumerate(self.towers)], dim=1
        )
