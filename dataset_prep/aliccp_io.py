"""Find Ali-CCP input files, read them as chunks of byte lines, and write output in the background.

An input file may be plain (``name.csv``), gzip-compressed (``name.csv.gz``) or a member of
a tar archive (``sample_train.tar.gz`` as downloaded). Archive members are streamed from
the archive, never unpacked to disk, so each opening of a member reads the archive from
its start up to that member.
"""

import contextlib
import gzip
import logging
import queue
import tarfile
import threading
from pathlib import Path, PurePosixPath

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024


class InputFile:
    """One input CSV file, wherever it is stored.

    Args:
        name (str): the CSV file name, e.g. ``sample_skeleton_train.csv``.
        path (Path): the file on disk: the CSV itself, its ``.gz`` or the tar archive.
        member (str or None): the member name inside the archive ``path``, if any.
    """

    def __init__(self, name, path, member=None):
        self.name = name
        self.path = Path(path)
        self.member = member

    @property
    def label(self):
        """The file as shown in messages: its path, plus the member name for an archive."""
        if self.member is None:
            return str(self.path)
        return f"{self.path}:{self.member}"

    @contextlib.contextmanager
    def open(self):
        """Open the file for binary reading, decompressing as needed."""
        if self.member is None:
            opener = gzip.open if self.path.name.endswith(".gz") else open
            with opener(self.path, "rb") as stream:
                yield stream
            return
        with tarfile.open(self.path, mode="r|*") as archive:
            for member in archive:
                if member.isfile() and PurePosixPath(member.name).name == self.member:
                    yield archive.extractfile(member)
                    return
        raise FileNotFoundError(
            f"{self.member} not found in the archive {self.path}; add the file to the input "
            f"folder as {self.member} or {self.member}.gz"
        )


def find_input(folder, name, archive_names=()):
    """Locate ``name`` in ``folder`` as a plain file, a ``.gz`` file or an archive member.

    Args:
        folder (Path): the input folder.
        name (str): the CSV file name.
        archive_names (tuple): names of tar archives in ``folder`` that may hold ``name``.

    Raises:
        FileNotFoundError: when none of the forms is present.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"input folder {folder} not found; pass an existing folder to --input")
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return InputFile(name, candidate)
    for archive_name in archive_names:
        archive = folder / archive_name
        if archive.is_file():
            return InputFile(name, archive, member=name)
    forms = [name, f"{name}.gz"] + [f"{archive} (holding {name})" for archive in archive_names]
    raise FileNotFoundError(
        f"input file {name} not found in {folder}; expected one of: {', '.join(forms)}"
    )


def _read_blocks(stream, chunk_bytes):
    while True:
        block = stream.read(chunk_bytes)
        if not block:
            return
        yield block


def _prefetch(blocks, depth=2):
    """Iterate ``blocks`` from a background thread so reading and decompression overlap parsing.

    File reads and zlib decompression release the GIL, so the reading thread runs while the
    caller parses the previous block.
    """
    slots = queue.Queue(maxsize=depth)
    finished = object()
    stop = threading.Event()

    def produce():
        try:
            for block in blocks:
                if stop.is_set():
                    return
                slots.put(block)
            slots.put(finished)
        except BaseException as error:  # handed over to the consuming thread
            slots.put(error)

    reader = threading.Thread(target=produce, name="aliccp-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = slots.get()
            if item is finished:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():
            with contextlib.suppress(queue.Empty):
                slots.get(timeout=0.05)
        reader.join()


class LineReader:
    """Read a file as chunks of data lines, dropping a header line and blank lines.

    Iterating yields ``(lines, line_numbers)`` pairs: ``lines`` is a list of byte strings
    without line endings, ``line_numbers`` their 1-based line numbers in the file. A last
    line without a line ending is yielded as well. Use :func:`read_lines`, which also
    stops the background reading thread when the caller stops early.

    Args:
        stream: a binary file object.
        header_first_cell (bytes or None): the first line is a header, and is skipped, when
            its first comma-separated cell equals this name (compared case-insensitively).
        header_required (bool): raise ``ValueError`` when the first line is not a header.
        chunk_bytes (int): bytes read per chunk.
        label (str): the file as named in error messages.
    """

    def __init__(self, stream, header_first_cell=None, header_required=False, chunk_bytes=CHUNK_BYTES, label="input"):
        self.stream = stream
        self.label = label
        self.header_first_cell = header_first_cell
        self.header_required = header_required
        self.chunk_bytes = chunk_bytes
        self.header = None
        self.data_lines = 0

    def __iter__(self):
        rest = b""
        next_number = 1
        for block in _prefetch(_read_blocks(self.stream, self.chunk_bytes)):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            if lines:
                yield from self._emit(lines, next_number, b"\r" in block)
                next_number += len(lines)
        if rest:
            yield from self._emit([rest], next_number, b"\r" in rest)

    def _emit(self, lines, first_number, has_carriage_return):
        if has_carriage_return:
            lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
        numbers = range(first_number, first_number + len(lines))
        if first_number == 1:
            lines, numbers = self._drop_header(lines, numbers)
        if b"" in lines:
            non_blank = [(line, number) for line, number in zip(lines, numbers) if line]
            lines = [line for line, _ in non_blank]
            numbers = [number for _, number in non_blank]
        if lines:
            self.data_lines += len(lines)
            yield lines, numbers

    def _drop_header(self, lines, numbers):
        first_cell = lines[0].split(b",", 1)[0].strip().lower()
        if self.header_first_cell is not None and first_cell == self.header_first_cell.lower():
            self.header = lines[0]
            return lines[1:], numbers[1:]
        if self.header_required:
            raise ValueError(
                f"{self.label}: the first line does not start with the header cell "
                f"{self.header_first_cell.decode()!r} but with {first_cell[:40]!r}; "
                "add the header line naming the columns"
            )
        return lines, numbers


@contextlib.contextmanager
def read_lines(input_file, header_first_cell=None, header_required=False):
    """Open ``input_file`` and yield a :class:`LineReader` iterator over its line chunks.

    The reader's ``header`` and ``data_lines`` attributes are filled while iterating.
    """
    with input_file.open() as stream:
        reader = LineReader(stream, header_first_cell, header_required, label=input_file.label)
        chunks = iter(reader)
        try:
            yield reader, chunks
        finally:
            chunks.close()


class BackgroundWriter:
    """Join and write chunks of output lines from a background thread.

    File writes release the GIL, so they proceed while the caller parses the next chunk.
    When the disk is slower than parsing, :meth:`write` blocks once ``depth`` chunks wait.
    An error raised while writing is raised again by the next :meth:`write` or by
    :meth:`close`. Leaving the ``with`` block writes the queued chunks, or drops them when an
    exception is leaving the block.
    """

    def __init__(self, depth=2):
        self._queue = queue.Queue(maxsize=depth)
        self._error = None
        self._discard = False
        self._thread = threading.Thread(target=self._run, name="aliccp-writer", daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None or self._discard:
                continue
            handle, lines = item
            try:
                handle.write(b"\n".join(lines))
                handle.write(b"\n")
            except BaseException as error:  # raised again in the calling thread
                self._error = error

    def write(self, handle, lines):
        """Queue ``lines`` (a list of bytes without line endings) to be written to ``handle``.

        The writer takes ownership of the list; the caller must not change it afterwards.
        """
        if self._error is not None:
            raise self._error
        self._queue.put((handle, lines))

    def close(self, discard=False):
        """Write (or, with ``discard``, drop) the queued chunks and stop the thread."""
        self._discard = discard
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and not discard:
            raise self._error

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        self.close(discard=exc_type is not None)
        return False
