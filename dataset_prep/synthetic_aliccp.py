"""Generate synthetic Ali-CCP files in the raw Tianchi layout, for tests and benchmarks.

The output has the four files of the real download (``sample_skeleton_{train,test}.csv``
and ``common_features_{train,test}.csv``), plain, gzip-compressed or packed in
``sample_{train,test}.tar.gz``. It mimics the real data where the converter cares:

- field 301 (the domain) takes the feature ids 1, 2 and 3 in about 38 %, 0.75 % and 61 %
  of the rows, the shares of the full data set;
- each skeleton row has 9 to 10 ad-side features (item, category, shop, intention, brand,
  four combination fields, domain), an item always bringing the same category, shop,
  intention and brand;
- each user has one common feature row per split with the profile fields and 12 to 160
  behaviour values in total over the four behaviour fields, with repeated values so that
  ordering ties occur;
- clicks depend on the user, the item, the domain and whether the item's category is one
  of the user's favourites, so a model has something to learn.

Feature ids of different fields come from disjoint ranges, as in the real data, except
for field 301, whose ids are the domain numbers themselves. The output depends only on
the arguments. Bad rows of each kind the converter detects can be injected; their file
and line numbers are returned.
"""

import argparse
import dataclasses
import gzip
import logging
import shutil
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from dataset_prep.aliccp_schema import RAW_BAD_ROW_KINDS

logger = logging.getLogger(__name__)

DOMAIN_SHARES = {1: 0.378, 2: 0.0075, 3: 0.6145}
PROFILE_CARDINALITIES = {"121": 97, "122": 13, "124": 2, "125": 7, "126": 3, "127": 3, "128": 2, "129": 4}
BEHAVIOUR_FIELDS = ("109_14", "110_14", "127_14", "150_14")
BEHAVIOUR_SHARES = (0.4, 0.25, 0.2, 0.15)
BEHAVIOUR_VALUES = ("0.693147", "1.098612", "1.386294", "1.609438", "1.791759", "2.302585")
MIN_BEHAVIOUR_VALUES = 12
MAX_BEHAVIOUR_VALUES = 160
FIELD_ID_BASE = {
    "101": 0,
    "121": 1_000_000,
    "122": 1_000_200,
    "124": 1_000_400,
    "125": 1_000_600,
    "126": 1_000_800,
    "127": 1_001_000,
    "128": 1_001_200,
    "129": 1_001_400,
    "205": 2_000_000,
    "206": 3_000_000,
    "207": 3_100_000,
    "210": 3_600_000,
    "216": 3_700_000,
    "508": 4_000_000,
    "509": 4_200_000,
    "702": 4_400_000,
    "853": 4_600_000,
}
COMBINATION_SOURCES = {"508": "206", "509": "207", "702": "216", "853": "210"}
COMBINATION_CARDINALITY = 150_000
COMBINATION_PRESENCE = 0.9
BAD_ROW_KINDS = RAW_BAD_ROW_KINDS
UNKNOWN_COMMON_INDEX = "ffffffffffffffff"
SKELETON_HEADER = "sample_id,click,buy,common_feature_index,feature_num,feature_list\n"
COMMON_HEADER = "common_feature_index,feature_num,feature_list\n"
ROWS_PER_BATCH = 50_000


@dataclasses.dataclass
class BadLine:
    """One injected bad row: its kind, the CSV file name and its 1-based line number."""

    kind: str
    file: str
    line: int


@dataclasses.dataclass
class GeneratedData:
    """Output of :func:`generate`: the folder, its files and the injected bad rows."""

    folder: Path
    files: list
    bad_lines: list


def _feature(field, feature_id, value="1.0"):
    return f"{field}\x02{feature_id}\x03{value}"


class _World:
    """Items, users and their attributes shared by both splits."""

    def __init__(self, rng, rows, users):
        self.users = users
        self.items = max(200, rows // 20)
        self.categories = 600
        self.shops = max(50, self.items // 8)
        self.intentions = 400
        self.brands = 3000

        category_weights = 1.0 / np.arange(1, self.categories + 1) ** 0.9
        self.category_p = category_weights / category_weights.sum()
        self.item_category = rng.choice(self.categories, size=self.items, p=self.category_p)
        self.item_shop = rng.integers(0, self.shops, size=self.items)
        self.item_intention = (self.item_category * 7 + rng.integers(0, 3, size=self.items)) % self.intentions
        self.item_brand = rng.integers(0, self.brands, size=self.items)
        self.item_has_brand = rng.random(self.items) < 0.9
        self.item_bias = rng.normal(0.0, 0.6, size=self.items)
        popularity = 1.0 / (np.arange(self.items) + 5.0) ** 0.8
        self.item_p = popularity / popularity.sum()
        self.item_text = [self._item_text(item) for item in range(self.items)]

        self.user_bias = rng.normal(0.0, 0.5, size=users)
        activity = rng.lognormal(0.0, 1.0, size=users)
        self.user_p = activity / activity.sum()
        self.favourites = rng.choice(self.categories, size=(users, 3), p=self.category_p)
        self.profiles = {
            field: np.where(rng.random(users) < 0.95, rng.integers(0, size, size=users), -1)
            for field, size in PROFILE_CARDINALITIES.items()
        }

    def _item_text(self, item):
        parts = [
            _feature("205", FIELD_ID_BASE["205"] + item),
            _feature("206", FIELD_ID_BASE["206"] + int(self.item_category[item])),
            _feature("207", FIELD_ID_BASE["207"] + int(self.item_shop[item])),
            _feature("210", FIELD_ID_BASE["210"] + int(self.item_intention[item])),
        ]
        if self.item_has_brand[item]:
            parts.append(_feature("216", FIELD_ID_BASE["216"] + int(self.item_brand[item])))
        return "\x01".join(parts), len(parts)

    def item_attribute(self, field, items):
        """Return the raw attribute numbers of ``items`` for one ad field."""
        return {
            "206": self.item_category,
            "207": self.item_shop,
            "210": self.item_intention,
            "216": self.item_brand,
        }[field][items]

    def common_rows(self, rng):
        """Return ``(index, line)`` per user: the common features of one split."""
        indexes = []
        used = set()
        while len(indexes) < self.users:
            candidate = f"{int(rng.integers(0, 2**63)):016x}"
            if candidate not in used:
                used.add(candidate)
                indexes.append(candidate)
        totals = rng.integers(MIN_BEHAVIOUR_VALUES, MAX_BEHAVIOUR_VALUES + 1, size=self.users)
        rows = []
        for user in range(self.users):
            features = [_feature("101", FIELD_ID_BASE["101"] + user)]
            for field in PROFILE_CARDINALITIES:
                value = int(self.profiles[field][user])
                if value >= 0:
                    features.append(_feature(field, FIELD_ID_BASE[field] + value))
            counts = rng.multinomial(int(totals[user]), BEHAVIOUR_SHARES)
            for field, count in zip(BEHAVIOUR_FIELDS, counts):
                features += self._behaviour(rng, user, field, int(count))
            rows.append((indexes[user], f"{indexes[user]},{len(features)},{chr(1).join(features)}"))
        return rows

    def _behaviour(self, rng, user, field, count):
        """Return ``count`` features of one behaviour field, each with a distinct feature id.

        Category history starts with the user's favourite categories at the highest value;
        the other values repeat, so ordering by value meets ties.
        """
        if count == 0:
            return []
        if field == "109_14":
            favourites = list(dict.fromkeys(self.favourites[user].tolist()))[:count]
            others = rng.choice(self.categories, size=min(count + 3, self.categories), replace=False, p=self.category_p)
            others = [category for category in others.tolist() if category not in favourites][: count - len(favourites)]
            ids = favourites + others
            top = len(favourites)
            base = FIELD_ID_BASE["206"]
        else:
            size = {"110_14": self.shops, "127_14": self.brands, "150_14": self.intentions}[field]
            ids = rng.choice(size, size=min(count, size), replace=False).tolist()
            top = 0
            base = {"110_14": FIELD_ID_BASE["207"], "127_14": FIELD_ID_BASE["216"], "150_14": FIELD_ID_BASE["210"]}[field]
        values = [BEHAVIOUR_VALUES[-1]] * top + [BEHAVIOUR_VALUES[v] for v in rng.integers(0, len(BEHAVIOUR_VALUES) - 1, size=len(ids) - top)]
        return [_feature(field, base + i, value) for i, value in zip(ids, values)]


def _skeleton_lines(world, rng, rows, common_indexes, first_sample_id):
    """Yield batches of skeleton lines without line endings."""
    domains = np.array(sorted(DOMAIN_SHARES))
    domain_p = np.array([DOMAIN_SHARES[d] for d in domains])
    domain_p = domain_p / domain_p.sum()
    domain_offset = {1: 0.0, 2: 0.4, 3: -0.3}
    sample_id = first_sample_id
    for start in range(0, rows, ROWS_PER_BATCH):
        size = min(ROWS_PER_BATCH, rows - start)
        users = rng.choice(world.users, size=size, p=world.user_p)
        items = rng.choice(world.items, size=size, p=world.item_p)
        row_domains = rng.choice(domains, size=size, p=domain_p)
        favourite = (world.favourites[users] == world.item_category[items][:, None]).any(axis=1)
        logit = (
            -3.1
            + 1.2 * favourite
            + world.item_bias[items]
            + world.user_bias[users]
            + np.vectorize(domain_offset.get)(row_domains)
        )
        clicks = rng.random(size) < 1.0 / (1.0 + np.exp(-logit))
        buys = clicks & (rng.random(size) < 0.05 + 0.1 * favourite)
        combinations = {}
        for field, source in COMBINATION_SOURCES.items():
            ids = (world.item_attribute(source, items) * 131 + users * 7) % COMBINATION_CARDINALITY
            present = rng.random(size) < COMBINATION_PRESENCE
            if source == "216":
                present &= world.item_has_brand[items]
            combinations[field] = np.where(present, ids + FIELD_ID_BASE[field], -1).tolist()
        batch = []
        columns = zip(
            users.tolist(),
            items.tolist(),
            row_domains.tolist(),
            clicks.tolist(),
            buys.tolist(),
            *combinations.values(),
        )
        for user, item, domain, click, buy, *combination_ids in columns:
            item_text, count = world.item_text[item]
            parts = [item_text]
            for field, feature_id in zip(COMBINATION_SOURCES, combination_ids):
                if feature_id >= 0:
                    parts.append(_feature(field, feature_id))
            parts.append(_feature("301", domain))
            count += len(parts) - 1
            batch.append(f"{sample_id},{int(click)},{int(buy)},{common_indexes[user]},{count},{chr(1).join(parts)}")
            sample_id += 1
        yield batch


def _corrupt(line, kind):
    """Return ``line`` (a valid skeleton line) turned into a bad row of ``kind``."""
    sample_id, click, buy, index, count, features = line.split(",", 5)
    parts = features.split("\x01")
    if kind == "truncated_line":
        return ",".join((sample_id, click, buy, index))
    if kind == "malformed_feature":
        parts[0] = parts[0].split("\x03")[0]
    elif kind == "feature_count_mismatch":
        count = str(int(count) + 1)
    elif kind == "invalid_label":
        click = "2"
    elif kind == "missing_domain":
        parts = [part for part in parts if not part.startswith("301\x02")]
        count = str(len(parts))
    elif kind == "unknown_common_index":
        index = UNKNOWN_COMMON_INDEX
    return ",".join((sample_id, click, buy, index, count, "\x01".join(parts)))


def _injection_rows(kinds, rows):
    """Return the 0-based skeleton row of each skeleton-side kind, spread over the file."""
    skeleton_kinds = [kind for kind in kinds if kind not in ("truncated_line", "duplicate_common_index")]
    positions = {kind: (i + 1) * rows // (len(skeleton_kinds) + 1) for i, kind in enumerate(skeleton_kinds)}
    if "truncated_line" in kinds:
        positions["truncated_line"] = rows - 1
    return positions


def _write_text_file(path, chunks, compress):
    """Write text ``chunks`` to ``path``, gzip-compressed with a fixed header time if ``compress``."""
    with open(path, "wb") as raw:
        if not compress:
            for chunk in chunks:
                raw.write(chunk.encode())
            return
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=3, mtime=0) as stream:
            for chunk in chunks:
                stream.write(chunk.encode())


def _pack(source, folder, split, names):
    archive = folder / f"sample_{split}.tar.gz"
    with open(archive, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=3, mtime=0) as compressed:
            with tarfile.open(fileobj=compressed, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for name in names:
                    member = tarfile.TarInfo(name)
                    member.size = (source / name).stat().st_size
                    member.mode = 0o644
                    member.mtime = 0
                    with open(source / name, "rb") as content:
                        tar.addfile(member, content)
    return archive


def generate(output, rows, users, seed=0, compress=False, tar=False, header=False, inject=()):
    """Write a synthetic raw Ali-CCP set and return a :class:`GeneratedData`.

    Args:
        output (str or Path): destination folder, created if needed.
        rows (int): skeleton rows per split (train and test each).
        users (int): number of users, each with one common feature row per split.
        seed (int): seed of all random draws.
        compress (bool): write ``.csv.gz`` files.
        tar (bool): pack each split into ``sample_<split>.tar.gz``, the skeleton file first.
        header (bool): start each file with a header line, which the real files lack.
        inject (iterable): bad-row kinds to inject once each into the train files; see
            :data:`BAD_ROW_KINDS`.
    """
    inject = tuple(dict.fromkeys(inject))
    unknown = sorted(set(inject) - set(BAD_ROW_KINDS))
    if unknown:
        raise ValueError(f"unknown bad-row kinds {unknown}; choose from {', '.join(BAD_ROW_KINDS)}")
    if rows < len(inject) + 2:
        raise ValueError(f"rows must be at least {len(inject) + 2} to hold the injected bad rows, got {rows}")
    if users < 1:
        raise ValueError(f"users must be at least 1, got {users}")
    if compress and tar:
        raise ValueError("choose either gzip-compressed files or tar archives, not both")

    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    world = _World(rng, rows, users)
    staging = Path(tempfile.mkdtemp(dir=folder)) if tar else folder
    layout = _Layout(staging, ".gz" if compress else "", compress, header)
    bad_lines = []
    files = []
    try:
        for split_number, split in enumerate(("train", "test")):
            split_inject = inject if split == "train" else ()
            names = _write_split(world, rng, layout, split, 1 + split_number * rows, rows, split_inject, bad_lines)
            if tar:
                files.append(_pack(staging, folder, split, names))
            else:
                files += [folder / (name + layout.suffix) for name in names]
    finally:
        if tar:
            shutil.rmtree(staging, ignore_errors=True)
    return GeneratedData(folder=folder, files=files, bad_lines=bad_lines)


@dataclasses.dataclass
class _Layout:
    """Output folder, file suffix, compression and header setting of :func:`_write_split`."""

    folder: Path
    suffix: str
    compress: bool
    header: bool


def _write_split(world, rng, layout, split, first_sample_id, rows, inject, bad_lines):
    """Write the common and skeleton files of one split and return their names, skeleton first.

    Injected bad rows are appended to ``bad_lines``.
    """
    common_name = f"common_features_{split}.csv"
    skeleton_name = f"sample_skeleton_{split}.csv"
    offset = 1 if layout.header else 0

    common = world.common_rows(rng)
    common_lines = [line for _, line in common]
    if "duplicate_common_index" in inject:
        # The first user's index again, with another user's features.
        _, count, features = common[-1][1].split(",", 2)
        common_lines.append(f"{common[0][0]},{count},{features}")
        bad_lines.append(BadLine("duplicate_common_index", common_name, len(common_lines) + offset))
    common_text = [COMMON_HEADER if layout.header else "", "".join(f"{line}\n" for line in common_lines)]
    _write_text_file(layout.folder / (common_name + layout.suffix), common_text, layout.compress)

    positions = _injection_rows(inject, rows)
    kind_at = {position: kind for kind, position in positions.items()}
    indexes = [index for index, _ in common]

    def skeleton_text():
        yield SKELETON_HEADER if layout.header else ""
        written = 0
        for batch in _skeleton_lines(world, rng, rows, indexes, first_sample_id):
            for position, kind in kind_at.items():
                if written <= position < written + len(batch):
                    batch[position - written] = _corrupt(batch[position - written], kind)
            written += len(batch)
            text = "\n".join(batch)
            # A truncated last line also lacks its line ending, as in an interrupted download.
            if written < rows or "truncated_line" not in positions:
                text += "\n"
            yield text

    _write_text_file(layout.folder / (skeleton_name + layout.suffix), skeleton_text(), layout.compress)
    for kind, position in sorted(positions.items(), key=lambda item: item[1]):
        bad_lines.append(BadLine(kind, skeleton_name, position + 1 + offset))
    return [skeleton_name, common_name]


def main(argv=None):
    """Run the generator from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m dataset_prep.synthetic_aliccp",
        description="Write synthetic Ali-CCP files in the raw Tianchi layout.",
    )
    parser.add_argument("--rows", type=int, required=True, help="skeleton rows per split (train and test each)")
    parser.add_argument("--users", type=int, required=True, help="number of users (common feature rows per split)")
    parser.add_argument("--output", type=Path, required=True, help="destination folder, created if missing")
    parser.add_argument("--seed", type=int, default=0, help="seed of all random draws (default: 0)")
    layout = parser.add_mutually_exclusive_group()
    layout.add_argument("--gzip", action="store_true", help="write gzip-compressed .csv.gz files")
    layout.add_argument("--tar", action="store_true", help="pack each split into sample_<split>.tar.gz as downloaded")
    parser.add_argument("--header", action="store_true", help="start each file with a header line (the real files have none)")
    parser.add_argument(
        "--inject",
        action="append",
        default=[],
        choices=BAD_ROW_KINDS,
        metavar="KIND",
        help=f"inject one bad row of this kind into the train files; repeatable; one of {', '.join(BAD_ROW_KINDS)}",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    try:
        result = generate(
            args.output, args.rows, args.users, args.seed, compress=args.gzip, tar=args.tar, header=args.header, inject=args.inject
        )
    except ValueError as error:
        parser.error(str(error))

    for path in result.files:
        logger.info("Wrote %s", path)
    for bad in result.bad_lines:
        logger.info("Injected %s at %s line %d", bad.kind, bad.file, bad.line)
    print(f"Wrote {len(result.files)} files to {result.folder}")


if __name__ == "__main__":
    main()
