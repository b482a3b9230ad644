"""Files that several processes share: locks, atomic writes and replacements, short hashes.

One convention for every shared file or folder ``<dir>/<name>``:

* its lock is the lease file ``<dir>/<name>.lease`` (:func:`file_lock`), present while held:
  created with ``O_CREAT | O_EXCL``, which one process wins on a local disk as on NFS v3/v4,
  Lustre or GPFS (``flock``/``fcntl`` locks are node-local or missing on some of those), naming
  its holder (host, pid, process start), refreshed by the holder's heartbeat, and taken over
  when its holder's process is gone (same host) or it went unrefreshed for
  :data:`LOCK_LEASE_S` seconds (a holder on another host, or one stopped that long);
* it is written into a temporary sibling ``<dir>/.<name>.<random>.tmp`` (a file, or a folder
  being built) that is renamed onto ``<dir>/<name>`` once whole, so a reader sees the old
  content or the new one, never a part, and a process killed while writing leaves the old
  content in place;
* writes under the lock are fenced (:mod:`datamodules.fencing`): a holder whose lock was taken
  over can no longer replace the file, its write fails with :class:`~datamodules.fencing.LeaseLost`
  (:func:`upsert_csv` then reads the table again and merges its rows under the lock);
* a temporary sibling found while holding the lock was left by a killed or stopped writer:
  writers only make one while they hold the lock, so :func:`locked` removes those.

This module imports nothing from the rest of the project but :mod:`datamodules.fencing`.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datamodules.fencing import TEMPORARY_SUFFIX, Fence, Guard, LeaseLost, remove, staging_path

if TYPE_CHECKING:
    import pandas as pd
    from filelock import SoftFileLease

LOCK_SUFFIX = ".lease"
LOCK_LEASE_S = 60.0  # a lock whose holder stopped refreshing it (another host, or stopped) is free after this long
REBUILD_ATTEMPTS = 3  # build_directory_once: builds started over after losing the lock, before giving up


def canonical_json(data: Any) -> str:
    """``data`` as compact JSON with sorted keys: equal data, equal text (the input of :func:`short_hash`)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def short_hash(payload: str | bytes, length: int | None = 12) -> str:
    """The first ``length`` hex digits of the sha256 of ``payload`` (str as UTF-8); None: all 64."""
    data = payload.encode() if isinstance(payload, str) else payload
    digest = hashlib.sha256(data).hexdigest()
    return digest if length is None else digest[:length]


def file_sha256(path: str | Path) -> str:
    """The sha256 hex digest of a file's bytes, read a block at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_lock(path: str | Path, timeout: float = -1) -> "SoftFileLease":
    """The inter-process lock of ``path``: the lease file ``<path>.lease`` (``timeout`` seconds, -1: wait
    forever); see the module docstring for why a lease file rather than ``flock``."""
    from filelock import SoftFileLease

    return SoftFileLease(f"{path}{LOCK_SUFFIX}", lease_duration=LOCK_LEASE_S, timeout=timeout)


def temporary_sibling(path: Path) -> Path:
    """A fresh name for a temporary file or folder beside ``path`` (created with the usual
    permissions, unlike :mod:`tempfile`'s owner-only ones)."""
    return staging_path(path)


def temporary_siblings(path: Path) -> list[Path]:
    """Temporary files or folders made for writing ``path`` (see the module docstring)."""
    return sorted(path.parent.glob(f".{path.name}.*{TEMPORARY_SUFFIX}"))


def remove_stale_temporaries(path: str | Path) -> None:
    """Delete what killed writers of ``path`` left behind. Call it holding the lock of ``path``."""
    for leftover in temporary_siblings(Path(path)):
        remove(leftover)


@contextmanager
def locked(path: str | Path, timeout: float = -1, fence: Fence | None = None) -> Iterator[Fence]:
    """Hold the lock of ``path`` (its folder made first) with the leftovers of killed or stopped
    writers removed. Yields the fence of writes under it: the lock, and ``fence`` if given (the
    caller's own leases, e.g. a cell's claim): ``with locked(p) as held: held.write(p, data)``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path, timeout) as lock:
        remove_stale_temporaries(path)
        yield Fence(Guard(lock)) + fence


def write_atomically(path: str | Path, data: bytes | str) -> None:
    """Replace the file ``path`` by ``data`` (str as UTF-8) in one step: written and fsynced
    beside it, then renamed onto it; on any error the temporary file is removed."""
    Fence().write(path, data)


@contextmanager
def replacing_directory(target: str | Path) -> Iterator[Path]:
    """A new empty temporary folder beside ``target`` to fill; when the block ends without error
    it replaces ``target`` (an incomplete one there is deleted first), otherwise it is deleted."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        building = temporary_sibling(target)
        try:
            building.mkdir()
            break
        except FileExistsError:
            continue
    try:
        yield building
        if target.exists():
            shutil.rmtree(target)
        os.replace(building, target)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


def build_directory_once(target: str | Path, is_complete: Callable[[Path], bool], build: Callable[[Path], Any]) -> Path:
    """``target``, built by ``build(folder)`` unless ``is_complete(target)`` already.

    Concurrent callers build it once: the build runs under the lock of ``target``, into a
    temporary folder that replaces ``target`` when ``build`` returns. A builder whose lock was
    taken over (it was stopped that long) puts nothing in place; it uses the other process's
    folder once complete, or builds again (at most :data:`REBUILD_ATTEMPTS` times).
    """
    target = Path(target)
    for _ in range(REBUILD_ATTEMPTS):
        if is_complete(target):
            return target
        try:
            with locked(target) as held:
                if is_complete(target):  # built by another process while this one waited
                    return target
                building = held.new_folder(target)
                try:
                    build(building)
                    held.replace_folder(building, target)
                except BaseException as error:
                    remove(building)
                    if isinstance(error, LeaseLost) or held.held():
                        raise
                    raise LeaseLost(f"the lock of {target} was taken over while building it ({error!r})") from error
            return target
        except LeaseLost:
            continue
    if is_complete(target):
        return target
    raise RuntimeError(f"{target}: not built, its lock was taken over {REBUILD_ATTEMPTS} times while building it")


def upsert_csv(
    path: str | Path,
    rows: Iterable[dict[str, Any]],
    keys: Sequence[str],
    read: Callable[[Path], "pd.DataFrame"] | None = None,
    arrange: Callable[["pd.DataFrame"], "pd.DataFrame"] | None = None,
    timeout: float = 120,
    screen: Callable[["pd.DataFrame", "pd.DataFrame"], "pd.DataFrame"] | None = None,
    fence: Fence | None = None,
) -> "pd.DataFrame":
    """Write ``rows`` into the CSV at ``path``, replacing earlier rows that agree on every ``keys`` column.

    Under the lock of ``path``: the table is read (``read``, by default ``pandas.read_csv``),
    ``screen(table, new rows)`` keeps the new rows that may be written (all by default), the
    table's rows with their keys are dropped, they are appended, ``arrange`` applied (e.g. a
    column order), and the whole table written, fenced by the lock and by ``fence`` (the caller's
    own leases). Keys are compared as text: a reread CSV has lost the Python types of the rows.

    A writer whose lock was taken over while it held it (it was stopped longer than the lease)
    reads the table again under the lock and merges its rows into it, so that neither its rows
    nor the other writer's are lost; all within ``timeout`` seconds. If ``fence`` is lost, the
    rows are no longer the caller's to write: :class:`~datamodules.fencing.LeaseLost`.
    Returns the table written.
    """
    import io

    import pandas as pd

    path = Path(path)
    new = pd.DataFrame(list(rows))
    missing = [key for key in keys if key not in new.columns]
    if missing:
        raise ValueError(f"rows for {path} lack the key columns {missing}")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with locked(path, max(0.0, deadline - time.monotonic()), fence) as held:
                table = merged_table(path, new, keys, read, arrange, screen)
                text = io.StringIO()
                table.to_csv(text, index=False)
                held.write(path, text.getvalue())
            return table
        except LeaseLost:
            if (fence is not None and not fence.held()) or time.monotonic() > deadline:
                raise


def merged_table(
    path: Path,
    new: "pd.DataFrame",
    keys: Sequence[str],
    read: Callable[[Path], "pd.DataFrame"] | None,
    arrange: Callable[["pd.DataFrame"], "pd.DataFrame"] | None,
    screen: Callable[["pd.DataFrame", "pd.DataFrame"], "pd.DataFrame"] | None,
) -> "pd.DataFrame":
    """The table at ``path`` with the ``new`` rows upserted (see :func:`upsert_csv`)."""
    import pandas as pd

    if read is not None:
        table = read(path)
    elif path.is_file() and path.stat().st_size:
        table = pd.read_csv(path)
    else:
        table = pd.DataFrame(columns=new.columns)
    if screen is not None and len(table):
        new = screen(table, new)
    if len(table):
        old_keys = table.reindex(columns=list(keys)).astype(str).agg("|".join, axis=1)
        new_keys = set(new[list(keys)].astype(str).agg("|".join, axis=1))
        table = table[~old_keys.isin(new_keys)]
    table = pd.concat([table, new], ignore_index=True) if len(table) else new
    return arrange(table) if arrange is not None else table
