"""Cell claims: which process trains which cell of a sweep, across hosts sharing one results folder.

A cell is claimed by holding a lease on ``<results>/claims/<run id>.lease`` (:class:`filelock.SoftFileLease`):

* it is taken by creating that file with ``O_CREAT | O_EXCL``, which succeeds for exactly one
  process, on a local disk as on NFS v3/v4, Lustre or GPFS — unlike ``flock``/``fcntl`` locks,
  which some network filesystems emulate per node or not at all;
* the file names its holder (host, pid, process start token, a claim token, the lease duration),
  and a heartbeat thread of the holder touches it every third of the lease;
* stale rule: a holder on the same host whose process is gone loses the claim at once; a holder
  on another host loses it once a contender has seen the file unchanged (no heartbeat) for the
  whole lease duration, measured on the contender's own monotonic clock (no clock agreement
  between hosts needed). Every contender must use the same duration (``--claim-timeout``).
  A holder that was stopped (SIGSTOP, a frozen machine) that long loses the claim too.

Beside the lease, ``<run id>.json`` tells people who holds the cell since when, and how many
attempts the cell has had (a retry of a failed cell is one more attempt).

The claim fences what its holder writes for the cell (:mod:`datamodules.fencing`): the claim
record and the cell's leaderboard row are written only while the claim is held, and a process
that takes a claim over first clears the staging files of the earlier holder in the claims folder
and in the results folder. A holder whose claim was taken over while it was stopped can write
neither: its writes fail with :class:`~datamodules.fencing.LeaseLost`.
"""
from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from filelock import SoftFileLease, Timeout

from datamodules.fencing import Fence, Guard, LeaseLost, clear_staging

CLAIMS_FOLDER = "claims"
DEFAULT_CLAIM_TIMEOUT_S = 300.0
JOB_VARIABLES = ("SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_JOB_ID", "SUBMITIT_LOCAL_JOB_ID")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ClaimRecord:
    """Who claimed a cell, when, and which attempt at the cell it is."""

    run_id: str
    sweep: str
    host: str
    pid: int
    started: str
    attempt: int
    job: dict[str, str]
    took_over: str | None = None  # "pid P on host H" when the claim was taken from a stale holder
    ended: str | None = None
    outcome: str | None = None  # finished / failed / interrupted


class Claim:
    """A held claim. :meth:`start` records an attempt at the cell; :meth:`release` gives the claim back.
    ``fence`` is the condition of every write for the cell (record, leaderboard row)."""

    def __init__(self, claims: CellClaims, lease: SoftFileLease, run_id: str, took_over: str | None) -> None:
        self.claims = claims
        self.lease = lease
        self.fence = Fence(Guard(lease))
        self.run_id = run_id
        self.took_over = took_over
        self.record: ClaimRecord | None = None

    @property
    def lost(self) -> bool:
        """Whether another process took the claim over (this one was stopped or silent past the timeout)."""
        return not self.fence.held()

    def start(self, sweep: str) -> ClaimRecord:
        """Record this process as the cell's trainer: one more attempt at the cell
        (:class:`~datamodules.fencing.LeaseLost` if the claim was taken over already)."""
        previous = self.claims.read_record(self.run_id)
        self.record = ClaimRecord(
            run_id=self.run_id,
            sweep=sweep,
            host=socket.gethostname(),
            pid=os.getpid(),
            started=now_iso(),
            attempt=(previous.attempt + 1) if previous else 1,
            job={name: os.environ[name] for name in JOB_VARIABLES if name in os.environ},
            took_over=self.took_over,
        )
        self.claims.write_record(self.record, self.fence)
        return self.record

    def release(self, outcome: str | None = None) -> None:
        """Give the claim back; ``outcome`` (finished / failed / interrupted) completes the attempt's record,
        unless the claim was taken over: the record is then the new holder's, and left as it is."""
        if self.record is not None and outcome is not None:
            try:
                self.claims.write_record(replace(self.record, ended=now_iso(), outcome=outcome), self.fence)
            except LeaseLost:
                pass
        if self.lease.is_locked:
            self.lease.release(force=True)  # removes the lease file only if it is still this hold's


class CellClaims:
    """The claims of one results folder. Keeps one lease object per cell: a contender has to watch
    a foreign holder's lease file for the whole lease duration before taking it over."""

    def __init__(self, results_dir: str | Path, timeout_s: float = DEFAULT_CLAIM_TIMEOUT_S) -> None:
        self.folder = Path(results_dir) / CLAIMS_FOLDER
        self.timeout_s = float(timeout_s)
        self._leases: dict[str, SoftFileLease] = {}

    def lease_path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.lease"

    def record_path(self, run_id: str) -> Path:
        return self.folder / f"{run_id}.json"

    def _lease(self, run_id: str) -> SoftFileLease:
        if run_id not in self._leases:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._leases[run_id] = SoftFileLease(
                str(self.lease_path(run_id)), lease_duration=self.timeout_s, thread_local=False, is_singleton=False
            )
        return self._leases[run_id]

    def try_claim(self, run_id: str) -> Claim | None:
        """Claim the cell now, or None while another live process holds it (a stale holder's claim is taken)."""
        lease = self._lease(run_id)
        before = lease.owner
        try:
            lease.acquire(timeout=0)
        except Timeout:
            return None
        took_over = None
        if before is not None and (before.pid, before.hostname) != (os.getpid(), socket.gethostname()):
            took_over = f"pid {before.pid} on host {before.hostname}"
        claim = Claim(self, lease, run_id, took_over)
        for folder in self.guarded_folders():
            clear_staging(folder, claim.fence.tags[0])
        return claim

    def guarded_folders(self) -> tuple[Path, ...]:
        """Where a claim's holder stages fenced writes: the claims folder (records) and the results
        folder (the leaderboard)."""
        return (self.folder, self.folder.parent)

    def write_record(self, record: ClaimRecord, fence: Fence) -> None:
        fence.write(self.record_path(record.run_id), json.dumps(asdict(record), indent=1) + "\n")

    def read_record(self, run_id: str) -> ClaimRecord | None:
        try:
            return ClaimRecord(**json.loads(self.record_path(run_id).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def heartbeat_age(self, run_id: str) -> float | None:
        """Seconds since the holder last touched the cell's lease (this host's clock); None: unclaimed."""
        try:
            return max(0.0, time.time() - self.lease_path(run_id).stat().st_mtime)
        except FileNotFoundError:
            return None
