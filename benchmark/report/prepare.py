"""Check a dataset before training: every video probed once, every problem listed by file.

Loads the dataset's splits through its adapter, probes each distinct video (shared by several splits
or not) through :mod:`datamodules.decoding.index` (which also writes the frame-count index that later
runs load), and writes a Markdown report: counts per split, frame-count spread, how many videos are
decoded in order because decord's seek is not frame-exact on them, and every problem with the
annotation line that names the video. Videos shorter than the protocol's segment count are warnings:
they are usable (frames repeat) but worth knowing about. ``deep`` decodes every frame of every video
(damaged frames, frame-count mismatches, corrupt JPEGs; see :mod:`datamodules.decoding.deep_probe`).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import median
from typing import Sequence

from benchmark.report.format import code, markdown_table, slug, text
from datamodules.records import VideoRecord
from datamodules.decoding.index import SEQUENTIAL_NOTE, VideoIndex, annotation_files, build_index, entry_key

REPORT_NAME = "stbench_prepare_report.md"
SHORT = "shorter than the segment count"
SPLIT_NAMES = ("train", "val", "test")


@dataclass(frozen=True)
class Problem:
    """A video that cannot be used (``severity="error"``) or can but is suspicious (``"warning"``)."""

    path: Path
    file: str  # path relative to the dataset root, as listed in the report
    kind: str  # a datamodules.decoding.index problem kind, or SHORT
    detail: str
    severity: str
    source: str  # first annotation line naming the video
    splits: tuple[str, ...]


@dataclass(frozen=True)
class SplitSummary:
    name: str
    records: int
    usable: int
    problems: int
    warnings: int
    frames_min: int | None
    frames_median: float | None
    frames_max: int | None


@dataclass(frozen=True)
class PrepareReport:
    dataset: str
    root: Path
    split: str
    segments: int
    splits: tuple[SplitSummary, ...]
    problems: tuple[Problem, ...]  # errors first, then warnings, each in annotation order
    videos: int  # distinct videos over all splits
    usable: int  # distinct videos that can be read
    probed: int  # videos probed by this call (the others came from the index file)
    index_file: Path
    report_file: Path
    report_note: str  # non-empty when the report could not go where it was meant to
    deep: bool = False  # every frame of every video was decoded
    decoding: tuple[tuple[str, int], ...] = ()  # (why decoded in order, videos), most frequent first

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def exit_code(self) -> int:
        """0 when anything is usable (even with problems), 2 when nothing is."""
        return 0 if self.usable > 0 else 2


def _problems(
    named: dict[str, list[VideoRecord]],
    index: VideoIndex,
    root: Path,
    segments: int,
) -> list[Problem]:
    first: dict[str, tuple[VideoRecord, list[str]]] = {}
    for split, records in named.items():
        for record in records:
            key = entry_key(record.path, root)
            seen = first.setdefault(key, (record, []))
            if split not in seen[1]:
                seen[1].append(split)
    errors, warnings = [], []
    for key, (record, splits) in first.items():
        entry = index.entries[key]
        if not entry.ok:
            errors.append(Problem(record.path, key, entry.problem, entry.detail, "error", record.source, tuple(splits)))
        elif entry.num_frames < segments:
            detail = f"{entry.num_frames} frames < {segments} segments (frames repeat)"
            warnings.append(Problem(record.path, key, SHORT, detail, "warning", record.source, tuple(splits)))
    return errors + warnings


def _summary(name: str, records: Sequence[VideoRecord], index: VideoIndex, segments: int) -> SplitSummary:
    entries = [index.lookup(record.path) for record in records]
    frames = [entry.num_frames for entry in entries if entry.ok]
    return SplitSummary(
        name=name,
        records=len(records),
        usable=len(frames),
        problems=sum(not entry.ok for entry in entries),
        warnings=sum(n < segments for n in frames),
        frames_min=min(frames) if frames else None,
        frames_median=float(median(frames)) if frames else None,
        frames_max=max(frames) if frames else None,
    )


def decoding_counts(index: VideoIndex) -> tuple[tuple[str, int], ...]:
    """How many readable videos are decoded in order, by reason (the file-specific detail left out)."""
    reasons = Counter(
        entry.note.split(";")[0].split(" (")[0].removeprefix(SEQUENTIAL_NOTE + ": ")
        for entry in index.entries.values()
        if entry.ok and entry.note.startswith(SEQUENTIAL_NOTE)
    )
    return tuple(reasons.most_common())


def prepare_dataset(
    dataset: str,
    root: str | Path,
    split: str | None = None,
    workers: int = 4,
    progress: bool = True,
    report_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    deep: bool = False,
) -> PrepareReport:
    """Probe every video of ``dataset`` at ``root`` in ``split`` (default: the dataset's first; ``deep``:
    decode every frame), write the index and the Markdown report.

    The report goes to ``report_path``, by default ``<root>/stbench_prepare_report.md``; when the
    default place is not writable (a read-only dataset mount) it goes next to the index file and
    ``report_note`` says so. An explicit ``report_path`` that cannot be written raises.
    """
    from datamodules.datasets import get_dataset

    spec = get_dataset(dataset)
    root = Path(root)
    split = split if split is not None else spec.default_split
    splits = spec.load(root, split, progress)
    named = {"train": splits.train, "val": splits.val, "test": splits.test}
    every = [record for records in named.values() for record in records]
    index = build_index(
        every, root, annotation_files(every), workers=workers, progress=progress, cache_dir=cache_dir, deep=deep
    )

    segments = spec.protocol.segments
    summaries = tuple(_summary(name, records, index, segments) for name, records in named.items())
    problems = tuple(_problems(named, index, root, segments))
    report = PrepareReport(
        dataset=dataset,
        root=root,
        split=split,
        segments=segments,
        splits=summaries,
        problems=problems,
        videos=len(index.entries),
        usable=sum(entry.ok for entry in index.entries.values()),
        probed=index.probed,
        index_file=index.file,
        report_file=Path(report_path) if report_path is not None else root / REPORT_NAME,
        report_note="",
        deep=deep,
        decoding=decoding_counts(index),
    )
    fallback = index.file.parent / f"{slug(dataset)}-{slug(split)}-{index.key[:12]}-prepare-report.md"
    written, note = write_report(report, report.report_file, fallback if report_path is None else None)
    return replace(report, report_file=written, report_note=note)


def write_report(report: PrepareReport, path: Path, fallback: Path | None) -> tuple[Path, str]:
    """Write the Markdown report to ``path``, or to ``fallback`` when ``path`` cannot be written.

    Returns where it went and a note (empty unless the fallback was used).
    """
    try:
        path.write_text(format_report(report), encoding="utf-8")
        return path, ""
    except OSError as error:
        if fallback is None:
            raise
        note = f"could not write {path} ({error.strerror or error}); report written to {fallback}"
        fallback.parent.mkdir(parents=True, exist_ok=True)
        fallback.write_text(format_report(replace(report, report_note=note)), encoding="utf-8")
        return fallback, note


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:g}"


def split_rows(report: PrepareReport) -> list[list[str]]:
    return [
        [s.name, *(str(n) for n in (s.records, s.usable, s.problems, s.warnings)),
         *(_number(v) for v in (s.frames_min, s.frames_median, s.frames_max))]
        for s in report.splits
    ]  # fmt: skip


SPLIT_HEADER = ["split", "records", "usable", "problems", "warnings", "frames min", "frames median", "frames max"]


def decoding_summary(report: PrepareReport) -> str:
    """E.g. "22 videos (MPEG-1 in mpeg-ps: decord's seek is not frame-exact: 22)", or "none"."""
    if not report.decoding:
        return "none"
    total = sum(count for _, count in report.decoding)
    return f"{total} videos (" + "; ".join(f"{reason}: {count}" for reason, count in report.decoding) + ")"


def format_report(report: PrepareReport) -> str:
    """The Markdown report."""
    lines = [
        f"# Dataset check: {text(report.dataset)} (split {text(report.split)})",
        "",
        f"- root: {code(report.root.resolve())}",
        (f"- distinct videos: {report.videos} ({report.usable} usable; {report.probed} probed now, "
         f"{report.videos - report.probed} from the index)"),
        f"- frame-count index: {code(report.index_file)}",
        (f"- problems: {len(report.errors)} unusable videos, {len(report.warnings)} warnings "
         f"(videos shorter than the {report.segments} segments of the training protocol)"),
    ]
    checked = "every frame decoded" if report.deep else "the last frame decoded (`--deep` decodes every frame)"
    lines.append(f"- checked: {checked}")
    lines.append(f"- decoded in order with PyAV: {decoding_summary(report)}")
    if report.report_note:
        lines.append(f"- note: {text(report.report_note)}")
    lines += ["", "## Splits", "", "Counts are per annotation line; frame counts are over usable videos.", ""]
    lines += markdown_table(SPLIT_HEADER, split_rows(report), [False] + [True] * 7)
    for title, items in (("Problems", report.errors), ("Warnings", report.warnings)):
        lines += ["", f"## {title} ({len(items)})", ""]
        if not items:
            lines.append("None.")
            continue
        rows = [[code(p.file), text(p.kind), text(p.detail), code(p.source), text(", ".join(p.splits))] for p in items]
        lines += markdown_table(["file", "problem", "detail", "annotation", "splits"], rows, [False] * 5)
    return "\n".join(lines) + "\n"
