"""Label names as the adapters compare and show them: in Unicode normal form C.

"é" can be written as one code point (NFC, U+00E9) or as "e" followed by a combining accent (NFD,
U+0065 U+0301); both print alike, and files written on different systems mix them. Every label read
from an annotation file goes through :func:`label_name`, so the two spellings are one label: a split
line in the other form finds its class. A labels file that lists two spellings of one name would
make two classes that print the same: :class:`LabelTable` refuses it, naming both lines.
"""
from __future__ import annotations

import unicodedata
from pathlib import Path

from datamodules.records import AnnotationError

FORM = "NFC"


def label_name(text: str) -> str:
    """``text`` in Unicode normal form C (the form labels are compared, stored and shown in)."""
    return unicodedata.normalize(FORM, text)


class LabelTable:
    """The names of a file that lists each label once, gathered line by line (see :meth:`add`)."""

    def __init__(self, path: str | Path, what: str = "class", ignore_case: bool = False) -> None:
        self.path = path
        self.what = what
        self.ignore_case = ignore_case
        self.first: dict[str, tuple[int, str]] = {}  # normal form (lower case) -> (line, as written there)

    def add(self, name: str, line_number: int) -> str:
        """``name`` in normal form; a name listed before, in any Unicode form, is an :class:`AnnotationError`."""
        normal = label_name(name)
        key = normal.lower() if self.ignore_case else normal
        if key in self.first:
            line, written = self.first[key]
            if written == name or (self.ignore_case and written.lower() == name.lower()):
                reason = f"{self.what} {name!r} already listed on line {line}"
            else:
                reason = (
                    f"{self.what} {ascii(name)} and {ascii(written)} on line {line} are one name in two Unicode "
                    f"forms ({_form(name)} and {_form(written)}); they would be two classes that print the same"
                )
            raise AnnotationError(self.path, line_number, reason)
        self.first[key] = (line_number, name)
        return normal

    def line_of(self, name: str) -> int:
        """The line where ``name`` (in normal form) was listed."""
        return self.first[name.lower() if self.ignore_case else name][0]


def unicode_twin(path: str | Path, what: str, name: str, twin: str) -> AnnotationError:
    """The error for ``name`` (a class's file or folder name) whose normal form is that of ``twin``
    (how the other one is described) although it is written differently."""
    reason = f"{what} {ascii(name)} is {twin} in another Unicode form; they would be two classes that print the same"
    return AnnotationError(path, 0, reason)


def _form(text: str) -> str:
    """Which normal form ``text`` is in, for a message."""
    for form in ("NFC", "NFD"):
        if unicodedata.is_normalized(form, text):
            return form
    return "mixed"
