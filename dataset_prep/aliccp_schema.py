"""Field layout, bad-row bookkeeping and property files shared by the Ali-CCP converters.

Both input layouts, the raw Tianchi files and the processed CSV files, are written to the
same RecBole atomic schema. The Ali-CCP field ids are:

- user side: ``101`` (user id), ``121``, ``122``, ``124`` .. ``129`` (profile fields; the
  data set has no field ``123``) and the behaviour fields ``109_14``, ``110_14``,
  ``127_14``, ``150_14``;
- ad side: ``205`` (item id), ``206``, ``207``, ``210``, ``216``, the combination fields
  ``508``, ``509``, ``702``, ``853``, and ``301``, the scenario, used as the domain.
"""

import dataclasses
import logging
import shlex
from collections import Counter
from pathlib import Path

logger = logging.getLogger(__name__)

DOMAIN_FIELD_ID = "301"
USER_ID_FIELD_ID = "101"
ITEM_ID_FIELD_ID = "205"
USER_PROFILE_FIELD_IDS = ("121", "122", "124", "125", "126", "127", "128", "129")
AD_FIELD_IDS = ("206", "207", "210", "216", "508", "509", "702", "853")
BEHAVIOUR_FIELD_IDS = ("109_14", "110_14", "127_14", "150_14")

LABEL_COLUMN = "label"
PURCHASE_COLUMN = "purchase"
DOMAIN_COLUMN = "domain_id"
USER_COLUMN = "user_id"
ITEM_COLUMN = "item_id"

SPLITS = ("train", "valid", "test")

BAD_ROW_KINDS = {
    "truncated_line": "the line has fewer columns than the layout",
    "too_many_columns": "the line has more columns than the header",
    "malformed_feature": "a feature is not 'field\\x02feature_id\\x03value' with an integer "
    "feature_id and a numeric value",
    "feature_count_mismatch": "feature_num is not an integer or differs from the number of "
    "features in feature_list",
    "invalid_label": "click or buy/purchase is not 0 or 1",
    "missing_domain": "field 301, the domain, is missing, 0 or not an integer",
    "unknown_common_index": "common_feature_index is not in the common features file, or "
    "its row there was skipped as bad",
    "duplicate_common_index": "common_feature_index already appeared earlier in the file; "
    "the first row is kept",
    "invalid_value": "a categorical value is not a non-negative integer or a dense value is "
    "not a number",
}

# The kinds each layout can produce, in the order the help text lists them.
RAW_BAD_ROW_KINDS = (
    "truncated_line",
    "malformed_feature",
    "feature_count_mismatch",
    "invalid_label",
    "missing_domain",
    "unknown_common_index",
    "duplicate_common_index",
)
PROCESSED_BAD_ROW_KINDS = (
    "truncated_line",
    "too_many_columns",
    "invalid_label",
    "missing_domain",
    "invalid_value",
)


def feature_column(field_id):
    """Return the atomic column name of a categorical Ali-CCP field, e.g. ``f206``."""
    return f"f{field_id}"


def dense_column(field_id):
    """Return the atomic column name of a dense Ali-CCP value, e.g. ``d109_14``."""
    return f"d{field_id}"


class BadRowLog:
    """Counts skipped rows by kind and file, or raises at the first one in strict mode."""

    def __init__(self, strict):
        self.strict = strict
        self.by_file = {}

    def record(self, kind, file_label, line_number):
        """Count one bad row; in strict mode raise ``ValueError`` instead.

        Args:
            kind (str): a key of :data:`BAD_ROW_KINDS`.
            file_label (str): the input file as shown to the user.
            line_number (int): 1-based line number in that file.
        """
        if self.strict:
            raise ValueError(
                f"{file_label}: line {line_number}: bad row of kind {kind!r} "
                f"({BAD_ROW_KINDS[kind]}); correct or remove the line, or run without "
                "--strict to skip and count such rows"
            )
        self.by_file.setdefault(file_label, Counter())[kind] += 1

    def totals(self):
        """Return the number of bad rows per kind over all files."""
        total = Counter()
        for counts in self.by_file.values():
            total.update(counts)
        return dict(sorted(total.items()))

    def log_counts(self):
        """Log the bad-row counts per file at WARNING level, or that there were none."""
        if not self.by_file:
            logger.info("No bad rows found")
            return
        for file_label, counts in self.by_file.items():
            for kind, count in sorted(counts.items()):
                logger.warning(
                    "Skipped %d bad row(s) of kind %s in %s: %s",
                    count,
                    kind,
                    file_label,
                    BAD_ROW_KINDS[kind],
                )


@dataclasses.dataclass
class ConversionSummary:
    """Outcome of one conversion.

    Attributes:
        layout (str): ``raw`` or ``processed``.
        dataset_dir (str): folder holding the written atomic files.
        properties_path (str): the written RecBole property file.
        rows_written (dict): rows per output split (``train``, ``valid``, ``test``).
        rows_read (dict): data lines read per input file, bad ones included.
        bad_rows (dict): skipped bad rows per kind, over all files.
        bad_rows_by_file (dict): skipped bad rows per input file and kind.
        rows_not_sampled (int): rows left out by ``--sample-rate`` or ``--max-rows``.
        repeated_field_rows (int): rows in which a single-valued field appeared more than
            once; the first value was kept.
        seconds (float): wall time of the conversion.
    """

    layout: str
    dataset_dir: str
    properties_path: str
    rows_written: dict
    rows_read: dict
    bad_rows: dict
    bad_rows_by_file: dict
    rows_not_sampled: int = 0
    repeated_field_rows: int = 0
    seconds: float = 0.0

    def to_dict(self):
        """Return the summary as plain JSON-serialisable data."""
        return dataclasses.asdict(self)

    def format(self):
        """Return a short human-readable report of the conversion."""
        written = ", ".join(f"{split} {count:,}" for split, count in self.rows_written.items())
        read = sum(self.rows_read.values())
        bad = sum(self.bad_rows.values())
        lines = [
            f"Ali-CCP {self.layout} conversion finished in {self.seconds:.1f} s",
            f"  rows written: {written}",
            f"  data lines read: {read:,}; bad rows skipped: {bad:,}",
        ]
        for kind, count in self.bad_rows.items():
            lines.append(f"    {kind}: {count:,}")
        if self.rows_not_sampled:
            lines.append(f"  rows left out by sampling: {self.rows_not_sampled:,}")
        if self.repeated_field_rows:
            lines.append(
                f"  rows with a repeated single-valued field (first value kept): "
                f"{self.repeated_field_rows:,}"
            )
        lines.append(f"  atomic files: {self.dataset_dir}")
        lines.append(f"  properties: {self.properties_path}")
        return "\n".join(lines)


DEFAULT_OUTPUT_DIR = "dataset"
DEFAULT_NAME = "ali-ccp"


def default_properties_path(name):
    """Return the property file written when ``--properties-path`` is not given."""
    return Path("properties", "dataset", f"{name}.yaml")


def data_path_text(output_dir):
    """Return ``output_dir`` as written to ``data_path``: POSIX separators and a trailing slash."""
    return Path(output_dir).as_posix().rstrip("/") + "/"


def command_line(layout, input_placeholder, output_dir, name, properties_path, options=()):
    """Return the shortest command that reproduces a conversion, with the input as a placeholder.

    Args:
        layout (str): ``raw`` or ``processed``.
        input_placeholder (str): word written in place of the input folder.
        output_dir, name, properties_path: the output settings; left out when default.
        options (iterable): ``(flag, value, default)`` triples; a flag is written only when
            its value differs from its default.
    """
    words = ["python", "-m", "dataset_prep.aliccp", layout, "--input", input_placeholder]
    if data_path_text(output_dir) != data_path_text(DEFAULT_OUTPUT_DIR):
        words += ["--output-dir", str(output_dir)]
    if name != DEFAULT_NAME:
        words += ["--name", name]
    if Path(properties_path).resolve() != default_properties_path(name).resolve():
        words += ["--properties-path", str(properties_path)]
    for flag, value, default in options:
        if value != default:
            words += [flag, str(value)]
    return shlex.join(words)


def properties_comment(command, input_placeholder, input_description, dataset_dir):
    """Return the comment lines written above the keys of a property file."""
    return (
        f"Written by: {command}\n"
        f"{input_placeholder} is the folder of {input_description}; the atomic files are in {Path(dataset_dir).as_posix()}/.\n"
        "Re-run that command instead of editing this file."
    )


def dataset_properties(data_path, columns, seq_len, numerical_features):
    """Build the RecBole property mapping of a converted Ali-CCP data set.

    Args:
        data_path (str): folder that contains the ``<name>/`` folder of atomic files, as
            RecBole's ``data_path`` expects (see :func:`data_path_text`).
        columns (list): ``(name, type)`` pairs of the atomic ``.inter`` files.
        seq_len (dict): maximum length per ``token_seq`` column; empty when there is none.
        numerical_features (list): ``float`` columns that models should embed.
    """
    load_columns = [name for name, _ in columns if name != PURCHASE_COLUMN]
    properties = {
        "data_path": data_path,
        "benchmark_filename": list(SPLITS),
        "field_separator": "\t",
        "seq_separator": " ",
        "USER_ID_FIELD": USER_COLUMN,
        "ITEM_ID_FIELD": ITEM_COLUMN,
        "LABEL_FIELD": LABEL_COLUMN,
        "RATING_FIELD": None,
        "TIME_FIELD": None,
        "DOMAIN_FIELD": DOMAIN_COLUMN,
        "load_col": {"inter": load_columns},
    }
    if seq_len:
        properties["seq_len"] = dict(seq_len)
    properties.update(
        {
            "eval_args": {"mode": "labeled", "order": "RO", "group_by": None},
            "train_neg_sample_args": None,
            "metrics": ["AUC", "LogLoss"],
            "valid_metric": "AUC",
            "dominant_domains": "auto",
            "numerical_features": list(numerical_features),
            "threshold": None,
            "normalize_all": None,
        }
    )
    return properties
