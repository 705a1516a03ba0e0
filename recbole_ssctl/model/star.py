"""STAR: Star Topology Adaptive Recommender.

Reference: Xiang-Rong Sheng et al., "One Model to Serve All: Star Topology Adaptive
Recommender for Multi-Domain CTR Prediction", CIKM 2021.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F
from recbole.model.layers import MLPLayers

from recbole_ssctl import config_checks
from recbole_ssctl.model.base import MultiDomainRecommender
from recbole_ssctl.model.layers import PartitionedNorm, StarLinear


class STAR(MultiDomainRecommender):
    """Partitioned normalisation, a star-topology FCN and an auxiliary network.

    The embeddings of every field except the domain field pass through partitioned
    normalisation and the star-topology FCN, whose layers combine shared and domain
    weights (see :class:`~recbole_ssctl.model.layers.StarLinear`). The auxiliary network
    reads the domain embedding and the other field embeddings; its logit is added to the
    FCN's. Settings: ``properties/model/STAR.yaml``.
    """

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        check = config_checks
        self.star_hidden_sizes = check.size_list(config, "star_hidden_sizes", [128, 64])
        self.aux_hidden_sizes = check.size_list(config, "aux_hidden_sizes", [32])
        self.dropout_prob = check.number(config, "dropout_prob", 0.0, low=0.0, high=1.0)
        self.norm_statistics = check.choice(
            config, "norm_statistics", PartitionedNorm.STATISTICS, "domain"
        )
        self.norm_momentum = check.number(config, "norm_momentum", 0.1, low=0.0, high=1.0, low_open=True)

        self.domain_position = self.field_positions([self.domain_field])[0]
        self.feature_positions = [
            position for position in range(len(self.field_order)) if position != self.domain_position
        ]
        if not self.feature_positions:
            raise ValueError(
                "STAR needs at least one input field besides the domain field; add one to load_col."
            )
        input_size = len(self.feature_positions) * self.embedding_size
        self.norm = PartitionedNorm(
            input_size, self.num_domains, self.norm_statistics, self.norm_momentum
        )
        sizes = [input_size] + self.star_hidden_sizes + [1]
        self.star_layers = nn.ModuleList(
            StarLinear(n_in, n_out, self.num_domains) for n_in, n_out in zip(sizes[:-1], sizes[1:])
        )
        self.dropout = nn.Dropout(self.dropout_prob)
        aux_sizes = [(len(self.feature_positions) + 1) * self.embedding_size] + self.aux_hidden_sizes
        self.auxiliary = nn.Sequential(
            MLPLayers(aux_sizes, self.dropout_prob), nn.Linear(aux_sizes[-1], 1)
        )
        self.apply(self._init_weights)

    def _logits(self, embeddings, domain_index, update_statistics=True):
        """Return the logit of every sample through the domain given in ``domain_index``.

        Args:
            embeddings (torch.Tensor): ``[batch_size, num_fields, embedding_size]``.
            domain_index (torch.Tensor): ``[batch_size]``, the domain to score each sample for.
        """
        features = embeddings[:, self.feature_positions].flatten(1)  # [B, (F-1)*E]
        hidden = self.norm(features, domain_index, update_statistics)
        for layer, star_layer in enumerate(self.star_layers):
            hidden = star_layer(self.dropout(hidden), domain_index)
            if layer < len(self.star_layers) - 1:
                hidden = F.relu(hidden)
        aux_input = torch.cat([embeddings[:, self.domain_position], features], dim=1)
        return (hidden + self.auxiliary(aux_input)).squeeze(1)

    def forward(self, interaction):
        # Only the sample's own domain is computed; the base class would score every domain.
        return self._logits(self.field_embeddings(interaction), self.domain_index(interaction))

    def domain_logits(self, interaction):
        """Return ``[batch_size, num_domains]``, each sample scored through every domain.

        Only the own domain's column is used in training and prediction; the others serve
        analysis. The auxiliary network still reads each sample's true domain embedding,
        and in training mode the running statistics stay unchanged.
        """
        embeddings = self.field_embeddings(interaction)
        logits = []
        for domain in range(self.num_domains):
            index = torch.full_like(self.domain_index(interaction), domain)
            logits.append(self._logits(embeddings, index, update_statistics=False))
        return torch.stack(logits, dim=1)
