"""Worker processes for data loading and process pools: they inherit nothing, and none waits without a limit.

* Every DataLoader worker and process pool of the harness starts from :func:`worker_context`: a fork
  server (a fresh interpreter that has only imported the modules below) forks them, so no decoder,
  converter or thread-pool state of the calling process crosses into them (a PyAV converter used before
  a plain ``fork`` hangs the child: ``datamodules/decoding/convert.py``). Spawn where there is no fork
  server (Windows). ``STBENCH_WORKER_START=fork|spawn|forkserver`` picks another start method (to measure
  what the choice costs: ``stbench bench data --start-method``).
* :class:`WatchedDataLoader` bounds the wait for each batch (:func:`data_timeout_s`, 300 s unless
  ``STBENCH_DATA_TIMEOUT_S`` says otherwise; 0 waits for ever). Each worker notes what it is reading
  (:func:`reading`) in a small file of its own, so that a wait that runs out raises
  :class:`DataWorkerStalled` naming the videos the workers were stuck on, and the stuck workers are
  stopped. A loader without workers reads in the calling process and is not bounded.
"""
from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import shutil
import tempfile
import time
import weakref
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, Callable, Iterator

from torch.utils.data import DataLoader
from torch.utils.data.dataloader import _MultiProcessingDataLoaderIter

DATA_TIMEOUT_ENV = "STBENCH_DATA_TIMEOUT_S"
WORKER_START_ENV = "STBENCH_WORKER_START"
DEFAULT_DATA_TIMEOUT_S = 300.0
# Imported once by the fork server, so that a worker it forks starts with them loaded.
PRELOAD = ["torch", "numpy", "datamodules.clip_dataset", "datamodules.decoding.video"]


def worker_start_method() -> str:
    """``forkserver`` (spawn without one), unless ``STBENCH_WORKER_START`` names another start method."""
    available = multiprocessing.get_all_start_methods()
    chosen = os.environ.get(WORKER_START_ENV, "").strip() or "forkserver"
    if chosen not in ("fork", "forkserver", "spawn"):
        raise ValueError(f"{WORKER_START_ENV}={chosen!r}: give fork, forkserver or spawn")
    if chosen not in available:
        if chosen == "forkserver":
            return "spawn"
        raise ValueError(f"{WORKER_START_ENV}={chosen!r}: this platform starts processes by {', '.join(available)}")
    return chosen


def worker_context() -> BaseContext:
    """The context every worker process of the harness starts from (:func:`worker_start_method`)."""
    context = multiprocessing.get_context(worker_start_method())
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(PRELOAD)
    return context


def data_timeout_s() -> float:
    """Seconds a loader waits for one batch from its workers before it gives up (0: no limit)."""
    text = os.environ.get(DATA_TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_DATA_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{DATA_TIMEOUT_ENV}={text!r} is not a number of seconds") from None
    if value < 0 or value != value:
        raise ValueError(f"{DATA_TIMEOUT_ENV}={text!r}: give 0 (no limit) or a positive number of seconds")
    return value


class DataWorkerStalled(RuntimeError):
    """A loader's workers delivered no batch within the limit; the message names what they were reading."""


# -- what each worker is reading -------------------------------------------------------------------
_NOTE_FD: int | None = None  # in a worker process: the file it notes its current item in


def _start_noting(folder: str, user_init: Callable[[int], None] | None, worker_id: int) -> None:
    global _NOTE_FD
    _NOTE_FD = os.open(os.path.join(folder, f"worker-{worker_id}"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if user_init is not None:
        user_init(worker_id)


def _note(text: str) -> None:
    if _NOTE_FD is None:
        return
    data = text.encode("utf-8", "replace")
    os.ftruncate(_NOTE_FD, 0)
    os.pwrite(_NOTE_FD, data, 0)


@contextlib.contextmanager
def reading(what: str) -> Iterator[None]:
    """Note that this worker reads ``what`` (a video and where it is listed) until the block ends.

    Costs two small writes per item in a worker; nothing in the main process."""
    _note(what)
    try:
        yield
    finally:
        _note("")


class _WorkerNotes:
    """The folder of a loader's worker notes: made with the loader, removed with it."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="stbench-data-workers-")

    def describe(self, now: float) -> list[str]:
        lines = []
        for path in sorted(Path(self.folder).glob("worker-*")):
            try:
                text, since = path.read_text(encoding="utf-8"), path.stat().st_mtime
            except OSError:
                continue
            worker = path.name.removeprefix("worker-")
            if text:
                lines.append(f"worker {worker} has been reading {text} for {now - since:.0f} s")
        return lines


class _WatchedIterator(_MultiProcessingDataLoaderIter):
    """Turns the loader's timeout into a :class:`DataWorkerStalled` naming the videos, and stops the workers."""

    def _next_data(self) -> Any:
        try:
            return super()._next_data()
        except RuntimeError as error:
            if not str(error).startswith("DataLoader timed out"):
                raise
            notes: _WorkerNotes = self._dataset_notes  # type: ignore[attr-defined]
            stuck = notes.describe(time.time())
            for worker in self._workers:  # the run fails: no need to wait for the stuck ones to finish
                worker.terminate()
            self._shutdown_workers()
            detail = "; ".join(stuck) if stuck else "no worker noted a video (stuck between items or at start-up)"
            raise DataWorkerStalled(
                f"no batch from the {self._num_workers} data worker processes within {self._timeout:.0f} s "
                f"(the limit: {DATA_TIMEOUT_ENV} or --data-timeout): {detail}"
            ) from None


class WatchedDataLoader(DataLoader):
    """A DataLoader whose workers start from :func:`worker_context` and whose wait for a batch is bounded."""

    def __init__(self, dataset: Any, *args: Any, **kwargs: Any) -> None:
        workers = kwargs.get("num_workers", 0)
        self._notes: _WorkerNotes | None = None
        if workers > 0:
            self._notes = _WorkerNotes()
            weakref.finalize(self, shutil.rmtree, self._notes.folder, True)
            kwargs.setdefault("multiprocessing_context", worker_context())
            kwargs.setdefault("timeout", data_timeout_s())
            kwargs["worker_init_fn"] = functools.partial(_start_noting, self._notes.folder, kwargs.get("worker_init_fn"))
        super().__init__(dataset, *args, **kwargs)

    def _get_iterator(self) -> Any:
        if self.num_workers == 0 or self._notes is None:
            return super()._get_iterator()
        self.check_worker_number_rationality()
        iterator = _WatchedIterator(self)
        iterator._dataset_notes = self._notes  # type: ignore[attr-defined]
        return iterator
