"""Why a file or folder cannot be read, in words a user can act on.

``Path.is_file()`` answers False for a missing file, a symbolic-link loop, a folder and a path under
an unreadable folder alike, so a bare "not found" misleads. :func:`path_problem` tells these apart
and :func:`os_error_reason` words an ``OSError`` raised while reading. This module imports nothing
from the rest of the project.
"""
from __future__ import annotations

import errno
import os
import stat
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
}


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
        return "is a file, expected a folder"
    if kind == "file" and not stat.S_ISREG(status.st_mode):
        return f"not a regular file (mode {oct(status.st_mode)})"
    mode = os.R_OK | (os.X_OK if kind == "folder" else 0)
    if not os.access(path, mode):
        return "permission denied"
    return None
