"""Where extracted optical flow is and how it is stored (no heavy imports: readers only need names).

One folder per video; ``video_id`` may contain "/", which becomes sub-folders::

    <flow_root>/<video_id>/x_00001.jpg   horizontal component of frame pair 1 (frames 1 -> 2)
    <flow_root>/<video_id>/y_00001.jpg   vertical component of frame pair 1
    ...                                  N frames give N - 1 pairs, numbered from 1
    <flow_root>/<video_id>/flow.json     method, bound, num_pairs, size, jpeg_quality, bytes

A video's folder is written under a temporary name and renamed into place once complete, with
``flow.json`` inside, so a folder with ``flow.json`` is always whole. The images are JPEGs of
quality :data:`JPEG_QUALITY` holding quantised values (:mod:`datamodules.flow.quantise`).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from datamodules.decoding.base import VideoReadError
from datamodules.id_paths import join_inside

JPEG_QUALITY = 95
FLOW_JSON = "flow.json"
X_TEMPLATE = "x_{:05d}.jpg"
Y_TEMPLATE = "y_{:05d}.jpg"


def read_flow_info(out_dir: Path) -> dict | None:
    """The ``flow.json`` of a finished folder, or None when the folder is absent or incomplete (no
    ``flow.json``, or one that is not a JSON object: an extraction resumes such a folder)."""
    try:
        with open(Path(out_dir) / FLOW_JSON, encoding="utf-8") as f:
            info = json.load(f)
    except (OSError, ValueError, RecursionError):  # ValueError: invalid JSON or UTF-8
        return None
    return info if isinstance(info, dict) else None


def flow_bound(out_dir: Path) -> float | None:
    """The quantisation bound a finished folder was written with (None: no finished folder); a
    ``flow.json`` whose ``bound`` is not a positive number is a :class:`VideoReadError` naming it."""
    info = read_flow_info(out_dir)
    if info is None:
        return None
    bound = info.get("bound")
    if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not math.isfinite(bound) or bound <= 0:
        raise VideoReadError(Path(out_dir) / FLOW_JSON, f"bound must be a positive number, got {str(bound)[:40]!r}")
    return float(bound)


def flow_folder(flow_root: Path, video_id: str) -> Path:
    """``<flow_root>/<video_id>``; ids with "/" become sub-folders, ids escaping the root are refused
    (:func:`datamodules.id_paths.join_inside`, a ValueError)."""
    return join_inside(flow_root, video_id, "video id")
