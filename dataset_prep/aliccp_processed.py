"""Convert Ali-CCP in the processed CSV layout to the same RecBole atomic schema as the raw files.

This is the layout of the Scenario-Wise Rec benchmark download: ``ali_ccp_train.csv``,
``ali_ccp_val.csv`` and ``ali_ccp_test.csv`` (or the same names with ``_sample`` before
``.csv``, plain or ``.gz``), each with a header line and one row per impression:

- ``click``, ``purchase``: 0/1 labels;
- ``101``, ``121`` .. ``129``, ``205`` .. ``853``, ``109_14`` .. ``150_14``: integer-encoded
  categorical values, 0 meaning missing;
- ``301``: the domain, a positive integer;
- ``D109_14`` .. ``D853``: min-max scaled dense values.

In this layout each behaviour field contains one encoded value per row, not a list. The
behaviour fields therefore become ``token`` columns here, while the raw converter writes
them as ``token_seq``. A 0 becomes an empty cell, which RecBole reads as missing. The dense
columns become ``float`` columns named ``d<field>`` and are listed in
``numerical_features``. The three files map to the ``train``, ``valid`` and ``test`` files.
"""

import dataclasses
import logging
import re
import time
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from dataset_prep.aliccp_schema import (
    AD_FIELD_IDS,
    DEFAULT_NAME,
    DEFAULT_OUTPUT_DIR,
    BEHAVIOUR_FIELD_IDS,
    DOMAIN_COLUMN,
    DOMAIN_FIELD_ID,
    ITEM_COLUMN,
    ITEM_ID_FIELD_ID,
    LABEL_COLUMN,
    PURCHASE_COLUMN,
    SPLITS,
    USER_COLUMN,
    USER_ID_FIELD_ID,
    USER_PROFILE_FIELD_IDS,
    BadRowLog,
    ConversionSummary,
    command_line,
    data_path_text,
    dataset_properties,
    default_properties_path,
    dense_column,
    feature_column,
    properties_comment,
)
from dataset_prep.aliccp_io import find_input, read_lines
from dataset_prep.atomic import AtomicOutputSet, atomic_header, properties_text

logger = logging.getLogger(__name__)

INPUT_PLACEHOLDER = "PROCESSED_FOLDER"
FILE_STEMS = {"train": "ali_ccp_train", "valid": "ali_ccp_val", "test": "ali_ccp_test"}
CLICK = "click"
PURCHASE = "purchase"
CATEGORICAL_FIELD_IDS = (ITEM_ID_FIELD_ID,) + AD_FIELD_IDS + (USER_ID_FIELD_ID,) + USER_PROFILE_FIELD_IDS + BEHAVIOUR_FIELD_IDS
DENSE_PREFIX = "D"

_LABEL = rb"[01]"
_INTEGER = rb"(?:0|[1-9][0-9]*)"
_NUMBER = rb"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_LABELS = frozenset((b"0", b"1"))
_ZERO_TO_EMPTY = {b"0": b""}
_TAB = b"\t"
_NEWLINE = b"\n"


@dataclasses.dataclass
class ProcessedOptions:
    """Settings of a processed-layout conversion; the fields match the command-line options."""

    input_dir: Path
    output_dir: Path = Path(DEFAULT_OUTPUT_DIR)
    name: str = DEFAULT_NAME
    properties_path: Path = None
    strict: bool = False
    progress: bool = None


def find_processed_inputs(folder):
    """Return the input file of each split, accepting names with and without ``_sample``."""
    inputs = {}
    for split, stem in FILE_STEMS.items():
        names = (f"{stem}_sample.csv", f"{stem}.csv")
        for name in names:
            try:
                inputs[split] = find_input(folder, name)
                break
            except FileNotFoundError:
                continue
        else:
            raise FileNotFoundError(
                f"input file for the {split} split not found in {folder}; expected "
                f"{' or '.join(names)}, optionally gzip-compressed with .gz added"
            )
    return inputs


class _Layout:
    """Column positions of one processed file, checked against the required columns."""

    def __init__(self, header, label, dense_fields=None):
        names = [cell.strip().decode() for cell in header.split(b",")]
        self.width = len(names)
        position = {}
        for index, name in enumerate(names):
            position.setdefault(name, index)
        required = [CLICK, PURCHASE, DOMAIN_FIELD_ID] + list(CATEGORICAL_FIELD_IDS)
        missing = [name for name in required if name not in position]
        if missing:
            raise ValueError(
                f"{label}: columns {', '.join(missing)} missing from the header; add them, "
                "because the processed layout needs click, purchase, 301 and every categorical field"
            )
        known = set(CATEGORICAL_FIELD_IDS)
        found_dense = [name[1:] for name in names if name.startswith(DENSE_PREFIX) and name[1:] in known]
        if dense_fields is not None and sorted(found_dense) != sorted(dense_fields):
            raise ValueError(
                f"{label}: dense columns {sorted(found_dense)} differ from those of the train "
                f"file {sorted(dense_fields)}; all three files need the same columns"
            )
        self.dense_fields = found_dense if dense_fields is None else list(dense_fields)
        ignored = [
            name for name in names
            if name not in required and not (name.startswith(DENSE_PREFIX) and name[1:] in known)
        ]
        if ignored:
            logger.warning("%s: ignoring columns %s", label, ", ".join(ignored))

        self.click = position[CLICK]
        self.purchase = position[PURCHASE]
        self.domain = position[DOMAIN_FIELD_ID]
        self.tokens = [position[field] for field in CATEGORICAL_FIELD_IDS]
        self.dense = [position[DENSE_PREFIX + field] for field in self.dense_fields]
        patterns = [rb"[^,]*"] * self.width
        patterns[self.click] = _LABEL
        patterns[self.purchase] = _LABEL
        patterns[self.domain] = _INTEGER
        for index in self.tokens:
            patterns[index] = _INTEGER
        for index in self.dense:
            patterns[index] = _NUMBER
        self.line_re = re.compile(b",".join(patterns))

    def classify(self, cells):
        """Return the bad-row kind of a line that failed the line pattern."""
        if len(cells) < self.width:
            return "truncated_line"
        if len(cells) > self.width:
            return "too_many_columns"
        if cells[self.click] not in _LABELS or cells[self.purchase] not in _LABELS:
            return "invalid_label"
        if re.fullmatch(_INTEGER, cells[self.domain]) is None:
            return "missing_domain"
        return "invalid_value"


def processed_columns(dense_fields):
    """Return the ``(name, type)`` columns written from the processed layout."""
    columns = [
        (LABEL_COLUMN, "float"),
        (PURCHASE_COLUMN, "float"),
        (DOMAIN_COLUMN, "token"),
        (ITEM_COLUMN, "token"),
    ]
    columns += [(feature_column(field), "token") for field in AD_FIELD_IDS]
    columns.append((USER_COLUMN, "token"))
    columns += [(feature_column(field), "token") for field in USER_PROFILE_FIELD_IDS + BEHAVIOUR_FIELD_IDS]
    columns += [(dense_column(field), "float") for field in dense_fields]
    return columns


def convert_processed_rows(lines, numbers, layout, out, record_bad):
    """Append the atomic line of each valid processed row to ``out``."""
    match_line = layout.line_re.fullmatch
    click, purchase, domain_at = layout.click, layout.purchase, layout.domain
    tokens, dense = layout.tokens, layout.dense
    blank_zero = _ZERO_TO_EMPTY.get
    for line, number in zip(lines, numbers):
        cells = line.split(b",")
        if match_line(line) is None:
            record_bad(layout.classify(cells), number)
            continue
        domain = cells[domain_at]
        if domain == b"0":
            record_bad("missing_domain", number)
            continue
        row = [cells[click], cells[purchase], domain]
        row += [blank_zero(cells[i], cells[i]) for i in tokens]
        row += [cells[i] for i in dense]
        out.append(_TAB.join(row))


class ProcessedConverter:
    """Convert one folder of processed Ali-CCP CSV files; call :meth:`run`."""

    def __init__(self, options):
        if not options.name or "/" in options.name or options.name in (".", ".."):
            raise ValueError(f"invalid data set name {options.name!r}; use a plain folder name such as 'ali-ccp'")
        self.options = options
        self.bad_rows = BadRowLog(options.strict)
        self.rows_read = {}
        self.rows_written = Counter()

    def run(self):
        """Convert the three files and write the atomic files and property file atomically."""
        options = self.options
        started = time.perf_counter()
        inputs = find_processed_inputs(options.input_dir)
        dataset_dir = Path(options.output_dir) / options.name
        properties_path = Path(options.properties_path or default_properties_path(options.name))
        dense_fields = None
        with AtomicOutputSet() as outputs:
            for split in SPLITS:
                handle = outputs.open(dataset_dir / f"{options.name}.{split}.inter", "wb", buffering=1 << 22)
                dense_fields = self._convert_file(inputs[split], split, handle, dense_fields)
            columns = processed_columns(dense_fields)
            properties = self._properties_text(columns, dense_fields, dataset_dir, properties_path)
            outputs.open(properties_path).write(properties)
        self.bad_rows.log_counts()
        return ConversionSummary(
            layout="processed",
            dataset_dir=str(dataset_dir),
            properties_path=str(properties_path),
            rows_written={split: self.rows_written[split] for split in SPLITS},
            rows_read=dict(self.rows_read),
            bad_rows=self.bad_rows.totals(),
            bad_rows_by_file={label: dict(sorted(counts.items())) for label, counts in self.bad_rows.by_file.items()},
            seconds=time.perf_counter() - started,
        )

    def _convert_file(self, input_file, split, handle, dense_fields):
        label = input_file.label
        bad_rows = self.bad_rows

        def record_bad(kind, number):
            bad_rows.record(kind, label, number)

        logger.info("Converting %s", label)
        layout = None
        out = []
        with read_lines(input_file, CLICK.encode(), header_required=True) as (reader, chunks):
            bar = tqdm(desc=input_file.name, unit=" rows", unit_scale=True, disable=None if self.options.progress is None else not self.options.progress)
            with bar:
                for lines, numbers in chunks:
                    if layout is None:
                        layout = _Layout(reader.header, label, dense_fields)
                        handle.write(atomic_header(processed_columns(layout.dense_fields)).encode())
                    convert_processed_rows(lines, numbers, layout, out, record_bad)
                    if out:
                        handle.write(_NEWLINE.join(out))
                        handle.write(_NEWLINE)
                        self.rows_written[split] += len(out)
                        out.clear()
                    bar.update(len(lines))
            if layout is None:
                if reader.header is None:
                    raise ValueError(f"{label} is empty; it needs a header line and data rows")
                layout = _Layout(reader.header, label, dense_fields)
                handle.write(atomic_header(processed_columns(layout.dense_fields)).encode())
        self.rows_read[label] = reader.data_lines
        return layout.dense_fields

    def _properties_text(self, columns, dense_fields, dataset_dir, properties_path):
        options = self.options
        properties = dataset_properties(
            data_path_text(options.output_dir),
            columns,
            seq_len={},
            numerical_features=[dense_column(field) for field in dense_fields],
        )
        command = command_line("processed", INPUT_PLACEHOLDER, options.output_dir, options.name, properties_path)
        comment = properties_comment(command, INPUT_PLACEHOLDER, "processed Ali-CCP CSV files", dataset_dir)
        return properties_text(properties, comment)


def convert_processed(options):
    """Convert a folder of processed Ali-CCP CSV files; return a :class:`ConversionSummary`."""
    return ProcessedConverter(options).run()
