"""Where a result came from: the code's git revision."""
from __future__ import annotations

import subprocess

from benchmark.project import PROJECT_ROOT

_ROOT = PROJECT_ROOT


def git_sha() -> str:
    """Short commit of the code that ran, with '+dirty' when tracked files differ; 'unknown' outside git."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=_ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=_ROOT, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("+dirty" if dirty.returncode == 1 else "")
