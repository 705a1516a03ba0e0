"""Defining behaviour of the multi-domain baselines, and one training run of every plugin model."""

import math

import pytest
import torch
import torch.nn.functional as F
from recbole.utils import init_seed

from conftest import planted_config
from recbole_ssctl import registry
from recbole_ssctl.quick_start import build_config, load_data, run_recbole_ssctl


@pytest.fixture(scope="module")
def planted_batch(planted_data_path):
    """The training split of the planted dataset and its first batch of 256 samples."""
    config = build_config("SharedBottom", "planted", config_dict=planted_config(planted_data_path))
    _, (train_data, _, _), _, _ = load_data(config)
    return train_data._dataset, next(iter(train_data))


@pytest.fixture
def build(planted_data_path, planted_batch):
    """Return a function that builds a model on the planted dataset with the given settings."""

    def build_model(name, **settings):
        config = build_config(name, "planted", config_dict=planted_config(planted_data_path, **settings))
        init_seed(config["seed"], True)
        return registry.get_model(name)(config, planted_batch[0])

    return build_model


def _samples_of(model, batch, domain):
    return batch[torch.nonzero(model.domain_index(batch) == domain).squeeze(1)]


def test_shared_bottom_sample_trains_only_its_own_tower(build, planted_batch):
    model = build("SharedBottom")
    batch = _samples_of(model, planted_batch[1], domain=0)
    model.calculate_loss(batch).backward()
    other_grads = [p.grad for tower in model.towers[1:] for p in tower.parameters()]
    assert all(grad is None or not grad.any() for grad in other_grads)


def test_shared_bottom_sample_trains_its_tower(build, planted_batch):
    model = build("SharedBottom")
    batch = _samples_of(model, planted_batch[1], domain=0)
    model.calculate_loss(batch).backward()
    assert model.towers[0][-1].weight.grad.abs().sum() > 0


def test_mmoe_gate_weights_sum_to_one_per_domain(build, planted_batch):
    model = build("MMoE", num_experts=3)
    inputs = model.field_embeddings(planted_batch[1]).flatten(1)
    weights = model.gate_weights(inputs)
    assert weights.shape[1:] == (model.num_domains, 3)
    assert torch.allclose(weights.sum(dim=-1), torch.ones(weights.shape[:2]))


def _perturb(module):
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(torch.randn_like(parameter))


def test_ple_output_depends_on_both_levels(build, planted_batch):
    model = build("PLE", num_levels=2)
    model.calculate_loss(planted_batch[1]).backward()
    for level in model.levels:
        assert sum(p.grad.abs().sum() for p in level.shared_experts.parameters()) > 0


def test_ple_domain_gate_ignores_other_domains(build, planted_batch):
    model = build("PLE", num_levels=2, num_shared_experts=2, num_specific_experts=1).eval()
    before = model.domain_logits(planted_batch[1]).detach()
    _perturb(model.levels[-1].specific_experts[1])
    after = model.domain_logits(planted_batch[1]).detach()
    assert model.levels[-1].domain_gates[0].out_features == 3
    assert torch.equal(before[:, [0, 2]], after[:, [0, 2]])
    assert not torch.allclose(before[:, 1], after[:, 1])


def test_ple_intermediate_shared_gate_mixes_every_expert(build, planted_batch):
    model = build("PLE", num_levels=2).eval()
    before = model.domain_logits(planted_batch[1]).detach()
    _perturb(model.levels[0].specific_experts[1])
    after = model.domain_logits(planted_batch[1]).detach()
    assert not torch.allclose(before[:, 0], after[:, 0])


def test_ple_rejects_zero_levels(build):
    with pytest.raises(ValueError, match="num_levels=0"):
        build("PLE", num_levels=0)


def test_star_layer_combines_shared_and_domain(build):
    layer = build("STAR").star_layers[0]
    _perturb(layer)
    inputs = torch.randn(5, layer.shared_weight.shape[1])
    domain = torch.full((5,), 2)
    expected = F.linear(
        inputs,
        layer.shared_weight * layer.domain_weight[2],
        layer.shared_bias + layer.domain_bias[2],
    )
    assert torch.allclose(layer(inputs, domain), expected, atol=1e-6)


def test_star_domain_weights_start_at_the_shared_layer(build):
    layer = build("STAR").star_layers[0]
    weight, bias = layer.effective(1)
    assert torch.equal(weight, layer.shared_weight)
    assert torch.equal(bias, layer.shared_bias)


def test_star_normalisation_keeps_running_statistics_per_domain(build):
    norm = build("STAR").norm
    inputs = torch.cat([torch.randn(64, norm.shared_scale.numel()), 5 + torch.randn(64, norm.shared_scale.numel())])
    domain = torch.cat([torch.zeros(64, dtype=torch.long), torch.ones(64, dtype=torch.long)])
    for _ in range(50):
        norm(inputs, domain)
    assert (norm.running_mean[1] - norm.running_mean[0]).mean() > 4


def test_star_normalisation_uses_own_domain_statistics_at_inference(build):
    norm = build("STAR").norm.eval()
    with torch.no_grad():
        norm.running_mean[1].fill_(3.0)
    sample = torch.full((1, norm.shared_scale.numel()), 3.0)
    assert torch.allclose(norm(sample, torch.tensor([1])), torch.zeros_like(sample), atol=1e-4)


def test_star_auxiliary_logit_is_added(build, planted_batch):
    model = build("STAR").eval()
    before = model(planted_batch[1]).detach()
    with torch.no_grad():
        model.auxiliary[-1].bias.add_(1.0)
    assert torch.allclose(model(planted_batch[1]).detach(), before + 1.0, atol=1e-5)


def test_star_rejects_unknown_norm_statistics(build):
    with pytest.raises(ValueError, match="norm_statistics='layer'"):
        build("STAR", norm_statistics="layer")


def test_epnet_scales_embeddings_by_its_gate(build, planted_batch):
    model = build("EPNet")
    scaled, gate = model.personalized_embeddings(planted_batch[1])
    assert torch.allclose(scaled, gate * model.field_embeddings(planted_batch[1]))


def test_epnet_gate_lies_between_zero_and_gamma(build, planted_batch):
    _, gate = build("EPNet", gate_gamma=2.0).personalized_embeddings(planted_batch[1])
    assert gate.min() > 0
    assert gate.max() < 2.0


def test_epnet_gate_depends_on_the_domain(build, planted_batch):
    model = build("EPNet")
    batch = planted_batch[1][torch.arange(4)]
    _, gate = model.personalized_embeddings(batch)
    batch[model.domain_field] = batch[model.domain_field] % model.num_domains + 1
    _, other_gate = model.personalized_embeddings(batch)
    assert not torch.allclose(gate, other_gate)


def test_pepnet_gates_every_tower_layer(build, planted_batch):
    model = build("PEPNet", tower_hidden_sizes=[16, 8], gate_gamma=2.0)
    gates = model.tower_gates(planted_batch[1])
    layers = [gate for domain_gates in gates for gate in domain_gates]
    assert [gate.shape[1] for gate in gates[0]] == [16, 8]
    assert all(gate.min() > 0 for gate in layers)
    assert all(gate.max() < 2.0 for gate in layers)


def test_pepnet_tower_gates_scale_hidden_layers(build, planted_batch):
    model = build("PEPNet", dropout_prob=0.0).eval()
    logits = model.domain_logits(planted_batch[1])
    with torch.no_grad():
        model.ppnet_gates[0].layers[-1].bias.add_(3.0)
    assert not torch.allclose(model.domain_logits(planted_batch[1]), logits)


@pytest.mark.parametrize("model", registry.plugin_model_names())
def test_model_trains_and_reports_every_domain(model, planted_data_path):
    result = run_recbole_ssctl(model, "planted", config_dict=planted_config(planted_data_path, epochs=1))
    values = [result["test_result"][f"{metric}[{token}]"] for metric in ("auc", "logloss") for token in ("big", "mid", "tiny")]
    assert all(value is not None and math.isfinite(value) for value in values)
