"""Drawing a scene: the object's shape and texture, anti-aliased, over the static background."""
from __future__ import annotations

import math

import numpy as np

from datamodules.synthetic.scene import Scene, sample_scene


def _box(u: np.ndarray, v: np.ndarray, cu: float, cv: float, hu: float, hv: float) -> np.ndarray:
    return np.maximum(np.abs(u - cu) - hu, np.abs(v - cv) - hv)


def _shape_distance(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Approximate signed distance (negative inside) to a shape in object units (the shape fits in radius ~1)."""
    if shape == "square":
        return np.maximum(np.abs(u), np.abs(v)) - 0.78
    if shape == "disk":
        return np.sqrt(u * u + v * v) - 0.95
    if shape == "triangle":
        # Right triangle with the right angle at the bottom-left: only a full turn maps it onto itself.
        return np.maximum(np.maximum(-0.85 - u, v - 0.85), (u - v) * (1.0 / math.sqrt(2.0)) - 0.05)
    if shape == "ell":
        return np.minimum(_box(u, v, -0.55, 0.0, 0.32, 0.92), _box(u, v, 0.0, 0.62, 0.87, 0.3))
    if shape == "tee":
        return np.minimum(_box(u, v, 0.0, -0.62, 0.92, 0.3), _box(u, v, 0.0, 0.1, 0.3, 0.82))
    raise ValueError(f"unknown shape {shape!r}")


def _smooth_square_wave(phase: np.ndarray) -> np.ndarray:
    """A square wave in [0, 1] with softened edges (avoids aliasing of thin stripes)."""
    return np.clip(np.sin(phase) * 2.5 + 0.5, 0.0, 1.0)


def _texture(kind: str, u: np.ndarray, v: np.ndarray, freq: float, angle: float) -> np.ndarray | None:
    if kind == "solid":
        return None
    c, s = math.cos(angle), math.sin(angle)
    a = (u * c + v * s) * (2.0 * math.pi * freq)
    if kind == "stripes":
        return _smooth_square_wave(a)
    if kind == "checker":
        b = (v * c - u * s) * (2.0 * math.pi * freq)
        return np.clip(np.sin(a) * np.sin(b) * 5.0 + 0.5, 0.0, 1.0)
    raise ValueError(f"unknown texture {kind!r}")


# Every shape lies within this many radii of its centre (the farthest corners are at about 1.3).
_SHAPE_EXTENT = 1.35


def draw_scene(scene: Scene) -> np.ndarray:
    """Render a scene to (T, H, W, 3) uint8, vectorised over all frames and pixels.

    The object is drawn in a per-frame window that follows it (same window size for all frames), then pasted onto
    the background; pixels outside the window are background only.
    """
    h, w, _ = scene.background.shape
    t = len(scene.cx)
    f32 = np.float32
    half = float(np.max(scene.radius)) * _SHAPE_EXTENT + 1.0
    win = int(math.ceil(2.0 * half)) + 2
    wh, ww = min(h, win), min(w, win)
    x0 = np.clip(np.floor(scene.cx - ww / 2.0), 0, w - ww).astype(np.int64)
    y0 = np.clip(np.floor(scene.cy - wh / 2.0), 0, h - wh).astype(np.int64)
    xi = x0[:, None] + np.arange(ww)  # (T, ww) pixel columns of each frame's window
    yi = y0[:, None] + np.arange(wh)  # (T, wh)

    col = lambda a: np.asarray(a, dtype=f32)[:, None, None]  # noqa: E731
    dx = (xi.astype(f32) + f32(0.5))[:, None, :] - col(scene.cx)  # (T, 1, ww)
    dy = (yi.astype(f32) + f32(0.5))[:, :, None] - col(scene.cy)  # (T, wh, 1)
    cos, sin = col(np.cos(scene.angle)), col(np.sin(scene.angle))
    inv_r = col(1.0 / scene.radius)
    # Object coordinates: a point (u, v) of the object sits at R(angle) @ (u, v) * radius from the centre, so a
    # growing angle turns the object clockwise on screen (y points down).
    u = (dx * cos + dy * sin) * inv_r
    v = (dy * cos - dx * sin) * inv_r
    dist_px = _shape_distance(scene.shape, u, v) * col(scene.radius)
    cover = np.clip(f32(0.5) - dist_px, 0.0, 1.0) * col(scene.alpha)  # (T, wh, ww), anti-aliased edge
    tex = _texture(scene.texture, u, v, scene.texture_freq, scene.texture_angle)

    background = scene.background
    bg_u8 = np.clip(background + f32(0.5), 0.0, 255.0).astype(np.uint8)
    out = np.broadcast_to(bg_u8, (t, h, w, 3)).copy()
    win_u8 = np.empty((t, wh, ww, 3), dtype=np.uint8)
    c0, c1 = scene.colors[0], scene.colors[1]
    rows, cols = yi[:, :, None], xi[:, None, :]
    # Channel by channel on contiguous planes: much faster than broadcasting over a trailing axis of 3.
    for k in range(3):
        bg = background[:, :, k][rows, cols]  # (T, wh, ww)
        obj = f32(c0[k]) if tex is None else f32(c0[k]) + tex * f32(c1[k] - c0[k])
        plane = bg + cover * (obj - bg)
        plane += f32(0.5)
        np.clip(plane, 0.0, 255.0, out=plane)
        win_u8[..., k] = plane
    for i in range(t):
        out[i, y0[i] : y0[i] + wh, x0[i] : x0[i] + ww] = win_u8[i]
    return out


def render_clip(class_name: str, rng: np.random.Generator, num_frames: int, size: int) -> np.ndarray:
    """Render one clip of ``class_name`` as (num_frames, size, size, 3) uint8.

    For each pair in :data:`REVERSED_PAIRS`, rendering the second class from a generator in the same state as for
    the first class gives exactly the first clip's frames in reverse order.
    """
    if num_frames < 1:
        raise ValueError("num_frames must be >= 1")
    if size < 16 or size % 2:
        raise ValueError("size must be an even number >= 16")
    return draw_scene(sample_scene(class_name, rng, num_frames, size))
