"""JSON annotation files read entry by entry, so that every entry keeps its line number.

Something-Something ships one JSON array (or object) per file; the standard parser loses the
position of each entry, so the array/object is walked here with ``JSONDecoder.raw_decode``, which
works whatever the file's layout (one entry per line or minified).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datamodules.annotations.lines import read_text
from datamodules.records import AnnotationError

_SPACE = re.compile(r"\s*")
_DECODER = json.JSONDecoder()


class _Cursor:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = read_text(path)
        self.newlines = [m.start() for m in re.finditer("\n", self.text)]
        self.pos = 0

    def line(self, pos: int | None = None) -> int:
        """1-based line of the character at ``pos`` (default: the current position)."""
        return bisect.bisect_left(self.newlines, self.pos if pos is None else pos) + 1

    def skip_space(self) -> str:
        """Move past whitespace; the next character ('' at the end)."""
        self.pos = _SPACE.match(self.text, self.pos).end()
        return self.text[self.pos : self.pos + 1]

    def expect(self, characters: str) -> str:
        found = self.skip_space()
        if not found or found not in characters:
            shown = found or "end of file"
            raise AnnotationError(self.path, self.line(), f"expected one of {characters!r}, found {shown!r}")
        self.pos += 1
        return found

    def value(self) -> tuple[int, Any]:
        self.skip_space()
        start = self.pos
        try:
            parsed, self.pos = _DECODER.raw_decode(self.text, start)
        except json.JSONDecodeError as error:
            raise AnnotationError(self.path, error.lineno, f"invalid JSON: {error.msg}") from None
        except RecursionError:
            raise AnnotationError(self.path, self.line(start), "invalid JSON: nested too deeply") from None
        except ValueError as error:  # e.g. an integer of more digits than Python converts
            raise AnnotationError(self.path, self.line(start), f"invalid JSON: {error}") from None
        return self.line(start), parsed

    def finish(self) -> None:
        if self.skip_space():
            raise AnnotationError(self.path, self.line(), "unexpected content after the JSON value")


def iter_array(path: Path) -> Iterator[tuple[int, Any]]:
    """``(line_number, entry)`` for each entry of the JSON array in ``path``."""
    cursor = _Cursor(path)
    cursor.expect("[")
    if cursor.skip_space() == "]":
        cursor.pos += 1
    else:
        while True:
            yield cursor.value()
            if cursor.expect(",]") == "]":
                break
    cursor.finish()


def iter_object(path: Path) -> Iterator[tuple[int, str, Any]]:
    """``(line_number, key, value)`` for each member of the JSON object in ``path``, repeats included."""
    cursor = _Cursor(path)
    cursor.expect("{")
    if cursor.skip_space() == "}":
        cursor.pos += 1
    else:
        while True:
            number, key = cursor.value()
            if not isinstance(key, str):
                raise AnnotationError(path, number, f"expected a string key, got {key!r}")
            cursor.expect(":")
            _, value = cursor.value()
            yield number, key, value
            if cursor.expect(",}") == "}":
                break
    cursor.finish()
