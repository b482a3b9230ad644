"""Why a file or folder cannot be read, in words a user can act on.

``Path.is_file()`` answers False for a missing file, a symbolic-link loop, a folder, a device, a
named pipe and a path under an unreadable folder alike, so a bare "not found" misleads.
:func:`path_problem` tells these apart (without opening the path: opening a named pipe blocks),
:func:`folder_write_problem` says whether files can be created in a folder, and
:func:`os_error_reason` words an ``OSError``. This module imports nothing from the rest of the project.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Literal

NOT_FOUND = "not found"

_REASONS = {
    errno.ENOENT: NOT_FOUND,
    errno.ELOOP: "symbolic link loop",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a parent of the path is a file, not a folder",
    errno.EISDIR: "is a folder, expected a file",
    errno.ENAMETOOLONG: "path too long",
    errno.EIO: "input/output error (a failing disk or network mount)",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
}
# What a path is when it is neither a regular file nor a folder.
_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def os_error_reason(error: OSError) -> str:
    """A short cause for an ``OSError`` (its errno in words, else its message)."""
    return _REASONS.get(error.errno or -1, error.strerror or str(error) or type(error).__name__)


def path_problem(path: str | Path, kind: Literal["file", "folder"]) -> str | None:
    """None when ``path`` is a readable ``kind``; else why not (:data:`NOT_FOUND` when nothing is there)."""
    try:
        status = os.stat(path)
    except OSError as error:
        if error.errno == errno.ENOENT and os.path.islink(path):
            return f"broken symbolic link (its target {os.readlink(path)} does not exist)"
        return os_error_reason(error)
    is_folder = stat.S_ISDIR(status.st_mode)
    if kind == "file" and is_folder:
        return "is a folder, expected a file"
    if kind == "folder" and not is_folder:
        what = "a file" if stat.S_ISREG(status.st_mode) else special_kind(status.st_mode)
        return f"is {what}, expected a folder"
    if kind == "file" and not stat.S_ISREG(status.st_mode):
        return f"is {special_kind(status.st_mode)}, not a regular file"
    mode = os.R_OK | (os.X_OK if kind == "folder" else 0)
    if not os.access(path, mode):
        return "permission denied"
    return None


def special_kind(mode: int) -> str:
    """What a path of ``st_mode`` ``mode`` is, for one that is neither a regular file nor a folder."""
    for test, name in _SPECIAL_KINDS:
        if test(mode):
            return name
    return f"a special file (mode {oct(mode)})"


def folder_write_problem(path: str | Path) -> str | None:
    """None when files can be created in the folder ``path``, else why not.

    A folder that does not exist yet is judged by its nearest existing ancestor, where it would be
    created; nothing is left behind. Permission bits alone do not answer this (root ignores them, a
    read-only mount or an immutable folder refuses root too), so a temporary file is created and removed.
    """
    path = Path(path)
    problem = path_problem(path, "folder")
    if problem not in (None, NOT_FOUND):
        return problem
    existing = path
    while problem == NOT_FOUND and existing != existing.parent:
        existing = existing.parent
        problem = path_problem(existing, "folder")
    if problem is not None:
        return f"{problem}: {existing}" if existing != path else problem
    try:
        handle, name = tempfile.mkstemp(prefix=".stbench-write-check-", dir=existing)
    except OSError as error:
        where = "" if existing == path else f" (it would be created in {existing})"
        return f"cannot be written{where}: {os_error_reason(error)}"
    os.close(handle)
    os.unlink(name)
    return None
