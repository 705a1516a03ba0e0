"""Layers shared by the multi-domain models: expert MLPs, CGC and PLE levels, STAR and
PEPNet building blocks."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from recbole.model.layers import MLPLayers, activation_layer


class ScaledMLP(nn.Module):
    """An MLP whose hidden outputs can be scaled element-wise per sample.

    With scales ``s_l`` the layer computes ``act(W_l h) * s_l``, which equals a per-sample
    weight matrix ``diag(s_l) W_l`` followed by the activation (for positively homogeneous
    activations such as ReLU). Without scales it is a plain MLP.

    Args:
        sizes (list of int): input size followed by the size of every layer.
        dropout (float): dropout probability before each linear layer.
        activation (str): activation name understood by RecBole's ``activation_layer``.
    """

    def __init__(self, sizes, dropout=0.0, activation="relu"):
        super().__init__()
        self.output_sizes = list(sizes[1:])
        self.linears = nn.ModuleList(
            nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])
        )
        self.activations = nn.ModuleList(
            activation_layer(activation, n_out) for n_out in sizes[1:]
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, inputs, scales=None):
        """
        Args:
            inputs (torch.Tensor): ``[batch_size, sizes[0]]``.
            scales (list of torch.Tensor, optional): one ``[batch_size, sizes[l+1]]`` tensor
                per layer.

        Returns:
            torch.Tensor: ``[batch_size, sizes[-1]]``.
        """
        hidden = inputs
        for layer, (linear, activation) in enumerate(zip(self.linears, self.activations)):
            hidden = activation(linear(self.dropout(hidden)))
            if scales is not None:
                hidden = hidden * scales[layer]
        return hidden


def tower(input_size, hidden_sizes, dropout):
    """Return an MLP that maps ``input_size`` features to one logit."""
    sizes = [input_size] + list(hidden_sizes)
    layers = [MLPLayers(sizes, dropout)] if hidden_sizes else []
    layers.append(nn.Linear(sizes[-1], 1))
    return nn.Sequential(*layers)


class CGC(nn.Module):
    """Customized gate control (one extraction level of PLE, Tang et al., RecSys 2020).

    ``num_shared`` shared experts and one specific expert per domain read the same input.
    For domain k, a softmax gate over the shared experts and expert k mixes their outputs.

    Args:
        input_size (int): size of the expert input.
        gate_input_size (int): size of each domain's gate input.
        num_domains (int): number of domains N.
        num_shared (int): number of shared experts m.
        expert_sizes (list of int): hidden sizes of every expert; the last is the output.
        dropout (float): dropout inside the experts.
    """

    def __init__(
        self, input_size, gate_input_size, num_domains, num_shared, expert_sizes, dropout
    ):
        super().__init__()
        sizes = [input_size] + list(expert_sizes)
        self.shared_experts = nn.ModuleList(
            ScaledMLP(sizes, dropout) for _ in range(num_shared)
        )
        self.specific_experts = nn.ModuleList(
            ScaledMLP(sizes, dropout) for _ in range(num_domains)
        )
        self.gates = nn.ModuleList(
            nn.Linear(gate_input_size, num_shared + 1) for _ in range(num_domains)
        )
        self.output_size = sizes[-1]

    def forward(self, expert_input, gate_inputs, shared_scales=None):
        """
        Args:
            expert_input (torch.Tensor): ``[batch_size, input_size]``.
            gate_inputs (torch.Tensor): ``[batch_size, num_domains, gate_input_size]``, the
                gate input seen by each domain's gate.
            shared_scales (list of list of torch.Tensor, optional): per shared expert, the
                per-layer scales passed to :class:`ScaledMLP`.

        Returns:
            torch.Tensor: ``[batch_size, num_domains, output_size]``, the mixture per domain.
        """
        shared_outputs = [
            expert(expert_input, None if shared_scales is None else shared_scales[index])
            for index, expert in enumerate(self.shared_experts)
        ]
        shared_outputs = torch.stack(shared_outputs, dim=1)  # [B, m, d]

        mixtures = []
        for domain, (expert, gate) in enumerate(zip(self.specific_experts, self.gates)):
            specific_output = expert(expert_input).unsqueeze(1)  # [B, 1, d]
            candidates = torch.cat([shared_outputs, specific_output], dim=1)  # [B, m+1, d]
            weights = torch.softmax(gate(gate_inputs[:, domain]), dim=-1)  # [B, m+1]
            mixtures.append(torch.bmm(weights.unsqueeze(1), candidates).squeeze(1))
        return torch.stack(mixtures, dim=1)


class ExtractionLevel(nn.Module):
    """One extraction level of PLE (Tang et al., RecSys 2020), for any level of a stack.

    Each domain owns ``num_specific`` experts that read that domain's input; ``num_shared``
    shared experts read the shared input. The gate of domain k reads domain k's input and
    mixes the shared experts with domain k's own experts only. With ``shared_gate``, a
    further gate reads the shared input and mixes every expert of the level. Its output is
    the shared input of the next level. With one specific expert per domain, identical
    inputs and no shared gate, the level computes what :class:`CGC` computes.

    Args:
        input_size (int): size of every input.
        num_domains (int): number of domains N.
        num_shared (int): number of shared experts.
        num_specific (int): number of specific experts per domain.
        expert_sizes (list of int): hidden sizes of every expert; the last is the output.
        dropout (float): dropout inside the experts.
        shared_gate (bool): also compute the shared output for a following level.
    """

    def __init__(
        self, input_size, num_domains, num_shared, num_specific, expert_sizes, dropout, shared_gate
    ):
        super().__init__()
        sizes = [input_size] + list(expert_sizes)
        self.num_domains = num_domains
        self.num_specific = num_specific
        self.shared_experts = nn.ModuleList(ScaledMLP(sizes, dropout) for _ in range(num_shared))
        self.specific_experts = nn.ModuleList(
            nn.ModuleList(ScaledMLP(sizes, dropout) for _ in range(num_specific))
            for _ in range(num_domains)
        )
        self.domain_gates = nn.ModuleList(
            nn.Linear(input_size, num_shared + num_specific) for _ in range(num_domains)
        )
        self.shared_gate = (
            nn.Linear(input_size, num_shared + num_domains * num_specific) if shared_gate else None
        )
        self.output_size = sizes[-1]

    def forward(self, shared_input, domain_inputs):
        """
        Args:
            shared_input (torch.Tensor): ``[batch_size, input_size]``.
            domain_inputs (torch.Tensor): ``[batch_size, num_domains, input_size]``.

        Returns:
            tuple: the mixture of every domain, ``[batch_size, num_domains, output_size]``,
            and the shared mixture, ``[batch_size, output_size]`` (``None`` without
            ``shared_gate``).
        """
        shared = torch.stack([expert(shared_input) for expert in self.shared_experts], dim=1)
        mixtures, specific_all = [], []
        for domain, (experts, gate) in enumerate(zip(self.specific_experts, self.domain_gates)):
            domain_input = domain_inputs[:, domain]
            specific = torch.stack([expert(domain_input) for expert in experts], dim=1)
            specific_all.append(specific)
            candidates = torch.cat([shared, specific], dim=1)  # [B, m_s + m_k, d]
            weights = torch.softmax(gate(domain_input), dim=-1)  # [B, m_s + m_k]
            mixtures.append(torch.bmm(weights.unsqueeze(1), candidates).squeeze(1))
        shared_mixture = None
        if self.shared_gate is not None:
            candidates = torch.cat([shared] + specific_all, dim=1)  # [B, m_s + N * m_k, d]
            weights = torch.softmax(self.shared_gate(shared_input), dim=-1)
            shared_mixture = torch.bmm(weights.unsqueeze(1), candidates).squeeze(1)
        return torch.stack(mixtures, dim=1), shared_mixture


class StarLinear(nn.Module):
    """A linear layer of STAR's star-topology FCN (Sheng et al., CIKM 2021).

    Domain k uses the weight ``W * W_k`` (element-wise) and the bias ``b + b_k``, where
    ``W, b`` are shared by all domains. ``W_k`` starts at ones and ``b_k`` at zeros, so every
    domain starts from the shared layer.

    Args:
        input_size (int): input features.
        output_size (int): output features.
        num_domains (int): number of domains N.
    """

    def __init__(self, input_size, output_size, num_domains):
        super().__init__()
        self.shared_weight = nn.Parameter(torch.empty(output_size, input_size))
        self.shared_bias = nn.Parameter(torch.zeros(output_size))
        self.domain_weight = nn.Parameter(torch.ones(num_domains, output_size, input_size))
        self.domain_bias = nn.Parameter(torch.zeros(num_domains, output_size))
        nn.init.xavier_normal_(self.shared_weight)

    def effective(self, domain):
        """Return the weight ``[output_size, input_size]`` and bias of domain ``domain``."""
        return (
            self.shared_weight * self.domain_weight[domain],
            self.shared_bias + self.domain_bias[domain],
        )

    def forward(self, inputs, domain_index):
        """
        Args:
            inputs (torch.Tensor): ``[batch_size, input_size]``.
            domain_index (torch.Tensor): ``[batch_size]``, the domain whose weights each
                sample uses.

        Returns:
            torch.Tensor: ``[batch_size, output_size]``.
        """
        output = inputs.new_zeros(inputs.shape[0], self.shared_weight.shape[0])
        for domain in torch.unique(domain_index).tolist():
            rows = torch.nonzero(domain_index == domain).squeeze(1)
            weight, bias = self.effective(domain)
            output = output.index_copy(0, rows, F.linear(inputs[rows], weight, bias))
        return output


class PartitionedNorm(nn.Module):
    """STAR's partitioned normalisation: batch normalisation with per-domain parameters.

    The output for a sample of domain k is ``(gamma * gamma_k) * (x - mean) / sqrt(var + eps)
    + (beta + beta_k)``. While training, ``mean`` and ``var`` come from the batch, and they
    update running statistics kept separately per domain. At inference each domain uses
    its own running statistics.

    Args:
        size (int): number of features.
        num_domains (int): number of domains N.
        statistics (str): which batch statistics training uses. ``domain``: those of the
            sample's own domain within the batch, which keeps training consistent with the
            per-domain statistics of inference (a domain with fewer than two samples in the
            batch falls back to the whole batch). ``batch``: those of the whole batch.
        momentum (float): update rate of the running statistics.
        eps (float): added to the variance.
    """

    STATISTICS = ("domain", "batch")

    def __init__(self, size, num_domains, statistics="domain", momentum=0.1, eps=1e-5):
        super().__init__()
        if statistics not in self.STATISTICS:
            raise ValueError(
                f"statistics={statistics!r} is invalid; allowed values: {list(self.STATISTICS)}."
            )
        self.statistics = statistics
        self.momentum = momentum
        self.eps = eps
        self.shared_scale = nn.Parameter(torch.ones(size))
        self.shared_shift = nn.Parameter(torch.zeros(size))
        self.domain_scale = nn.Parameter(torch.ones(num_domains, size))
        self.domain_shift = nn.Parameter(torch.zeros(num_domains, size))
        self.register_buffer("running_mean", torch.zeros(num_domains, size))
        self.register_buffer("running_var", torch.ones(num_domains, size))

    def forward(self, inputs, domain_index, update_statistics=True):
        """
        Args:
            inputs (torch.Tensor): ``[batch_size, size]``.
            domain_index (torch.Tensor): ``[batch_size]``, domain of every sample.
            update_statistics (bool): while training, update the running statistics.

        Returns:
            torch.Tensor: ``[batch_size, size]``.
        """
        if self.training:
            mean, var = self._batch_statistics(inputs, domain_index, update_statistics)
        else:
            mean, var = self.running_mean[domain_index], self.running_var[domain_index]
        normalised = (inputs - mean) / torch.sqrt(var + self.eps)
        scale = self.shared_scale * self.domain_scale[domain_index]
        shift = self.shared_shift + self.domain_shift[domain_index]
        return normalised * scale + shift

    def _batch_statistics(self, inputs, domain_index, update_statistics):
        """Return per-sample mean and variance ``[batch_size, size]`` from the batch."""
        batch_mean = inputs.mean(dim=0, keepdim=True).expand_as(inputs)
        batch_var = inputs.var(dim=0, unbiased=False, keepdim=True).expand_as(inputs)
        if self.statistics == "domain":
            mean, var = batch_mean.clone(), batch_var.clone()
        else:
            mean, var = batch_mean, batch_var
        for domain in torch.unique(domain_index).tolist():
            rows = domain_index == domain
            if int(rows.sum()) < 2:
                continue
            subset = inputs[rows]
            domain_mean = subset.mean(dim=0)
            domain_var = subset.var(dim=0, unbiased=False)
            if self.statistics == "domain":
                mean[rows] = domain_mean
                var[rows] = domain_var
            if update_statistics:
                with torch.no_grad():
                    count = subset.shape[0]
                    unbiased = domain_var.detach() * count / (count - 1)
                    self.running_mean[domain].lerp_(domain_mean.detach(), self.momentum)
                    self.running_var[domain].lerp_(unbiased, self.momentum)
        return mean, var


class GateUnit(nn.Module):
    """PEPNet's gate neural unit (Chang et al., KDD 2023).

    ``gamma * sigmoid(W2 relu(W1 x + b1) + b2)``: a per-sample scale in ``(0, gamma)``;
    with ``gamma = 2`` an untrained gate (output 1) leaves its target unchanged on average.

    Args:
        input_size (int): size of the gate input.
        hidden_size (int): size of the hidden layer.
        output_size (int): size of the scale vector.
        gamma (float): upper bound of the scale.
    """

    def __init__(self, input_size, hidden_size, output_size, gamma=2.0):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(input_size, hidden_size), nn.ReLU(), nn.Linear(hidden_size, output_size)
        )
        self.gamma = gamma

    def forward(self, inputs):
        """Return the scales ``[batch_size, output_size]`` for inputs ``[batch_size, input_size]``."""
        return self.gamma * torch.sigmoid(self.layers(inputs))
