"""Frame counts probed once per dataset and kept in an index file, with every unreadable video noted.

Each video file or frame folder is probed once (:mod:`datamodules.decoding.probing`: frame count, how
it is decoded, the last frame decoded; with ``deep``, :mod:`datamodules.decoding.deep_probe`: every
frame decoded). A probe failure is recorded as a problem (see :data:`PROBLEM_KINDS`) instead of raised.

The index is keyed by the resolved dataset root, the sha256 of every annotation file and
:data:`INDEX_FORMAT_VERSION`; it is a JSON file in a cache directory (default: the user cache dir
``stbench/index``), written atomically under a file lock so that concurrent processes (e.g. the
ranks of a distributed run) probe once. Each entry remembers the size and modification time of what
it probed; :func:`build_index` probes again only the entries whose file or folder changed since
(a folder's modification time changes when frames are added, removed or renamed, not when a frame
is rewritten in place), or that a deep build has not decoded whole yet, so fixing a broken file and
re-running picks the fix up.
"""
from __future__ import annotations

import json
import os
import re
import sys
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from datamodules.decoding.deep_probe import deep_probe
from datamodules.decoding.probing import (  # noqa: F401  (the probe kinds are part of this module's interface)
    CANNOT_DECODE,
    CANNOT_OPEN,
    CORRUPT_JPEG,
    COUNT_MISMATCH,
    DAMAGED,
    FRAME_GAP,
    MISSING,
    NO_FRAMES,
    PROBLEM_KINDS,
    SEQUENTIAL_NOTE,
    ZERO_BYTE,
    Probe,
    probe,
    signature,
    unusable_reason,
)
from datamodules.records import VideoRecord
from datamodules.fencing import LeaseLost
from datamodules.storage import file_sha256, locked, short_hash
from datamodules.workers import worker_context

# 2: counts of frames that decode, decoding notes, deep probes; 3: VP8 alt-ref frames not counted;
# 4: MP4 edit lists followed (the shown frames counted; lists FFmpeg does not play as written refused)
INDEX_FORMAT_VERSION = 4


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


def _probe_all(records: Sequence[VideoRecord], workers: int, progress: bool, deep: bool = False) -> list[Probe]:
    """Probe in a thread pool (decord and OpenCV release the GIL while they read and decode); deep probes
    in a process pool (they decode every frame in Python loops, and capture FFmpeg's log per process)."""
    from tqdm import tqdm

    show = progress and len(records) > 0
    task: Callable[[VideoRecord], Probe] = deep_probe if deep else probe
    desc = "decoding every frame" if deep else "probing videos"
    with tqdm(total=len(records), desc=desc, unit="video", file=sys.stderr, disable=not show) as bar:
        results = []
        if workers <= 1 or len(records) <= 1:
            for record in records:
                results.append(task(record))
                bar.update(1)
            return results
        pool: Executor = (
            ProcessPoolExecutor(workers, mp_context=worker_context()) if deep else ThreadPoolExecutor(max_workers=workers)
        )
        with pool:
            for result in pool.map(task, records, chunksize=4 if deep else 1):
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
                "note": p.note,
                "deep": p.deep,
            }
            for name, p in entries.items()
        },
    }
    return json.dumps(data, indent=0, sort_keys=True)


def _read_entries(file: Path, key: str) -> dict[str, Probe] | None:
    """Entries of an index file of this key and format; None when absent, stale or unreadable.

    The file is a cache: one that does not hold what :func:`_to_json` writes (any entry of the wrong
    shape) is treated as absent, so the videos are probed again rather than trusted."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT_VERSION or data.get("key") != key:
        return None
    listed = data.get("entries", {})
    if not isinstance(listed, dict):
        return None
    entries = {}
    for name, entry in listed.items():
        probe = _entry(entry)
        if probe is None:
            return None
        entries[name] = probe
    return entries


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _entry(entry: object) -> Probe | None:
    """The Probe an index entry describes, or None when it is not one :func:`_to_json` wrote."""
    if not isinstance(entry, dict):
        return None
    frames, problem, detail = entry.get("num_frames"), entry.get("problem"), entry.get("detail", "")
    sig, note, deep = entry.get("signature"), entry.get("note", ""), entry.get("deep", False)
    if not (frames is None or _is_count(frames)) or not (problem is None or problem in PROBLEM_KINDS):
        return None
    if problem is None and not frames:  # a readable video has frames
        return None
    if not isinstance(detail, str) or not isinstance(note, str) or not isinstance(deep, bool):
        return None
    if sig is not None:
        template_ok = isinstance(sig, list) and len(sig) == 4 and (sig[0] is None or isinstance(sig[0], str))
        if not template_ok or not isinstance(sig[1], int) or not all(v is None or _is_count(v) for v in sig[2:]):
            return None
    return Probe(frames, problem, detail, tuple(sig) if sig is not None else None, note, deep)


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
    deep: bool = False,
) -> VideoIndex:
    """Probe every distinct video of ``records`` not already in the index file, and write the file.

    Entries whose file or folder is unchanged since it was probed come from the file (with ``deep``,
    only entries a deep probe made); the written index holds exactly the videos of ``records``.
    """
    root = Path(root)
    key, hashes = index_key(root, annotation_files)
    file = index_file(key, cache_dir)
    unique = _unique(records, root)
    with locked(file) as held:
        known = _read_entries(file, key) or {}
        entries: dict[str, Probe] = {}
        stale: list[str] = []
        for name, record in unique.items():
            previous = known.get(name)
            if previous is not None and previous.signature == signature(record) and (previous.deep or not deep):
                entries[name] = previous
            else:
                stale.append(name)
        probes = _probe_all([unique[name] for name in stale], workers, progress, deep)
        entries.update(zip(stale, probes, strict=True))
        entries = {name: entries[name] for name in unique}  # annotation order
        if stale or set(known) != set(entries):
            try:
                held.write(file, _to_json(key, root.resolve(), hashes, entries))
            except LeaseLost:
                pass  # stopped past the lock's lease: the file is the new holder's; these probes still hold
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

    A record the index has no entry for is kept as it is. A record the index marks as unusable is
    left out with ``drop_unusable``, else kept with its ``problem`` set, so that reading it fails
    with what ``stbench prepare`` found (a damaged frame that would decode as garbage included).
    """
    out = []
    for record in records:
        entry = index.lookup(record.path)
        if entry is None:
            out.append(record)
        elif entry.ok:
            out.append(replace(record, num_frames=entry.num_frames))
        elif not drop_unusable:
            out.append(replace(record, problem=unusable_reason(entry)))
    return out


def annotation_files(records: Sequence[VideoRecord]) -> list[Path]:
    """The annotation files the records came from (their ``source`` is ``"file:line"``)."""
    files: dict[Path, None] = {}
    for record in records:
        match = re.fullmatch(r"(.+):\d+", record.source)
        if match and Path(match.group(1)).is_file():
            files.setdefault(Path(match.group(1)), None)
    return list(files)
