"""Pseudo-label assignment, truncated Gaussian weights and the moving statistics."""

import math

import pytest
import torch

from recbole_ssctl.model.pseudo_label import (
    ConfidenceWeighting,
    assign_pseudo_domains,
    ema_update,
    truncated_gaussian_weight,
)


def test_gaussian_weight_at_or_above_mean_is_lambda_max():
    weights = truncated_gaussian_weight(torch.tensor([0.5, 0.9]), 0.5, 0.04, 0.8)
    assert weights.tolist() == pytest.approx([0.8, 0.8])


def test_gaussian_weight_below_mean_matches_hand_value():
    # c = 0.3, mean = 0.5, variance = 0.04: exp(-0.04 / 0.08) = exp(-0.5)
    weight = truncated_gaussian_weight(torch.tensor([0.3]), 0.5, 0.04, 1.0)
    assert weight.item() == pytest.approx(math.exp(-0.5))


def test_gaussian_weight_scales_with_lambda_max():
    weight = truncated_gaussian_weight(torch.tensor([0.1]), 0.5, 0.04, 0.5)
    assert weight.item() == pytest.approx(0.5 * math.exp(-0.16 / 0.08))


def test_ema_update_matches_hand_values():
    confidence = torch.tensor([0.2, 0.4, 0.6])  # mean 0.4, unbiased variance 0.04
    mean, variance, _ = ema_update(torch.tensor(0.5), torch.tensor(1.0), confidence, 0.9)
    assert mean.item() == pytest.approx(0.9 * 0.5 + 0.1 * 0.4)
    assert variance.item() == pytest.approx(0.9 * 1.0 + 0.1 * 0.04)


def test_ema_update_single_value_uses_zero_variance():
    mean, variance, _ = ema_update(torch.tensor(0.5), torch.tensor(1.0), torch.tensor([0.7]), 0.5)
    assert mean.item() == pytest.approx(0.6)
    assert variance.item() == pytest.approx(0.5)


def test_ema_update_ignores_empty_batch():
    mean, variance, count = ema_update(torch.tensor(0.5), torch.tensor(1.0), torch.tensor([]), 0.5)
    assert (mean.item(), variance.item(), count) == (0.5, 1.0, 0)


def test_assignment_picks_most_likely_non_dominant_domain():
    probs = torch.tensor(
        [
            [0.7, 0.2, 0.1],  # dominant sample, domain 1 more likely than 2
            [0.1, 0.3, 0.6],  # non-dominant sample: not assigned
            [0.5, 0.1, 0.4],  # dominant sample, domain 2 more likely than 1
        ]
    )
    domain = torch.tensor([0, 2, 0])
    dominant = torch.tensor([True, False, False])
    rows, target, confidence = assign_pseudo_domains(probs, domain, dominant)
    assert rows.tolist() == [0, 2]
    assert target.tolist() == [1, 2]
    assert confidence.tolist() == pytest.approx([0.2, 0.4])


def test_assignment_with_two_dominant_domains():
    probs = torch.tensor([[0.1, 0.6, 0.3], [0.2, 0.2, 0.6]])
    rows, target, _ = assign_pseudo_domains(
        probs, torch.tensor([1, 2]), torch.tensor([False, True, True])
    )
    assert rows.tolist() == [0, 1]
    assert target.tolist() == [0, 0]


def test_weighting_starts_at_uniform_classifier_statistics():
    weighting = ConfidenceWeighting(4, "gaussian", 1.0, momentum=0.999, threshold=0.9)
    assert weighting.confidence_mean.item() == pytest.approx(0.25)
    assert weighting.confidence_variance.item() == pytest.approx(1.0)


def test_weighting_first_update_equals_batch_statistics():
    weighting = ConfidenceWeighting(4, "gaussian", 1.0, momentum=0.999, threshold=0.9)
    weighting.train()
    weighting(torch.tensor([0.2, 0.4, 0.6]))
    assert weighting.confidence_mean.item() == pytest.approx(0.4)
    assert weighting.confidence_variance.item() == pytest.approx(0.04)


def test_weighting_second_update_is_bias_corrected_average():
    # raw mean after two updates: 0.5 * (0.5 * 0.4) + 0.5 * 0.8 = 0.5; correction 1 - 0.25
    weighting = ConfidenceWeighting(4, "gaussian", 1.0, momentum=0.5, threshold=0.9)
    weighting.train()
    weighting(torch.tensor([0.2, 0.4, 0.6]))
    weighting(torch.tensor([0.7, 0.9]))
    assert weighting.confidence_mean.item() == pytest.approx(0.5 / 0.75)
    # raw variance: 0.5 * (0.5 * 0.04) + 0.5 * 0.02 = 0.02
    assert weighting.confidence_variance.item() == pytest.approx(0.02 / 0.75)


def test_weighting_uses_updated_statistics_for_weights():
    weighting = ConfidenceWeighting(4, "gaussian", 1.0, momentum=0.999, threshold=0.9)
    weighting.train()
    weights = weighting(torch.tensor([0.2, 0.4, 0.6]))
    # mean 0.4 and variance 0.04 after the update: 0.2 gets exp(-0.04 / 0.08)
    assert weights.tolist() == pytest.approx([math.exp(-0.5), 1.0, 1.0])


def test_weighting_keeps_statistics_in_eval_mode():
    weighting = ConfidenceWeighting(4, "gaussian", 1.0, momentum=0.5, threshold=0.9)
    weighting.eval()
    weighting(torch.tensor([0.2, 0.4, 0.6]))
    assert weighting.confidence_mean.item() == pytest.approx(0.25)


def test_threshold_weighting_is_zero_below_threshold():
    weighting = ConfidenceWeighting(3, "threshold", 0.7, momentum=0.9, threshold=0.5)
    weights = weighting(torch.tensor([0.4, 0.5, 0.8]))
    assert weights.tolist() == pytest.approx([0.0, 0.7, 0.7])


def test_none_weighting_gives_lambda_max_everywhere():
    weighting = ConfidenceWeighting(3, "none", 0.3, momentum=0.9, threshold=0.5)
    assert weighting(torch.tensor([0.01, 0.99])).tolist() == pytest.approx([0.3, 0.3])


def test_unknown_weighting_is_rejected():
    with pytest.raises(ValueError, match="weighting='softmatch'"):
        ConfidenceWeighting(3, "softmatch", 1.0, momentum=0.9, threshold=0.5)
