"""Tests of the Ali-CCP converters, on synthetic raw files and the processed sample."""

import csv
import shutil
import tarfile
from collections import Counter
from pathlib import Path

import pytest
import yaml

from dataset_prep import aliccp
from dataset_prep.aliccp_processed import ProcessedOptions, convert_processed
from dataset_prep.aliccp_raw import RawOptions, convert_raw, encode_user_features
from dataset_prep.synthetic_aliccp import BAD_ROW_KINDS, generate

REPO_ROOT = Path(__file__).resolve().parents[1]
SPLITS = ("train", "valid", "test")
BEHAVIOUR_FIELDS = ("109_14", "110_14", "127_14", "150_14")
SINGLE_FIELDS = {
    "301": "domain_id",
    "205": "item_id",
    "101": "user_id",
    **{field: f"f{field}" for field in ("206", "207", "210", "216", "508", "509", "702", "853")},
    **{field: f"f{field}" for field in ("121", "122", "124", "125", "126", "127", "128", "129")},
}
ROWS = 2000
USERS = 200
PROCESSED_HEADER = (
    "click,purchase,101,121,122,124,125,126,127,128,129,205,206,207,210,216,508,509,702,853,301,"
    "109_14,110_14,127_14,150_14,D109_14,D110_14,D127_14,D150_14,D508,D509,D702,D853"
)


# --- helpers -------------------------------------------------------------------------------


def _convert(input_dir, root, **options):
    """Convert raw files into ``root`` and return the summary."""
    return convert_raw(
        RawOptions(
            input_dir=input_dir,
            output_dir=root / "dataset",
            properties_path=root / "ali-ccp.yaml",
            progress=False,
            **options,
        )
    )


def _read_atomic(path):
    """Return the rows of an atomic file as dicts keyed by column name without type."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        names = [cell.split(":")[0] for cell in next(reader)]
        return [dict(zip(names, row)) for row in reader]


def _outputs(root, name="ali-ccp"):
    folder = root / "dataset" / name
    return {split: _read_atomic(folder / f"{name}.{split}.inter") for split in SPLITS}


def _output_bytes(root, name="ali-ccp"):
    folder = root / "dataset" / name
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _features(text):
    """Split a raw feature list into (field, feature_id, value) triples."""
    triples = []
    for feature in text.split("\x01"):
        field, rest = feature.split("\x02")
        feature_id, value = rest.split("\x03")
        triples.append((field, feature_id, value))
    return triples


def _expected_rows(folder, split, max_seq_len=50):
    """Parse the raw files of ``split`` directly and return the rows the converter should write."""
    users = {}
    with open(folder / f"common_features_{split}.csv", encoding="ascii") as handle:
        for line in handle:
            index, _, features = line.rstrip("\n").split(",", 2)
            users.setdefault(index, _features(features))
    rows = []
    with open(folder / f"sample_skeleton_{split}.csv", encoding="ascii") as handle:
        for line in handle:
            _, click, buy, index, _, features = line.rstrip("\n").split(",", 5)
            row = {"label": click, "purchase": buy}
            row.update({column: "" for column in SINGLE_FIELDS.values()})
            sequences = {field: [] for field in BEHAVIOUR_FIELDS}
            for field, feature_id, value in _features(features) + users[index]:
                if field in sequences:
                    sequences[field].append((float(value), feature_id))
                elif field in SINGLE_FIELDS and row[SINGLE_FIELDS[field]] == "":
                    row[SINGLE_FIELDS[field]] = feature_id
            for field, pairs in sequences.items():
                ranked = sorted(pairs, key=lambda pair: pair[0], reverse=True)[:max_seq_len]
                row[f"f{field}"] = " ".join(feature_id for _, feature_id in ranked)
            rows.append(row)
    return rows


def _domain_counts(rows):
    return Counter(row["domain_id"] for row in rows)


def _write_processed(folder, rows_by_split):
    """Write processed-layout files whose rows are given as comma-joined text."""
    folder.mkdir(parents=True, exist_ok=True)
    stems = {"train": "ali_ccp_train", "valid": "ali_ccp_val", "test": "ali_ccp_test"}
    for split, rows in rows_by_split.items():
        text = PROCESSED_HEADER + "\n" + "".join(f"{row}\n" for row in rows)
        (folder / f"{stems[split]}.csv").write_text(text, encoding="ascii")


def _processed_row(click="0", purchase="0", domain="1", item="7", dense="0.25"):
    cells = [click, purchase, "3", "1", "2", "1", "1", "0", "1", "1", "1", item, "5", "6", "7", "0", "2", "0", "0", "4", domain]
    cells += ["1", "2", "0", "1"] + [dense] * 8
    return ",".join(cells)


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("raw")
    generate(folder, rows=ROWS, users=USERS, seed=11)
    return folder


@pytest.fixture(scope="module")
def converted(raw_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("converted")
    summary = _convert(raw_dir, root)
    return root, summary


@pytest.fixture(scope="module")
def large_raw_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("raw-large")
    generate(folder, rows=8000, users=300, seed=3)
    return folder


# --- raw layout: content -------------------------------------------------------------------


def test_train_rows_equal_raw_rows(raw_dir, converted):
    root, _ = converted
    written = _outputs(root)["train"]
    expected = _expected_rows(raw_dir, "train")
    assert len(written) == len(expected)
    for number, (row, want) in enumerate(zip(written, expected), start=1):
        assert row == want, f"train row {number}"


def test_valid_and_test_rows_equal_raw_test_rows(raw_dir, converted):
    root, _ = converted
    outputs = _outputs(root)
    written = Counter(tuple(sorted(row.items())) for row in outputs["valid"] + outputs["test"])
    expected = Counter(tuple(sorted(row.items())) for row in _expected_rows(raw_dir, "test"))
    assert written == expected


def test_official_test_file_split_in_halves(converted):
    _, summary = converted
    assert summary.rows_written["valid"] + summary.rows_written["test"] == ROWS
    assert abs(summary.rows_written["valid"] - ROWS / 2) < 0.1 * ROWS


def test_purchase_written_but_not_loaded(converted):
    root, _ = converted
    properties = yaml.safe_load((root / "ali-ccp.yaml").read_text(encoding="utf-8"))
    header = (root / "dataset" / "ali-ccp" / "ali-ccp.train.inter").read_text(encoding="utf-8").splitlines()[0]
    assert "purchase:float" in header.split("\t")
    assert "purchase" not in properties["load_col"]["inter"]


def test_properties_describe_raw_schema(converted):
    root, _ = converted
    properties = yaml.safe_load((root / "ali-ccp.yaml").read_text(encoding="utf-8"))
    assert properties["data_path"] == (root / "dataset").as_posix() + "/"
    assert properties["benchmark_filename"] == ["train", "valid", "test"]
    assert properties["DOMAIN_FIELD"] == "domain_id"
    assert properties["seq_len"] == {f"f{field}": 50 for field in BEHAVIOUR_FIELDS}
    assert properties["eval_args"] == {"mode": "labeled", "order": "RO", "group_by": None}
    assert properties["numerical_features"] == []
    assert properties["metrics"] == ["AUC", "LogLoss"]


def test_behaviour_ids_ordered_by_value_then_appearance():
    features = b"109_14\x0211\x031.0\x01109_14\x0212\x032.5\x01109_14\x0213\x031.0\x01101\x027\x031.0"
    cells = encode_user_features(features, max_seq_len=50).split(b"\t")
    assert cells[0] == b"7"
    assert cells[9] == b"12 11 13"


def test_behaviour_ids_capped_at_max_seq_len():
    features = b"\x01".join(b"110_14\x02%d\x03%d.0" % (i, i % 4) for i in range(10))
    cells = encode_user_features(features, max_seq_len=3).split(b"\t")
    assert cells[10] == b"3 7 2"


def test_missing_fields_written_empty():
    cells = encode_user_features(b"101\x029\x031.0", max_seq_len=50).split(b"\t")
    assert cells[0] == b"9"
    assert cells[1:] == [b""] * 12


def test_max_seq_len_applies_to_outputs(raw_dir, tmp_path):
    _convert(raw_dir, tmp_path, max_seq_len=4)
    written = _outputs(tmp_path)["train"]
    expected = _expected_rows(raw_dir, "train", max_seq_len=4)
    assert written == expected


# --- raw layout: input forms ---------------------------------------------------------------


@pytest.mark.parametrize("form", ["gzip", "tar", "header"])
def test_input_forms_give_identical_outputs(form, converted, tmp_path):
    root, _ = converted
    folder = tmp_path / "input"
    generate(folder, rows=ROWS, users=USERS, seed=11, compress=form == "gzip", tar=form == "tar", header=form == "header")
    _convert(folder, tmp_path / "out")
    assert _output_bytes(tmp_path / "out") == _output_bytes(root)


def test_missing_input_file_named(raw_dir, tmp_path):
    folder = tmp_path / "input"
    shutil.copytree(raw_dir, folder)
    (folder / "common_features_test.csv").unlink()
    with pytest.raises(FileNotFoundError, match="common_features_test.csv"):
        _convert(folder, tmp_path / "out")


def test_archive_without_member_named(raw_dir, tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    for name in ("common_features_train.csv", "sample_skeleton_train.csv", "common_features_test.csv"):
        shutil.copy(raw_dir / name, folder / name)
    with tarfile.open(folder / "sample_test.tar.gz", "w:gz") as archive:
        archive.add(raw_dir / "common_features_test.csv", arcname="common_features_test.csv")
    with pytest.raises(FileNotFoundError, match="sample_skeleton_test.csv"):
        _convert(folder, tmp_path / "out")


# --- raw layout: bad rows ------------------------------------------------------------------


def test_generator_deterministic_for_seed(raw_dir, tmp_path):
    generate(tmp_path / "same", rows=ROWS, users=USERS, seed=11)
    generate(tmp_path / "other", rows=ROWS, users=USERS, seed=12)
    for path in raw_dir.iterdir():
        assert (tmp_path / "same" / path.name).read_bytes() == path.read_bytes(), path.name
        assert (tmp_path / "other" / path.name).read_bytes() != path.read_bytes(), path.name


def test_generator_domain_shares(raw_dir):
    rows = _expected_rows(raw_dir, "train") + _expected_rows(raw_dir, "test")
    counts = _domain_counts(rows)
    assert abs(counts["1"] / len(rows) - 0.378) < 0.03
    assert abs(counts["3"] / len(rows) - 0.6145) < 0.03
    assert 0 < counts["2"] / len(rows) < 0.02


def test_generator_injects_every_raw_kind():
    assert sorted(BAD_ROW_KINDS) == sorted(aliccp.RAW_BAD_ROW_KINDS)


@pytest.mark.parametrize("kind", BAD_ROW_KINDS)
def test_bad_row_counted_and_skipped(kind, tmp_path):
    folder = tmp_path / "input"
    generate(folder, rows=300, users=40, seed=5, inject=[kind])
    summary = _convert(folder, tmp_path / "out")
    assert summary.bad_rows == {kind: 1}
    skipped = 0 if kind == "duplicate_common_index" else 1
    assert summary.rows_written["train"] == 300 - skipped


@pytest.mark.parametrize("kind", BAD_ROW_KINDS)
def test_strict_raises_at_bad_line(kind, tmp_path):
    folder = tmp_path / "input"
    injected = generate(folder, rows=300, users=40, seed=5, inject=[kind]).bad_lines[0]
    with pytest.raises(ValueError, match=f"{injected.file}: line {injected.line}: bad row of kind '{kind}'"):
        _convert(folder, tmp_path / "out", strict=True)


def test_all_bad_kinds_counted_together(tmp_path):
    folder = tmp_path / "input"
    generate(folder, rows=300, users=40, seed=5, inject=BAD_ROW_KINDS)
    summary = _convert(folder, tmp_path / "out")
    assert summary.bad_rows == {kind: 1 for kind in sorted(BAD_ROW_KINDS)}


def test_duplicate_common_index_keeps_first_row(tmp_path):
    folder = tmp_path / "input"
    generate(folder, rows=300, users=40, seed=5, inject=["duplicate_common_index"])
    _convert(folder, tmp_path / "out")
    assert _outputs(tmp_path / "out")["train"] == _expected_rows(folder, "train")


def test_crlf_line_endings_accepted(raw_dir, converted, tmp_path):
    folder = tmp_path / "input"
    folder.mkdir()
    for path in raw_dir.iterdir():
        (folder / path.name).write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    _convert(folder, tmp_path / "out")
    assert _output_bytes(tmp_path / "out") == _output_bytes(converted[0])


def test_failed_run_keeps_previous_outputs(converted, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(converted[0], root)
    before = _output_bytes(root)
    properties_before = (root / "ali-ccp.yaml").read_bytes()
    folder = tmp_path / "input"
    generate(folder, rows=ROWS, users=USERS, seed=11, inject=["malformed_feature"])
    with pytest.raises(ValueError):
        _convert(folder, root, strict=True)
    assert _output_bytes(root) == before
    assert (root / "ali-ccp.yaml").read_bytes() == properties_before


def test_failed_run_leaves_no_files(tmp_path):
    folder = tmp_path / "input"
    generate(folder, rows=ROWS, users=USERS, seed=11, inject=["truncated_line"])
    with pytest.raises(ValueError):
        _convert(folder, tmp_path / "out", strict=True)
    leftovers = [path for path in (tmp_path / "out").rglob("*") if path.is_file()]
    assert leftovers == []


# --- raw layout: sampling ------------------------------------------------------------------


def test_max_rows_keeps_train_domain_shares(large_raw_dir, tmp_path):
    _convert(large_raw_dir, tmp_path, max_rows=1000)
    written = _domain_counts(_outputs(tmp_path)["train"])
    available = _domain_counts(_expected_rows(large_raw_dir, "train"))
    assert sum(written.values()) == 1000
    for domain, count in available.items():
        assert abs(written[domain] - 1000 * count / 8000) <= 1, domain


def test_max_rows_caps_valid_and_test(large_raw_dir, tmp_path):
    _convert(large_raw_dir, tmp_path, max_rows=1000)
    outputs = _outputs(tmp_path)
    available = _domain_counts(_expected_rows(large_raw_dir, "test"))
    for split in ("valid", "test"):
        written = _domain_counts(outputs[split])
        assert sum(written.values()) == 1000, split
        for domain, count in available.items():
            assert abs(written[domain] / 1000 - count / 8000) < 0.04, (split, domain)


def test_sample_rate_keeps_domain_shares(large_raw_dir, tmp_path):
    summary = _convert(large_raw_dir, tmp_path, sample_rate=0.3)
    written = _domain_counts(_outputs(tmp_path)["train"])
    available = _domain_counts(_expected_rows(large_raw_dir, "train"))
    for domain, count in available.items():
        assert abs(written[domain] - 0.3 * count) <= 1, domain
    assert abs(summary.rows_written["valid"] + summary.rows_written["test"] - 0.3 * 8000) <= 2


def test_sampling_deterministic_for_seed(large_raw_dir, tmp_path):
    _convert(large_raw_dir, tmp_path / "first", max_rows=500, seed=9)
    _convert(large_raw_dir, tmp_path / "second", max_rows=500, seed=9)
    _convert(large_raw_dir, tmp_path / "other", max_rows=500, seed=10)
    assert _output_bytes(tmp_path / "first") == _output_bytes(tmp_path / "second")
    assert _output_bytes(tmp_path / "first") != _output_bytes(tmp_path / "other")


def test_seed_changes_valid_test_assignment(raw_dir, converted, tmp_path):
    _convert(raw_dir, tmp_path, seed=7)
    assert _outputs(tmp_path)["valid"] != _outputs(converted[0])["valid"]
    assert _outputs(tmp_path)["train"] == _outputs(converted[0])["train"]


# --- command line and committed properties -------------------------------------------------


def test_command_line_prints_summary(raw_dir, tmp_path, capsys):
    status = aliccp.main(
        ["raw", "--input", str(raw_dir), "--output-dir", str(tmp_path / "dataset"),
         "--properties-path", str(tmp_path / "p.yaml"), "--progress", "off"]
    )
    assert status == 0
    assert "rows written: train 2,000" in capsys.readouterr().out


def test_command_line_reports_strict_failure(tmp_path, capsys):
    folder = tmp_path / "input"
    generate(folder, rows=300, users=40, seed=5, inject=["invalid_label"])
    status = aliccp.main(
        ["raw", "--input", str(folder), "--output-dir", str(tmp_path / "dataset"),
         "--properties-path", str(tmp_path / "p.yaml"), "--strict", "--progress", "off"]
    )
    assert status == 1
    assert capsys.readouterr().out == ""


def test_committed_properties_match_default_command(raw_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert aliccp.main(["raw", "--input", str(raw_dir), "--progress", "off"]) == 0
    written = (tmp_path / "properties" / "dataset" / "ali-ccp.yaml").read_text(encoding="utf-8")
    committed = (REPO_ROOT / "properties" / "dataset" / "ali-ccp.yaml").read_text(encoding="utf-8")
    assert written == committed


# --- processed layout ----------------------------------------------------------------------


def _convert_processed(folder, root, strict=False):
    return convert_processed(
        ProcessedOptions(
            input_dir=folder,
            output_dir=root / "dataset",
            properties_path=root / "ali-ccp.yaml",
            strict=strict,
            progress=False,
        )
    )


def test_processed_zero_written_empty(tmp_path):
    _write_processed(tmp_path / "in", {split: [_processed_row()] for split in SPLITS})
    _convert_processed(tmp_path / "in", tmp_path)
    row = _outputs(tmp_path)["train"][0]
    assert row["f126"] == ""
    assert row["f216"] == ""
    assert row["f127_14"] == ""
    assert row["f121"] == "1"
    assert row["domain_id"] == "1"
    assert row["d853"] == "0.25"


def test_processed_properties_list_dense_columns(tmp_path):
    _write_processed(tmp_path / "in", {split: [_processed_row()] for split in SPLITS})
    _convert_processed(tmp_path / "in", tmp_path)
    properties = yaml.safe_load((tmp_path / "ali-ccp.yaml").read_text(encoding="utf-8"))
    dense = ["d109_14", "d110_14", "d127_14", "d150_14", "d508", "d509", "d702", "d853"]
    assert properties["numerical_features"] == dense
    assert "seq_len" not in properties
    assert properties["load_col"]["inter"][-8:] == dense


PROCESSED_BAD_ROWS = {
    "missing_domain": [_processed_row(domain=""), _processed_row(domain="0"), _processed_row(domain="x")],
    "invalid_label": [_processed_row(click="2")],
    "invalid_value": [_processed_row(item="1.5"), _processed_row(dense="high")],
    "truncated_line": [_processed_row().rsplit(",", 3)[0]],
    "too_many_columns": [_processed_row() + ",9"],
}


@pytest.mark.parametrize("kind", sorted(PROCESSED_BAD_ROWS))
def test_processed_bad_row_counted(kind, tmp_path):
    bad = PROCESSED_BAD_ROWS[kind]
    _write_processed(tmp_path / "in", {"train": [_processed_row()] + bad, "valid": [_processed_row()], "test": [_processed_row()]})
    summary = _convert_processed(tmp_path / "in", tmp_path)
    assert summary.bad_rows == {kind: len(bad)}
    assert summary.rows_written == {"train": 1, "valid": 1, "test": 1}


def test_processed_strict_raises_at_bad_line(tmp_path):
    rows = [_processed_row(), _processed_row(), _processed_row(domain="")]
    _write_processed(tmp_path / "in", {"train": [_processed_row()], "valid": rows, "test": [_processed_row()]})
    with pytest.raises(ValueError, match="ali_ccp_val.csv: line 4: bad row of kind 'missing_domain'"):
        _convert_processed(tmp_path / "in", tmp_path, strict=True)


def test_processed_missing_column_named(tmp_path):
    folder = tmp_path / "in"
    _write_processed(folder, {split: [_processed_row()] for split in SPLITS})
    path = folder / "ali_ccp_test.csv"
    path.write_text(path.read_text(encoding="ascii").replace(",853,", ",X853,", 1), encoding="ascii")
    with pytest.raises(ValueError, match="853"):
        _convert_processed(folder, tmp_path)


@pytest.fixture
def processed_sample_dir(shared_data_dir):
    folder = shared_data_dir / "ali-ccp-processed-sample"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found; it holds the processed Ali-CCP sample")
    return folder


def test_processed_sample_converts(processed_sample_dir, tmp_path):
    summary = _convert_processed(processed_sample_dir, tmp_path)
    assert summary.rows_written == {"train": 100, "valid": 50, "test": 50}
    assert summary.bad_rows == {}
    domains = set()
    for rows in _outputs(tmp_path).values():
        domains |= set(_domain_counts(rows))
    assert domains == {"1", "2", "3"}


def test_processed_sample_loads_in_recbole(processed_sample_dir, tmp_path):
    pytest.importorskip("recbole_ssctl", reason="recbole_ssctl patches RecBole for numpy 2 and pandas 3")
    from recbole.config import Config
    from recbole.data import create_dataset

    _convert_processed(processed_sample_dir, tmp_path)
    config = Config(
        model="DeepFM",
        dataset="ali-ccp",
        config_file_list=[str(tmp_path / "ali-ccp.yaml")],
        config_dict={
            "use_gpu": False,
            "show_progress": False,
            "state": "WARNING",
            "checkpoint_dir": str(tmp_path / "saved"),
        },
    )
    dataset = create_dataset(config)
    assert len(dataset) == 200
    assert sorted(dataset.field2id_token["domain_id"][1:]) == ["1", "2", "3"]
