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

This module runs the generation; the pieces are in the package: :mod:`~datamodules.synthetic.layout`
(classes, file names), :mod:`~datamodules.synthetic.config` (what to generate, where),
:mod:`~datamodules.synthetic.plan` (which clip is which), :mod:`~datamodules.synthetic.scene` and
:mod:`~datamodules.synthetic.draw` (rendering), :mod:`~datamodules.synthetic.encode` (H.264) and
:mod:`~datamodules.synthetic.manifest`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Iterable, Sequence

from datamodules.storage import build_directory_once, short_hash, write_atomically
from datamodules.synthetic.config import SyntheticConfig, config_hash, dataset_dir, default_root
from datamodules.synthetic.draw import draw_scene, render_clip
from datamodules.synthetic.encode import CRF, GOP, encode_mp4
from datamodules.synthetic.layout import (
    CLASS_NAMES,
    DATASET_VERSION,
    LABELS_FILE,
    MANIFEST_NAME,
    PREFIX,
    REVERSED_PAIRS,
    SPLITS,
    VIDEO_DIR,
    split_file,
)
from datamodules.synthetic.manifest import format_manifest, is_complete, load_manifest
from datamodules.synthetic.plan import ClipJob, clip_rng, make_clip, plan, split_counts
from datamodules.workers import worker_context
from datamodules.synthetic.scene import ASYMMETRIC_SHAPES, SHAPES, TEXTURES, Scene, sample_scene

__all__ = [
    "DATASET_VERSION",
    "CLASS_NAMES",
    "REVERSED_PAIRS",
    "SPLITS",
    "PREFIX",
    "MANIFEST_NAME",
    "VIDEO_DIR",
    "SHAPES",
    "ASYMMETRIC_SHAPES",
    "TEXTURES",
    "SyntheticConfig",
    "default_root",
    "config_hash",
    "dataset_dir",
    "ensure_synthetic",
    "encode_mp4",
    "render_clip",
    "sample_scene",
    "draw_scene",
    "Scene",
    "is_complete",
    "load_manifest",
    "plan",
    "ClipJob",
    "clip_rng",
    "make_clip",
    "split_counts",
    "main",
]


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
        "sha256": short_hash(data, length=None),
    }


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


def _iterate_jobs(jobs: list[ClipJob], out_dir: Path, workers: int) -> Iterable[dict]:
    args = [(job, str(out_dir)) for job in jobs]
    if workers <= 1:
        for a in args:
            yield _run_job(a)
        return
    # workers that inherit nothing: safe when the caller has threads or an initialised CUDA context (a DDP rank)
    ctx = worker_context()
    chunksize = max(1, min(16, len(args) // (workers * 8)))
    with ctx.Pool(processes=workers) as pool:
        yield from pool.imap_unordered(_run_job, args, chunksize=chunksize)


def _generate(directory: Path, config: SyntheticConfig, workers: int, progress: bool) -> dict:
    """Write the whole dataset into the empty folder ``directory``, the manifest last."""
    (directory / VIDEO_DIR).mkdir(parents=True)
    jobs = plan(config)
    workers = max(1, min(workers, len(jobs)))
    results: dict[int, dict] = {}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="synthetic dataset", unit="clip", file=sys.stderr)
    try:
        for entry in _iterate_jobs(jobs, directory, workers):
            results[int(entry["id"])] = entry
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    files = [results[job.video_id] for job in jobs]

    _write_lines(directory / LABELS_FILE, CLASS_NAMES)
    counts = {}
    for split in SPLITS:
        rows = [e for e in files if e["split"] == split]
        counts[split] = len(rows)
        _write_lines(directory / split_file(split), (f"{e['id']};{e['label']}" for e in rows))

    manifest = {
        "name": PREFIX,
        "version": DATASET_VERSION,
        "config": config.to_dict(),
        "classes": list(CLASS_NAMES),
        "reversed_pairs": [list(p) for p in REVERSED_PAIRS],
        "counts": counts,
        "num_videos": len(files),
        "total_bytes": sum(e["bytes"] for e in files),
        "encoding": {"codec": "libx264", "pix_fmt": "yuv420p", "crf": CRF, "gop": GOP, "fps": config.fps},
        "files": files,
    }
    # Written last, in one step: its presence marks the directory as complete.
    write_atomically(directory / MANIFEST_NAME, format_manifest(manifest))
    return manifest


def ensure_synthetic(
    root: Path | None = None,
    config: SyntheticConfig = SyntheticConfig(),
    workers: int | None = None,
    progress: bool = True,
) -> Path:
    """Generate the dataset if it is not complete yet; return its directory.

    Idempotent and safe when called concurrently by several processes: generation happens under a
    file lock next to the target directory, into a temporary sibling directory that is renamed into
    place once complete (with ``manifest.json`` written last), see :func:`datamodules.storage.build_directory_once`.
    Leftover temporary directories from killed runs and incomplete target directories are discarded
    and regenerated.
    """
    root = Path(root) if root is not None else default_root()
    return build_directory_once(
        dataset_dir(root, config),
        lambda directory: is_complete(directory, config),
        lambda directory: _generate(directory, config, workers or os.cpu_count() or 1, progress),
    )


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
