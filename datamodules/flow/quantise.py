"""Flow values to uint8 and back.

Quantisation (``bound`` b, in pixels; default 20): a flow value f is clipped to [-b, b] and mapped
linearly onto 0..255 with ``q = floor((f + b) * 255 / (2 b) + 0.5)`` (round half up), and read back
with ``f' = q * 2 b / 255 - b``. The step is ``2 b / 255``; inside the bound the round trip error is
at most half a step. Zero flow maps to 127.5, which rounds to 128 (0.078 px at b = 20); the mean
subtracted from each input later removes such offsets. The mapping is odd-symmetric:
``dequantise(255 - q) == -dequantise(q)``.
"""
from __future__ import annotations

import math

import numpy as np

DEFAULT_BOUND = 20.0


def check_bound(bound: float) -> float:
    bound = float(bound)
    if not bound > 0 or not math.isfinite(bound):
        raise ValueError(f"the flow bound must be a positive number of pixels, got {bound}")
    return bound


def quantise_flow(flow: np.ndarray, bound: float = DEFAULT_BOUND) -> np.ndarray:
    """Clip to ±bound and map linearly to uint8: ``q = floor((f + b) * 255 / (2 b) + 0.5)``."""
    bound = check_bound(bound)
    scaled = (np.clip(flow, -bound, bound) + bound) * (255.0 / (2.0 * bound))
    return np.clip(np.floor(scaled + 0.5), 0, 255).astype(np.uint8)


def dequantise_flow(q: np.ndarray, bound: float = DEFAULT_BOUND) -> np.ndarray:
    """Inverse of :func:`quantise_flow` up to half a step: ``f = q * 2 b / 255 - b`` (float32)."""
    bound = check_bound(bound)
    return (q.astype(np.float32) * np.float32(2.0 * bound / 255.0) - np.float32(bound)).astype(np.float32)
