"""Frame counts probed once per dataset and kept in an index file, with every unreadable video noted.

Probing opens each video with decord and reads its length (its container index; no frame is decoded
for the count) and counts the files of each frame folder. It then decodes the **last** frame of
every video or folder: an mp4 cut short usually fails to open at all, but a file damaged past its
header can open, report a length and still fail to decode its tail. That check costs one decode
from the nearest preceding key frame, measured at 1–5 ms for short clips of a 12-frame GOP and up
to ~0.35 s for a long-GOP 720p video, on one CPU core. A probe failure is recorded as a problem
(see :data:`PROBLEM_KINDS`) instead of raised.

The index is keyed by the resolved dataset root, the sha256 of every annotation file and
:data:`INDEX_FORMAT_VERSION`; it is a JSON file in a cache directory (default: the user cache dir
``stbench/index``), written atomically under a file lock so that concurrent processes (e.g. the
ranks of a distributed run) probe once. Each entry remembers the size and modification time of what
it probed; :func:`build_index` probes again only the entries whose file or folder changed since
(a folder's modification time changes when frames are added, removed or renamed, not when a frame
is rewritten in place), so fixing a broken file and re-running picks the fix up.
"""
from __future__ import annotations

import json
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from datamodules.records import VideoRecord
from datamodules.storage import file_sha256, locked, short_hash, write_atomically

INDEX_FORMAT_VERSION = 1

MISSING = "missing"
ZERO_BYTE = "zero-byte"
CANNOT_OPEN = "cannot open"
NO_FRAMES = "no frames"
CANNOT_DECODE = "cannot decode"
PROBLEM_KINDS = (MISSING, ZERO_BYTE, CANNOT_OPEN, NO_FRAMES, CANNOT_DECODE)

Signature = tuple[str | None, int, int | None, int | None]  # (frame template, first frame, size, mtime_ns)


@dataclass(frozen=True)
class Probe:
    """What probing one video file or frame folder found: its frame count, or the problem."""

    num_frames: int | None
    problem: str | None = None  # one of PROBLEM_KINDS, None when the video is readable
    detail: str = ""
    signature: Signature | None = None  # what was probed; a changed signature means probe again

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class VideoIndex:
    """Probe results of one dataset root and annotation set, by path relative to the root."""

    key: str
    root: Path
    annotation_hashes: tuple[str, ...]
    entries: Mapping[str, Probe]
    file: Path
    probed: int = 0  # entries probed by the call that returned this index (0: everything came from the file)

    def lookup(self, path: str | Path) -> Probe | None:
        return self.entries.get(entry_key(path, self.root))


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_path("stbench")) / "index"


def entry_key(path: str | Path, root: str | Path) -> str:
    """``path`` relative to ``root`` when inside it (so a relative or absolute root gives the same key)."""
    absolute, base = os.path.abspath(path), os.path.abspath(root)
    if absolute == base or absolute.startswith(base.rstrip(os.sep) + os.sep):
        return Path(os.path.relpath(absolute, base)).as_posix()
    return Path(absolute).as_posix()


def index_key(root: str | Path, annotation_files: Sequence[str | Path]) -> tuple[str, tuple[str, ...]]:
    """The index key and the sorted annotation hashes it covers."""
    hashes = tuple(sorted(file_sha256(path) for path in annotation_files))
    payload = {"format": INDEX_FORMAT_VERSION, "root": str(Path(root).resolve()), "annotations": list(hashes)}
    return short_hash(json.dumps(payload, sort_keys=True), length=None), hashes


def index_file(key: str, cache_dir: str | Path | None = None) -> Path:
    return Path(cache_dir if cache_dir is not None else default_cache_dir()) / f"{key[:32]}.json"


# ----------------------------------------------------------------------------------------------------------
# Probing


def signature(record: VideoRecord) -> Signature:
    try:
        stat = os.stat(record.path)
    except OSError:
        return (record.frame_template, record.first_frame, None, None)
    size = None if record.is_frame_folder else stat.st_size
    return (record.frame_template, record.first_frame, size, stat.st_mtime_ns)


def probe_video(path: Path) -> Probe:
    """Frame count of a video file (decord's length, then a decode of the last frame)."""
    import decord

    if path.is_dir():
        return Probe(None, CANNOT_OPEN, "expected a video file, found a folder")
    if not path.is_file():
        return Probe(None, MISSING, "file not found")
    if path.stat().st_size == 0:
        return Probe(None, ZERO_BYTE, "empty file (0 bytes)")
    try:
        reader = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1)
        num_frames = len(reader)
    except Exception as error:  # decord raises its own DECORDError and RuntimeError types
        message = _short(error).replace(str(path), path.name)
        return Probe(None, CANNOT_OPEN, f"decord cannot open it (truncated, corrupt or not a video): {message}")
    try:
        if num_frames < 1:
            return Probe(0, NO_FRAMES, "the container lists no frames")
        reader.get_batch([num_frames - 1])
    except Exception as error:
        return Probe(num_frames, CANNOT_DECODE, f"last frame ({num_frames - 1}) does not decode: {_short(error)}")
    finally:
        del reader
    return Probe(num_frames)


def probe_frame_folder(path: Path, template: str, first_frame: int) -> Probe:
    """Frame count of a JPEG frame folder (the contiguous run of frame files), then a decode of the last one."""
    from datamodules.decoding.frames import count_frames, decode_frame, frame_name
    from datamodules.decoding.base import VideoReadError

    if not path.is_dir():
        return Probe(None, MISSING, "frame folder not found")
    num_frames = count_frames(path, template, first_frame)
    if num_frames < 1:
        return Probe(0, NO_FRAMES, f"no frame {frame_name(template, first_frame, 0)} in the folder")
    last = path / frame_name(template, first_frame, num_frames - 1)
    try:
        decode_frame(last)
    except VideoReadError as error:
        kind = ZERO_BYTE if "0 bytes" in error.reason else CANNOT_DECODE
        return Probe(num_frames, kind, f"last frame {last.name}: {error.reason}")
    return Probe(num_frames)


def probe(record: VideoRecord) -> Probe:
    """Probe one record's video file or frame folder; never raises for a bad video."""
    sig = signature(record)
    path = Path(record.path)
    try:
        if record.is_frame_folder:
            result = probe_frame_folder(path, record.frame_template, record.first_frame)
        else:
            result = probe_video(path)
    except OSError as error:  # e.g. a permission error
        result = Probe(None, CANNOT_OPEN, _short(error))
    return replace(result, signature=sig)


_DECORD_PREFIX = re.compile(r"\[\d\d:\d\d:\d\d\] \S+:\d+: ")  # "[22:10:11] /src/video/x.cc:218: "


def _short(error: BaseException) -> str:
    """The last line of an error message (decord puts a C++ backtrace and log prefix before it)."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = _DECORD_PREFIX.sub("", lines[-1]) if lines else type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _probe_all(records: Sequence[VideoRecord], workers: int, progress: bool) -> list[Probe]:
    """Probe in a thread pool (decord and OpenCV release the GIL while they read and decode)."""
    from tqdm import tqdm

    show = progress and len(records) > 0
    with tqdm(total=len(records), desc="probing videos", unit="video", file=sys.stderr, disable=not show) as bar:
        if workers <= 1 or len(records) <= 1:
            results = []
            for record in records:
                results.append(probe(record))
                bar.update(1)
            return results
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = []
            for result in pool.map(probe, records):
                results.append(result)
                bar.update(1)
            return results


# ----------------------------------------------------------------------------------------------------------
# Index file


def _to_json(index_key_: str, root: Path, hashes: tuple[str, ...], entries: Mapping[str, Probe]) -> str:
    data = {
        "format": INDEX_FORMAT_VERSION,
        "key": index_key_,
        "root": str(root),
        "annotations": list(hashes),
        "entries": {
            name: {
                "num_frames": p.num_frames,
                "problem": p.problem,
                "detail": p.detail,
                "signature": list(p.signature) if p.signature is not None else None,
            }
            for name, p in entries.items()
        },
    }
    return json.dumps(data, indent=0, sort_keys=True)


def _read_entries(file: Path, key: str) -> dict[str, Probe] | None:
    """Entries of an index file of this key and format; None when absent, stale or unreadable."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT_VERSION or data.get("key") != key:
        return None
    entries = {}
    for name, entry in data.get("entries", {}).items():
        sig = entry.get("signature")
        entries[name] = Probe(entry.get("num_frames"), entry.get("problem"), entry.get("detail", ""),
                              tuple(sig) if sig is not None else None)  # fmt: skip
    return entries


def _unique(records: Iterable[VideoRecord], root: Path) -> dict[str, VideoRecord]:
    unique: dict[str, VideoRecord] = {}
    for record in records:
        unique.setdefault(entry_key(record.path, root), record)
    return unique


def build_index(
    records: Sequence[VideoRecord],
    root: str | Path,
    annotation_files: Sequence[str | Path],
    workers: int = 4,
    progress: bool = True,
    cache_dir: str | Path | None = None,
) -> VideoIndex:
    """Probe every distinct video of ``records`` not already in the index file, and write the file.

    Entries whose file or folder is unchanged since it was probed come from the file; the written
    index holds exactly the videos of ``records``.
    """
    root = Path(root)
    key, hashes = index_key(root, annotation_files)
    file = index_file(key, cache_dir)
    unique = _unique(records, root)
    with locked(file):
        known = _read_entries(file, key) or {}
        entries: dict[str, Probe] = {}
        stale: list[str] = []
        for name, record in unique.items():
            previous = known.get(name)
            if previous is not None and previous.signature == signature(record):
                entries[name] = previous
            else:
                stale.append(name)
        probes = _probe_all([unique[name] for name in stale], workers, progress)
        entries.update(zip(stale, probes, strict=True))
        entries = {name: entries[name] for name in unique}  # annotation order
        if stale or set(known) != set(entries):
            write_atomically(file, _to_json(key, root.resolve(), hashes, entries))
    return VideoIndex(key, root, hashes, entries, file, probed=len(stale))


def load_index(
    root: str | Path,
    annotation_files: Sequence[str | Path],
    cache_dir: str | Path | None = None,
) -> VideoIndex | None:
    """The index written by :func:`build_index` for this root and these annotation files, or None.

    Nothing is probed or checked against the disk: this is the cheap path for a training run.
    """
    root = Path(root)
    key, hashes = index_key(root, annotation_files)
    file = index_file(key, cache_dir)
    entries = _read_entries(file, key)
    return None if entries is None else VideoIndex(key, root, hashes, entries, file)


def apply_index(records: Sequence[VideoRecord], index: VideoIndex, drop_unusable: bool = False) -> list[VideoRecord]:
    """Records with ``num_frames`` filled from the index.

    A record the index has no readable entry for keeps its ``num_frames``; with ``drop_unusable``
    records the index marks as unreadable are left out (records it does not know are kept).
    """
    out = []
    for record in records:
        entry = index.lookup(record.path)
        if entry is None:
            out.append(record)
        elif entry.ok:
            out.append(replace(record, num_frames=entry.num_frames))
        elif not drop_unusable:
            out.append(record)
    return out


def annotation_files(records: Sequence[VideoRecord]) -> list[Path]:
    """The annotation files the records came from (their ``source`` is ``"file:line"``)."""
    files: dict[Path, None] = {}
    for record in records:
        match = re.fullmatch(r"(.+):\d+", record.source)
        if match and Path(match.group(1)).is_file():
            files.setdefault(Path(match.group(1)), None)
    return list(files)
