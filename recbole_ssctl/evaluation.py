"""Per-domain evaluation of CTR predictions with RecBole's own metric classes.

Result keys, as they appear in RecBole's result dict and may be named in ``valid_metric``:

* ``auc``, ``logloss``: over all samples, computed exactly as RecBole's evaluator does;
* ``auc[TOKEN]``, ``logloss[TOKEN]``: per domain, named by the domain's original token;
* ``mean_domain_auc``: the mean of the per-domain AUCs that exist.

A set with only one class has no AUC. Its value is ``None``, and a warning gives the reason.
"""

import re
from collections import OrderedDict
from logging import getLogger

import numpy as np
from recbole.evaluator.collector import DataStruct
from recbole.evaluator.register import metric_types
from recbole.utils import EvaluatorType

MEAN_DOMAIN_AUC = "mean_domain_auc"
SMALLER_IS_BETTER = {"logloss", "mae", "rmse"}
_KEY_PATTERN = re.compile(r"^(?P<metric>[A-Za-z_]+)(\[(?P<token>.*)\])?$")


def check_value_metrics(metrics):
    """Raise ``ValueError`` if a metric cannot be computed per domain.

    Per-domain results need value metrics (AUC, LogLoss, MAE, RMSE); ranking metrics need
    full-sort evaluation, which CTR datasets with ``mode: labeled`` do not use.
    """
    ranking = [m for m in metrics if metric_types.get(m.lower()) != EvaluatorType.VALUE]
    if ranking:
        raise ValueError(
            f"metrics={list(metrics)} includes {ranking}, which are not value metrics; "
            f"per-domain evaluation supports AUC, LogLoss, MAE and RMSE."
        )


def normalize_metric_key(name):
    """Return the result key for a ``valid_metric`` name, e.g. ``AUC[Tok]`` -> ``auc[Tok]``.

    The metric part is case-insensitive; the domain token keeps its case.
    """
    match = _KEY_PATTERN.match(name.strip())
    if match is None:
        raise ValueError(
            f"valid_metric='{name}' is invalid; use a metric such as AUC, a per-domain "
            f"metric such as AUC[<domain token>], or {MEAN_DOMAIN_AUC}."
        )
    metric = match.group("metric").lower()
    token = match.group("token")
    return metric if token is None else f"{metric}[{token}]"


def result_keys(metrics, domain_tokens):
    """Return every key that :func:`evaluate_per_domain` returns for these metrics."""
    names = [metric.lower() for metric in metrics]
    keys = names + [f"{name}[{token}]" for token in domain_tokens for name in names]
    if "auc" in names:
        keys.append(MEAN_DOMAIN_AUC)
    return keys


def check_valid_metric(valid_metric, metrics, domain_tokens):
    """Raise ``ValueError`` before training when ``valid_metric`` names no result key."""
    keys = result_keys(metrics, domain_tokens)
    if normalize_metric_key(valid_metric) not in keys:
        raise ValueError(
            f"valid_metric '{valid_metric}' is not among the results {keys}; choose one of "
            f"those keys (metric names are case-insensitive, domain tokens are not)."
        )


def is_bigger_better(key):
    """Return whether larger values of the result ``key`` are better."""
    metric = key.split("[", 1)[0]
    return metric not in SMALLER_IS_BETTER


def _struct(scores, labels):
    struct = DataStruct()
    struct.set("rec.score", scores)
    struct.set("data.label", labels)
    return struct


def _evaluate_subset(evaluator, scores, labels, name):
    """Evaluate one subset; AUC is ``None`` (with a warning) when one class is present."""
    result = OrderedDict()
    single_class = labels.numel() == 0 or labels.min() == labels.max()
    for metric, metric_class in evaluator.metric_class.items():
        if labels.numel() == 0 or (metric == "auc" and single_class):
            result[metric] = None
            continue
        result.update(metric_class.calculate_metric(_struct(scores, labels)))
    if single_class and "auc" in result:
        present = "no samples" if labels.numel() == 0 else f"only label {labels[0].item():g}"
        getLogger().warning(
            f"AUC of {name} is missing: it holds {present}, and AUC needs both classes."
        )
    return result


def evaluate_per_domain(evaluator, struct, domain_index, domain_tokens):
    """Compute overall and per-domain metrics.

    Args:
        evaluator (recbole.evaluator.Evaluator): RecBole's evaluator for the config's metrics.
        struct (DataStruct): collected ``rec.score`` and ``data.label`` of all samples.
        domain_index (torch.Tensor): ``[num_samples]``, domain index 0..N-1 of each sample,
            in collection order.
        domain_tokens (list of str): original token of each domain index.

    Returns:
        collections.OrderedDict: overall metrics (as RecBole's evaluator returns them), then
        ``metric[TOKEN]`` per domain, then ``mean_domain_auc`` when AUC is a metric.
    """
    scores = struct.get("rec.score")
    labels = struct.get("data.label")
    labels_are_binary = labels.numel() > 0 and labels.min() != labels.max()
    if labels_are_binary:
        result = evaluator.evaluate(struct)
    else:
        result = _evaluate_subset(evaluator, scores, labels, "the whole set")

    per_domain = OrderedDict()
    domain_auc = []
    for index, token in enumerate(domain_tokens):
        mask = domain_index == index
        domain_result = _evaluate_subset(evaluator, scores[mask], labels[mask], f"domain '{token}'")
        for metric, value in domain_result.items():
            per_domain[f"{metric}[{token}]"] = value
        if domain_result.get("auc") is not None:
            domain_auc.append(domain_result["auc"])
    result.update(per_domain)

    if "auc" in evaluator.metric_class:
        decimals = evaluator.config["metric_decimal_place"]
        result[MEAN_DOMAIN_AUC] = round(float(np.mean(domain_auc)), decimals) if domain_auc else None
    return result


def format_domain_table(result, domain_tokens, counts=None):
    """Return the per-domain result as a text table, one row per domain and one overall.

    Args:
        result (dict): output of :func:`evaluate_per_domain`.
        domain_tokens (list of str): domain tokens in index order.
        counts (dict, optional): domain token -> number of samples, shown as a column.
    """
    metrics = [key for key in result if "[" not in key and key != MEAN_DOMAIN_AUC]
    header = ["domain"] + (["samples"] if counts else []) + metrics
    rows = []
    for token in domain_tokens:
        row = [token] + ([str(counts.get(token, 0))] if counts else [])
        row += [_format_value(result.get(f"{metric}[{token}]")) for metric in metrics]
        rows.append(row)
    overall = ["overall"] + ([str(sum(counts.values()))] if counts else [])
    rows.append(overall + [_format_value(result.get(metric)) for metric in metrics])
    if MEAN_DOMAIN_AUC in result:
        mean_row = ["mean of domains"] + ([""] if counts else [])
        mean_row += [_format_value(result[MEAN_DOMAIN_AUC]) if m == "auc" else "" for m in metrics]
        rows.append(mean_row)

    widths = [max(len(str(line[col])) for line in [header] + rows) for col in range(len(header))]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)) for line in [header] + rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _format_value(value):
    return "n/a" if value is None else f"{value:.4f}"
