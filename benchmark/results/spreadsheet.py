"""CSV files that people open in spreadsheet programs, written so that no cell runs as a formula.

A spreadsheet reads a cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return
before one) as a formula, so a class label such as ``=HYPERLINK(...)`` would run when the confusion
matrix is opened. Every text cell of such a file (header and index included) is written quoted, and
one starting with one of those characters, or with ``'``, gets a leading ``'`` (the spreadsheet
convention for "text"); :func:`from_cell` undoes it when the harness reads the file back.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
TEXT_MARK = "'"


def to_cell(value: Any) -> Any:
    """``value`` with a ``'`` before a leading formula character (text only; numbers stay numbers)."""
    return TEXT_MARK + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def from_cell(value: Any) -> Any:
    """The text :func:`to_cell` was given."""
    return value[len(TEXT_MARK) :] if isinstance(value, str) and value.startswith(TEXT_MARK) else value


def _text_columns(frame: pd.DataFrame) -> list[Any]:
    types = pd.api.types
    return [c for c in frame.columns if not types.is_numeric_dtype(frame[c]) and not types.is_bool_dtype(frame[c])]


def write_spreadsheet_csv(frame: pd.DataFrame, path: str | Path, index: bool = True, **to_csv: Any) -> Path:
    """``frame`` as a CSV whose text cells are quoted and cannot start a formula."""
    safe = frame.copy()
    for column in _text_columns(safe):
        safe[column] = safe[column].map(to_cell)
    safe.columns = [to_cell(str(c)) for c in safe.columns]
    if index:
        safe.index = safe.index.map(lambda v: to_cell(str(v)))
        safe.index.name = None if frame.index.name is None else to_cell(str(frame.index.name))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe.to_csv(path, index=index, quoting=csv.QUOTE_NONNUMERIC, **to_csv)
    return path


def read_spreadsheet_csv(path: str | Path, index_col: int | None = None, **read_csv: Any) -> pd.DataFrame:
    """A file of :func:`write_spreadsheet_csv` with its cells as they were given."""
    frame = pd.read_csv(path, index_col=index_col, **read_csv)
    frame.columns = [from_cell(c) for c in frame.columns]
    for column in _text_columns(frame):
        frame[column] = frame[column].map(from_cell)
    if index_col is not None:
        frame.index = frame.index.map(lambda v: from_cell(str(v)))
        frame.index.name = from_cell(frame.index.name)
    return frame
