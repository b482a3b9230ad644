"""Which machine a performance figure was measured on, and keyed upserts of such figures into CSVs.

A figure is only comparable with figures from the same machine, so every measurement row carries
``machine_name()`` and the CSVs under ``results/perf/`` are named after it.
"""
from __future__ import annotations

import os
import platform
import re
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from datamodules.storage import upsert_csv

# Marketing words that make CPU model names long without telling models apart.
_NOISE = re.compile(r"\((r|tm)\)|\bcpu\b|\bprocessor\b|\bwith\b.*$|@.*$", re.IGNORECASE)


def cpu_model() -> str:
    """The CPU model as the OS names it ("model name" in /proc/cpuinfo on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_count() -> int:
    """CPU cores this process may run on (the affinity mask, which containers restrict)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def machine_name() -> str:
    """A short file-name-safe id, e.g. ``linux-x86_64-intel-xeon-2c``: OS, architecture, CPU model, cores."""
    model = slug(_NOISE.sub(" ", cpu_model())) or "unknown"
    return f"{slug(platform.system())}-{platform.machine().lower()}-{model}-{cpu_count()}c"


def upsert_keyed(path: str | Path, rows: Iterable[dict[str, Any]], keys: Sequence[str]) -> pd.DataFrame:
    """Write ``rows`` into the CSV at ``path``, replacing earlier rows that agree on every ``keys`` column.

    The file is locked and replaced atomically, so concurrent writers never lose or tear rows.
    """
    return upsert_csv(path, rows, keys)
