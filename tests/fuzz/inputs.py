"""Hypothesis strategies for the contents of files that come from outside.

Three kinds of content for every format: arbitrary bytes (binary garbage, NUL, invalid UTF-8), text
built from the format's own tokens and hostile ones (so that most inputs get deep into the parser),
and such text with random byte edits. Lines may end in LF, CRLF or CR. :func:`huge_inputs` are a
very long line, a million lines and megabytes of NUL bytes.
"""
from __future__ import annotations

import json

from hypothesis import strategies as st

from tests.fuzz.harness import PROFILE

HOSTILE = [
    "", " ", "..", ".", "../..", "/etc/passwd", "a/../../b", "\\..\\x", "\x00", "\x1b[31m", "é", "٣", "²", "١٢",
    "𝟙", "\u202e", "|", "=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "🎬", "שלום", ";", ",", "\"", "'", "\t",
    "1e999", "nan", "-0", "99999999999999999999999999", "9" * 5000, "True", "null", "[", "{", "}", "]", "#",
]  # fmt: skip
LINE_ENDS = ["\n", "\r\n", "\r", "\n\n"]
LARGE = PROFILE == "long"  # the long profile also tries very large inputs (deeper nesting, huge_inputs)


def names(alphabet: str | None = None) -> st.SearchStrategy[str]:
    text = st.text(alphabet=alphabet, max_size=12) if alphabet else st.text(max_size=12)
    return st.one_of(text, st.sampled_from(HOSTILE))


def joined_lines(lines: st.SearchStrategy[list[str]]) -> st.SearchStrategy[bytes]:
    """Lines joined by one kind of line end (sometimes none at the end), as UTF-8."""
    return st.builds(
        lambda parts, end, last: (end.join(parts) + (end if last else "")).encode("utf-8"),
        lines, st.sampled_from(LINE_ENDS), st.booleans(),
    )  # fmt: skip


def token_lines(tokens: list[str], separators: str = " ;,\t/") -> st.SearchStrategy[bytes]:
    """Lines of the format's ``tokens`` and hostile or random words, joined by ``separators``."""
    token = st.one_of(st.sampled_from(tokens), names())
    line = st.builds(lambda parts, sep: sep.join(parts), st.lists(token, max_size=6), st.sampled_from(separators))
    return joined_lines(st.lists(line, max_size=25))


def mutated(content: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """``content`` with bytes inserted, deleted or truncated at random places."""

    def apply(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
        for position, delete, insert in edits:
            at = position % (len(data) + 1)
            data = data[:at] + insert + data[at + delete :]
        return data

    edit = st.tuples(st.integers(0, 1 << 20), st.integers(0, 4), st.binary(max_size=4))
    return st.builds(apply, content, st.lists(edit, min_size=1, max_size=4))


def huge_inputs(line: str) -> dict[str, bytes]:
    """Very large inputs (the long profile tries each once per parser: they take seconds)."""
    return {
        "a 2 MB line": (line * (2_000_000 // max(len(line), 1))).encode("utf-8"),
        "a million lines": ((line + "\n") * 1_000_000).encode("utf-8"),
        "5 MB of NUL bytes": b"\x00" * 5_000_000,
    }


def file_contents(structured: st.SearchStrategy[bytes], tokens: list[str]) -> st.SearchStrategy[bytes]:
    """Any of: bytes, token lines, the format's ``structured`` text, and mutations of both."""
    return st.one_of(
        st.binary(max_size=600),
        token_lines(tokens),
        structured,
        mutated(structured),
        mutated(token_lines(tokens)),
    )


json_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), names(),
    st.integers(-(10**30), 10**30),
)  # fmt: skip
json_values = st.recursive(
    json_leaves, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(names(), inner, max_size=5), max_leaves=25
)


def json_text(value: object, indent: int | None = None) -> bytes:
    return json.dumps(value, indent=indent, allow_nan=True, ensure_ascii=False).encode("utf-8")


def json_contents(structured: st.SearchStrategy[object]) -> st.SearchStrategy[bytes]:
    """JSON documents: ``structured`` ones (the format's shape), any values, deep nesting, garbage."""
    shaped = st.builds(json_text, structured, st.sampled_from([None, 0, 1]))
    text = st.builds(json_text, json_values, st.sampled_from([None, 0, 1]))
    deep = st.integers(1, 200_000 if LARGE else 20_000).map(lambda n: ("[" * n + "]" * n).encode())
    anything = st.one_of(st.binary(max_size=400), text, mutated(text), mutated(shaped), deep)
    return st.one_of(shaped, shaped, anything)

