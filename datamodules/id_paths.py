"""Ids from outside input (annotation lines, leaderboard rows) as paths that stay inside their root.

A video id may name sub-folders with "/" (``<Class>/<clip>``); it is refused when ``root / id``
could resolve outside ``root``: an empty id or part, an absolute id, a "." or ".." part (with "/"
or "\\" as separator), or a control character (NUL included). Symbolic links that a dataset root
holds itself are the dataset's own and are followed. This module imports nothing from the rest of
the project.
"""
from __future__ import annotations

import re
from pathlib import Path

_SEPARATORS = re.compile(r"[/\\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnsafeIdError(ValueError):
    """An id that would name a path outside its root."""


def id_problem(identifier: object) -> str | None:
    """None when ``identifier`` is a relative path inside any root; else what is wrong with it."""
    if not isinstance(identifier, str):
        return f"is a {type(identifier).__name__}, not text"
    if not identifier:
        return "is empty"
    if _CONTROL.search(identifier):
        return "holds a control character"
    parts = _SEPARATORS.split(identifier)
    if not parts[0]:
        return "is an absolute path"
    if any(part in ("", ".", "..") for part in parts):
        return "has an empty, '.' or '..' part"
    return None


def join_inside(root: str | Path, identifier: str, what: str = "id") -> Path:
    """``root / identifier``, refused (:class:`UnsafeIdError`) when it could resolve outside ``root``."""
    problem = id_problem(identifier)
    if problem is not None:
        raise UnsafeIdError(f"{what} {identifier!r} is not a relative path inside {root}: it {problem}")
    return Path(root).joinpath(*_SEPARATORS.split(identifier))
