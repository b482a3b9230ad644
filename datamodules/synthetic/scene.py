"""Random scene parameters of one synthetic clip: background, object, and its motion over time.

A clip of the second class of a pair gets the time-reversed scene of the first class, drawn from
the same random numbers, so both classes have the same distribution of individual frames.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from datamodules.synthetic.layout import CLASS_NAMES, REVERSED_PAIRS


@dataclass
class Scene:
    """Everything needed to draw one clip: a static background and per-frame object parameters.

    Coordinates are in pixels (x to the right, y down, pixel centres at +0.5). A growing ``angle``
    turns the object clockwise on screen. ``radius`` is the object's half-extent in pixels; ``alpha`` its opacity.
    """

    background: np.ndarray  # (H, W, 3) float32 in [0, 255]
    shape: str
    texture: str
    colors: np.ndarray  # (2, 3) float32
    texture_freq: float
    texture_angle: float
    cx: np.ndarray  # (T,)
    cy: np.ndarray
    radius: np.ndarray
    angle: np.ndarray
    alpha: np.ndarray


SHAPES: tuple[str, ...] = ("square", "disk", "triangle", "ell", "tee")
ASYMMETRIC_SHAPES: tuple[str, ...] = ("triangle", "ell", "tee")
TEXTURES: tuple[str, ...] = ("solid", "stripes", "checker")


def _random_color(rng: np.random.Generator, lum_lo: float, lum_hi: float, chroma: float) -> np.ndarray:
    """A colour whose mean channel value lies in [lum_lo, lum_hi], with a random hue of about ``chroma`` saturation."""
    lum = rng.uniform(lum_lo, lum_hi)
    hue = rng.uniform(0.0, 2.0 * math.pi)
    sat = rng.uniform(0.3, 1.0) * chroma
    # Zero-mean chroma direction (the three channel offsets sum to zero).
    offs = np.cos(hue + np.array([0.0, 2.0 * math.pi / 3.0, 4.0 * math.pi / 3.0])) * sat
    return np.clip(lum + offs, 0.0, 255.0).astype(np.float32)


def _upsample_bilinear(grid: np.ndarray, h: int, w: int) -> np.ndarray:
    gh, gw = grid.shape
    ys = (np.arange(h) + 0.5) / h * (gh - 1)
    xs = (np.arange(w) + 0.5) / w * (gw - 1)
    y0 = np.minimum(ys.astype(np.int64), gh - 2)
    x0 = np.minimum(xs.astype(np.int64), gw - 2)
    fy = (ys - y0)[:, None]
    fx = (xs - x0)[None, :]
    g00 = grid[y0][:, x0]
    g01 = grid[y0][:, x0 + 1]
    g10 = grid[y0 + 1][:, x0]
    g11 = grid[y0 + 1][:, x0 + 1]
    return (g00 * (1 - fy) * (1 - fx) + g01 * (1 - fy) * fx + g10 * fy * (1 - fx) + g11 * fy * fx).astype(
        np.float32
    )


def _background(rng: np.random.Generator, size: int, dark: bool) -> np.ndarray:
    lo, hi = (20.0, 90.0) if dark else (165.0, 235.0)
    c0 = _random_color(rng, lo, hi, 45.0)
    c1 = _random_color(rng, lo, hi, 45.0)
    theta = rng.uniform(0.0, 2.0 * math.pi)
    coord = (np.arange(size, dtype=np.float32) + 0.5) / size - 0.5
    g = coord[None, :] * math.cos(theta) + coord[:, None] * math.sin(theta)
    g = (g - g.min()) / max(float(g.max() - g.min()), 1e-6)
    img = c0[None, None, :] * (1.0 - g[..., None]) + c1[None, None, :] * g[..., None]
    # Low-contrast noise: smooth blobs plus a faint fine grain, both static over the clip.
    blobs = _upsample_bilinear(rng.normal(0.0, 1.0, (6, 6)).astype(np.float32), size, size)
    grain = rng.normal(0.0, 1.0, (size, size)).astype(np.float32)
    noise = blobs * rng.uniform(3.0, 8.0) + grain * rng.uniform(0.5, 2.5)
    img = img + noise[..., None]
    return np.clip(img, 0.0, 255.0).astype(np.float32)


def _object_colors(rng: np.random.Generator, dark_background: bool) -> np.ndarray:
    """Two colours that contrast with the background (and, for textures, with each other)."""
    if dark_background:
        bands = [(145.0, 190.0), (205.0, 250.0)]
    else:
        bands = [(5.0, 50.0), (65.0, 110.0)]
    if rng.random() < 0.5:
        bands.reverse()
    return np.stack([_random_color(rng, *bands[0], 60.0), _random_color(rng, *bands[1], 60.0)])


def _progress(rng: np.random.Generator, num_frames: int) -> np.ndarray:
    """Monotone progress 0 -> 1 over the clip: a motion window with short random holds and a random easing."""
    if num_frames == 1:
        return np.zeros(1, dtype=np.float64)
    t = np.arange(num_frames, dtype=np.float64) / (num_frames - 1)
    a = rng.uniform(0.0, 0.15)
    b = rng.uniform(0.85, 1.0)
    q = np.clip((t - a) / (b - a), 0.0, 1.0)
    w = rng.uniform(0.0, 1.0)
    return (1.0 - w) * q + w * q * q * (3.0 - 2.0 * q)


def _lerp(p: np.ndarray, start: float, end: float) -> np.ndarray:
    return start + (end - start) * p


def _sample_forward_scene(motion: str, rng: np.random.Generator, num_frames: int, size: int) -> Scene:
    """Sample the scene of a forward-class clip (the first class of a pair). Lengths are fractions of ``size``."""
    dark = bool(rng.random() < 0.5)
    background = _background(rng, size, dark)
    colors = _object_colors(rng, dark)
    texture = TEXTURES[int(rng.integers(len(TEXTURES)))]
    shapes = ASYMMETRIC_SHAPES if motion == "rotate" else SHAPES
    shape = shapes[int(rng.integers(len(shapes)))]
    texture_freq = float(rng.uniform(0.7, 1.3))
    texture_angle = float(rng.uniform(0.0, math.pi))
    p = _progress(rng, num_frames)
    ones = np.ones(num_frames, dtype=np.float64)

    radius = rng.uniform(0.17, 0.25) * ones
    angle = rng.uniform(0.0, 2.0 * math.pi) * ones
    alpha = ones.copy()
    cx = rng.uniform(0.38, 0.62) * ones
    cy = rng.uniform(0.38, 0.62) * ones

    if motion in ("left", "up"):
        # Traverse most of the frame; the object is partly cut by the border at the ends.
        along = _lerp(p, rng.uniform(0.78, 0.92), rng.uniform(0.08, 0.22))
        across = _lerp(p, rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7))
        if motion == "left":
            cx, cy = along, across
        else:
            cx, cy = across, along
    elif motion == "grow":
        radius = _lerp(p, rng.uniform(0.07, 0.11), rng.uniform(0.32, 0.42))
        cx = rng.uniform(0.4, 0.6) * ones
        cy = rng.uniform(0.4, 0.6) * ones
    elif motion == "rotate":
        # Rigid rotation about a pivot near the frame centre that lies off the object's centre (like a clock hand):
        # the object turns and its mass sweeps round the pivot, which keeps the direction visible in the position
        # of the object too, not only in its orientation.
        radius = rng.uniform(0.17, 0.22) * ones
        turn = rng.uniform(math.radians(120.0), math.radians(270.0))
        angle = angle + turn * p
        pivot_x, pivot_y = rng.uniform(0.45, 0.55, size=2)
        arm = rng.uniform(0.13, 0.19)
        arm_angle = rng.uniform(0.0, 2.0 * math.pi)
        cx = pivot_x + arm * np.cos(angle + arm_angle)
        cy = pivot_y + arm * np.sin(angle + arm_angle)
    elif motion == "appear":
        alpha = p.copy()
    else:
        raise ValueError(f"unknown motion {motion!r}")

    return Scene(
        background=background,
        shape=shape,
        texture=texture,
        colors=colors,
        texture_freq=texture_freq,
        texture_angle=texture_angle,
        cx=cx * size,
        cy=cy * size,
        radius=radius * size,
        angle=angle,
        alpha=alpha,
    )


# class name -> (forward motion, reversed?)
_CLASS_MOTION: dict[str, tuple[str, bool]] = {}
for _motion, (_fwd, _rev) in zip(("left", "up", "grow", "rotate", "appear"), REVERSED_PAIRS):
    _CLASS_MOTION[_fwd] = (_motion, False)
    _CLASS_MOTION[_rev] = (_motion, True)
del _motion, _fwd, _rev


def sample_scene(class_name: str, rng: np.random.Generator, num_frames: int, size: int) -> Scene:
    """The scene of a clip of ``class_name``; a reversed class gets the time-reversed forward scene."""
    try:
        motion, reverse = _CLASS_MOTION[class_name]
    except KeyError:
        raise ValueError(f"unknown class {class_name!r}; expected one of {CLASS_NAMES}") from None
    scene = _sample_forward_scene(motion, rng, num_frames, size)
    if reverse:
        for name in ("cx", "cy", "radius", "angle", "alpha"):
            setattr(scene, name, getattr(scene, name)[::-1].copy())
    return scene
