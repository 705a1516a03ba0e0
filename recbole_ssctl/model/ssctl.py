"""SSCTL: Soft-partitioned Semi-supervised Collaborative Transfer Learning.

Reference: "Soft-partitioned Semi-supervised Collaborative Transfer Learning for
Multi-domain Recommendation", CIKM 2025, arXiv:2511.01404.

The model is a CGC backbone (shared experts, one specific expert, gate and tower per
domain) with two additions, each of which can be switched off:

* SDDN: a domain classifier gives p(x) over the domains. The gate input uses the
  p-weighted domain embedding instead of the embedding of the true domain, and every hidden
  layer of every shared expert is scaled per sample by ``gamma * sigmoid(MLP(p(x), r_g))``.
* ISCT: after a warm-up, each dominant-domain sample also trains, with its real label,
  through the tower of the non-dominant domain it most resembles, weighted by the
  classifier's confidence.

With both off the model is the plain CGC backbone. ``docs/method.md`` explains every
choice the paper leaves open.
"""

from collections import namedtuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from recbole_ssctl import config_checks, distributed
from recbole_ssctl.model.base import MultiDomainRecommender
from recbole_ssctl.model.layers import CGC, ScaledMLP, tower
from recbole_ssctl.model.pseudo_label import (
    WEIGHTINGS,
    ConfidenceWeighting,
    assign_pseudo_domains,
)

SSCTLOutput = namedtuple("SSCTLOutput", ["logits", "classifier_logits"])


class SSCTL(MultiDomainRecommender):
    """SSCTL for multi-domain CTR prediction. Settings: ``properties/model/SSCTL.yaml``."""

    def __init__(self, config, dataset):
        super().__init__(config, dataset)
        self._read_settings(config)
        self._group_fields(config)
        self._resolve_domains(config, dataset)

        expert_input_size = len(self.expert_positions) * self.embedding_size
        gate_input_size = (len(self.context_positions) + 1) * self.embedding_size
        self.cgc = CGC(
            expert_input_size,
            gate_input_size,
            self.num_domains,
            self.num_shared_experts,
            self.expert_hidden_sizes,
            self.dropout_prob,
        )
        self.towers = nn.ModuleList(
            tower(self.cgc.output_size, self.tower_hidden_sizes, self.dropout_prob)
            for _ in range(self.num_domains)
        )
        if self.has_classifier:
            classifier_input_size = len(self.classifier_positions) * self.embedding_size
            self.classifier = nn.Sequential(
                ScaledMLP(
                    [classifier_input_size] + self.classifier_hidden_sizes,
                    self.dropout_prob,
                ),
                nn.Linear(
                    (self.classifier_hidden_sizes or [classifier_input_size])[-1],
                    self.num_domains,
                ),
            )
        if self.use_sddn:
            self.scale_generators = nn.ModuleList(
                nn.Sequential(
                    ScaledMLP(
                        [self.num_domains + gate_input_size] + self.scale_hidden_sizes,
                        0.0,
                    ),
                    nn.Linear(
                        (self.scale_hidden_sizes or [self.num_domains + gate_input_size])[-1],
                        self.num_shared_experts * layer_size,
                    ),
                )
                for layer_size in self.expert_hidden_sizes
            )
        self.confidence_weighting = ConfidenceWeighting(
            self.num_domains,
            self.weighting,
            self.lambda_max,
            self.ema_momentum,
            self.pseudo_threshold,
        )
        self.isct_active = False
        self.reset_pseudo_label_stats()
        self.apply(self._init_weights)

    # ------------------------------------------------------------------ set-up

    def _read_settings(self, config):
        check = config_checks
        self.num_shared_experts = check.number(config, "num_shared_experts", 2, low=1, integer=True)
        self.expert_hidden_sizes = check.size_list(config, "expert_hidden_sizes", [128, 64], allow_empty=False)
        self.tower_hidden_sizes = check.size_list(config, "tower_hidden_sizes", [32])
        self.classifier_hidden_sizes = check.size_list(config, "classifier_hidden_sizes", [64])
        self.scale_hidden_sizes = check.size_list(config, "scale_hidden_sizes", [])
        self.dropout_prob = check.number(config, "dropout_prob", 0.0, low=0.0, high=1.0)
        self.use_isct = check.flag(config, "use_isct", True)
        self.use_sddn = check.flag(config, "use_sddn", True)
        self.weighting = check.choice(config, "weighting", WEIGHTINGS, "gaussian")
        self.gamma = check.number(config, "scale_gamma", 2.0, low=0.0, low_open=True)
        self.lambda_max = check.number(config, "lambda_max", 1.0, low=0.0, low_open=True)
        self.ema_momentum = check.number(config, "ema_momentum", 0.999, low=0.0, high=1.0)
        self.pseudo_threshold = check.number(config, "pseudo_threshold", 0.9, low=0.0, high=1.0)
        self.lambda_pseudo = check.number(config, "lambda_pseudo", 0.1, low=0.0)
        self.lambda_cls = check.number(config, "lambda_cls", 1.0, low=0.0)
        self.classifier_stop_gradient = check.flag(config, "classifier_stop_gradient", True)
        self.has_classifier = self.use_isct or self.use_sddn

    def _group_fields(self, config):
        """Split the model's input fields into general, context and domain fields."""
        context_fields = config_checks.name_list(config, "context_fields")
        excluded = config_checks.name_list(config, "classifier_exclude_fields")
        if self.domain_field in context_fields:
            raise ValueError(
                f"context_fields must not contain the domain field '{self.domain_field}'; "
                f"it enters the gate input on its own."
            )
        if self.domain_field not in self.token_field_names:
            raise ValueError(
                f"Domain field '{self.domain_field}' is not a token input of the model; "
                f"add it to load_col."
            )
        self.field_positions(excluded)  # raises on unknown names
        self.context_positions = self.field_positions(context_fields)
        self.domain_position = self.field_order.index(self.domain_field)
        general = [
            name
            for name in self.field_order
            if name != self.domain_field and name not in context_fields
        ]
        expert_fields = general + context_fields
        self.expert_positions = self.field_positions(expert_fields)
        classifier_fields = [name for name in expert_fields if name not in excluded]
        if self.has_classifier and not classifier_fields:
            raise ValueError(
                "classifier_exclude_fields removes every input of the domain classifier; "
                "keep at least one field."
            )
        self.classifier_positions = self.field_positions(classifier_fields)

        token_index = self.token_field_names.index(self.domain_field)
        self.domain_embedding_offset = int(self.token_field_offsets[token_index]) + 1

    def _resolve_domains(self, config, dataset):
        """Find the dominant domains and the class weights of the domain classifier."""
        train_counts = self.domains.counts(dataset)
        self.dominant_domains = self.domains.resolve_dominant(
            config["dominant_domains"], train_counts
        )
        dominant_mask = torch.zeros(self.num_domains, dtype=torch.bool)
        dominant_mask[self.dominant_domains] = True
        self.register_buffer("dominant_mask", dominant_mask, persistent=False)

        # Class-balanced cross-entropy weights n / (N * n_k), so every domain counts as it
        # would in a balanced set. Domains absent from training get weight 0.
        counts = torch.as_tensor(train_counts, dtype=torch.float)
        weights = torch.where(
            counts > 0,
            counts.sum() / (self.num_domains * counts.clamp_min(1.0)),
            torch.zeros_like(counts),
        )
        self.register_buffer("class_weights", weights, persistent=False)

    # ----------------------------------------------------------------- forward

    def domain_embeddings(self):
        """Return the embedding of every domain, ``[num_domains, embedding_size]``."""
        start = self.domain_embedding_offset
        return self.token_embedding_table.embedding.weight[start : start + self.num_domains]

    def classify(self, embeddings):
        """Return the domain classifier's logits, ``[batch_size, num_domains]``."""
        inputs = embeddings[:, self.classifier_positions].flatten(1)
        if self.classifier_stop_gradient:
            inputs = inputs.detach()
        return self.classifier(inputs)

    def _gate_inputs(self, context, domain_probs):
        """Return each domain's gate input, ``[batch_size, num_domains, gate_input_size]``."""
        batch_size = context.shape[0]
        if domain_probs is None:
            # The gate of domain k reads the embedding of domain k. That is the true domain
            # embedding of every real sample routed through it.
            domain_part = self.domain_embeddings().unsqueeze(0).expand(batch_size, -1, -1)
        else:
            soft = domain_probs @ self.domain_embeddings()  # [B, E]
            domain_part = soft.unsqueeze(1).expand(-1, self.num_domains, -1)
        context = context.unsqueeze(1).expand(-1, self.num_domains, -1)
        return torch.cat([context, domain_part], dim=-1)

    def _shared_expert_scales(self, domain_probs, gate_input):
        """Return SDDN's per-sample scales: per shared expert, one tensor per layer."""
        scale_input = torch.cat([domain_probs, gate_input], dim=-1)
        per_expert = [[] for _ in range(self.num_shared_experts)]
        for generator, layer_size in zip(self.scale_generators, self.expert_hidden_sizes):
            scales = self.gamma * torch.sigmoid(generator(scale_input))
            scales = scales.view(-1, self.num_shared_experts, layer_size)
            for expert in range(self.num_shared_experts):
                per_expert[expert].append(scales[:, expert])
        return per_expert

    def outputs(self, interaction):
        """Return the logits through every tower and the domain classifier's logits."""
        embeddings = self.field_embeddings(interaction)  # [B, F, E]
        expert_input = embeddings[:, self.expert_positions].flatten(1)
        context = embeddings[:, self.context_positions].flatten(1)  # [B, C*E], C may be 0

        classifier_logits = self.classify(embeddings) if self.has_classifier else None
        domain_probs = None
        shared_scales = None
        if self.use_sddn:
            # The backbone reads p(x) but does not train the classifier through it.
            domain_probs = torch.softmax(classifier_logits, dim=-1).detach()
        gate_inputs = self._gate_inputs(context, domain_probs)
        if self.use_sddn:
            shared_scales = self._shared_expert_scales(domain_probs, gate_inputs[:, 0])

        mixtures = self.cgc(expert_input, gate_inputs, shared_scales)  # [B, N, d]
        logits = torch.cat(
            [tower(mixtures[:, domain]) for domain, tower in enumerate(self.towers)], dim=1
        )
        return SSCTLOutput(logits, classifier_logits)

    def domain_logits(self, interaction):
        return self.outputs(interaction).logits

    def domain_probabilities(self, interaction):
        """Return the domain classifier's p(x), ``[batch_size, num_domains]``."""
        if not self.has_classifier:
            raise RuntimeError("The domain classifier exists only with use_isct or use_sddn.")
        embeddings = self.field_embeddings(interaction)
        return torch.softmax(self.classify(embeddings), dim=-1)

    # -------------------------------------------------------------------- loss

    def calculate_loss(self, interaction):
        """Return the loss terms ``(real, lambda_cls * cls[, lambda_pseudo * pseudo])``."""
        output = self.outputs(interaction)
        label = interaction[self.LABEL]
        domain = self.domain_index(interaction)

        own_logits = output.logits.gather(1, domain.unsqueeze(1)).squeeze(1)
        losses = [self.loss(own_logits, label)]
        if self.has_classifier:
            classifier_loss = F.cross_entropy(
                output.classifier_logits, domain, weight=self.class_weights
            )
            losses.append(self.lambda_cls * classifier_loss)
        if self.use_isct and self.isct_active:
            losses.append(self.lambda_pseudo * self._pseudo_label_loss(output, label, domain))
        return tuple(losses)

    def _pseudo_label_loss(self, output, label, domain):
        """Weighted BCE of dominant-domain samples through their pseudo domain's tower."""
        domain_probs = torch.softmax(output.classifier_logits, dim=-1).detach()
        rows, target, confidence = assign_pseudo_domains(domain_probs, domain, self.dominant_mask)
        # Called for empty batches too: in multi-process runs it sums statistics over all
        # processes, which must all take part.
        weights = self.confidence_weighting(confidence)
        if rows.numel() == 0:
            return output.logits.sum() * 0.0

        self._record_pseudo_labels(target, weights)
        target_logits = output.logits[rows].gather(1, target.unsqueeze(1)).squeeze(1)
        per_sample = F.binary_cross_entropy_with_logits(
            target_logits, label[rows], reduction="none"
        )
        total_weight = weights.sum()
        if total_weight <= 0:
            return output.logits.sum() * 0.0
        return (weights * per_sample).sum() / total_weight

    # ------------------------------------------------------------- statistics

    def reset_pseudo_label_stats(self):
        """Start a new epoch of pseudo-label statistics."""
        self._assigned_counts = np.zeros(self.num_domains, dtype=np.int64)
        self._assigned_weights = np.zeros(self.num_domains, dtype=np.float64)

    def _record_pseudo_labels(self, target, weights):
        target = target.detach().cpu().numpy()
        weights = weights.detach().cpu().numpy().astype(np.float64)
        self._assigned_counts += np.bincount(target, minlength=self.num_domains)
        self._assigned_weights += np.bincount(target, weights=weights, minlength=self.num_domains)

    def pseudo_label_stats(self):
        """Return this epoch's pseudo-label statistics.

        Returns:
            dict: ``assigned`` (samples per target domain token), ``weight_sum`` (their
            summed weight per token), ``mean_weight``, ``mu`` and ``sigma`` (the running
            confidence mean and standard deviation).
        """
        totals = torch.tensor(
            np.concatenate([self._assigned_counts, self._assigned_weights]), dtype=torch.double
        )
        totals = distributed.all_reduce_sum(totals).numpy()  # over all processes
        counts, weight_sums = totals[: self.num_domains], totals[self.num_domains :]
        total = int(counts.sum())
        non_dominant = [i for i in range(self.num_domains) if i not in self.dominant_domains]
        return {
            "assigned": {self.domains.tokens[i]: int(counts[i]) for i in non_dominant},
            "weight_sum": {self.domains.tokens[i]: float(weight_sums[i]) for i in non_dominant},
            "mean_weight": float(weight_sums.sum() / total) if total else None,
            "mu": float(self.confidence_weighting.confidence_mean),
            "sigma": float(self.confidence_weighting.confidence_variance.sqrt()),
        }
