"""Convert the raw Tianchi Ali-CCP files to RecBole atomic files, streaming the skeleton rows.

Input, per split (``train``, ``test``): ``common_features_<split>.csv`` with the user-side
features of each ``common_feature_index``, and ``sample_skeleton_<split>.csv`` with one row
per impression and its ad-side features. A feature list joins features with ``\\x01``; one
feature is ``field_id \\x02 feature_id \\x03 value``.

The common file of a split is read first into a table from ``common_feature_index`` to the
finished, tab-joined text of the user columns. The skeleton file is then streamed in chunks
of lines. Each row is written as its labels, its ad columns and the looked-up user text.
Memory is therefore bounded by the common table and a few chunks, not by the number of
skeleton rows.

The official test file is divided into the ``valid`` and ``test`` outputs by a per-row
draw from a generator seeded with ``seed``. ``sample_rate`` and ``max_rows`` are applied
per output split and per domain (field 301). A first, counting pass over the skeleton file
finds the domain of each row with one regex search and counts the rows per domain. The
number of rows to keep is divided among the domains in proportion to those counts. The
second pass then keeps exactly that many rows of each domain by sequential selection
sampling, so every row of a domain has the same chance.

NOTE: with sampling, only the selected rows are parsed, so bad rows among the others are
not counted. The quotas include bad rows, so a split ends up short of its quota by the
number of bad rows selected.
"""

import dataclasses
import logging
import re
import time
from collections import Counter, defaultdict
from operator import itemgetter
from pathlib import Path

import numpy as np
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
    USER_COLUMN,
    USER_ID_FIELD_ID,
    USER_PROFILE_FIELD_IDS,
    BadRowLog,
    ConversionSummary,
    command_line,
    data_path_text,
    dataset_properties,
    default_properties_path,
    feature_column,
    properties_comment,
)
from dataset_prep.aliccp_io import BackgroundWriter, find_input, read_lines
from dataset_prep.atomic import AtomicOutputSet, atomic_header, properties_text

logger = logging.getLogger(__name__)

_NUMBER = rb"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_FEATURE = rb"[0-9A-Za-z_]+\x02[0-9]+\x03" + _NUMBER
FEATURE_LIST_RE = re.compile(_FEATURE + rb"(?:\x01" + _FEATURE + rb")*")
DOMAIN_RE = re.compile(rb"[,\x01]301\x02([0-9]+)\x03")
_SEPARATORS_TO_SOH = bytes.maketrans(b"\x02\x03", b"\x01\x01")
_LABELS = frozenset((b"0", b"1"))
_TAB = b"\t"

_AD_KEYS = tuple(field.encode() for field in (DOMAIN_FIELD_ID, ITEM_ID_FIELD_ID) + AD_FIELD_IDS)
_USER_KEYS = tuple(field.encode() for field in (USER_ID_FIELD_ID,) + USER_PROFILE_FIELD_IDS)
# These patterns run on a feature list with "\x01" prepended, so every feature starts after
# "\x01". A literal first character lets the regex engine skip ahead quickly.
_USER_SINGLE_RE = re.compile(rb"\x01(" + b"|".join(_USER_KEYS) + rb")\x02([0-9]+)\x03")
_BEHAVIOUR_RES = tuple(
    re.compile(rb"\x01" + field.encode() + rb"\x02([0-9]+)\x03([^\x01]*)") for field in BEHAVIOUR_FIELD_IDS
)

INPUT_PLACEHOLDER = "RAW_FOLDER"
SKELETON_HEADER = b"sample_id"
COMMON_HEADER = b"common_feature_index"


def raw_columns():
    """Return the ``(name, type)`` columns of the atomic files written from the raw layout.

    The ad-side columns come first and the user-side ones last, so that each row is its
    ad part followed by the precomputed user text of its ``common_feature_index``.
    """
    columns = [
        (LABEL_COLUMN, "float"),
        (PURCHASE_COLUMN, "float"),
        (DOMAIN_COLUMN, "token"),
        (ITEM_COLUMN, "token"),
    ]
    columns += [(feature_column(field), "token") for field in AD_FIELD_IDS]
    columns.append((USER_COLUMN, "token"))
    columns += [(feature_column(field), "token") for field in USER_PROFILE_FIELD_IDS]
    columns += [(feature_column(field), "token_seq") for field in BEHAVIOUR_FIELD_IDS]
    return columns


@dataclasses.dataclass
class RawOptions:
    """Settings of a raw-layout conversion; the fields match the command-line options."""

    input_dir: Path
    output_dir: Path = Path(DEFAULT_OUTPUT_DIR)
    name: str = DEFAULT_NAME
    properties_path: Path = None
    seed: int = 2022
    max_seq_len: int = 50
    sample_rate: float = 1.0
    max_rows: int = None
    strict: bool = False
    progress: bool = None

    def validate(self):
        """Raise ``ValueError`` for a setting out of range."""
        if not 0.0 < self.sample_rate <= 1.0:
            raise ValueError(
                f"sample_rate must be in (0, 1], got {self.sample_rate}; pass e.g. 0.1 to keep 10 % of the rows"
            )
        if self.max_rows is not None and self.max_rows < 1:
            raise ValueError(f"max_rows must be a positive row count, got {self.max_rows}; leave it unset for no cap")
        if self.max_seq_len < 1:
            raise ValueError(f"max_seq_len must be at least 1, got {self.max_seq_len}")
        _validate_name(self.name)

    @property
    def sampling(self):
        """Whether rows are left out by ``sample_rate`` or ``max_rows``."""
        return self.sample_rate < 1.0 or self.max_rows is not None


def _validate_name(name):
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ValueError(f"invalid data set name {name!r}; use a plain folder name such as 'ali-ccp'")


def encode_user_features(features, max_seq_len):
    """Return the tab-joined user columns of one validated common feature list.

    Single-valued fields keep their first value. Each behaviour field lists its feature
    ids ordered by value, highest first, with ties in order of appearance, and keeps the
    first ``max_seq_len`` of them.
    """
    features = b"\x01" + features
    single = dict(reversed(_USER_SINGLE_RE.findall(features)))
    cells = [single.get(key, b"") for key in _USER_KEYS]
    for pattern in _BEHAVIOUR_RES:
        pairs = pattern.findall(features)
        values = [float(value) for _, value in pairs]
        # sorted() with reverse=True keeps equal values in their original order.
        order = sorted(range(len(pairs)), key=values.__getitem__, reverse=True)
        cells.append(b" ".join([pairs[k][0] for k in order[:max_seq_len]]))
    return _TAB.join(cells)


def load_common_features(input_file, max_seq_len, bad_rows, progress=None):
    """Read a common features file into a dict from index to encoded user columns.

    Args:
        input_file (InputFile): the ``common_features_<split>.csv`` file.
        max_seq_len (int): cap on the ids kept per behaviour field.
        bad_rows (BadRowLog): receives the rows that are skipped.
        progress (bool or None): show a progress bar; ``None`` shows it on a terminal only.

    Returns:
        tuple: the table and the number of data lines read.
    """
    table = {}
    label = input_file.label
    match_features = FEATURE_LIST_RE.fullmatch
    with read_lines(input_file, COMMON_HEADER) as (reader, chunks):
        bar = tqdm(desc=f"common {input_file.name}", unit=" rows", unit_scale=True, disable=_bar_disabled(progress))
        with bar:
            for lines, numbers in chunks:
                for line, number in zip(lines, numbers):
                    parts = line.split(b",", 2)
                    if len(parts) != 3:
                        bad_rows.record("truncated_line", label, number)
                        continue
                    index, count, features = parts
                    if match_features(features) is None:
                        bad_rows.record("malformed_feature", label, number)
                        continue
                    if not _count_matches(count, features.count(b"\x01") + 1):
                        bad_rows.record("feature_count_mismatch", label, number)
                        continue
                    if index in table:
                        bad_rows.record("duplicate_common_index", label, number)
                        continue
                    table[index] = encode_user_features(features, max_seq_len)
                bar.update(len(lines))
    logger.info("Read %d common feature rows from %s", len(table), label)
    return table, reader.data_lines


def _count_matches(count, actual):
    try:
        return int(count) == actual
    except ValueError:
        return False


def _bar_disabled(progress):
    return None if progress is None else not progress


def convert_skeleton_rows(lines, numbers, targets, common, record_bad):
    """Append the atomic line of each valid skeleton row to its target list.

    Args:
        lines (list): skeleton lines as bytes, without line endings.
        numbers (iterable): their 1-based line numbers.
        targets (iterable): for each line, the list that receives its output line.
        common (dict): ``common_feature_index`` to encoded user columns.
        record_bad (callable): called as ``record_bad(kind, line_number)`` for a bad row.

    Returns:
        int: rows in which a single-valued field appeared more than once.
    """
    match_features = FEATURE_LIST_RE.fullmatch
    ad_values = itemgetter(*_AD_KEYS)
    lookup_user = common.get
    repeated = 0
    for line, number, out in zip(lines, numbers, targets):
        parts = line.split(b",", 5)
        if len(parts) != 6:
            record_bad("truncated_line", number)
            continue
        _, click, buy, index, count, features = parts
        if match_features(features) is None:
            record_bad("malformed_feature", number)
            continue
        flat = features.translate(_SEPARATORS_TO_SOH).split(b"\x01")
        feature_count = len(flat) // 3
        try:
            if int(count) != feature_count:
                record_bad("feature_count_mismatch", number)
                continue
        except ValueError:
            record_bad("feature_count_mismatch", number)
            continue
        if click not in _LABELS or buy not in _LABELS:
            record_bad("invalid_label", number)
            continue
        # Built from the reversed pairs so that the first value of a repeated field wins.
        ad = defaultdict(bytes, zip(flat[-3::-3], flat[-2::-3]))
        if len(ad) != feature_count:
            repeated += 1
        values = ad_values(ad)
        if not values[0]:
            record_bad("missing_domain", number)
            continue
        user = lookup_user(index)
        if user is None:
            record_bad("unknown_common_index", number)
            continue
        out.append(_TAB.join((click, buy, *values, user)))
    return repeated


class _SplitDraw:
    """Per-row valid/test assignment of the official test file, reproducible for a seed."""

    def __init__(self, seed):
        self._rng = np.random.default_rng([seed, 1])

    def test_flags(self, size):
        """Return ``size`` booleans, True for rows that go to ``test``, False for ``valid``."""
        return (self._rng.random(size) < 0.5).tolist()


def allocate_quotas(total, counts):
    """Divide ``total`` rows among strata in proportion to ``counts`` (largest remainder).

    Returns a dict from stratum to quota; quotas sum to ``min(total, sum(counts))`` and
    never exceed a stratum's count.
    """
    available = sum(counts.values())
    if total >= available:
        return dict(counts)
    exact = {stratum: total * count / available for stratum, count in counts.items()}
    quotas = {stratum: int(share) for stratum, share in exact.items()}
    left = total - sum(quotas.values())
    by_remainder = sorted(counts, key=lambda stratum: (quotas[stratum] - exact[stratum], repr(stratum)))
    for stratum in by_remainder[:left]:
        quotas[stratum] += 1
    return quotas


class _StratifiedSelection:
    """Keep exactly ``quota`` of the ``count`` rows of each stratum, uniformly at random.

    This is sequential selection sampling: a row is kept with probability
    (rows still needed) / (rows still to come) of its stratum. It needs the stratum counts
    up front, which the counting pass provides, and one uniform draw per data line.
    """

    def __init__(self, quotas, counts, seed, file_code):
        self._needed = dict(quotas)
        self._left = dict(counts)
        self._rng = np.random.default_rng([seed, 2, file_code])

    def keep(self, strata):
        """Return a keep flag per row; a row with stratum ``None`` is always kept."""
        draws = self._rng.random(len(strata)).tolist()
        needed = self._needed
        left = self._left
        flags = []
        for stratum, draw in zip(strata, draws):
            if stratum is None:
                flags.append(True)
                continue
            remaining = left.get(stratum, 0)
            if remaining <= 0:
                flags.append(False)
                continue
            chosen = draw * remaining < needed[stratum]
            left[stratum] = remaining - 1
            if chosen:
                needed[stratum] -= 1
            flags.append(chosen)
        return flags


def _domain_of(line):
    found = DOMAIN_RE.search(line)
    return None if found is None else found.group(1)


class RawConverter:
    """Convert one folder of raw Ali-CCP files; call :meth:`run`."""

    def __init__(self, options):
        options.validate()
        self.options = options
        self.bad_rows = BadRowLog(options.strict)
        self.rows_read = {}
        self.rows_written = Counter()
        self.rows_not_sampled = 0
        self.repeated_field_rows = 0

    def _inputs(self, split):
        archives = (f"sample_{split}.tar.gz", f"sample_{split}.tar")
        folder = self.options.input_dir
        common = find_input(folder, f"common_features_{split}.csv", archives)
        skeleton = find_input(folder, f"sample_skeleton_{split}.csv", archives)
        return common, skeleton

    def run(self):
        """Convert both splits and write the atomic files and property file atomically."""
        options = self.options
        started = time.perf_counter()
        inputs = {split: self._inputs(split) for split in ("train", "test")}
        dataset_dir = Path(options.output_dir) / options.name
        properties_path = Path(options.properties_path or default_properties_path(options.name))
        columns = raw_columns()
        header = atomic_header(columns).encode()
        with AtomicOutputSet() as outputs:
            handles = {}
            for split in ("train", "valid", "test"):
                path = dataset_dir / f"{options.name}.{split}.inter"
                handles[split] = outputs.open(path, "wb", buffering=1 << 22)
                handles[split].write(header)
            with BackgroundWriter() as writer:
                self._convert_split(inputs["train"], {"train": handles["train"]}, writer, file_code=1)
                test_handles = {"valid": handles["valid"], "test": handles["test"]}
                self._convert_split(inputs["test"], test_handles, writer, file_code=2)
            outputs.open(properties_path).write(self._properties_text(columns, dataset_dir, properties_path))
        self.bad_rows.log_counts()
        return ConversionSummary(
            layout="raw",
            dataset_dir=str(dataset_dir),
            properties_path=str(properties_path),
            rows_written={split: self.rows_written[split] for split in ("train", "valid", "test")},
            rows_read=dict(self.rows_read),
            bad_rows=self.bad_rows.totals(),
            bad_rows_by_file={label: dict(sorted(counts.items())) for label, counts in self.bad_rows.by_file.items()},
            rows_not_sampled=self.rows_not_sampled,
            repeated_field_rows=self.repeated_field_rows,
            seconds=time.perf_counter() - started,
        )

    def _properties_text(self, columns, dataset_dir, properties_path):
        options = self.options
        seq_len = {feature_column(field): options.max_seq_len for field in BEHAVIOUR_FIELD_IDS}
        properties = dataset_properties(data_path_text(options.output_dir), columns, seq_len, numerical_features=[])
        defaults = RawOptions(input_dir=options.input_dir)
        command = command_line(
            "raw",
            INPUT_PLACEHOLDER,
            options.output_dir,
            options.name,
            properties_path,
            [
                ("--seed", options.seed, defaults.seed),
                ("--max-seq-len", options.max_seq_len, defaults.max_seq_len),
                ("--sample-rate", options.sample_rate, defaults.sample_rate),
                ("--max-rows", options.max_rows, defaults.max_rows),
            ],
        )
        comment = properties_comment(command, INPUT_PLACEHOLDER, "raw Tianchi Ali-CCP files", dataset_dir)
        return properties_text(properties, comment)

    def _convert_split(self, files, handles, writer, file_code):
        """Convert one split's files; ``handles`` maps each output split to its open file."""
        common_file, skeleton_file = files
        options = self.options
        common, common_lines = load_common_features(common_file, options.max_seq_len, self.bad_rows, options.progress)
        self.rows_read[common_file.label] = common_lines
        selection = None
        total = None
        if options.sampling:
            selection, total = self._plan_selection(skeleton_file, handles, file_code)
        split_draw = _SplitDraw(options.seed) if "valid" in handles else None
        label = skeleton_file.label
        bad_rows = self.bad_rows

        def record_bad(kind, number):
            bad_rows.record(kind, label, number)

        logger.info("Converting %s", label)
        progress_off = _bar_disabled(options.progress)
        with read_lines(skeleton_file, SKELETON_HEADER) as (reader, chunks):
            with tqdm(desc=skeleton_file.name, total=total, unit=" rows", unit_scale=True, disable=progress_off) as bar:
                for lines, numbers in chunks:
                    chunk_size = len(lines)
                    outputs = {split: [] for split in handles}
                    if split_draw is None:
                        test_flags = None
                        targets = [outputs["train"]] * chunk_size
                    else:
                        test_flags = split_draw.test_flags(chunk_size)
                        routes = (outputs["valid"], outputs["test"])
                        targets = [routes[flag] for flag in test_flags]
                    if selection is not None:
                        lines, numbers, targets = self._select(selection, lines, numbers, targets, test_flags)
                    self.repeated_field_rows += convert_skeleton_rows(lines, numbers, targets, common, record_bad)
                    for split, rows in outputs.items():
                        if rows:
                            writer.write(handles[split], rows)
                            self.rows_written[split] += len(rows)
                    bar.update(chunk_size)
        self.rows_read[label] = reader.data_lines
        logger.info("Finished %s: %d data lines", label, reader.data_lines)

    def _select(self, selection, lines, numbers, targets, test_flags):
        """Return the lines, line numbers and targets of the rows that sampling keeps."""
        domains = [_domain_of(line) for line in lines]
        if test_flags is None:
            strata = domains
        else:
            strata = [None if domain is None else (flag, domain) for flag, domain in zip(test_flags, domains)]
        keep = selection.keep(strata)
        kept_indexes = [index for index, flag in enumerate(keep) if flag]
        self.rows_not_sampled += len(lines) - len(kept_indexes)
        kept_lines = [lines[i] for i in kept_indexes]
        return kept_lines, [numbers[i] for i in kept_indexes], [targets[i] for i in kept_indexes]

    def _plan_selection(self, skeleton_file, handles, file_code):
        """Count the skeleton rows per stratum and return the selection and the data line count.

        A stratum is the domain, or for the official test file the pair (goes to test,
        domain). Rows without a recognisable domain belong to no stratum. The main pass
        keeps them, parses them and counts them as bad.
        """
        options = self.options
        split_draw = _SplitDraw(options.seed) if "valid" in handles else None
        counts = Counter()
        logger.info("Counting rows per domain in %s for sampling", skeleton_file.label)
        with read_lines(skeleton_file, SKELETON_HEADER) as (reader, chunks):
            for lines, _ in chunks:
                domains = [_domain_of(line) for line in lines]
                if split_draw is None:
                    counts.update(domain for domain in domains if domain is not None)
                else:
                    flags = split_draw.test_flags(len(lines))
                    counts.update((flag, domain) for flag, domain in zip(flags, domains) if domain is not None)
        if split_draw is None:
            groups = {"train": counts}
        else:
            groups = {
                "valid": {stratum: count for stratum, count in counts.items() if not stratum[0]},
                "test": {stratum: count for stratum, count in counts.items() if stratum[0]},
            }
        quotas = {}
        for split, group in groups.items():
            available = sum(group.values())
            target = round(options.sample_rate * available)
            if options.max_rows is not None:
                target = min(target, options.max_rows)
            group_quotas = allocate_quotas(target, group)
            quotas.update(group_quotas)
            logger.info(
                "Sampling %s: keeping %d of %d rows, per domain %s",
                split,
                sum(group_quotas.values()),
                available,
                {_stratum_domain(stratum): quota for stratum, quota in sorted(group_quotas.items(), key=repr)},
            )
        return _StratifiedSelection(quotas, counts, options.seed, file_code), reader.data_lines


def _stratum_domain(stratum):
    domain = stratum[1] if isinstance(stratum, tuple) else stratum
    return domain.decode()


def convert_raw(options):
    """Convert a folder of raw Tianchi Ali-CCP files; return a :class:`ConversionSummary`."""
    return RawConverter(options).run()
