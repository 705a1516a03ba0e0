"""The domain field: validation at load time, tokens, counts and dominant domains."""

import numpy as np
import pytest

from conftest import build_run, write_planted_dataset
from recbole_ssctl.data.domain import DomainSpace


def test_missing_domain_field_names_field_and_fix(tmp_path):
    write_planted_dataset(tmp_path, rows=(200, 50, 50))
    with pytest.raises(ValueError, match="Domain field 'market' is not in dataset.*set DOMAIN_FIELD"):
        build_run("DeepFM", tmp_path, DOMAIN_FIELD="market")


def test_float_domain_field_is_rejected(planted_data_path):
    with pytest.raises(ValueError, match="'price' has type 'float', expected 'token'"):
        build_run("DeepFM", planted_data_path, DOMAIN_FIELD="price")


def test_token_seq_domain_field_is_rejected(planted_data_path):
    with pytest.raises(ValueError, match="'tags' has type 'token_seq', expected 'token'"):
        build_run("DeepFM", planted_data_path, DOMAIN_FIELD="tags")


def test_single_domain_is_rejected(tmp_path):
    dataset_dir = write_planted_dataset(tmp_path, rows=(200, 50, 50))
    for path in dataset_dir.glob("*.inter"):
        lines = path.read_text(encoding="utf-8").splitlines()
        rows = [line.split("\t") for line in lines[1:]]
        for row in rows:
            row[3] = "only"
        path.write_text("\n".join([lines[0]] + ["\t".join(r) for r in rows]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="has 1 domain"):
        build_run("DeepFM", tmp_path)


def test_tokens_are_original_values(planted_data_path):
    run = build_run("DeepFM", planted_data_path)
    domains = DomainSpace(run["dataset"], "domain_id")
    assert sorted(domains.tokens) == ["big", "mid", "tiny"]


def test_counts_follow_split_sizes(planted_data_path):
    run = build_run("DeepFM", planted_data_path)
    domains = DomainSpace(run["dataset"], "domain_id")
    assert domains.counts(run["train"]._dataset).sum() == 3000
    assert domains.counts(run["test"]._dataset).sum() == 600


def test_resolve_dominant_rejects_every_domain(planted_data_path):
    run = build_run("DeepFM", planted_data_path)
    domains = DomainSpace(run["dataset"], "domain_id")
    with pytest.raises(ValueError, match="names every domain"):
        domains.resolve_dominant(["big", "mid", "tiny"], np.array([1, 1, 1]))


def test_resolve_dominant_accepts_single_token(planted_data_path):
    run = build_run("DeepFM", planted_data_path)
    domains = DomainSpace(run["dataset"], "domain_id")
    assert domains.resolve_dominant("mid", np.array([5, 1, 1])) == [domains.index_of("mid")]
