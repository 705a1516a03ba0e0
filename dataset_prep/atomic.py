"""Write RecBole atomic files and dataset property files safely.

Every output is written under a temporary name in the destination folder. It is renamed
into place only when the whole conversion succeeded, so an interrupted run leaves no file
that looks complete. A re-run replaces earlier output in one step.
"""

import contextlib
import os
from pathlib import Path

import yaml

PARTIAL_SUFFIX = ".partial"


class AtomicOutputSet:
    """A group of output files that appear together or not at all.

    Open each file with :meth:`open`; on leaving the ``with`` block without an exception
    every file is renamed to its final name. On an exception the temporary files are
    removed and earlier outputs with the same names are left as they were.
    """

    def __init__(self):
        self._pending = []  # (temporary path, final path)
        self._handles = []

    def open(self, path, mode="w", **kwargs):
        """Open ``path`` for writing under a temporary name and return the file object."""
        final_path = Path(path)
        final_path.parent.mkdir(parents=True, exist_ok=True)
        temporary_path = final_path.with_name(final_path.name + PARTIAL_SUFFIX)
        if "b" not in mode:
            kwargs.setdefault("encoding", "utf-8")
            kwargs.setdefault("newline", "\n")
        handle = open(temporary_path, mode, **kwargs)
        self._pending.append((temporary_path, final_path))
        self._handles.append(handle)
        return handle

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        for handle in self._handles:
            handle.close()
        if exc_type is None:
            for temporary_path, final_path in self._pending:
                os.replace(temporary_path, final_path)
        else:
            for temporary_path, _ in self._pending:
                with contextlib.suppress(FileNotFoundError):
                    temporary_path.unlink()
        return False


def atomic_header(columns):
    """Return the header line of an atomic file from ``(name, type)`` pairs."""
    return "\t".join(f"{name}:{ftype}" for name, ftype in columns) + "\n"


def write_properties(path, properties, header_comment):
    """Write a RecBole ``.yaml`` property file atomically.

    Args:
        path (str or Path): destination file.
        properties (dict): keys and values, dumped in insertion order.
        header_comment (str): text written as ``#`` comment lines above the keys, saying
            which command produced the file.
    """
    with AtomicOutputSet() as outputs:
        outputs.open(path).write(properties_text(properties, header_comment))


def properties_text(properties, header_comment):
    """Return the text of a RecBole ``.yaml`` property file, as :func:`write_properties` writes it.

    Use it to write the property file inside a larger :class:`AtomicOutputSet`.
    """
    text = "".join(f"# {line}\n" for line in header_comment.splitlines())
    text += yaml.safe_dump(properties, sort_keys=False, default_flow_style=None)
    return text
