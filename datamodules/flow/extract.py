"""Dense optical flow of every consecutive frame pair of a video, or of a whole dataset, stored as
quantised JPEG images (format: :mod:`datamodules.flow.layout`; values: :mod:`datamodules.flow.quantise`;
methods: :mod:`datamodules.flow.methods`).

A finished video (a folder with ``flow.json``) is skipped, so an interrupted extraction resumes.
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from datamodules.decoding.base import VideoReadError
from datamodules.flow.gray_frames import folder_frames, video_frames
from datamodules.flow.layout import FLOW_JSON, JPEG_QUALITY, X_TEMPLATE, Y_TEMPLATE, flow_folder, read_flow_info
from datamodules.flow.methods import METHODS, available_methods, best_flow_method, compute_flow, resolve_method
from datamodules.flow.quantise import DEFAULT_BOUND, check_bound, dequantise_flow, quantise_flow
from datamodules.records import VideoRecord
from datamodules.storage import replacing_directory
from datamodules.workers import worker_context

__all__ = [
    "DEFAULT_BOUND", "FLOW_JSON", "JPEG_QUALITY", "METHODS", "X_TEMPLATE", "Y_TEMPLATE",
    "FlowFailure", "FlowResult", "FlowSummary",
    "available_methods", "best_flow_method", "compute_flow", "dequantise_flow", "extract_dataset_flow",
    "extract_video_flow", "flow_folder", "quantise_flow", "read_flow_info", "resolve_method",
]  # fmt: skip


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
    """Flow of every consecutive frame pair of ``video`` as JPEGs in ``out_dir`` (see :mod:`datamodules.flow.layout`).

    ``video`` is a video file, or a folder of frame images when ``frame_template`` is given
    (numbered from ``first_frame``). Frames are resized to ``size`` = (height, width) before the
    flow is computed (None keeps the native size). A finished ``out_dir`` is skipped.
    """
    video, out_dir = Path(video), Path(out_dir)
    info = read_flow_info(out_dir)
    if info is not None:
        return FlowResult(out_dir, str(info["method"]), int(info["num_pairs"]), int(info["bytes"]), True, 0.0)
    bound = check_bound(bound)
    started = time.perf_counter()
    frames = (
        folder_frames(video, frame_template, first_frame, num_frames, size)
        if frame_template is not None
        else video_frames(video, size)
    )
    with replacing_directory(out_dir) as building:
        total_bytes, pairs, shape = 0, 0, None
        prev = None
        for frame in frames:
            if prev is not None:
                q = quantise_flow(compute_flow(prev, frame, method), bound)
                pairs += 1
                total_bytes += _write_image(building / X_TEMPLATE.format(pairs), q[..., 0])
                total_bytes += _write_image(building / Y_TEMPLATE.format(pairs), q[..., 1])
            prev, shape = frame, frame.shape
        if pairs == 0:
            got = 0 if prev is None else 1
            raise VideoReadError(video, f"needs at least 2 frames for optical flow, got {got}")
        info = {"method": method, "bound": bound, "num_pairs": pairs, "size": list(shape),
                "jpeg_quality": JPEG_QUALITY, "bytes": total_bytes}  # fmt: skip
        with open(building / FLOW_JSON, "w", encoding="utf-8") as f:
            json.dump(info, f)
    return FlowResult(out_dir, method, pairs, total_bytes, False, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# A whole dataset


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
    ctx = worker_context()
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
    bound = check_bound(bound)
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
