"""Fixed text formatting of report cells: the same numbers always give the same characters.

Text that comes from outside (labels, ids, leaderboard values) is escaped where it is written:
:func:`text` and :func:`code` make it literal inline Markdown on one line, and
:func:`markdown_table` keeps every row's cells apart whatever they hold.
"""
from __future__ import annotations

import re
from typing import Sequence

import pandas as pd

NOT_AVAILABLE = "n/a"
NO_VALUE = "—"
WARNING = "⚠"
_SI = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def missing(value: object) -> bool:
    """None, NaN, NaT or pd.NA."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def count(value: object) -> str:
    """An exact integer with thousands separators: 528906 -> '528,906'."""
    return NOT_AVAILABLE if missing(value) else f"{int(round(float(value))):,}"  # type: ignore[arg-type]


def macs(value: object) -> str:
    """MACs with an SI prefix and two decimals: 2073741824 -> '2.07 G'."""
    if missing(value):
        return NOT_AVAILABLE
    number = float(value)  # type: ignore[arg-type]
    for scale, prefix in _SI:
        if abs(number) >= scale:
            return f"{number / scale:.2f} {prefix}"
    return f"{number:.0f}"


def percent(mean: object, std: object = None, seeds: object = None) -> str:
    """Fractions shown as percent: 'mean ± std (n)'; no '±' where std is undefined (one seed)."""
    if missing(mean):
        return NOT_AVAILABLE
    text = f"{100 * float(mean):.2f}"  # type: ignore[arg-type]
    if not missing(std):
        text += f" ± {100 * float(std):.2f}"  # type: ignore[arg-type]
    if seeds is not None and not missing(seeds):
        text += f" ({int(seeds)})"  # type: ignore[call-overload]
    return text


def published(value: float | None) -> str:
    return NO_VALUE if value is None else f"{value:.2f}"


def setting(value: object) -> str:
    """A config value: integral floats as integers, other floats in shortest form."""
    if missing(value):
        return NOT_AVAILABLE
    if isinstance(value, float):
        return f"{int(value)}" if value.is_integer() else f"{value:g}"
    return str(value)


def interval(low: float, high: float) -> str:
    """A 95 % interval of a fraction, in percent, as every report table writes one: "[low, high]"."""
    return f"[{100 * low:.1f}, {100 * high:.1f}]"


def row_interval(row: pd.Series, column: str) -> str:
    """A leaderboard row's 95 % interval of ``column`` (its ``*_low``/``*_high`` columns) as "[low, high]"
    in percent; "" where the row has none (rows written before intervals were)."""
    bounds = pd.to_numeric(pd.Series([row.get(f"{column}_low"), row.get(f"{column}_high")]), errors="coerce")
    return "" if bounds.isna().any() else interval(bounds.iloc[0], bounds.iloc[1])


def clip_counts(evaluated_min: object, evaluated_max: object, expected: object) -> tuple[str, bool]:
    """'evaluated / expected' and whether every seed evaluated the whole test set."""
    if missing(expected) or missing(evaluated_min) or missing(evaluated_max):
        return NOT_AVAILABLE, False
    low, high, whole = int(evaluated_min), int(evaluated_max), int(expected)  # type: ignore[call-overload]
    evaluated = f"{low:,}" if low == high else f"{low:,}–{high:,}"
    complete = low == high == whole
    text = f"{evaluated} / {whole:,}"
    return (text if complete else f"{WARNING} **{text}**"), complete


def slug(text: str) -> str:
    """A file-name-safe form of ``text``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "group"


_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")  # line ends and other control characters
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>~|$&!#])")
_WORD_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")  # "_" that could open or close emphasis
_UNESCAPED_PIPE = re.compile(r"(?<!\\)((?:\\\\)*)\|")  # a "|" after an even number of backslashes


def one_line(value: object) -> str:
    """``value`` as text on one line: line ends and control characters become a space."""
    return _LINE_BREAKS.sub(" ", str(value)).strip()


def text(value: object) -> str:
    """``value`` as literal Markdown text: one line, every character that could format it escaped
    (an underscore inside a word, as in ``rnn_tanh``, cannot and stays as it is)."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(value))
    return _WORD_UNDERSCORE.sub(r"\\_", escaped)


def code(value: object) -> str:
    """``value`` as a one-line code span whose backticks cannot end it early."""
    shown = one_line(value)
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") or not shown else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def table_cell(cell: str) -> str:
    """A cell of Markdown on one line whose every ``|`` is escaped, so it cannot split its row."""
    return _UNESCAPED_PIPE.sub(lambda m: m.group(1) + "\\|", one_line(cell))


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """GitHub-flavoured Markdown table lines; ``right`` marks right-aligned (numeric) columns.

    Cells are Markdown (escape outside text with :func:`text` or :func:`code`); whatever they hold,
    each stays one cell of one row (:func:`table_cell`)."""
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(table_cell(cell) for cell in cells) + " |"

    rule = "|" + "|".join("---:" if flag else "---" for flag in right) + "|"
    return [line(header), rule, *(line(row) for row in rows)]
