"""Where an interrupted run continues from: the newest readable checkpoint in its folder.

A run's folder holds ``last.ckpt`` and the latest epoch checkpoint (``epoch=E-step=S.ckpt``). They
are written atomically (:mod:`benchmark.run.atomic_checkpoint`), but a file can still be damaged
(a disk error, a file written by an older version in place, a copy cut short). A checkpoint that
cannot be read is therefore passed over for the next newest one, and when none can be read the run
starts from scratch; either way the run's row says so in its ``detail`` column, and the unreadable
files are renamed ``<name>.unreadable`` (kept to look at, out of the way of the next attempt).

A checkpoint refused because unpickling it could run code (:class:`UntrustedCheckpointError`) is
not passed over: the refusal stops the run, as it says what to do.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from benchmark.run.atomic_checkpoint import leftover_temporaries
from benchmark.run.checkpoint import CheckpointError, UntrustedCheckpointError, read_checkpoint

__all__ = ["ResumePoint", "UNREADABLE_SUFFIX", "epochs_trained", "resume_point"]

LAST = "last.ckpt"
UNREADABLE_SUFFIX = ".unreadable"
REASON_LENGTH = 200


@dataclass(frozen=True)
class ResumePoint:
    """The checkpoint to continue from (None: from scratch), the epochs it holds and what was passed over."""

    path: str | None
    epochs: int
    note: str = ""


def epochs_trained(checkpoint: str | Path, trust: bool = False) -> int:
    """Training epochs a checkpoint holds (one written at an epoch's end counts that epoch as processed).

    The checkpoint is read with the weights-only unpickler unless ``trust``
    (:func:`benchmark.run.checkpoint.read_checkpoint`), so this also vets it before Lightning resumes from it."""
    state = read_checkpoint(checkpoint, trust)
    try:
        return int(state["loops"]["fit_loop"]["epoch_progress"]["current"]["processed"])
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(checkpoint, f"holds no training progress (loops.fit_loop): {error!r}") from None


def newest_first(folder: Path) -> list[Path]:
    """The checkpoints in ``folder``, the most recently written first (``last.ckpt`` first among equals)."""
    found = []
    for path in folder.glob("*.ckpt"):
        try:
            if path.is_file():
                found.append((-path.stat().st_mtime_ns, path.name != LAST, path.name, path))
        except OSError:  # removed meanwhile
            continue
    return [entry[-1] for entry in sorted(found)]


def resume_point(folder: str | Path, trust: bool = False) -> ResumePoint | None:
    """The newest readable checkpoint in ``folder``; None when the folder holds no checkpoint at all.

    Unreadable checkpoints newer than it are renamed aside and named in the note; when none is
    readable the point is "from scratch" (``path`` None). Raises :class:`UntrustedCheckpointError`."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    for leftover in leftover_temporaries(folder):
        leftover.unlink(missing_ok=True)
    passed_over: list[str] = []
    for candidate in newest_first(folder):
        try:
            epochs = epochs_trained(candidate, trust)
        except UntrustedCheckpointError:
            raise
        except CheckpointError as error:
            passed_over.append(f"{candidate.name} unreadable ({error.reason[:REASON_LENGTH]})")
            set_aside(candidate)
            continue
        note = f"resumed from {candidate.name}: {'; '.join(passed_over)}" if passed_over else ""
        return ResumePoint(str(candidate), epochs, note)
    if not passed_over:
        return None
    return ResumePoint(None, 0, f"restarted from scratch: {'; '.join(passed_over)}")


def set_aside(path: Path) -> None:
    """Rename an unreadable checkpoint ``<name>.unreadable`` (another process of the run may have done it)."""
    try:
        os.replace(path, path.with_name(path.name + UNREADABLE_SUFFIX))
    except FileNotFoundError:
        pass
