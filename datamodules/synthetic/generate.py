"""The built-in ``synthetic`` dataset: short clips in which temporal order is needed.

Every class comes in a pair with its exact time-reverse (``Moving Left`` / ``Moving Right``, ``Growing`` /
``Shrinking``, ...). A clip of the second class of a pair is the frame-reversed clip of the first class, rendered
from the same random parameters, so both classes have the same distribution of individual frames: a head that
averages per-frame scores (TSN) cannot separate them, a head that models order (LSTM, TRN, ...) can.

The dataset is generated on first use by :func:`ensure_synthetic` and written in the layout of the 20BN-Jester v1
release (``<name>-labels.csv`` and ``<id>;<label>`` split files) with H.264 ``.mp4`` videos::

    <dir>/synthetic-labels.csv
    <dir>/synthetic-train.csv
    <dir>/synthetic-validation.csv
    <dir>/synthetic-test.csv          (with labels: it is the held-out test set)
    <dir>/videos/<video_id>.mp4
    <dir>/manifest.json               (written last; marks the directory as complete)

Clip ``i`` is drawn from ``numpy.random.SeedSequence([seed, i])`` only, so the output does not depend on the
number of worker processes.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import multiprocessing
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

__all__ = [
    "DATASET_VERSION",
    "CLASS_NAMES",
    "REVERSED_PAIRS",
    "SPLITS",
    "SyntheticConfig",
    "default_root",
    "dataset_dir",
    "ensure_synthetic",
    "render_clip",
    "sample_scene",
    "draw_scene",
    "Scene",
    "is_complete",
    "load_manifest",
    "plan",
    "make_clip",
    "split_counts",
]

DATASET_VERSION: int = 1

#: Forward motion first, its exact time-reverse second.
REVERSED_PAIRS: tuple[tuple[str, str], ...] = (
    ("Moving Left", "Moving Right"),
    ("Moving Up", "Moving Down"),
    ("Growing", "Shrinking"),
    ("Rotating Clockwise", "Rotating Anticlockwise"),
    ("Appearing", "Vanishing"),
)

CLASS_NAMES: tuple[str, ...] = tuple(name for pair in REVERSED_PAIRS for name in pair)

SPLITS: tuple[str, ...] = ("train", "validation", "test")

PREFIX = "synthetic"
MANIFEST_NAME = "manifest.json"
VIDEO_DIR = "videos"
_TMP_MARK = ".tmp-"

# Encoder settings (libx264). No B-frames and a short fixed GOP keep random access cheap for decord.
_CRF = 18
_GOP = 12
_PRESET = "veryfast"


@dataclass(frozen=True)
class SyntheticConfig:
    seed: int = 0
    clips_per_class: int = 250
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    min_frames: int = 16
    max_frames: int = 48
    sizes: tuple[int, ...] = (64, 80, 96)
    fps: int = 12

    def __post_init__(self) -> None:
        # Lists (e.g. from YAML) are normalised to tuples so that equal configs hash equally.
        object.__setattr__(self, "split_fractions", tuple(float(f) for f in self.split_fractions))
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))
        if self.clips_per_class < 1:
            raise ValueError("clips_per_class must be >= 1")
        if len(self.split_fractions) != 3 or any(f < 0 for f in self.split_fractions):
            raise ValueError("split_fractions must be three non-negative numbers (train, validation, test)")
        if not math.isclose(sum(self.split_fractions), 1.0, abs_tol=1e-6):
            raise ValueError(f"split_fractions must sum to 1, got {self.split_fractions}")
        if not 1 <= self.min_frames <= self.max_frames:
            raise ValueError("need 1 <= min_frames <= max_frames")
        if not self.sizes or any(s < 16 or s % 2 for s in self.sizes):
            raise ValueError("sizes must be even numbers >= 16")
        if self.fps < 1:
            raise ValueError("fps must be >= 1")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["split_fractions"] = list(self.split_fractions)
        d["sizes"] = list(self.sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SyntheticConfig":
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()})


# --------------------------------------------------------------------------------------------------------------
# Paths


def default_root() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_path("stbench")) / "synthetic"


def config_hash(config: SyntheticConfig) -> str:
    payload = json.dumps({"version": DATASET_VERSION, **config.to_dict()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()[:10]


def dataset_dir(root: Path, config: SyntheticConfig) -> Path:
    return Path(root) / f"v{DATASET_VERSION}-seed{config.seed}-{config_hash(config)}"


# --------------------------------------------------------------------------------------------------------------
# Rendering


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


# --------------------------------------------------------------------------------------------------------------
# Encoding


def encode_mp4(frames: np.ndarray, path: Path, fps: int) -> None:
    """Write (T, H, W, 3) uint8 RGB frames as H.264 / yuv420p in an .mp4 container."""
    import av

    t, h, w, _ = frames.shape
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = w
        stream.height = h
        stream.pix_fmt = "yuv420p"
        stream.gop_size = _GOP
        stream.codec_context.thread_count = 1
        stream.options = {
            "crf": str(_CRF),
            "preset": _PRESET,
            "x264-params": f"keyint={_GOP}:min-keyint={_GOP}:scenecut=0:bframes=0:threads=1",
        }
        for i in range(t):
            frame = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


# --------------------------------------------------------------------------------------------------------------
# Dataset plan: which video id has which class and split


def split_counts(n: int, fractions: Sequence[float]) -> tuple[int, ...]:
    """Split ``n`` items by ``fractions`` (largest remainder); every split with a positive fraction gets at least
    one item when ``n`` allows it."""
    raw = [n * f for f in fractions]
    counts = [int(math.floor(r)) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    positive = [i for i, f in enumerate(fractions) if f > 0]
    if n >= len(positive):
        for i in positive:
            while counts[i] == 0:
                donor = max(range(len(counts)), key=lambda j: (counts[j], -j))
                counts[donor] -= 1
                counts[i] += 1
    return tuple(counts)


@dataclass(frozen=True)
class ClipJob:
    video_id: int
    label: str
    split: str
    seed: int
    min_frames: int
    max_frames: int
    sizes: tuple[int, ...]
    fps: int


def plan(config: SyntheticConfig) -> list[ClipJob]:
    """All clips of the dataset, ordered by video id (1..N)."""
    n = config.clips_per_class
    counts = split_counts(n, config.split_fractions)
    per_class = [split for split, c in zip(SPLITS, counts) for _ in range(c)]
    slots = [(label, split) for label in CLASS_NAMES for split in per_class]
    perm_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(config.seed, spawn_key=(0x5EED,))))
    order = perm_rng.permutation(len(slots))
    jobs = []
    for vid, slot in enumerate(order, start=1):
        label, split = slots[int(slot)]
        jobs.append(
            ClipJob(vid, label, split, config.seed, config.min_frames, config.max_frames, config.sizes, config.fps)
        )
    return jobs


def clip_rng(seed: int, video_id: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, video_id])))


def make_clip(job: ClipJob) -> tuple[np.ndarray, int, int]:
    """Render the clip of a job: (frames, num_frames, size). Depends only on the job."""
    rng = clip_rng(job.seed, job.video_id)
    num_frames = int(rng.integers(job.min_frames, job.max_frames + 1))
    size = int(job.sizes[int(rng.integers(len(job.sizes)))])
    return render_clip(job.label, rng, num_frames, size), num_frames, size


def _run_job(args: tuple[ClipJob, str]) -> dict:
    job, out_dir = args
    frames, num_frames, size = make_clip(job)
    rel = f"{VIDEO_DIR}/{job.video_id}.mp4"
    path = Path(out_dir) / rel
    encode_mp4(frames, path, job.fps)
    data = path.read_bytes()
    return {
        "id": str(job.video_id),
        "path": rel,
        "label": job.label,
        "split": job.split,
        "num_frames": num_frames,
        "size": size,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


# --------------------------------------------------------------------------------------------------------------
# Generation with a lock and an atomic rename


def _read_manifest(directory: Path) -> dict | None:
    try:
        with open(directory / MANIFEST_NAME, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def is_complete(directory: Path, config: SyntheticConfig) -> bool:
    """Whether ``directory`` holds a finished dataset for ``config`` (manifest present and matching, files there)."""
    manifest = _read_manifest(directory)
    if not manifest or manifest.get("version") != DATASET_VERSION or manifest.get("config") != config.to_dict():
        return False
    for name in [f"{PREFIX}-labels.csv"] + [f"{PREFIX}-{s}.csv" for s in SPLITS]:
        if not (directory / name).is_file():
            return False
    try:
        return all((directory / e["path"]).stat().st_size == e["bytes"] for e in manifest["files"])
    except (OSError, KeyError, TypeError):
        return False


def _write_text(path: Path, lines: Iterable[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


def _iterate_jobs(jobs: list[ClipJob], out_dir: Path, workers: int) -> Iterable[dict]:
    args = [(job, str(out_dir)) for job in jobs]
    if workers <= 1:
        for a in args:
            yield _run_job(a)
        return
    # "spawn" is safe even when the caller has threads or an initialised CUDA context (e.g. a DDP rank).
    ctx = multiprocessing.get_context("spawn")
    chunksize = max(1, min(16, len(args) // (workers * 8)))
    with ctx.Pool(processes=workers) as pool:
        yield from pool.imap_unordered(_run_job, args, chunksize=chunksize)


def _generate(tmp_dir: Path, config: SyntheticConfig, workers: int, progress: bool) -> dict:
    (tmp_dir / VIDEO_DIR).mkdir(parents=True)
    jobs = plan(config)
    workers = max(1, min(workers, len(jobs)))
    results: dict[int, dict] = {}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="synthetic dataset", unit="clip", file=sys.stderr)
    try:
        for entry in _iterate_jobs(jobs, tmp_dir, workers):
            results[int(entry["id"])] = entry
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    files = [results[job.video_id] for job in jobs]

    _write_text(tmp_dir / f"{PREFIX}-labels.csv", CLASS_NAMES)
    counts = {}
    for split in SPLITS:
        rows = [e for e in files if e["split"] == split]
        counts[split] = len(rows)
        _write_text(tmp_dir / f"{PREFIX}-{split}.csv", (f"{e['id']};{e['label']}" for e in rows))

    manifest = {
        "name": PREFIX,
        "version": DATASET_VERSION,
        "config": config.to_dict(),
        "classes": list(CLASS_NAMES),
        "reversed_pairs": [list(p) for p in REVERSED_PAIRS],
        "counts": counts,
        "num_videos": len(files),
        "total_bytes": sum(e["bytes"] for e in files),
        "encoding": {"codec": "libx264", "pix_fmt": "yuv420p", "crf": _CRF, "gop": _GOP, "fps": config.fps},
        "files": files,
    }
    # Written last, through a rename: its presence marks the directory as complete.
    part = tmp_dir / (MANIFEST_NAME + ".part")
    with open(part, "w", encoding="utf-8", newline="\n") as f:
        f.write(_format_manifest(manifest))
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, tmp_dir / MANIFEST_NAME)
    return manifest


def _format_manifest(manifest: dict) -> str:
    """JSON with one line per video entry (readable, and small enough to diff)."""
    head = {k: v for k, v in manifest.items() if k != "files"}
    text = json.dumps(head, indent=1)[:-2]
    rows = ",\n  ".join(json.dumps(e, separators=(",", ":")) for e in manifest["files"])
    return text + ',\n "files": [\n  ' + rows + "\n ]\n}\n"


def _remove_leftovers(target: Path) -> None:
    """Remove temporary directories of killed runs (only called while holding the lock)."""
    for p in target.parent.glob(f".{target.name}{_TMP_MARK}*"):
        shutil.rmtree(p, ignore_errors=True)


def ensure_synthetic(
    root: Path | None = None,
    config: SyntheticConfig = SyntheticConfig(),
    workers: int | None = None,
    progress: bool = True,
) -> Path:
    """Generate the dataset if it is not complete yet; return its directory.

    Idempotent and safe when called concurrently by several processes: generation happens under a
    ``filelock.FileLock`` next to the target directory, into a temporary sibling directory that is renamed into
    place once complete (with ``manifest.json`` written last). Leftover temporary directories from killed runs
    and incomplete target directories are discarded and regenerated.
    """
    from filelock import FileLock

    root = Path(root) if root is not None else default_root()
    target = dataset_dir(root, config)
    if is_complete(target, config):
        return target
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if is_complete(target, config):
            return target
        _remove_leftovers(target)
        tmp_dir = target.parent / f".{target.name}{_TMP_MARK}{os.getpid()}"
        try:
            _generate(tmp_dir, config, workers or os.cpu_count() or 1, progress)
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp_dir, target)
        except BaseException:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise
    return target


def load_manifest(directory: Path) -> dict:
    manifest = _read_manifest(Path(directory))
    if manifest is None:
        raise FileNotFoundError(f"no readable {MANIFEST_NAME} in {directory}")
    return manifest


# --------------------------------------------------------------------------------------------------------------
# Command line


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m datamodules.synthetic.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help=f"parent directory (default: {default_root()})")
    parser.add_argument("--seed", type=int, default=SyntheticConfig.seed)
    parser.add_argument("--clips-per-class", type=int, default=SyntheticConfig.clips_per_class)
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all CPU cores)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    config = SyntheticConfig(seed=args.seed, clips_per_class=args.clips_per_class)
    root = args.root if args.root is not None else default_root()
    existed = is_complete(dataset_dir(root, config), config)
    t0 = time.perf_counter()
    directory = ensure_synthetic(root, config, workers=args.workers, progress=not args.no_progress)
    elapsed = time.perf_counter() - t0
    manifest = load_manifest(directory)
    print(directory)
    print("counts: " + ", ".join(f"{k}={v}" for k, v in manifest["counts"].items()) + f" ({len(CLASS_NAMES)} classes)")
    print(f"size on disk: {_dir_size(directory) / 2**20:.1f} MiB")
    print(("already complete, checked" if existed else "generated") + f" in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
