"""MMoE: Multi-gate Mixture-of-Experts, with domains in place of tasks.

Reference: Jiaqi Ma et al., "Modeling Task Relationships in Multi-task Learning with
Multi-gate Mixture-of-Experts", KDD 2018.
"""

import torch
import torch.nn as nn
from recbole.model.layers import MLPLayers

from recbole_ssctl import config_checks
from recbole_ssctl.model.base import MultiDomainRecommender
from recbole_ssctl.model.layers import tower


class MMoE(MultiDomainRecommender):
    """Shared experts; each domain mixes them with its own softmax gate and has its own tower.

    Every expert and every gate reads all field embeddings, the domain's included.
    Settings: ``properties/model/MMoE.yaml``.
    """

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        check = config_checks
        self.num_experts = check.number(config, "num_experts", 4, low=1, integer=True)
        self.expert_hidden_sizes = check.size_list(
            config, "expert_hidden_sizes", [128, 64], allow_empty=False
        )
        self.tower_hidden_sizes = check.size_list(config, "tower_hidden_sizes", [32])
        self.dropout_prob = check.number(config, "dropout_prob", 0.0, low=0.0, high=1.0)

        input_size = self.num_feature_field * self.embedding_size
        sizes = [input_size] + self.expert_hidden_sizes
        self.experts = nn.ModuleList(
            MLPLayers(sizes, self.dropout_prob) for _ in range(self.num_experts)
        )
        self.gates = nn.ModuleList(
            nn.Linear(input_size, self.num_experts) for _ in range(self.num_domains)
        )
        self.towers = nn.ModuleList(
            tower(sizes[-1], self.tower_hidden_sizes, self.dropout_prob)
            for _ in range(self.num_domains)
        )
        self.apply(self._init_weights)

    def gate_weights(self, inputs):
        """Return every domain's mixture weights ``[batch_size, num_domains, num_experts]``.

        Args:
            inputs (torch.Tensor): flattened field embeddings ``[batch_size, F * E]``.
        """
        return torch.stack([torch.softmax(gate(inputs), dim=-1) for gate in self.gates], dim=1)

    def domain_logits(self, interaction):
        inputs = self.field_embeddings(interaction).flatten(1)  # [B, F*E]
        experts = torch.stack([expert(inputs) for expert in self.experts], dim=1)  # [B, M, d]
        mixtures = torch.bmm(self.gate_weights(inputs), experts)  # [B, N, d]
        return torch.cat(
            [tower(mixtures[:, domain]) for domain, tower in enumerate(self.towers)], dim=1
        )
