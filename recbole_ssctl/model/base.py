"""Base class of the plugin's multi-domain CTR models."""

import torch
import torch.nn as nn
from recbole.model.abstract_recommender import ContextRecommender
from torch.nn.init import constant_, xavier_normal_

from recbole_ssctl.data.domain import DomainSpace, domain_field_name


class MultiDomainRecommender(ContextRecommender):
    """A context-aware recommender with one output (tower) per domain.

    Subclasses implement :meth:`domain_logits`, which returns the logit of every sample
    through every domain's tower. A sample is trained and predicted through the tower of
    its own domain.

    Attributes:
        domains (DomainSpace): the domains, index order 0..N-1.
        num_domains (int): N.
        field_order (list of str): the fields in the order of the field axis of
            :meth:`field_embeddings`.
    """

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        self.domain_field = domain_field_name(config)
        self.domains = DomainSpace(dataset, self.domain_field)
        self.num_domains = len(self.domains)
        self.field_order = (
            self.token_seq_field_names
            + self.token_field_names
            + self.float_seq_field_names
            + self.float_field_names
        )
        self.loss = nn.BCEWithLogitsLoss()

    def _init_weights(self, module):
        if isinstance(module, nn.Embedding):
            xavier_normal_(module.weight.data)
        elif isinstance(module, nn.Linear):
            xavier_normal_(module.weight.data)
            if module.bias is not None:
                constant_(module.bias.data, 0)

    def field_embeddings(self, interaction):
        """Return ``[batch_size, num_fields, embedding_size]`` in :attr:`field_order`."""
        return self.concat_embed_input_fields(interaction)

    def field_positions(self, names):
        """Return the positions of ``names`` on the field axis of :meth:`field_embeddings`."""
        missing = [name for name in names if name not in self.field_order]
        if missing:
            raise ValueError(
                f"Fields {missing} are not model inputs; available fields: "
                f"{self.field_order}. Check load_col and the field lists in the config."
            )
        return [self.field_order.index(name) for name in names]

    def domain_index(self, interaction):
        """Return the domain index 0..N-1 of every sample, ``[batch_size]``."""
        return interaction[self.domain_field].long() - 1

    def domain_logits(self, interaction):
        """Return the logit of every sample through every tower, ``[batch_size, N]``."""
        raise NotImplementedError

    def forward(self, interaction):
        logits = self.domain_logits(interaction)
        own_domain = self.domain_index(interaction).unsqueeze(1)
        return logits.gather(1, own_domain).squeeze(1)

    def calculate_loss(self, interaction):
        return self.loss(self.forward(interaction), interaction[self.LABEL])

    def predict(self, interaction):
        return torch.sigmoid(self.forward(interaction))
