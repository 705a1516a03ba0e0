"""Trainer that evaluates any RecBole context-aware model per domain."""

import time

import torch
from recbole.data.dataloader import FullSortEvalDataLoader
from recbole.trainer import Trainer
from tqdm import tqdm
from recbole.utils import set_color

from recbole_ssctl import distributed
from recbole_ssctl.compat import trusted_checkpoint_loading
from recbole_ssctl.data.domain import DomainSpace, domain_field_name
from recbole_ssctl.evaluation import (
    check_value_metrics,
    evaluate_per_domain,
    is_bigger_better,
    normalize_metric_key,
)


class MultiDomainTrainer(Trainer):
    """RecBole's ``Trainer`` with per-domain results from :meth:`evaluate`.

    Training is RecBole's own. Evaluation collects scores and labels exactly as RecBole does
    (so the overall metrics are RecBole's), and also the domain of every sample, and
    returns the keys described in :mod:`recbole_ssctl.evaluation`. ``valid_metric`` may name
    any of them, e.g. ``AUC``, ``LogLoss[3]`` or ``mean_domain_auc``.
    """

    def __init__(self, config, model):
        super().__init__(config, model)
        check_value_metrics(config["metrics"])
        self.domain_field = domain_field_name(config)
        self.valid_metric = normalize_metric_key(config["valid_metric"])
        self.valid_metric_bigger = is_bigger_better(self.valid_metric)
        self.best_valid_score = float("-inf") if self.valid_metric_bigger else float("inf")
        self.domains = None
        self.train_epoch_seconds = []

    def _train_epoch(self, train_data, epoch_idx, loss_func=None, show_progress=False):
        """Train one epoch as RecBole does, recording its duration in ``train_epoch_seconds``."""
        start = time.perf_counter()
        loss = super()._train_epoch(train_data, epoch_idx, loss_func, show_progress)
        self.train_epoch_seconds.append(time.perf_counter() - start)
        return loss

    def _valid_epoch(self, valid_data, show_progress=False):
        valid_result = self.evaluate(valid_data, load_best_model=False, show_progress=show_progress)
        if self.valid_metric not in valid_result:
            raise ValueError(
                f"valid_metric '{self.config['valid_metric']}' is not among the results "
                f"{list(valid_result)}; choose one of those keys."
            )
        valid_score = valid_result[self.valid_metric]
        if valid_score is None:
            raise ValueError(
                f"valid_metric '{self.config['valid_metric']}' has no value on the "
                f"validation set (a domain with one class has no AUC); choose another "
                f"valid_metric, such as AUC or mean_domain_auc."
            )
        return valid_score, valid_result

    def _load_checkpoint(self, checkpoint_file):
        with trusted_checkpoint_loading():
            checkpoint = torch.load(checkpoint_file, map_location=self.device)
        self.model.load_state_dict(checkpoint["state_dict"])
        self.model.load_other_parameter(checkpoint.get("other_parameter"))
        self.logger.info(f"Loading model structure and parameters from {checkpoint_file}")

    @torch.no_grad()
    def evaluate(self, eval_data, load_best_model=True, model_file=None, show_progress=False):
        """Evaluate on ``eval_data`` overall and per domain.

        Returns:
            collections.OrderedDict: RecBole's overall metrics, then ``metric[TOKEN]`` per
            domain and ``mean_domain_auc``; see :mod:`recbole_ssctl.evaluation`.
        """
        if not eval_data:
            return None
        if isinstance(eval_data, FullSortEvalDataLoader):
            raise ValueError(
                "Per-domain evaluation needs labeled evaluation data; set "
                "eval_args.mode to 'labeled' for CTR datasets."
            )
        if load_best_model:
            distributed.barrier()  # the first process may still be writing the checkpoint
            self._load_checkpoint(model_file or self.saved_model_file)
        if self.domains is None:
            self.domains = DomainSpace(eval_data._dataset, self.domain_field)

        self.model.eval()
        batches = eval_data
        if show_progress:
            batches = tqdm(
                eval_data, total=len(eval_data), ncols=100, desc=set_color("Evaluate   ", "pink")
            )
        domain_ids = []
        for batched_data in batches:
            interaction, scores, positive_u, positive_i = self._neg_sample_batch_eval(batched_data)
            self.eval_collector.eval_batch_collect(scores, interaction, positive_u, positive_i)
            domain_ids.append(interaction[self.domain_field].cpu())
        self.eval_collector.model_collect(self.model)
        struct = self.eval_collector.get_data_struct()

        domain_index = torch.cat(domain_ids).long() - 1
        if distributed.world_size() > 1:
            struct, domain_index = self._gather_shards(struct, domain_index, len(eval_data._dataset))
        result = evaluate_per_domain(self.evaluator, struct, domain_index, self.domains.tokens)
        self.wandblogger.log_eval_metrics(
            {key: value for key, value in result.items() if value is not None}, head="eval"
        )
        return result

    @staticmethod
    def _gather_shards(struct, domain_index, dataset_size):
        """Combine every process's share of an evaluation, so all compute the same metrics.

        RecBole's own multi-process evaluation averages per-process metrics, which is not
        the AUC of the whole split; gathering the scores is.
        """
        for key in ("rec.score", "data.label"):
            struct.set(key, distributed.gather_in_order(struct.get(key), dataset_size))
        return struct, distributed.gather_in_order(domain_index, dataset_size)
