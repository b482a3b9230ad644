"""Dense optical flow between two grayscale frames, by the best method the installed OpenCV has.

Methods: TV-L1 when the installed OpenCV has it (``opencv-contrib``), else DIS with
``PRESET_MEDIUM`` (more accurate than FAST, and cheap on the small frames used here), else
Gunnar Farneback's method.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

import cv2
import numpy as np

METHODS: tuple[str, ...] = ("tvl1", "dis", "farneback")


def _tvl1_factory() -> Callable[[], object] | None:
    optflow = getattr(cv2, "optflow", None)
    if optflow is not None and hasattr(optflow, "DualTVL1OpticalFlow_create"):
        return optflow.DualTVL1OpticalFlow_create
    return getattr(cv2, "DualTVL1OpticalFlow_create", None)


def available_methods() -> list[str]:
    """The flow methods the installed OpenCV provides, best first."""
    methods = []
    if _tvl1_factory() is not None:
        methods.append("tvl1")
    if hasattr(cv2, "DISOpticalFlow_create"):
        methods.append("dis")
    if hasattr(cv2, "calcOpticalFlowFarneback"):
        methods.append("farneback")
    return methods


def best_flow_method() -> str:
    """TV-L1 if available, else DIS (preset MEDIUM), else Farneback."""
    methods = available_methods()
    if not methods:
        raise RuntimeError(f"OpenCV {cv2.__version__} provides none of the flow methods {METHODS}")
    return methods[0]


def resolve_method(method: str) -> str:
    """``"auto"`` → :func:`best_flow_method`; otherwise check that ``method`` is installed."""
    if method == "auto":
        return best_flow_method()
    if method not in METHODS:
        raise ValueError(f"unknown flow method {method!r}; known: auto, {', '.join(METHODS)}")
    if method not in available_methods():
        raise ValueError(f"flow method {method!r} is not provided by the installed OpenCV {cv2.__version__}")
    return method


@functools.cache
def _engine(method: str):
    """One reusable flow object per method and process (creating DIS / TV-L1 objects costs time)."""
    if method == "tvl1":
        factory = _tvl1_factory()
        if factory is None:
            raise ValueError(f"TV-L1 flow is not provided by the installed OpenCV {cv2.__version__}")
        return factory()
    if method == "dis":
        return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    raise ValueError(f"unknown flow method {method!r}; known: {', '.join(METHODS)}")


def compute_flow(prev_gray: np.ndarray, next_gray: np.ndarray, method: str) -> np.ndarray:
    """Flow from ``prev_gray`` to ``next_gray`` (uint8 (H, W)): float32 (H, W, 2), (dx, dy) in pixels."""
    if prev_gray.shape != next_gray.shape or prev_gray.ndim != 2:
        raise ValueError(f"need two grayscale frames of one shape, got {prev_gray.shape} and {next_gray.shape}")
    if method == "farneback":
        flow = cv2.calcOpticalFlowFarneback(prev_gray, next_gray, None, 0.5, 3, 15, 3, 5, 1.2, 0)
    else:
        flow = _engine(method).calc(prev_gray, next_gray, None)
    return np.asarray(flow, dtype=np.float32)
