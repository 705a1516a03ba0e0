"""SSCTL: SDDN scales, ISCT pseudo-labels after warm-up, switches and settings."""

import numpy as np
import pytest
import torch

from conftest import build_run
from recbole_ssctl.model.pseudo_label import ConfidenceWeighting, assign_pseudo_domains


@pytest.fixture
def ssctl_run(planted_data_path):
    return build_run("SSCTL", planted_data_path)


def first_batch(loader):
    return next(iter(loader))


def test_sddn_scales_lie_between_zero_and_gamma(ssctl_run):
    model = ssctl_run["model"]
    batch = first_batch(ssctl_run["train"])
    embeddings = model.field_embeddings(batch)
    probs = torch.softmax(model.classify(embeddings), dim=-1)
    gate_input = model._gate_inputs(embeddings[:, model.context_positions].flatten(1), probs)[:, 0]
    for expert_scales in model._shared_expert_scales(probs, gate_input):
        for layer_scales in expert_scales:
            assert layer_scales.min().item() > 0.0
            assert layer_scales.max().item() < model.gamma


def test_sddn_scales_change_with_domain_distribution(ssctl_run):
    model = ssctl_run["model"]
    batch = first_batch(ssctl_run["train"])
    embeddings = model.field_embeddings(batch)
    context = embeddings[:, model.context_positions].flatten(1)
    size = (len(batch), model.num_domains)
    one_hot_first = torch.zeros(size)
    one_hot_first[:, 0] = 1.0
    one_hot_last = torch.zeros(size)
    one_hot_last[:, -1] = 1.0
    scales_first = model._shared_expert_scales(one_hot_first, model._gate_inputs(context, one_hot_first)[:, 0])
    scales_last = model._shared_expert_scales(one_hot_last, model._gate_inputs(context, one_hot_last)[:, 0])
    difference = (scales_first[0][0] - scales_last[0][0]).abs().max().item()
    assert difference > 1e-4


def test_gate_input_uses_soft_domain_embedding(ssctl_run):
    model = ssctl_run["model"]
    context = torch.zeros(2, 0)
    probs = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    gate_inputs = model._gate_inputs(context, probs)
    expected = probs @ model.domain_embeddings()
    assert torch.allclose(gate_inputs[:, 1], expected)


def test_warmup_loss_has_no_pseudo_term(ssctl_run):
    model = ssctl_run["model"]
    model.isct_active = False
    assert len(model.calculate_loss(first_batch(ssctl_run["train"]))) == 2


def test_joint_loss_adds_pseudo_term(ssctl_run):
    model = ssctl_run["model"]
    model.isct_active = True
    losses = model.calculate_loss(first_batch(ssctl_run["train"]))
    assert len(losses) == 3
    assert torch.isfinite(losses[2])


def test_both_switches_off_is_plain_cgc(planted_data_path):
    model = build_run("SSCTL", planted_data_path, use_isct=False, use_sddn=False)["model"]
    assert not hasattr(model, "classifier")
    assert not hasattr(model, "scale_generators")


def test_plain_cgc_loss_is_click_loss_only(planted_data_path):
    run = build_run("SSCTL", planted_data_path, use_isct=False, use_sddn=False)
    run["model"].isct_active = True
    assert len(run["model"].calculate_loss(first_batch(run["train"]))) == 1


def test_auto_dominant_domain_is_largest(ssctl_run):
    model = ssctl_run["model"]
    assert [model.domains.tokens[i] for i in model.dominant_domains] == ["big"]


def test_dominant_domains_from_config(planted_data_path):
    model = build_run("SSCTL", planted_data_path, dominant_domains=["big", "mid"])["model"]
    assert sorted(model.domains.tokens[i] for i in model.dominant_domains) == ["big", "mid"]


def test_unknown_dominant_domain_is_rejected(planted_data_path):
    with pytest.raises(ValueError, match="Unknown domain 'huge'"):
        build_run("SSCTL", planted_data_path, dominant_domains=["huge"])


def test_class_weights_favour_sparse_domain(ssctl_run):
    model = ssctl_run["model"]
    weights = dict(zip(model.domains.tokens, model.class_weights.tolist()))
    assert weights["tiny"] > weights["mid"] > weights["big"]


@pytest.mark.parametrize(
    "setting, value, message",
    [
        ("weighting", "softmatch", "weighting='softmatch'"),
        ("scale_gamma", 0, "scale_gamma=0"),
        ("num_shared_experts", 0, "num_shared_experts=0"),
        ("expert_hidden_sizes", [], "expert_hidden_sizes=\\[\\]"),
        ("use_isct", "yes", "use_isct='yes'"),
        ("context_fields", ["domain_id"], "context_fields must not contain"),
        ("classifier_exclude_fields", ["age"], "\\['age'\\] are not model inputs"),
    ],
)
def test_invalid_setting_is_rejected(planted_data_path, setting, value, message):
    with pytest.raises(ValueError, match=message):
        build_run("SSCTL", planted_data_path, **{setting: value})


def test_stats_name_target_domains_by_token(ssctl_run):
    model = ssctl_run["model"]
    model.isct_active = True
    model.train()
    model.calculate_loss(first_batch(ssctl_run["train"]))
    stats = model.pseudo_label_stats()
    assert set(stats["assigned"]) == {"mid", "tiny"}
    assert sum(stats["assigned"].values()) > 0


def write_copy_dataset(folder, copies=40, seed=3):
    """Write a dataset where some dominant-domain rows copy the sparse domain's features.

    The sparse domain ``tiny`` has users of its own (``t*``); ``big`` and ``mid`` share
    another user pool. ``copies`` rows of ``big`` use ``tiny``'s users, items and tags.
    Returns the dataset folder's parent and the row numbers of the copies in the train file.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(120):
        rows.append((f"t{rng.integers(0, 15)}", f"i{rng.integers(0, 10)}", "tiny", "x y"))
    for _ in range(400):
        rows.append((f"u{rng.integers(0, 150)}", f"i{rng.integers(10, 60)}", "mid", "z"))
    for _ in range(1500):
        rows.append((f"u{rng.integers(0, 150)}", f"i{rng.integers(10, 60)}", "big", "w"))
    copy_rows = list(range(len(rows), len(rows) + copies))
    for _ in range(copies):
        rows.append((f"t{rng.integers(0, 15)}", f"i{rng.integers(0, 10)}", "big", "x y"))

    dataset_dir = folder / "copies"
    dataset_dir.mkdir(parents=True)
    header = "user_id:token\titem_id:token\tlabel:float\tdomain_id:token\tprice:float\ttags:token_seq\n"
    for part in ("train", "valid", "test"):
        with open(dataset_dir / f"copies.{part}.inter", "w", encoding="utf-8") as out:
            out.write(header)
            for user, item, domain, tags in rows:
                out.write(f"{user}\t{item}\t{rng.integers(0, 2)}\t{domain}\t{rng.random():.3f}\t{tags}\n")
    return folder, copy_rows


def test_copied_rows_are_pseudo_labelled_to_sparse_domain(tmp_path):
    data_path, copy_rows = write_copy_dataset(tmp_path)
    run = build_run(
        "SSCTL",
        data_path,
        dataset="copies",
        epochs=6,
        warmup_epochs=6,
        learning_rate=0.01,
        classifier_stop_gradient=False,
        dropout_prob=0.0,
    )
    run["trainer"].fit(run["train"], None, saved=False, show_progress=False)

    model = run["model"].eval()
    train = run["train"]._dataset
    interaction = train.inter_feat  # the train split keeps file order
    with torch.no_grad():
        probs = model.domain_probabilities(interaction)
    domain = model.domain_index(interaction)
    rows, target, confidence = assign_pseudo_domains(probs, domain, model.dominant_mask)

    is_copy = torch.zeros(len(train), dtype=torch.bool)
    is_copy[copy_rows] = True
    copied = is_copy[rows]
    tiny = model.domains.index_of("tiny")
    assert (target[copied] == tiny).float().mean().item() >= 0.9

    weighting = ConfidenceWeighting(model.num_domains, "gaussian", 1.0, momentum=0.999, threshold=0.9)
    weighting.train()
    weights = weighting(confidence)
    assert weights[copied].mean().item() > weights[~copied].mean().item()


def test_warmup_covering_all_epochs_is_reported(planted_data_path, caplog):
    import logging

    with caplog.at_level(logging.WARNING):
        build_run("SSCTL", planted_data_path, epochs=1, warmup_epochs=1)
    assert "training ends before the pseudo-label stage" in caplog.text
