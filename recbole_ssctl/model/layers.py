"""Layers shared by the multi-domain models: scalable expert MLPs and the CGC block."""

import torch
import torch.nn as nn
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
