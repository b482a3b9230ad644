"""Line-level reading shared by the adapters: numbered lines, annotation folders, split names.

Every annotation line is read with its 1-based line number so that errors and record sources can
say ``file:line``. Files are UTF-8 (a leading byte-order mark is dropped; other bytes are an error
at their line). Line ends may be LF, CRLF or CR; trailing whitespace (HMDB-51 and CCV lines end in
a space) and blank lines are accepted. Paths built from ids in a line stay inside their root
(:func:`located`), and numbers in a line are plain ASCII digits (:func:`whole_number`).
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from datamodules.annotations.labels import LabelTable
from datamodules.id_paths import UnsafeIdError, id_problem, join_inside
from datamodules.paths import NOT_FOUND, os_error_reason, path_problem
from datamodules.records import AnnotationError, AnnotationFileError, VideoRecord

ANNOTATIONS_SUBFOLDER = "annotations"
_DIGITS = re.compile(r"[0-9]{1,18}")  # at most 18 digits: every such number is an exact int64


def read_text(path: Path) -> str:
    """The text of an annotation file; bytes that are not UTF-8 are an :class:`AnnotationError` at their line.

    A missing file is a FileNotFoundError; one that is there but cannot be read (a folder, a symbolic
    link loop, no permission) an :class:`AnnotationFileError` saying which.
    """
    problem = path_problem(path, "file")
    if problem == NOT_FOUND:
        raise FileNotFoundError(f"annotation file not found: {path}")
    if problem is not None:
        raise AnnotationFileError(path, f"cannot read the annotation file: {problem}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise AnnotationFileError(path, f"cannot read the annotation file: {os_error_reason(error)}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:  # its position counts from after a byte-order mark
        bad = error.start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
        before = io.StringIO(data[:bad].decode("utf-8-sig"), newline="").readlines()
        number = len(before) + (0 if before and not before[-1].endswith(("\n", "\r")) else 1)
        raise AnnotationError(path, number, f"not UTF-8 text (byte 0x{data[bad]:02x})") from None


def numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line_number, line)`` for every line of ``path``, its line end removed."""
    for number, raw in enumerate(io.StringIO(read_text(path), newline=""), start=1):
        yield number, raw.rstrip("\r\n")


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line_number, stripped_line)`` for every non-blank line of ``path``."""
    for number, raw in numbered_lines(path):
        line = raw.strip()
        if line:
            yield number, line


def located(root: Path, relative: str, path: Path, line_number: int, what: str = "video") -> Path:
    """``root / relative`` for the id or path ``relative`` read at ``path:line_number``; one that
    would resolve outside ``root`` is an :class:`AnnotationError` there."""
    try:
        return join_inside(root, relative, what)
    except UnsafeIdError as error:
        raise AnnotationError(path, line_number, str(error)) from None


def check_id(identifier: str, path: Path, line_number: int, what: str = "video id") -> str:
    """``identifier`` when it can name a path inside a dataset root, else an :class:`AnnotationError`."""
    problem = id_problem(identifier)
    if problem is not None:
        reason = f"{what} {identifier!r} cannot name a path inside the dataset: it {problem}"
        raise AnnotationError(path, line_number, reason)
    return identifier


def whole_number(text: str) -> int | None:
    """``text`` as an int when it is 1 to 18 ASCII digits, else None (no sign, no other digits)."""
    return int(text) if _DIGITS.fullmatch(text) else None


def source(path: Path, line_number: int) -> str:
    return f"{path}:{line_number}"


def read_names(path: Path) -> list[tuple[int, str]]:
    """``(line_number, name)`` of a one-name-per-line file of labels, each in Unicode normal form C; a
    repeated name (in any Unicode form: :class:`~datamodules.annotations.labels.LabelTable`) is an error."""
    table = LabelTable(path, what="name")
    names = [(number, table.add(name, number)) for number, name in iter_lines(path)]
    if not names:
        raise AnnotationError(path, 0, "the file lists no names")
    return names


def find_annotations(root: Path, marker: str, subfolder: str | None = None) -> Path:
    """The folder holding the official file ``marker``.

    Looked up, in order, in ``root`` itself, ``root/annotations`` and ``root/<subfolder>`` (the
    dataset's conventional place), so a dataset root can carry its own copy of the official files
    without any environment setting.
    """
    candidates = [root, root / ANNOTATIONS_SUBFOLDER]
    if subfolder is not None:
        candidates.append(root / subfolder)
    for folder in candidates:
        if (folder / marker).exists():
            return folder
    looked = ", ".join(str(folder) for folder in candidates)
    raise FileNotFoundError(f"{marker} not found; looked in {looked}")


def check_split(dataset: str, split: str, valid: Iterable[str]) -> None:
    """Raise a ValueError listing the valid split names when ``split`` is not one of them."""
    valid = list(valid)
    if split not in valid:
        raise ValueError(f"unknown {dataset} split {split!r}; valid: {', '.join(valid)}")


def check_disjoint(earlier: list[VideoRecord], later: list[VideoRecord], earlier_name: str) -> None:
    """A video id of ``later`` that is also in ``earlier`` is an error at its line in ``later``."""
    seen = {record.video_id: record.source for record in earlier}
    for record in later:
        if record.video_id in seen:
            file, line = record.source.rsplit(":", 1)
            raise AnnotationError(
                file,
                int(line),
                f"video {record.video_id!r} is also in the {earlier_name} list ({seen[record.video_id]})",
            )
