"""SSCTL's trainer: domain-classifier warm-up, then joint training with pseudo-labels."""

import numpy as np
import torch

from recbole_ssctl import config_checks, distributed
from recbole_ssctl.trainer.multi_domain import MultiDomainTrainer

WARMUP = "warm-up"
JOINT = "joint"


def classifier_scores(true_domains, predicted_domains, num_domains):
    """Return accuracy and macro-F1 of domain predictions.

    Macro-F1 averages over the domains present in ``true_domains`` or predicted.
    """
    accuracy = float(np.mean(true_domains == predicted_domains)) if len(true_domains) else None
    f1_values = []
    for domain in range(num_domains):
        true_positive = np.sum((predicted_domains == domain) & (true_domains == domain))
        predicted = np.sum(predicted_domains == domain)
        actual = np.sum(true_domains == domain)
        if predicted == 0 and actual == 0:
            continue
        f1_values.append(2.0 * true_positive / (predicted + actual))
    macro_f1 = float(np.mean(f1_values)) if f1_values else None
    return accuracy, macro_f1


class SSCTLTrainer(MultiDomainTrainer):
    """Trains SSCTL in two stages.

    For the first ``warmup_epochs`` epochs the domain classifier and the backbone train on
    real samples only. Afterwards the model also adds the pseudo-label loss (ISCT). Each
    epoch logs the stage, the classifier's accuracy and macro-F1 on the validation set,
    pseudo-assigned samples per target domain, their mean weight and the running
    confidence mean and standard deviation (mu_t, sigma_t).
    """

    def __init__(self, config, model):
        super().__init__(config, model)
        self.warmup_epochs = config_checks.number(config, "warmup_epochs", 1, low=0, integer=True)
        if model.use_isct and self.warmup_epochs >= self.epochs:
            self.logger.warning(
                f"warmup_epochs={self.warmup_epochs} is not below epochs={self.epochs}, so "
                f"training ends before the pseudo-label stage starts. Raise epochs or lower "
                f"warmup_epochs to train with pseudo-labels."
            )
        self._classifier_valid_data = None
        self._stage = None

    def fit(self, train_data, valid_data=None, verbose=True, saved=True, show_progress=False, callback_fn=None):
        self._classifier_valid_data = valid_data
        return super().fit(train_data, valid_data, verbose, saved, show_progress, callback_fn)

    def stage_of(self, epoch_idx):
        """Return the training stage of an epoch (0-based)."""
        return WARMUP if epoch_idx < self.warmup_epochs else JOINT

    def _train_epoch(self, train_data, epoch_idx, loss_func=None, show_progress=False):
        stage = self.stage_of(epoch_idx)
        if stage != self._stage:
            self.logger.info(f"SSCTL stage: {stage} (from epoch {epoch_idx})")
            self._stage = stage
        self.model.isct_active = stage == JOINT
        self.model.reset_pseudo_label_stats()

        loss = super()._train_epoch(train_data, epoch_idx, loss_func, show_progress)

        self.logger.info(self._epoch_summary(epoch_idx, stage))
        return loss

    def _epoch_summary(self, epoch_idx, stage):
        parts = [f"epoch {epoch_idx} SSCTL stage: {stage}"]
        if self.model.has_classifier and self._classifier_valid_data:
            accuracy, macro_f1 = self.evaluate_classifier(self._classifier_valid_data)
            parts.append(f"classifier valid accuracy: {_fmt(accuracy)}, macro-F1: {_fmt(macro_f1)}")
        if self.model.use_isct and stage == JOINT:
            stats = self.model.pseudo_label_stats()
            assigned = ", ".join(f"{token}: {count}" for token, count in stats["assigned"].items())
            parts.append(
                f"pseudo-assigned samples [{assigned}], mean weight: {_fmt(stats['mean_weight'])}, "
                f"mu_t: {stats['mu']:.4f}, sigma_t: {stats['sigma']:.4f}"
            )
        return " | ".join(parts)

    @torch.no_grad()
    def evaluate_classifier(self, eval_data):
        """Return the domain classifier's accuracy and macro-F1 on ``eval_data``."""
        self.model.eval()
        true_domains, predicted_domains = [], []
        for batched_data in eval_data:
            interaction = batched_data[0].to(self.device)
            probs = self.model.domain_probabilities(interaction)
            predicted_domains.append(probs.argmax(dim=1).cpu().numpy())
            true_domains.append(self.model.domain_index(interaction).cpu().numpy())
        if not true_domains:
            return None, None
        size = len(eval_data._dataset)
        true_domains = distributed.gather_in_order(torch.from_numpy(np.concatenate(true_domains)), size)
        predicted_domains = distributed.gather_in_order(
            torch.from_numpy(np.concatenate(predicted_domains)), size
        )
        return classifier_scores(true_domains.numpy(), predicted_domains.numpy(), self.model.num_domains)


def _fmt(value):
    return "n/a" if value is None else f"{value:.4f}"
