"""EPNet and PEPNet: embedding and parameter personalisation with gate neural units.

Reference: Jianxin Chang et al., "PEPNet: Parameter and Embedding Personalized Network for
Infusing with Personalized Prior Information", KDD 2023.

Both classes live in this file because PEPNet is EPNet plus per-layer gates on the towers:
EPNet is the ablation of PEPNet without its parameter personalisation, and the two share
the embedding gate.
"""

import torch
import torch.nn as nn

from recbole_ssctl import config_checks
from recbole_ssctl.model.base import MultiDomainRecommender
from recbole_ssctl.model.layers import GateUnit, ScaledMLP


class EPNet(MultiDomainRecommender):
    """Field embeddings scaled per sample by a gate driven by the domain, then domain towers.

    The gate reads the embeddings of ``epnet_domain_fields`` (default: the domain field)
    and the stop-gradient embeddings of all fields, and scales every embedding element by a
    value in ``(0, gate_gamma)``. The scaled embeddings feed one tower per domain.
    Settings: ``properties/model/EPNet.yaml``.
    """

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        check = config_checks
        self.tower_hidden_sizes = check.size_list(
            config, "tower_hidden_sizes", [128, 64], allow_empty=False
        )
        self.gate_hidden_size = check.number(config, "gate_hidden_size", 64, low=1, integer=True)
        self.gate_gamma = check.number(config, "gate_gamma", 2.0, low=0.0, low_open=True)
        self.dropout_prob = check.number(config, "dropout_prob", 0.0, low=0.0, high=1.0)
        domain_fields = check.name_list(config, "epnet_domain_fields") or [self.domain_field]
        self.domain_side_positions = self.field_positions(domain_fields)

        self.input_size = self.num_feature_field * self.embedding_size
        self.embedding_gate = GateUnit(
            (len(self.domain_side_positions) + self.num_feature_field) * self.embedding_size,
            self.gate_hidden_size,
            self.input_size,
            self.gate_gamma,
        )
        self.towers = nn.ModuleList(
            nn.ModuleDict(
                {
                    "hidden": ScaledMLP([self.input_size] + self.tower_hidden_sizes, self.dropout_prob),
                    "output": nn.Linear(self.tower_hidden_sizes[-1], 1),
                }
            )
            for _ in range(self.num_domains)
        )
        self.apply(self._init_weights)

    def personalized_embeddings(self, interaction):
        """Return the scaled embeddings and the gate, both ``[batch_size, num_fields, embedding_size]``."""
        return self._personalize(self.field_embeddings(interaction))

    def _personalize(self, embeddings):
        domain_side = embeddings[:, self.domain_side_positions].flatten(1)
        gate_input = torch.cat([domain_side, embeddings.detach().flatten(1)], dim=1)
        gate = self.embedding_gate(gate_input).view_as(embeddings)
        return gate * embeddings, gate

    def layer_scales(self, embeddings, personalized):
        """Return, per domain, the scales of each tower layer; ``None`` means unscaled."""
        return [None] * self.num_domains

    def domain_logits(self, interaction):
        embeddings = self.field_embeddings(interaction)  # [B, F, E]
        personalized, _ = self._personalize(embeddings)
        scales = self.layer_scales(embeddings, personalized)
        inputs = personalized.flatten(1)  # [B, F*E]
        logits = [
            tower["output"](tower["hidden"](inputs, scales[domain]))
            for domain, tower in enumerate(self.towers)
        ]
        return torch.cat(logits, dim=1)


class PEPNet(EPNet):
    """EPNet whose domain towers have every hidden layer scaled by a gate (PPNet).

    For each hidden layer, a gate unit reads the embeddings of ``ppnet_fields`` (default:
    user id, item id and domain field) and the stop-gradient personalised embeddings, and
    returns one scale vector in ``(0, gate_gamma)`` per domain tower.
    Settings: ``properties/model/PEPNet.yaml``.
    """

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        persona_fields = config_checks.name_list(config, "ppnet_fields") or [
            config["USER_ID_FIELD"],
            config["ITEM_ID_FIELD"],
            self.domain_field,
        ]
        self.persona_positions = self.field_positions(persona_fields)
        gate_input_size = (len(self.persona_positions) + self.num_feature_field) * self.embedding_size
        self.ppnet_gates = nn.ModuleList(
            GateUnit(gate_input_size, self.gate_hidden_size, self.num_domains * size, self.gate_gamma)
            for size in self.tower_hidden_sizes
        )
        self.ppnet_gates.apply(self._init_weights)

    def tower_gates(self, interaction):
        """Return per domain a list with one ``[batch_size, hidden_size]`` scale per tower layer."""
        embeddings = self.field_embeddings(interaction)
        return self.layer_scales(embeddings, self._personalize(embeddings)[0])

    def layer_scales(self, embeddings, personalized):
        """Return per domain a list with one ``[batch_size, hidden_size]`` scale per layer.

        Args:
            embeddings (torch.Tensor): ``[batch_size, num_fields, embedding_size]``.
            personalized (torch.Tensor): EPNet's scaled embeddings, same shape.
        """
        persona = embeddings[:, self.persona_positions].flatten(1)
        gate_input = torch.cat([persona, personalized.detach().flatten(1)], dim=1)
        per_layer = [
            gate(gate_input).view(-1, self.num_domains, size)  # [B, N, H_l]
            for gate, size in zip(self.ppnet_gates, self.tower_hidden_sizes)
        ]
        return [[scales[:, domain] for scales in per_layer] for domain in range(self.num_domains)]
