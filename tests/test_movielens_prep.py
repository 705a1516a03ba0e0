"""Tests of the multi-domain MovieLens-100k converter, run on RecBole's own ml-100k copy."""

import logging
import re
from pathlib import Path

import pandas as pd
import pytest

from dataset_prep import movielens
from dataset_prep.movielens import (
    DOMAINS,
    PRESETS,
    SPLITS,
    SourceFormatError,
    age_group,
    default_source_dir,
    ensure_prepared,
    parse_domain_keep,
    prepare_movielens,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCE = default_source_dir()


def _prepare(root, name="ml-md", **options):
    """Prepare into ``root`` and return the summary."""
    return prepare_movielens(
        name=name,
        output_dir=root / "dataset",
        properties_path=root / f"{name}.yaml",
        **options,
    )


def _read_atomic(path):
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    frame.columns = [column.split(":")[0] for column in frame.columns]
    return frame


def _read_splits(root, name="ml-md"):
    folder = root / "dataset" / name
    return {split: _read_atomic(folder / f"{name}.{split}.inter") for split in SPLITS}


def _file_bytes(root, name="ml-md"):
    folder = root / "dataset" / name
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _pairs(frame):
    return set(zip(frame["user_id"], frame["item_id"]))


@pytest.fixture(scope="module")
def source_frames():
    inter = _read_atomic(SOURCE / "ml-100k.inter")
    users = _read_atomic(SOURCE / "ml-100k.user")
    return inter, users


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("base")
    summary = _prepare(root)
    return root, summary


@pytest.fixture(scope="module")
def sparse_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("sparse")
    summary = _prepare(root, domain_keep={"under25": 0.1})
    return root, summary


@pytest.fixture(scope="module")
def base_splits(base_run):
    return _read_splits(base_run[0])


def test_age_groups_at_boundaries():
    assert age_group(24) == "under25"
    assert age_group(25) == "25to34"
    assert age_group(34) == "25to34"
    assert age_group(35) == "35plus"


def test_label_is_rating_at_least_four(base_splits, source_frames):
    inter, _ = source_frames
    rating = inter.set_index(["user_id", "item_id"])["rating"].astype(float)
    for split, frame in base_splits.items():
        expected = (rating.loc[list(zip(frame["user_id"], frame["item_id"]))] >= 4).to_numpy()
        labels = frame["label"].astype(float).to_numpy()
        assert set(frame["label"]) <= {"0.0", "1.0"}, split
        assert (labels == expected).all(), split


def test_rating_not_written(base_run):
    root, _ = base_run
    for path in (root / "dataset" / "ml-md").iterdir():
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert "rating" not in header, path.name
        assert "timestamp" not in header, path.name


def test_domain_is_user_age_group(base_splits, source_frames):
    _, users = source_frames
    ages = users.set_index("user_id")["age"].astype(int)
    expected_domain = pd.cut(ages, [0, 24, 34, 200], labels=["under25", "25to34", "35plus"])
    expected_domain = expected_domain.astype(str).to_dict()
    for split, frame in base_splits.items():
        expected = frame["user_id"].map(expected_domain)
        assert (frame["domain_id"] == expected).all(), split


def test_age_written_nowhere(base_run):
    root, _ = base_run
    user_file = root / "dataset" / "ml-md" / "ml-md.user"
    header = user_file.read_text(encoding="utf-8").splitlines()[0]
    assert header == "user_id:token\tgender:token\toccupation:token\tzip_region:token"
    properties = (root / "ml-md.yaml").read_text(encoding="utf-8")
    assert "age" not in properties


def test_zip_region_is_first_character(base_run, source_frames):
    _, source_users = source_frames
    users = _read_atomic(base_run[0] / "dataset" / "ml-md" / "ml-md.user")
    expected = source_users.set_index("user_id")["zip_code"].str[:1]
    assert len(users) == len(source_users)
    assert (users.set_index("user_id")["zip_region"] == expected).all()


def test_item_file_drops_title(base_run):
    items = _read_atomic(base_run[0] / "dataset" / "ml-md" / "ml-md.item")
    assert list(items.columns) == ["item_id", "release_year", "class"]
    assert items.set_index("item_id").loc["1", "class"] == "Animation Children's Comedy"


def test_splits_disjoint_and_complete(base_splits, source_frames):
    inter, _ = source_frames
    pairs = {split: _pairs(frame) for split, frame in base_splits.items()}
    assert not pairs["train"] & pairs["valid"]
    assert not pairs["train"] & pairs["test"]
    assert not pairs["valid"] & pairs["test"]
    assert sum(len(frame) for frame in base_splits.values()) == len(inter)
    assert pairs["train"] | pairs["valid"] | pairs["test"] == _pairs(inter)


def test_split_shares_per_domain(base_splits):
    for domain in DOMAINS:
        sizes = {split: (frame["domain_id"] == domain).sum() for split, frame in base_splits.items()}
        total = sum(sizes.values())
        assert sizes["train"] / total == pytest.approx(0.8, abs=0.001), domain
        assert sizes["valid"] / total == pytest.approx(0.1, abs=0.001), domain
        assert sizes["test"] / total == pytest.approx(0.1, abs=0.001), domain


def test_summary_matches_files(base_run, base_splits):
    _, summary = base_run
    for split, frame in base_splits.items():
        for domain in DOMAINS:
            rows = frame[frame["domain_id"] == domain]
            assert summary.rows[split][domain] == len(rows), (split, domain)
            assert summary.positives[split][domain] == (rows["label"] == "1.0").sum()


def test_summary_logged(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger=movielens.logger.name):
        summary = _prepare(tmp_path)
    rows = summary.rows["valid"]["35plus"]
    rate = summary.positive_rate("valid", "35plus")
    assert any(
        "valid" in line and "35plus" in line and str(rows) in line and f"{rate:.3f}" in line
        for line in caplog.messages
    )


def test_domain_keep_thins_train(base_splits, sparse_run):
    sparse = _read_splits(sparse_run[0])
    base_train = base_splits["train"]
    full = (base_train["domain_id"] == "under25").sum()
    kept = (sparse["train"]["domain_id"] == "under25").sum()
    assert kept == round(0.1 * full)
    assert _pairs(sparse["train"]) <= _pairs(base_train)


def test_domain_keep_spares_other_domains(base_splits, sparse_run):
    sparse_train = _read_splits(sparse_run[0])["train"]
    base_train = base_splits["train"]
    for domain in ("25to34", "35plus"):
        base_rows = base_train[base_train["domain_id"] == domain]
        sparse_rows = sparse_train[sparse_train["domain_id"] == domain]
        assert _pairs(sparse_rows) == _pairs(base_rows), domain


def test_domain_keep_leaves_eval_files(base_run, sparse_run):
    base = _file_bytes(base_run[0])
    sparse = _file_bytes(sparse_run[0])
    for name in ("ml-md.valid.inter", "ml-md.test.inter", "ml-md.user", "ml-md.item"):
        assert sparse[name] == base[name], name


def test_same_seed_same_bytes(base_run, tmp_path):
    _prepare(tmp_path)
    assert _file_bytes(tmp_path) == _file_bytes(base_run[0])


def test_rerun_same_bytes(tmp_path):
    _prepare(tmp_path)
    first_files = _file_bytes(tmp_path)
    first_properties = (tmp_path / "ml-md.yaml").read_bytes()
    _prepare(tmp_path)
    assert _file_bytes(tmp_path) == first_files
    assert (tmp_path / "ml-md.yaml").read_bytes() == first_properties


def test_other_seed_other_split(base_splits, tmp_path):
    _prepare(tmp_path, seed=7)
    other = _read_splits(tmp_path)
    assert _pairs(other["test"]) != _pairs(base_splits["test"])
    assert len(other["test"]) == len(base_splits["test"])


@pytest.mark.parametrize(
    "value", ["teen=0.5", "under25=0", "under25=1.5", "under25=-0.1", "under25=nan", "under25"]
)
def test_bad_domain_keep_text_rejected(value):
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        parse_domain_keep(value)


def test_domain_keep_text_parsed():
    assert parse_domain_keep("under25=0.1") == ("under25", 0.1)


@pytest.mark.parametrize(
    "keep", [{"teen": 0.5}, {"under25": 0.0}, {"35plus": 2.0}, {"25to34": "half"}]
)
def test_bad_domain_keep_option_rejected(tmp_path, keep):
    ((token, fraction),) = keep.items()
    with pytest.raises(ValueError, match=re.escape(f"'{token}={fraction}'")):
        _prepare(tmp_path, domain_keep=keep)
    assert not (tmp_path / "dataset").exists()


def test_unknown_domain_message_lists_domains():
    with pytest.raises(ValueError, match="under25, 25to34, 35plus"):
        parse_domain_keep("teen=0.5")


def test_bad_split_rejected(tmp_path):
    with pytest.raises(ValueError, match="add up to 1"):
        _prepare(tmp_path, split=(0.8, 0.1, 0.2))


def _copy_source(tmp_path):
    folder = tmp_path / "source"
    folder.mkdir()
    for name in movielens.ATOMIC_SOURCE_FILES:
        (folder / name).write_bytes((SOURCE / name).read_bytes())
    return folder


def test_missing_source_file_named(tmp_path):
    folder = _copy_source(tmp_path)
    (folder / "ml-100k.user").unlink()
    with pytest.raises(FileNotFoundError, match="ml-100k.user"):
        _prepare(tmp_path, source=folder)


def test_malformed_row_named(tmp_path):
    folder = _copy_source(tmp_path)
    with open(folder / "ml-100k.inter", "a", encoding="utf-8") as handle:
        handle.write("1\t2\t3\n")
    line = 100002
    with pytest.raises(SourceFormatError, match=f"ml-100k.inter, line {line}: expected 4"):
        _prepare(tmp_path, source=folder)


def test_bad_rating_named(tmp_path):
    folder = _copy_source(tmp_path)
    with open(folder / "ml-100k.inter", "a", encoding="utf-8") as handle:
        handle.write("1\t2\tgood\t881250949\n")
    with pytest.raises(SourceFormatError, match="line 100002: rating 'good' is not a number"):
        _prepare(tmp_path, source=folder)


def test_failed_run_keeps_old_files(base_run, tmp_path):
    _prepare(tmp_path)
    before = _file_bytes(tmp_path)
    folder = _copy_source(tmp_path)
    with open(folder / "ml-100k.inter", "a", encoding="utf-8") as handle:
        handle.write("1\t2\tgood\t881250949\n")
    with pytest.raises(SourceFormatError):
        _prepare(tmp_path, source=folder, seed=7)
    assert _file_bytes(tmp_path) == before


def test_unknown_user_rejected(tmp_path):
    folder = _copy_source(tmp_path)
    with open(folder / "ml-100k.inter", "a", encoding="utf-8") as handle:
        handle.write("9999\t2\t4\t881250949\n")
    with pytest.raises(SourceFormatError, match="user '9999'"):
        _prepare(tmp_path, source=folder)


def _write_grouplens(source_frames, folder):
    """Write RecBole's ml-100k copy in the original GroupLens layout."""
    inter, users = source_frames
    items = _read_atomic(SOURCE / "ml-100k.item")
    folder.mkdir()
    data_lines = [
        f"{u}\t{i}\t{r}\t{t}\n"
        for u, i, r, t in zip(inter["user_id"], inter["item_id"], inter["rating"], inter["timestamp"])
    ]
    (folder / "u.data").write_text("".join(data_lines), encoding="latin-1")
    user_lines = [
        "|".join(row) + "\n"
        for row in users[["user_id", "age", "gender", "occupation", "zip_code"]].itertuples(index=False)
    ]
    (folder / "u.user").write_text("".join(user_lines), encoding="latin-1")
    item_lines = []
    for item_id, year, genres in zip(items["item_id"], items["release_year"], items["class"]):
        date = f"01-Jan-{year}" if year.isdigit() else ""
        flags = ["1" if genre in genres.split() else "0" for genre in movielens.GROUPLENS_GENRES]
        item_lines.append("|".join([item_id, "title", date, "", "http://x"] + flags) + "\n")
    (folder / "u.item").write_text("".join(item_lines), encoding="latin-1")


def test_grouplens_layout_matches(base_run, source_frames, tmp_path):
    _write_grouplens(source_frames, tmp_path / "grouplens")
    _prepare(tmp_path, source=tmp_path / "grouplens")
    grouplens = _file_bytes(tmp_path)
    base = _file_bytes(base_run[0])
    for name in ("ml-md.train.inter", "ml-md.valid.inter", "ml-md.test.inter", "ml-md.user"):
        assert grouplens[name] == base[name], name
    grouplens_items = _read_atomic(tmp_path / "dataset" / "ml-md" / "ml-md.item")
    base_items = _read_atomic(base_run[0] / "dataset" / "ml-md" / "ml-md.item")
    known_year = base_items["release_year"].str.isdigit()
    assert grouplens_items[known_year].equals(base_items[known_year])


def test_ensure_prepared_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert ensure_prepared("ml-100k-md", tmp_path / "data", tmp_path / "props") is True
    assert ensure_prepared("ml-100k-md", tmp_path / "data", tmp_path / "props") is False
    assert (tmp_path / "props" / "ml-100k-md.yaml").is_file()
    assert not (tmp_path / "dataset").exists()


def test_ensure_prepared_unknown_name(tmp_path):
    with pytest.raises(ValueError, match="'ml-1m-md'"):
        ensure_prepared("ml-1m-md", tmp_path, tmp_path)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_committed_properties_match_command(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert movielens.main(["--preset", name]) == 0
    written = tmp_path / "properties" / "dataset" / f"{name}.yaml"
    committed = REPO_ROOT / "properties" / "dataset" / f"{name}.yaml"
    assert written.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")


def test_default_command_is_first_preset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert movielens.main([]) == 0
    assert (tmp_path / "dataset" / "ml-100k-md" / "ml-100k-md.train.inter").is_file()


def test_sparse_preset_thins_under25(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    movielens.main(["--preset", "ml-100k-md-sparse"])
    train = _read_splits(tmp_path, "ml-100k-md-sparse")["train"]
    valid = _read_splits(tmp_path, "ml-100k-md-sparse")["valid"]
    under25_train = (train["domain_id"] == "under25").sum()
    under25_valid = (valid["domain_id"] == "under25").sum()
    assert under25_train == pytest.approx(0.8 * under25_valid, rel=0.01)


@pytest.mark.parametrize(
    "argv",
    [
        ["--domain-keep", "under25=0"],
        ["--preset", "ml-100k-md", "--name", "other"],
        ["--name", "ml-100k-md-sparse", "--seed", "7"],
        ["--name", "custom", "--domain-keep", "under25=0.5", "--domain-keep", "under25=0.2"],
    ],
)
def test_command_line_rejects(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        movielens.main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "dataset").exists()


def test_properties_load_in_recbole(sparse_run):
    try:
        import recbole_ssctl  # noqa: F401  (patches RecBole for numpy 2 and pandas 3)
    except ImportError as error:
        pytest.skip(f"recbole_ssctl is not importable, so RecBole cannot run here: {error}")
    from recbole.config import Config
    from recbole.data import create_dataset

    root, _ = sparse_run
    config = Config(
        model="DeepFM",
        dataset="ml-md",
        config_file_list=[str(root / "ml-md.yaml")],
        config_dict={"data_path": str(root / "dataset"), "use_gpu": False, "show_progress": False},
    )
    dataset = create_dataset(config)

    domains = set(dataset.field2id_token["domain_id"]) - {"[PAD]"}
    assert domains == set(DOMAINS)
    assert "age" not in dataset.field2type
    assert "rating" not in dataset.field2type

    train, valid, test = dataset.build()
    assert len(valid) == len(test) == 10000
    batch = train.join(train.inter_feat[:8])
    assert "gender" in batch
    assert "class" in batch
    assert "zip_region" in batch
