"""Checkpoint files written in one step, so that a process killed while saving never leaves half a file.

Lightning's own writer goes through fsspec, whose local transaction writes to the system's temporary
folder and moves the file into place: across file systems that move is a copy, and a kill in the
middle leaves a truncated ``last.ckpt``. :class:`AtomicCheckpointIO` writes beside the target
instead (a hidden temporary name in the same folder), fsyncs it, renames it onto the target and
fsyncs the folder: the target is always the old complete file or the new one.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO

from datamodules.fencing import create_staging_file
from datamodules.storage import TEMPORARY_SUFFIX

__all__ = ["AtomicCheckpointIO", "save_atomically", "leftover_temporaries"]


def save_atomically(content: Any, path: str | Path) -> None:
    """``torch.save(content)`` to ``path`` through a temporary file beside it, fsynced and renamed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = create_staging_file(path)
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(content, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def leftover_temporaries(folder: Path) -> list[Path]:
    """Temporary files that writers of checkpoints in ``folder`` killed while saving left behind."""
    return sorted(folder.glob(f".*.ckpt.*{TEMPORARY_SUFFIX}"))


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's torch checkpoint reader and writer, with every save made by :func:`save_atomically`."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        save_atomically(checkpoint, path)
