"""Pseudo-labels for dominant-domain samples and their confidence weights (SSCTL's ISCT).

A dominant-domain sample is treated as unlabeled with respect to the non-dominant domains:
it is assigned to the non-dominant domain its domain classifier finds most likely, and
weighted by how confident that assignment is. The weighting follows SoftMatch (Chen et
al., ICLR 2023): a Gaussian truncated at the running mean of the confidence.
"""

import torch
import torch.nn as nn

from recbole_ssctl import distributed

WEIGHTINGS = ("gaussian", "threshold", "none")


def assign_pseudo_domains(domain_probs, domain, dominant_mask):
    """Assign each dominant-domain sample to its most likely non-dominant domain.

    Args:
        domain_probs (torch.Tensor): ``[batch_size, num_domains]``, classifier output p(x).
        domain (torch.Tensor): ``[batch_size]``, the true domain index of each sample.
        dominant_mask (torch.Tensor): ``[num_domains]`` bool, True for dominant domains.

    Returns:
        tuple: ``rows`` (positions of the dominant-domain samples in the batch), ``target``
        (their assigned domain index k*) and ``confidence`` (p_{k*}(x)), each
        ``[num_dominant_samples]``.
    """
    rows = torch.nonzero(dominant_mask[domain], as_tuple=True)[0]
    non_dominant = torch.nonzero(~dominant_mask, as_tuple=True)[0]
    candidate_probs = domain_probs[rows][:, non_dominant]  # [n, num_non_dominant]
    confidence, position = candidate_probs.max(dim=1)
    return rows, non_dominant[position], confidence


def truncated_gaussian_weight(confidence, mean, variance, lambda_max):
    """Return SoftMatch's weight of each confidence value.

    ``lambda_max`` at or above ``mean``; below it
    ``lambda_max * exp(-(c - mean)^2 / (2 * variance))``.
    """
    gaussian = torch.exp(-((confidence - mean) ** 2) / (2.0 * variance))
    return lambda_max * torch.where(
        confidence >= mean, torch.ones_like(confidence), gaussian
    )


def batch_statistics(confidence):
    """Return the mean, unbiased variance (0 for one value) and count of a batch.

    In a multi-process run the batch is the union of every process's batch.
    """
    values = confidence.detach().double()  # sums of squares lose precision in float32
    sums = torch.stack(
        [values.sum(), (values**2).sum(), torch.tensor(float(values.numel()), dtype=torch.double)]
    )
    total, total_squares, count = distributed.all_reduce_sum(sums).tolist()
    if count == 0:
        return None, None, 0
    mean = total / count
    variance = (total_squares - count * mean**2) / (count - 1) if count > 1 else 0.0
    return mean, max(variance, 0.0), int(count)


def ema_update(mean, variance, confidence, momentum):
    """Return the moving mean and variance after one batch, and the batch's size.

    ``new = momentum * old + (1 - momentum) * batch statistic``, with the unbiased batch
    variance (0 for a single value). An empty batch leaves both unchanged.
    """
    batch_mean, batch_variance, count = batch_statistics(confidence)
    if count == 0:
        return mean, variance, 0
    new_mean = momentum * mean + (1.0 - momentum) * batch_mean
    new_variance = momentum * variance + (1.0 - momentum) * batch_variance
    return new_mean, new_variance, count


class ConfidenceWeighting(nn.Module):
    """Weights pseudo-labelled samples and keeps the running confidence statistics.

    The running mean and variance are exponential moving averages started at zero and
    bias-corrected as in Adam (divided by ``1 - momentum ** t`` after ``t`` updates), so
    they follow the observed confidences from the first batch on. Without the correction a
    momentum of 0.999 keeps them near their initial values for thousands of batches, which
    is longer than whole training runs on many multi-domain datasets.

    Args:
        num_domains (int): N; before the first update the mean is 1/N (a uniform
            classifier) and the variance 1.
        weighting (str): ``gaussian`` (truncated Gaussian), ``threshold`` (``lambda_max``
            when the confidence reaches ``threshold``, else 0) or ``none`` (``lambda_max``
            for every assigned sample).
        lambda_max (float): the largest weight.
        momentum (float): momentum of the moving mean and variance.
        threshold (float): confidence threshold of the ``threshold`` weighting.
        min_variance (float): floor on the variance, so a collapsed confidence spread
            cannot divide by zero.

    The statistics are buffers, so they are saved in RecBole checkpoints.
    """

    def __init__(self, num_domains, weighting, lambda_max, momentum, threshold, min_variance=1e-6):
        super().__init__()
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting='{weighting}' is invalid; allowed: {list(WEIGHTINGS)}.")
        self.weighting = weighting
        self.lambda_max = lambda_max
        self.momentum = momentum
        self.threshold = threshold
        self.min_variance = min_variance
        self.initial_mean = 1.0 / num_domains
        self.register_buffer("running_mean", torch.tensor(0.0))
        self.register_buffer("running_variance", torch.tensor(0.0))
        self.register_buffer("num_updates", torch.tensor(0, dtype=torch.long))

    @property
    def confidence_mean(self):
        """The bias-corrected running mean of the confidence (mu_t)."""
        if self.num_updates == 0:
            return torch.tensor(self.initial_mean, device=self.running_mean.device)
        return self.running_mean / self._correction()

    @property
    def confidence_variance(self):
        """The bias-corrected running variance of the confidence (sigma_t squared)."""
        if self.num_updates == 0:
            return torch.ones_like(self.running_variance)
        variance = self.running_variance / self._correction()
        return variance.clamp_min(self.min_variance)

    def _correction(self):
        return 1.0 - self.momentum ** self.num_updates.item() if self.momentum < 1.0 else 1.0

    def forward(self, confidence):
        """Update the running statistics (in training mode) and return the weights.

        Args:
            confidence (torch.Tensor): ``[n]``, detached confidences of one batch.
        """
        if self.training:
            # Every process must reach this point once per batch: the statistics are
            # summed over processes, even when this process's batch has no samples.
            mean, variance, count = ema_update(
                self.running_mean, self.running_variance, confidence, self.momentum
            )
            if count > 0:
                self.running_mean.copy_(mean)
                self.running_variance.copy_(variance)
                self.num_updates += 1

        if self.weighting == "gaussian":
            return truncated_gaussian_weight(
                confidence, self.confidence_mean, self.confidence_variance, self.lambda_max
            )
        if self.weighting == "threshold":
            return self.lambda_max * (confidence >= self.threshold).to(confidence.dtype)
        return torch.full_like(confidence, self.lambda_max)
