"""How a frame of any shape is brought to a dataset's decode size without being stretched.

A decode size ``(height, width)`` is a canvas. A frame is scaled, keeping its aspect, just enough to
cover the canvas, and its overflow is cut evenly from both sides: a frame at least as wide as the
canvas gets its shorter side (height) scaled to the canvas height, as the study's "shorter side to
256" does, and loses only width beyond the canvas; a narrower one (portrait, 4:3 in a 16:9 canvas)
is scaled to the canvas width and keeps its centre rows. A frame already of the canvas's aspect is
simply resized to it, so square sources on a square canvas decode as they always have.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Size = tuple[int, int]  # (height, width)


@dataclass(frozen=True)
class Fit:
    """Resize a frame to ``resized``, then keep the window ``(top, left, height, width)``."""

    resized: Size
    window: tuple[int, int, int, int]

    @property
    def crops(self) -> bool:
        return self.window[2:] != self.resized


def cover(source: Size, canvas: Size) -> Fit:
    """The aspect-keeping resize of a ``source`` frame that covers ``canvas``, and the centred window."""
    height, width = source
    canvas_h, canvas_w = canvas
    if height < 1 or width < 1:
        raise ValueError(f"frame size must be positive, got {source}")
    scale = max(canvas_h / height, canvas_w / width)
    resized = (max(canvas_h, round(height * scale)), max(canvas_w, round(width * scale)))
    top, left = (resized[0] - canvas_h) // 2, (resized[1] - canvas_w) // 2
    return Fit(resized, (top, left, canvas_h, canvas_w))


def cut(frames: np.ndarray, fit: Fit) -> np.ndarray:
    """The window of ``fit`` from frames (N, H, W, C) already resized to ``fit.resized``."""
    if not fit.crops:
        return frames
    top, left, height, width = fit.window
    return np.ascontiguousarray(frames[:, top : top + height, left : left + width])


def rotate(frames: np.ndarray, degrees: int) -> np.ndarray:
    """Frames (N, H, W, C) turned anticlockwise by ``degrees`` (a multiple of 90: a display rotation)."""
    turns = (degrees // 90) % 4
    return frames if turns == 0 else np.ascontiguousarray(np.rot90(frames, k=turns, axes=(1, 2)))


def displayed(coded: Size, degrees: int) -> Size:
    """The (height, width) a coded frame shows at after a display rotation of ``degrees``."""
    return (coded[1], coded[0]) if (degrees // 90) % 2 else coded
