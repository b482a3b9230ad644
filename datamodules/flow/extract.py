"""Dense optical flow of every consecutive frame pair, stored as quantised JPEG images.

Layout (one folder per video; ``video_id`` may contain "/", which becomes sub-folders)::

    <flow_root>/<video_id>/x_00001.jpg   horizontal component of frame pair 1 (frames 1 -> 2)
    <flow_root>/<video_id>/y_00001.jpg   vertical component of frame pair 1
    ...                                  N frames give N - 1 pairs, numbered from 1
    <flow_root>/<video_id>/flow.json     method, bound, num_pairs, size, jpeg_quality, bytes

A video's folder is written under a temporary name and renamed into place once complete, with
``flow.json`` inside, so a folder with ``flow.json`` is always whole and is skipped on a re-run.

Quantisation (``bound`` b, in pixels; default 20): a flow value f is clipped to [-b, b] and mapped
linearly onto 0..255 with ``q = floor((f + b) * 255 / (2 b) + 0.5)`` (round half up), and read back
with ``f' = q * 2 b / 255 - b``. The step is ``2 b / 255``; inside the bound the round trip error is
at most half a step. Zero flow maps to 127.5, which rounds to 128 (0.078 px at b = 20); the mean
subtracted from each input later removes such offsets. The mapping is odd-symmetric:
``dequantise(255 - q) == -dequantise(q)``.

Methods: TV-L1 when the installed OpenCV has it (``opencv-contrib``), else DIS with
``PRESET_MEDIUM`` (more accurate than FAST, and cheap on the small frames used here), else
Gunnar Farneback's method. JPEG quality is ``JPEG_QUALITY`` (95).
"""
from __future__ import annotations

import functools
import json
import math
import multiprocessing
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from datamodules.decoding.video import VideoReadError
from datamodules.records import VideoRecord

METHODS: tuple[str, ...] = ("tvl1", "dis", "farneback")
DEFAULT_BOUND = 20.0
JPEG_QUALITY = 95
FLOW_JSON = "flow.json"
X_TEMPLATE = "x_{:05d}.jpg"
Y_TEMPLATE = "y_{:05d}.jpg"
_TMP_MARK = ".tmp-"
_DECODE_CHUNK = 32  # frames decoded per decord call: bounded memory for long videos


# ---------------------------------------------------------------------------------------------
# Flow computation


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


# ---------------------------------------------------------------------------------------------
# Quantisation


def _check_bound(bound: float) -> float:
    bound = float(bound)
    if not bound > 0 or not math.isfinite(bound):
        raise ValueError(f"the flow bound must be a positive number of pixels, got {bound}")
    return bound


def quantise_flow(flow: np.ndarray, bound: float = DEFAULT_BOUND) -> np.ndarray:
    """Clip to ±bound and map linearly to uint8: ``q = floor((f + b) * 255 / (2 b) + 0.5)``."""
    bound = _check_bound(bound)
    scaled = (np.clip(flow, -bound, bound) + bound) * (255.0 / (2.0 * bound))
    return np.clip(np.floor(scaled + 0.5), 0, 255).astype(np.uint8)


def dequantise_flow(q: np.ndarray, bound: float = DEFAULT_BOUND) -> np.ndarray:
    """Inverse of :func:`quantise_flow` up to half a step: ``f = q * 2 b / 255 - b`` (float32)."""
    bound = _check_bound(bound)
    return (q.astype(np.float32) * np.float32(2.0 * bound / 255.0) - np.float32(bound)).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Decoding grayscale frames


def _resize_gray(frame: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    if size is None or frame.shape[:2] == tuple(size):
        return frame
    return cv2.resize(frame, (size[1], size[0]), interpolation=cv2.INTER_AREA)


def _video_frames(video: Path, size: tuple[int, int] | None) -> Iterator[np.ndarray]:
    import decord

    if not video.is_file():
        raise VideoReadError(video, "file not found")
    if video.stat().st_size == 0:
        raise VideoReadError(video, "empty file (0 bytes)")
    try:
        # Native size, resized by OpenCV: decord's own resize fails for some widths (e.g. 48).
        reader = decord.VideoReader(str(video), ctx=decord.cpu(0), num_threads=1)
        count = len(reader)
    except Exception as error:  # decord raises its own DECORDError and RuntimeError types
        raise VideoReadError(video, f"cannot open video ({error})") from error
    for start in range(0, count, _DECODE_CHUNK):
        indices = list(range(start, min(start + _DECODE_CHUNK, count)))
        try:
            batch = reader.get_batch(indices).asnumpy()
        except Exception as error:
            where = f"frames {indices[0]}..{indices[-1]} of {count}"
            raise VideoReadError(video, f"cannot decode {where} ({error})") from error
        for rgb in batch:
            yield _resize_gray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), size)


def _folder_frames(
    folder: Path, template: str, first_frame: int, num_frames: int | None, size: tuple[int, int] | None
) -> Iterator[np.ndarray]:
    """Frames of a JPEG folder, numbered from ``first_frame``; all of them when ``num_frames`` is None."""
    if not folder.is_dir():
        raise VideoReadError(folder, "frame folder not found")
    number = first_frame
    while num_frames is None or number < first_frame + num_frames:
        path = folder / template.format(number)
        if not path.is_file():
            if num_frames is None:
                return
            raise VideoReadError(path, "missing frame")
        frame = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if frame is None:
            raise VideoReadError(path, "cannot decode frame image")
        yield _resize_gray(frame, size)
        number += 1


# ---------------------------------------------------------------------------------------------
# One video


@dataclass(frozen=True)
class FlowResult:
    """Outcome of one video: where its flow is, how many pairs, bytes on disk, whether it was skipped."""

    out_dir: Path
    method: str
    num_pairs: int
    bytes: int
    skipped: bool
    seconds: float


def read_flow_info(out_dir: Path) -> dict | None:
    """The ``flow.json`` of a finished folder, or None when the folder is absent or incomplete."""
    try:
        with open(Path(out_dir) / FLOW_JSON, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write_image(path: Path, image: np.ndarray) -> int:
    if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise OSError(f"{path}: cv2.imwrite failed")
    return path.stat().st_size


def extract_video_flow(
    video: Path,
    out_dir: Path,
    method: str,
    bound: float = DEFAULT_BOUND,
    size: tuple[int, int] | None = None,
    frame_template: str | None = None,
    first_frame: int = 1,
    num_frames: int | None = None,
) -> FlowResult:
    """Flow of every consecutive frame pair of ``video`` as JPEGs in ``out_dir`` (see the module doc).

    ``video`` is a video file, or a folder of frame images when ``frame_template`` is given
    (numbered from ``first_frame``). Frames are resized to ``size`` = (height, width) before the
    flow is computed (None keeps the native size). A finished ``out_dir`` is skipped.
    """
    video, out_dir = Path(video), Path(out_dir)
    info = read_flow_info(out_dir)
    if info is not None:
        return FlowResult(out_dir, str(info["method"]), int(info["num_pairs"]), int(info["bytes"]), True, 0.0)
    bound = _check_bound(bound)
    started = time.perf_counter()
    frames = (
        _folder_frames(video, frame_template, first_frame, num_frames, size)
        if frame_template is not None
        else _video_frames(video, size)
    )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = out_dir.parent / f".{out_dir.name}{_TMP_MARK}{os.getpid()}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir()
    try:
        total_bytes, pairs, shape = 0, 0, None
        prev = None
        for frame in frames:
            if prev is not None:
                q = quantise_flow(compute_flow(prev, frame, method), bound)
                pairs += 1
                total_bytes += _write_image(tmp_dir / X_TEMPLATE.format(pairs), q[..., 0])
                total_bytes += _write_image(tmp_dir / Y_TEMPLATE.format(pairs), q[..., 1])
            prev, shape = frame, frame.shape
        if pairs == 0:
            got = 0 if prev is None else 1
            raise VideoReadError(video, f"needs at least 2 frames for optical flow, got {got}")
        info = {"method": method, "bound": bound, "num_pairs": pairs, "size": list(shape),
                "jpeg_quality": JPEG_QUALITY, "bytes": total_bytes}  # fmt: skip
        with open(tmp_dir / FLOW_JSON, "w", encoding="utf-8") as f:
            json.dump(info, f)
        if out_dir.exists():  # an incomplete folder (no flow.json) from elsewhere: replaced
            shutil.rmtree(out_dir)
        os.replace(tmp_dir, out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return FlowResult(out_dir, method, pairs, total_bytes, False, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# A whole dataset


def flow_folder(flow_root: Path, video_id: str) -> Path:
    """``<flow_root>/<video_id>``; ids with "/" become sub-folders, ids escaping the root are refused."""
    parts = Path(video_id).parts
    if not parts or Path(video_id).is_absolute() or any(p in ("..", ".") for p in parts):
        raise ValueError(f"video id {video_id!r} is not a relative path inside the flow root")
    return Path(flow_root).joinpath(*parts)


@dataclass(frozen=True)
class _Job:
    video_id: str
    source: str
    path: str
    out_dir: str
    method: str
    bound: float
    size: tuple[int, int] | None
    frame_template: str | None
    first_frame: int
    num_frames: int | None


@dataclass(frozen=True)
class FlowFailure:
    video_id: str
    source: str  # annotation "file:line" of the record
    error: str


@dataclass
class FlowSummary:
    """What :func:`extract_dataset_flow` did. Storage figures count every video that has flow now."""

    method: str
    done: int = 0
    skipped: int = 0
    failed: list[FlowFailure] = field(default_factory=list)
    total_bytes: int = 0
    pairs_computed: int = 0
    seconds: float = 0.0  # wall time of the whole extraction

    @property
    def videos_with_flow(self) -> int:
        return self.done + self.skipped

    @property
    def mean_bytes_per_video(self) -> float:
        return self.total_bytes / self.videos_with_flow if self.videos_with_flow else 0.0

    @property
    def pairs_per_second(self) -> float:
        return self.pairs_computed / self.seconds if self.seconds > 0 else 0.0


def _run_job(job: _Job) -> tuple[_Job, FlowResult | None, str | None]:
    try:
        result = extract_video_flow(
            Path(job.path), Path(job.out_dir), job.method, job.bound, job.size,
            job.frame_template, job.first_frame, job.num_frames,
        )  # fmt: skip
        return job, result, None
    except Exception as error:  # noqa: BLE001 -- one broken video must not stop the dataset
        return job, None, f"{type(error).__name__}: {error}"


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core: no nested OpenCV threads


def _iterate(jobs: list[_Job], workers: int) -> Iterator[tuple[_Job, FlowResult | None, str | None]]:
    if workers <= 1:
        yield from map(_run_job, jobs)
        return
    ctx = multiprocessing.get_context("spawn")  # safe with threads in the parent
    chunksize = max(1, min(8, len(jobs) // (workers * 8)))
    with ctx.Pool(processes=workers, initializer=_init_worker) as pool:
        yield from pool.imap_unordered(_run_job, jobs, chunksize=chunksize)


def _plan(
    records: Sequence[VideoRecord], flow_root: Path, method: str, bound: float, size: tuple[int, int] | None
) -> tuple[list[_Job], list[FlowFailure]]:
    jobs, failures, seen = [], [], set()
    for record in records:
        if record.video_id in seen:
            continue
        seen.add(record.video_id)
        try:
            out_dir = flow_folder(flow_root, record.video_id)
        except ValueError as error:
            failures.append(FlowFailure(record.video_id, record.source, str(error)))
            continue
        jobs.append(_Job(record.video_id, record.source, str(record.path), str(out_dir), method, bound,
                         tuple(size) if size is not None else None, record.frame_template,
                         record.first_frame, record.num_frames))  # fmt: skip
    return jobs, failures


def extract_dataset_flow(
    records: Sequence[VideoRecord],
    flow_root: Path,
    method: str,
    bound: float = DEFAULT_BOUND,
    size: tuple[int, int] | None = None,
    workers: int = 1,
    progress: bool = True,
) -> FlowSummary:
    """Flow of every video of ``records`` (de-duplicated by ``video_id``) under ``flow_root``.

    Runs ``workers`` processes (1: in this process). Finished videos are skipped, so an
    interrupted extraction resumes; a video that fails is listed in the summary, not fatal.
    """
    method = resolve_method(method)
    bound = _check_bound(bound)
    jobs, failures = _plan(records, Path(flow_root), method, bound, size)
    summary = FlowSummary(method=method, failed=failures)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc=f"optical flow ({method})", unit="video", file=sys.stderr)
    started = time.perf_counter()
    try:
        for job, result, error in _iterate(jobs, max(1, min(workers, len(jobs)))):
            if result is None:
                summary.failed.append(FlowFailure(job.video_id, job.source, str(error)))
            else:
                summary.total_bytes += result.bytes
                if result.skipped:
                    summary.skipped += 1
                else:
                    summary.done += 1
                    summary.pairs_computed += result.num_pairs
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    summary.seconds = time.perf_counter() - started
    summary.failed.sort(key=lambda f: f.video_id)
    return summary
