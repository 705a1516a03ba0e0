"""Build multi-domain MovieLens-100k as RecBole atomic files for click-through-rate models.

Each rating becomes one labelled interaction: ``label`` is 1.0 when the rating is 4 or 5
and 0.0 otherwise, and the rating itself is not written because it would give the label
away. The domain of an interaction is the age group of its user (``under25`` for ages
below 25, ``25to34`` and ``35plus``). The user's raw ``age`` is dropped from every output
file: it defines the domain exactly, so a domain classifier that could read it would be
trivially perfect.

The interactions of each domain are split at random into training, validation and test
files (80/10/10 by default). The split depends only on ``--seed`` and on each
(user, item) pair, so every model and every training seed gets the same split, and the
same arguments give byte-identical files. ``--domain-keep`` thins the training
interactions of one domain to create an imbalance on purpose and leaves validation and
test untouched.

The source is the ml-100k copy that ships with RecBole (``ml-100k.inter``,
``ml-100k.user``, ``ml-100k.item``) or a folder containing either those files or the
GroupLens originals (``u.data``, ``u.user``, ``u.item``). Besides the atomic files the
command writes the RecBole dataset property file that loads them.

Example::

    python -m dataset_prep.movielens --preset ml-100k-md-sparse
"""

import argparse
import hashlib
import importlib.util
import logging
import math
import numbers
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from dataset_prep.atomic import AtomicOutputSet, atomic_header, write_properties

logger = logging.getLogger(__name__)

DEFAULT_NAME = "ml-100k-md"
DEFAULT_OUTPUT_DIR = "dataset/"
DEFAULT_SEED = 2020
DEFAULT_SPLIT = (0.8, 0.1, 0.1)
DEFAULT_PROPERTIES_DIR = Path("properties") / "dataset"

SPLITS = ("train", "valid", "test")
DOMAINS = ("under25", "25to34", "35plus")
POSITIVE_MIN_RATING = 4.0

# Options of each named dataset, as keyword arguments of prepare_movielens.
PRESETS = {
    "ml-100k-md": {"domain_keep": {}},
    "ml-100k-md-sparse": {"domain_keep": {"under25": 0.1}},
}

INTER_COLUMNS = (
    ("user_id", "token"),
    ("item_id", "token"),
    ("label", "float"),
    ("domain_id", "token"),
)
USER_COLUMNS = (
    ("user_id", "token"),
    ("gender", "token"),
    ("occupation", "token"),
    ("zip_region", "token"),
)
ITEM_COLUMNS = (
    ("item_id", "token"),
    ("release_year", "token"),
    ("class", "token_seq"),
)

ATOMIC_SOURCE_FILES = ("ml-100k.inter", "ml-100k.user", "ml-100k.item")
GROUPLENS_SOURCE_FILES = ("u.data", "u.user", "u.item")
# Genre flag columns of u.item, in the order of the GroupLens README and u.genre.
GROUPLENS_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)


class SourceFormatError(ValueError):
    """A source file that cannot be read as MovieLens-100k, with its file and line."""


@dataclass(frozen=True)
class PrepSummary:
    """Outcome of :func:`prepare_movielens`.

    ``rows`` and ``positives`` map each split name to ``{domain token: count}``.
    """

    dataset_dir: Path
    properties_path: Path
    rows: dict
    positives: dict

    def positive_rate(self, split, domain):
        """Return the share of positive labels of one split and domain (NaN if empty)."""
        rows = self.rows[split][domain]
        return self.positives[split][domain] / rows if rows else math.nan


@dataclass(frozen=True)
class _User:
    age: int
    gender: str
    occupation: str
    zip_code: str


def age_group(age):
    """Return the domain token of a user of ``age`` years."""
    if age < 25:
        return "under25"
    if age < 35:
        return "25to34"
    return "35plus"


def default_source_dir():
    """Return the ml-100k folder that ships inside the installed RecBole package."""
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "RecBole is not installed, so its ml-100k copy is missing: "
            "install recbole or pass --source DIR"
        )
    return Path(spec.submodule_search_locations[0]) / "dataset_example" / "ml-100k"


def default_properties_path(name):
    """Return ``properties/dataset/<name>.yaml``, relative to the current folder."""
    return DEFAULT_PROPERTIES_DIR / f"{name}.yaml"


def parse_domain_keep(text):
    """Parse one ``TOKEN=FRACTION`` value of ``--domain-keep`` into ``(token, fraction)``."""
    token, separator, fraction_text = text.partition("=")
    token = token.strip()
    if not separator:
        problem = "expected TOKEN=FRACTION, for example under25=0.1"
    else:
        try:
            fraction = float(fraction_text)
        except ValueError:
            problem = f"the fraction {fraction_text.strip()!r} is not a number"
        else:
            problem = _domain_keep_problem(token, fraction)
    if problem:
        raise ValueError(f"invalid --domain-keep value {text!r}: {problem}")
    return token, fraction


def _check_domain_keep(domain_keep):
    for token, fraction in domain_keep.items():
        problem = _domain_keep_problem(token, fraction)
        if problem:
            raise ValueError(f"invalid --domain-keep value '{token}={fraction}': {problem}")


def _domain_keep_problem(token, fraction):
    """Return why ``token``/``fraction`` is not a valid thinning, or None if it is."""
    if token not in DOMAINS:
        return f"unknown domain {token!r}. Use one of {', '.join(DOMAINS)}"
    if not isinstance(fraction, numbers.Real) or not 0.0 < fraction <= 1.0:
        return (
            f"the fraction {fraction!r} is outside (0, 1]. Use for example {token}=0.1 "
            "to keep 10 % of the domain's training rows"
        )
    return None


def _check_split(split):
    fractions = tuple(split)
    if len(fractions) != len(SPLITS) or any(not 0.0 < f < 1.0 for f in fractions):
        raise ValueError(
            f"invalid --split {fractions!r}: give three fractions in (0, 1) for "
            "train, valid and test, for example 0.8 0.1 0.1"
        )
    if not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise ValueError(
            f"invalid --split {fractions!r}: the fractions add up to {sum(fractions):g}, "
            "but they must add up to 1"
        )
    return fractions


def _read_rows(path, separator, field_count, encoding="utf-8", skip_header=False):
    """Yield ``(line number, fields)`` for each non-blank line of ``path``.

    Raises:
        SourceFormatError: when a line does not have ``field_count`` fields.
    """
    with open(path, encoding=encoding, newline="") as handle:
        for line_number, line in enumerate(handle, start=1):
            if skip_header and line_number == 1:
                continue
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split(separator)
            if len(fields) != field_count:
                raise SourceFormatError(
                    f"{path}, line {line_number}: expected {field_count} fields separated "
                    f"by {separator!r}, found {len(fields)} in {_shorten(line)!r}"
                )
            yield line_number, fields


def _shorten(text, limit=80):
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _atomic_column_positions(path, required):
    """Map each required field name to its column in the header of atomic file ``path``."""
    with open(path, encoding="utf-8", newline="") as handle:
        header = handle.readline().rstrip("\r\n")
    names = [column.split(":", 1)[0] for column in header.split("\t")]
    missing = [name for name in required if name not in names]
    if missing:
        raise SourceFormatError(
            f"{path}, line 1: header {_shorten(header)!r} lacks the column(s) "
            f"{', '.join(missing)}. Expected name:type columns {', '.join(required)}"
        )
    return len(names), {name: names.index(name) for name in required}


def _parse_rating(path, line_number, text):
    try:
        rating = float(text)
    except ValueError:
        rating = math.nan
    if not math.isfinite(rating):
        raise SourceFormatError(f"{path}, line {line_number}: rating {text!r} is not a number")
    return rating


def _parse_age(path, line_number, text):
    try:
        age = int(text)
    except ValueError:
        age = -1
    if age < 0:
        raise SourceFormatError(
            f"{path}, line {line_number}: invalid age {text!r}, expected a whole number "
            ">= 0 because the age defines the user's domain"
        )
    return age


def _add_unique(table, key, value, path, line_number, what):
    if key in table:
        raise SourceFormatError(f"{path}, line {line_number}: duplicate {what} {key!r}")
    table[key] = value


def _read_atomic_source(folder):
    inter_path, user_path, item_path = (folder / name for name in ATOMIC_SOURCE_FILES)

    users = {}
    count, at = _atomic_column_positions(
        user_path, ("user_id", "age", "gender", "occupation", "zip_code")
    )
    for line_number, fields in _read_rows(user_path, "\t", count, skip_header=True):
        user = _User(
            age=_parse_age(user_path, line_number, fields[at["age"]]),
            gender=fields[at["gender"]],
            occupation=fields[at["occupation"]],
            zip_code=fields[at["zip_code"]],
        )
        _add_unique(users, fields[at["user_id"]], user, user_path, line_number, "user_id")

    items = {}
    count, at = _atomic_column_positions(item_path, ("item_id", "release_year", "class"))
    for line_number, fields in _read_rows(item_path, "\t", count, skip_header=True):
        item = (fields[at["release_year"]], fields[at["class"]])
        _add_unique(items, fields[at["item_id"]], item, item_path, line_number, "item_id")

    ratings = []
    count, at = _atomic_column_positions(inter_path, ("user_id", "item_id", "rating"))
    for line_number, fields in _read_rows(inter_path, "\t", count, skip_header=True):
        rating = _parse_rating(inter_path, line_number, fields[at["rating"]])
        ratings.append((line_number, fields[at["user_id"]], fields[at["item_id"]], rating))

    return inter_path, user_path, ratings, users, items


def _read_grouplens_source(folder):
    data_path, user_path, item_path = (folder / name for name in GROUPLENS_SOURCE_FILES)

    users = {}
    for line_number, fields in _read_rows(user_path, "|", 5, encoding="latin-1"):
        user_id, age, gender, occupation, zip_code = fields
        user = _User(_parse_age(user_path, line_number, age), gender, occupation, zip_code)
        _add_unique(users, user_id, user, user_path, line_number, "user id")

    items = {}
    field_count = 5 + len(GROUPLENS_GENRES)
    for line_number, fields in _read_rows(item_path, "|", field_count, encoding="latin-1"):
        flags = fields[5:]
        if any(flag not in ("0", "1") for flag in flags):
            raise SourceFormatError(
                f"{item_path}, line {line_number}: genre flags must be 0 or 1, "
                f"found {'|'.join(flags)!r}"
            )
        genres = " ".join(genre for genre, flag in zip(GROUPLENS_GENRES, flags) if flag == "1")
        # Release dates look like 01-Jan-1995. An empty date gives an empty year.
        release_year = fields[2][-4:]
        _add_unique(items, fields[0], (release_year, genres), item_path, line_number, "item id")

    ratings = []
    for line_number, fields in _read_rows(data_path, "\t", 4, encoding="latin-1"):
        rating = _parse_rating(data_path, line_number, fields[2])
        ratings.append((line_number, fields[0], fields[1], rating))

    return data_path, user_path, ratings, users, items


def read_source(folder):
    """Read users, items and ratings from a MovieLens-100k folder in either layout.

    Returns:
        tuple: ``(ratings, users, items)`` where ``ratings`` is a list of
        ``(user_id, item_id, rating, domain)`` in file order, ``users`` maps user id to
        ``(gender, occupation, zip_code)`` and ``items`` maps item id to
        ``(release_year, genres)``.

    Raises:
        FileNotFoundError: when the folder contains neither layout completely.
        SourceFormatError: on a malformed row, a rating that is not a number, a missing
            age or a rating by a user absent from the user file.
    """
    folder = Path(folder)
    if all((folder / name).is_file() for name in ATOMIC_SOURCE_FILES):
        inter_path, user_path, raw_ratings, raw_users, items = _read_atomic_source(folder)
    elif all((folder / name).is_file() for name in GROUPLENS_SOURCE_FILES):
        inter_path, user_path, raw_ratings, raw_users, items = _read_grouplens_source(folder)
    else:
        missing = [name for name in ATOMIC_SOURCE_FILES if not (folder / name).is_file()]
        raise FileNotFoundError(
            f"missing MovieLens-100k source file(s) {', '.join(missing)} in {folder}: "
            f"expected the RecBole atomic files {', '.join(ATOMIC_SOURCE_FILES)} or the "
            f"GroupLens files {', '.join(GROUPLENS_SOURCE_FILES)}"
        )

    ratings = []
    for line_number, user_id, item_id, rating in raw_ratings:
        user = raw_users.get(user_id)
        if user is None:
            raise SourceFormatError(
                f"{inter_path}, line {line_number}: user {user_id!r} is not in "
                f"{user_path}, so the domain (age group) of the rating is unknown"
            )
        ratings.append((user_id, item_id, rating, age_group(user.age)))

    users = {
        user_id: (user.gender, user.occupation, user.zip_code)
        for user_id, user in raw_users.items()
    }
    unknown_items = {rating[1] for rating in ratings} - items.keys()
    if unknown_items:
        logger.warning(
            "%d rated item(s) are missing from the item file and get no item features, "
            "for example %s",
            len(unknown_items),
            sorted(unknown_items)[0],
        )
    return ratings, users, items


def _order_key(seed, purpose, user_id, item_id):
    # The order comes from a hash of the seed and the pair rather than from a random
    # generator, so it depends on neither the library version nor the source row order.
    text = f"{seed}\t{purpose}\t{user_id}\t{item_id}"
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


def _rounded(count, fraction):
    return int(math.floor(count * fraction + 0.5))


def split_ratings(ratings, seed, split, domain_keep):
    """Assign each rating index to a split, per domain, and thin training rows.

    Args:
        ratings (list): ``(user_id, item_id, rating, domain)`` tuples.
        seed (int): seed of the random order.
        split (tuple): train, valid and test fractions.
        domain_keep (dict): domain token to the fraction of its training rows to keep.

    Returns:
        dict: split name to the sorted list of rating indices in it.
    """
    by_domain = {domain: [] for domain in DOMAINS}
    for index, rating in enumerate(ratings):
        by_domain[rating[3]].append(index)

    parts = {name: [] for name in SPLITS}
    for domain, indices in by_domain.items():
        indices.sort(key=lambda i: (_order_key(seed, "split", *ratings[i][:2]), i))
        train_end = _rounded(len(indices), split[0])
        valid_end = train_end + _rounded(len(indices), split[1])
        train = indices[:train_end]
        parts["valid"].extend(indices[train_end:valid_end])
        parts["test"].extend(indices[valid_end:])

        fraction = domain_keep.get(domain, 1.0)
        if fraction < 1.0 and train:
            train.sort(key=lambda i: (_order_key(seed, "keep", *ratings[i][:2]), i))
            train = train[: max(1, _rounded(len(train), fraction))]
        parts["train"].extend(train)

    for indices in parts.values():
        indices.sort()
    return parts


def _write_atomic_files(dataset_dir, name, ratings, parts, users, items):
    with AtomicOutputSet() as outputs:
        for split_name in SPLITS:
            handle = outputs.open(dataset_dir / f"{name}.{split_name}.inter")
            handle.write(atomic_header(INTER_COLUMNS))
            for index in parts[split_name]:
                user_id, item_id, rating, domain = ratings[index]
                label = "1.0" if rating >= POSITIVE_MIN_RATING else "0.0"
                handle.write(f"{user_id}\t{item_id}\t{label}\t{domain}\n")

        handle = outputs.open(dataset_dir / f"{name}.user")
        handle.write(atomic_header(USER_COLUMNS))
        for user_id, (gender, occupation, zip_code) in users.items():
            handle.write(f"{user_id}\t{gender}\t{occupation}\t{zip_code[:1]}\n")

        handle = outputs.open(dataset_dir / f"{name}.item")
        handle.write(atomic_header(ITEM_COLUMNS))
        for item_id, (release_year, genres) in items.items():
            handle.write(f"{item_id}\t{release_year}\t{genres}\n")


def _data_path_text(output_dir):
    return Path(output_dir).as_posix().rstrip("/") + "/"


def build_properties(output_dir):
    """Return the RecBole dataset properties of a prepared multi-domain MovieLens dataset."""
    return {
        "data_path": _data_path_text(output_dir),
        "benchmark_filename": list(SPLITS),
        "field_separator": "\t",
        "seq_separator": " ",
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "LABEL_FIELD": "label",
        "RATING_FIELD": None,
        "TIME_FIELD": None,
        "DOMAIN_FIELD": "domain_id",
        "load_col": {
            "inter": [column for column, _ in INTER_COLUMNS],
            "user": [column for column, _ in USER_COLUMNS],
            "item": [column for column, _ in ITEM_COLUMNS],
        },
        "eval_args": {"mode": "labeled", "order": "RO", "group_by": None},
        "train_neg_sample_args": None,
        "metrics": ["AUC", "LogLoss"],
        "valid_metric": "AUC",
        "dominant_domains": "auto",
        "threshold": None,
        "normalize_all": None,
    }


def command_line(name, source, output_dir, domain_keep, seed, split, properties_path):
    """Return the shortest command line that reproduces a preparation with these options."""
    words = ["python", "-m", "dataset_prep.movielens"]
    if name in PRESETS and domain_keep == PRESETS[name]["domain_keep"]:
        words += ["--preset", name]
    else:
        words += ["--name", name]
        for token, fraction in domain_keep.items():
            words += ["--domain-keep", f"{token}={fraction:g}"]
    if source is not None:
        words += ["--source", str(source)]
    if _data_path_text(output_dir) != DEFAULT_OUTPUT_DIR:
        words += ["--output-dir", str(output_dir)]
    if seed != DEFAULT_SEED:
        words += ["--seed", str(seed)]
    if tuple(split) != DEFAULT_SPLIT:
        words += ["--split", *(f"{fraction:g}" for fraction in split)]
    if Path(properties_path).resolve() != default_properties_path(name).resolve():
        words += ["--properties-path", str(properties_path)]
    return shlex.join(words)


def _summarise(ratings, parts):
    rows = {split_name: dict.fromkeys(DOMAINS, 0) for split_name in SPLITS}
    positives = {split_name: dict.fromkeys(DOMAINS, 0) for split_name in SPLITS}
    for split_name, indices in parts.items():
        for index in indices:
            _, _, rating, domain = ratings[index]
            rows[split_name][domain] += 1
            positives[split_name][domain] += rating >= POSITIVE_MIN_RATING
    return rows, positives


def _log_summary(summary):
    logger.info("%-6s %-8s %7s %14s", "split", "domain", "rows", "positive rate")
    for split_name in SPLITS:
        for domain in DOMAINS:
            logger.info(
                "%-6s %-8s %7d %14.3f",
                split_name,
                domain,
                summary.rows[split_name][domain],
                summary.positive_rate(split_name, domain),
            )


def prepare_movielens(
    name=DEFAULT_NAME,
    source=None,
    output_dir=DEFAULT_OUTPUT_DIR,
    domain_keep=None,
    seed=DEFAULT_SEED,
    split=DEFAULT_SPLIT,
    properties_path=None,
):
    """Write the atomic files of multi-domain MovieLens-100k and their property file.

    The preset names in :data:`PRESETS` are not checked here, so a caller can write
    different data under a preset's name. The command line rejects that.

    Args:
        name (str): dataset name. Files go to ``<output_dir>/<name>/<name>.*``.
        source (str or Path): folder with the ml-100k files (default: RecBole's copy).
        output_dir (str or Path): parent folder of the dataset folder, written as
            ``data_path`` into the property file.
        domain_keep (dict): domain token to the fraction in (0, 1] of its training
            interactions to keep.
        seed (int): seed of the split and of the thinning.
        split (tuple): train, valid and test fractions, adding up to 1.
        properties_path (str or Path): property file to write (default:
            ``properties/dataset/<name>.yaml`` relative to the current folder).

    Returns:
        PrepSummary: rows and positive labels per split and domain.

    Raises:
        ValueError: on an invalid ``domain_keep`` or ``split``.
        FileNotFoundError: when a source file is missing.
        SourceFormatError: when a source file is malformed.
    """
    domain_keep = dict(domain_keep or {})
    _check_domain_keep(domain_keep)
    split = _check_split(split)
    if properties_path is None:
        properties_path = default_properties_path(name)
    properties_path = Path(properties_path)
    source_dir = Path(source) if source is not None else default_source_dir()

    ratings, users, items = read_source(source_dir)
    parts = split_ratings(ratings, seed, split, domain_keep)

    dataset_dir = Path(output_dir) / name
    _write_atomic_files(dataset_dir, name, ratings, parts, users, items)
    command = command_line(name, source, output_dir, domain_keep, seed, split, properties_path)
    write_properties(
        properties_path,
        build_properties(output_dir),
        f"Written by: {command}\nRe-run that command instead of editing this file.",
    )

    rows, positives = _summarise(ratings, parts)
    summary = PrepSummary(dataset_dir, properties_path, rows, positives)
    _log_summary(summary)
    return summary


def dataset_files(name, data_path):
    """Return the paths of the atomic files of dataset ``name`` under ``data_path``."""
    dataset_dir = Path(data_path) / name
    suffixes = [f"{split_name}.inter" for split_name in SPLITS] + ["user", "item"]
    return [dataset_dir / f"{name}.{suffix}" for suffix in suffixes]


def ensure_prepared(name, data_path=DEFAULT_OUTPUT_DIR, properties_dir=DEFAULT_PROPERTIES_DIR):
    """Prepare preset ``name`` unless its files exist already.

    The dataset is written when any of its atomic files under ``data_path/name/`` or its
    property file ``properties_dir/name.yaml`` is missing, and then both are rewritten.

    Returns:
        bool: True if the dataset was prepared now, False if it was complete already.

    Raises:
        ValueError: when ``name`` is not a key of :data:`PRESETS`.
    """
    if name not in PRESETS:
        raise ValueError(
            f"unknown MovieLens dataset {name!r}: the presets are {', '.join(PRESETS)}"
        )
    properties_path = Path(properties_dir) / f"{name}.yaml"
    paths = dataset_files(name, data_path) + [properties_path]
    if all(path.is_file() for path in paths):
        return False
    logger.info("Preparing dataset %s in %s", name, Path(data_path) / name)
    prepare_movielens(
        name=name, output_dir=data_path, properties_path=properties_path, **PRESETS[name]
    )
    return True


def build_parser():
    """Return the argument parser of the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m dataset_prep.movielens",
        description=(
            "Write MovieLens-100k as multi-domain RecBole atomic files: label = rating >= 4, "
            "domain = user age group (under25, 25to34, 35plus), a seeded per-domain "
            "train/valid/test split, and the RecBole property file. The raw age is not "
            "written, because it defines the domain exactly."
        ),
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="prepare a named dataset with its fixed options (ml-100k-md: natural domain "
        "shares, ml-100k-md-sparse: 10 %% of the under25 training rows). "
        "Cannot be combined with --name or --domain-keep.",
    )
    parser.add_argument(
        "--name",
        help=f"dataset name, used for the folder and file names (default {DEFAULT_NAME}). "
        "A preset name always gets that preset's options.",
    )
    parser.add_argument(
        "--source",
        type=Path,
        metavar="DIR",
        help="folder with ml-100k.inter, ml-100k.user and ml-100k.item, or with the "
        "GroupLens u.data, u.user and u.item (default: the copy inside RecBole)",
    )
    parser.add_argument(
        "--output-dir",
        default=DEFAULT_OUTPUT_DIR,
        metavar="DIR",
        help="parent folder of the dataset folder, also written as data_path into the "
        f"property file (default {DEFAULT_OUTPUT_DIR})",
    )
    parser.add_argument(
        "--domain-keep",
        action="append",
        default=[],
        metavar="TOKEN=FRACTION",
        help="keep only FRACTION, in (0, 1], of the training interactions of domain TOKEN "
        f"({', '.join(DOMAINS)}). Validation and test are untouched. Repeatable.",
    )
    parser.add_argument(
        "--seed",
        type=int,
        metavar="N",
        default=DEFAULT_SEED,
        help=f"seed of the split and of --domain-keep (default {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--split",
        type=float,
        nargs=3,
        default=list(DEFAULT_SPLIT),
        metavar=("TRAIN", "VALID", "TEST"),
        help="fractions of each domain's interactions in train, valid and test, adding up "
        "to 1 (default 0.8 0.1 0.1)",
    )
    parser.add_argument(
        "--properties-path",
        type=Path,
        metavar="PATH",
        help="RecBole property file to write (default properties/dataset/<name>.yaml, "
        "relative to the current folder)",
    )
    return parser


def _options_from_args(args):
    if args.preset is not None:
        if args.name is not None or args.domain_keep:
            raise ValueError(
                f"--preset {args.preset} sets the name and --domain-keep itself, so "
                "drop --name and --domain-keep, or drop --preset"
            )
        name = args.preset
    else:
        name = args.name or DEFAULT_NAME

    domain_keep = {}
    for text in args.domain_keep:
        token, fraction = parse_domain_keep(text)
        if token in domain_keep:
            raise ValueError(f"--domain-keep names domain {token!r} twice. Give it once")
        domain_keep[token] = fraction

    if name in PRESETS:
        preset_keep = PRESETS[name]["domain_keep"]
        if not args.domain_keep:
            domain_keep = dict(preset_keep)
        custom = (
            domain_keep != preset_keep
            or args.seed != DEFAULT_SEED
            or tuple(args.split) != DEFAULT_SPLIT
        )
        if custom:
            raise ValueError(
                f"{name!r} is a preset name and always means the same data, so "
                "pass another --name for custom --domain-keep, --seed or --split"
            )

    return {
        "name": name,
        "source": args.source,
        "output_dir": args.output_dir,
        "domain_keep": domain_keep,
        "seed": args.seed,
        "split": tuple(args.split),
        "properties_path": args.properties_path,
    }


def main(argv=None):
    """Run the command line and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        options = _options_from_args(args)
        summary = prepare_movielens(**options)
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))
    counts = ", ".join(f"{s} {sum(summary.rows[s].values())}" for s in SPLITS)
    print(f"Wrote {summary.dataset_dir} ({counts} rows) and {summary.properties_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
