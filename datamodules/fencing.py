"""Fenced writes: a process whose lease was taken over can no longer write what the lease guards.

A lease (:class:`filelock.SoftFileLease`) is taken over once its holder stops refreshing it — also
when the holder still lives but was stopped (SIGSTOP, a frozen VM, heavy swapping) for longer than
the lease. When it goes on, it must not write what the new holder now owns; checking the lease
right before the write is not enough, as the holder can stop again between the check and the
write. So every write under leases is fenced (:meth:`Fence.write`):

1. the content goes into a staging file beside the target, whose name carries the tag of every
   lease the write depends on (``.<name>.<pid>-<random>.<tag>….tmp``);
2. then each lease is checked: its lease file must still carry this hold's token;
3. then the staging file is renamed onto the target.

A process that acquires a lease first removes the staging files tagged with it in the folders the
lease guards (:func:`clear_staging`), before it reads or writes anything there. A holder whose lease
was taken over before step 2 fails the check; one taken over after step 2 finds its staging file
gone, and its rename fails. Either way the write is refused with :class:`LeaseLost`; a rename that
did succeed happened before the takeover, so the new holder reads what it wrote. This needs only an
atomic ``rename`` and a new holder that sees the folder as it is: local disks, NFS, Lustre, GPFS.

A block can put a fence in force (:func:`in_force`): writers that take a fence, such as the
leaderboard's, use the one in force when given none — so a run trained under a cell's claim
writes its row only while the claim is held, without every layer in between passing it on.

This module imports nothing from the rest of the project.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from filelock import SoftFileLease

TEMPORARY_SUFFIX = ".tmp"


class LeaseLost(RuntimeError):
    """A write refused, or work stopped, because a lease it depends on was taken over by another process."""


def lease_tag(lease_file: str | Path) -> str:
    """The tag of a lease in staging names: the same on every host (from the lease file's name only)."""
    return hashlib.sha256(Path(lease_file).name.encode()).hexdigest()[:12]


def staging_path(target: Path, tags: tuple[str, ...] = ()) -> Path:
    """A fresh name beside ``target`` for a file or folder that will be renamed onto it."""
    marks = "".join(f".{tag}" for tag in tags)
    return target.parent / f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}{marks}{TEMPORARY_SUFFIX}"


def create_staging_file(target: Path, tags: tuple[str, ...] = ()) -> tuple[int, Path]:
    """A staging file beside ``target``, created exclusively (never one another writer holds): its open
    descriptor and its path."""
    while True:
        staging = staging_path(target, tags)
        try:
            return os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), staging
        except FileExistsError:
            continue


def clear_staging(folder: str | Path, tag: str) -> None:
    """Remove the staging files and folders tagged ``tag`` in ``folder`` (left by an earlier holder of
    that lease, killed or stopped). Call it right after acquiring the lease."""
    for leftover in Path(folder).glob(f".*.{tag}.*{TEMPORARY_SUFFIX.lstrip('.')}"):
        remove(leftover)


def remove(path: Path) -> None:
    """Delete a file or a folder (not following a link), whichever it is; gone already is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class Guard:
    """A held lease, as a condition of fenced writes."""

    def __init__(self, lease: "SoftFileLease") -> None:
        self.lease = lease
        self.tag = lease_tag(lease.lock_file)

    def held(self) -> bool:
        """Whether the lease file still carries this hold's token (and its heartbeat reported no loss)."""
        token = self.lease.token
        if token is None or self.lease.compromise is not None:
            return False
        owner = self.lease.owner
        return owner is not None and owner.token == token

    def describe_holder(self) -> str:
        owner = self.lease.owner
        return "nobody" if owner is None else f"pid {owner.pid} on host {owner.hostname}"


class Fence:
    """The leases a write depends on; :meth:`write` commits only while every one of them is held.

    A fence without leases writes like a plain atomic write (staging file, fsync, rename)."""

    def __init__(self, *guards: Guard) -> None:
        self.guards = guards

    def __add__(self, other: Fence | None) -> Fence:
        return Fence(*self.guards, *(other.guards if other is not None else ()))

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(guard.tag for guard in self.guards)

    def held(self) -> bool:
        return all(guard.held() for guard in self.guards)

    def check(self) -> None:
        """Raise :class:`LeaseLost` unless every lease is still held."""
        for guard in self.guards:
            if not guard.held():
                raise LeaseLost(
                    f"the lease {guard.lease.lock_file} was taken over (now held by {guard.describe_holder()})"
                )

    def write(self, target: str | Path, data: bytes | str) -> None:
        """Replace the file ``target`` by ``data`` (str as UTF-8) in one step, if the leases are still held.

        Written and fsynced in a staging file beside it, then renamed onto it; on any error the
        staging file is removed. :class:`LeaseLost` when a lease was taken over."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        content = data.encode() if isinstance(data, str) else data
        handle, staging = create_staging_file(target, self.tags)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())
            self.check()
            self.rename(staging, target)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise

    def new_folder(self, target: str | Path) -> Path:
        """A new empty staging folder beside ``target``, to fill and then :meth:`replace_folder` it."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        while True:
            building = staging_path(target, self.tags)
            try:
                building.mkdir()
                return building
            except FileExistsError:
                continue

    def replace_folder(self, building: Path, target: str | Path) -> None:
        """Put the filled staging folder ``building`` in place of ``target`` (moved aside, then deleted),
        if the leases are still held; a lost lease puts the old ``target`` back."""
        target = Path(target)
        self.check()
        aside = None
        if target.exists():
            aside = staging_path(target)
            os.replace(target, aside)
        try:
            self.rename(building, target)
        except BaseException:
            if aside is not None and not target.exists():
                os.replace(aside, target)
            raise
        if aside is not None:
            remove(aside)

    def rename(self, staging: Path, target: Path) -> None:
        try:
            os.replace(staging, target)
        except FileNotFoundError:
            if self.guards and staging.parent.is_dir() and not os.path.lexists(staging):
                # removed by the process that took a lease over (clear_staging)
                raise LeaseLost(f"{target} was not written: a lease it depends on was taken over") from None
            raise


FENCE_IN_FORCE: ContextVar[Fence | None] = ContextVar("fence_in_force", default=None)


@contextmanager
def in_force(fence: Fence) -> Iterator[Fence]:
    """Put ``fence`` in force for the block: :func:`fence_in_force` returns it there."""
    token = FENCE_IN_FORCE.set(fence)
    try:
        yield fence
    finally:
        FENCE_IN_FORCE.reset(token)


def fence_in_force(fence: Fence | None = None) -> Fence | None:
    """``fence`` if given, else the fence put in force around this call (None outside any)."""
    return fence if fence is not None else FENCE_IN_FORCE.get()
