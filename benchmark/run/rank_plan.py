"""Multi-process jobs (DDP across devices or nodes): global rank 0 claims cells, the other ranks follow.

Every process of a DDP job runs the sweep command (started by Lightning for the devices of a node,
by srun or torchrun otherwise) and all of them must train the same cell at the same time. Rank 0
claims a cell, then writes its run id as decision ``n`` into the job's folder
``<results>/claims/jobs/<job key>/``; the other ranks read decision ``n``, train that cell and wait
for decision ``n + 1`` (an empty decision ends the sweep). While it decides, rank 0 holds a lease
on the folder (``leader.lease``), so that a follower whose rank 0 died stops instead of waiting for
ever.

The job key is one that every process of the job knows without talking to the others: the
variable ``STBENCH_SWEEP_JOB`` (set by rank 0 before Lightning starts the node's other processes,
which inherit it), else the SLURM job and step, the torchrun run id, or ``MASTER_ADDR:MASTER_PORT``.
Keys of the last kinds can repeat across jobs, so rank 0 empties the folder when it starts and a
follower ignores a rank 0 that started long before itself.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from pathlib import Path
from typing import Mapping

from filelock import SoftFileLease, Timeout

from benchmark.run.options import RunOptions
from datamodules.storage import write_atomically

JOB_VARIABLE = "STBENCH_SWEEP_JOB"
RANK_VARIABLES = ("RANK", "SLURM_PROCID", "NODE_RANK", "GROUP_RANK", "LOCAL_RANK")
LEADER_RECORD = "leader.json"
LEADER_LEASE = "leader.lease"
# a rank 0 that started this much before a follower (same derived key) belongs to an earlier job
EARLIER_JOB_S = 300.0
POLL_S = 0.5


def expects_other_ranks(options: RunOptions) -> bool:
    """Whether a run with these options may have more than one process (devices or nodes)."""
    return str(options.devices) != "1" or options.num_nodes > 1


def is_global_rank_zero(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this process is (or will be) global rank 0, from the launchers' rank variables."""
    return all(int(environ.get(name) or 0) == 0 for name in RANK_VARIABLES)


def job_key(environ: Mapping[str, str] = os.environ) -> tuple[str | None, bool]:
    """The job's key and whether it is unique to this job (None: this process starts the job)."""
    if environ.get(JOB_VARIABLE):
        return environ[JOB_VARIABLE], True
    if environ.get("SLURM_JOB_ID"):
        return f"slurm-{environ['SLURM_JOB_ID']}-{environ.get('SLURM_STEP_ID', 'batch')}", False
    if environ.get("TORCHELASTIC_RUN_ID", "none") != "none":
        return f"torchrun-{environ['TORCHELASTIC_RUN_ID']}", False
    if environ.get("MASTER_ADDR") and environ.get("MASTER_PORT"):
        return f"master-{environ['MASTER_ADDR']}-{environ['MASTER_PORT']}", False
    return None, True


def jobs_folder(results_dir: str | Path) -> Path:
    return Path(results_dir) / "claims" / "jobs"


def remove_ended_jobs(folder: Path, age_s: float = 3600.0) -> None:
    """Delete the folders of jobs whose rank 0 gave its lease back more than ``age_s`` ago."""
    for job in folder.glob("*/"):
        record = job / LEADER_RECORD
        try:
            ended = not (job / LEADER_LEASE).exists() and time.time() - record.stat().st_mtime > age_s
        except FileNotFoundError:
            continue
        if ended:
            shutil.rmtree(job, ignore_errors=True)


class LeaderPlan:
    """Rank 0's side: publishes each decision for the other ranks of the job."""

    def __init__(self, results_dir: str | Path, timeout_s: float) -> None:
        key, _ = job_key()
        if key is None:
            key = f"job-{uuid.uuid4().hex[:12]}"
        os.environ[JOB_VARIABLE] = key  # inherited by the processes Lightning starts for this node
        self.folder = jobs_folder(results_dir) / key
        shutil.rmtree(self.folder, ignore_errors=True)  # an earlier job's decisions under a reused key
        remove_ended_jobs(self.folder.parent)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.lease = SoftFileLease(str(self.folder / LEADER_LEASE), lease_duration=timeout_s, thread_local=False)
        self.lease.acquire(timeout=timeout_s * 2)
        self.nonce = uuid.uuid4().hex
        record = {"nonce": self.nonce, "host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}
        write_atomically(self.folder / LEADER_RECORD, json.dumps(record) + "\n")
        self.number = 0

    def publish(self, run_id: str | None) -> None:
        """Decision ``n``: the cell every rank trains next (None: the sweep is over for this job)."""
        decision = {"nonce": self.nonce, "run_id": run_id}
        write_atomically(self.folder / f"{self.number}.json", json.dumps(decision) + "\n")
        self.number += 1

    def close(self) -> None:
        self.publish(None)
        if self.lease.is_locked:
            self.lease.release(force=True)


class FollowerPlan:
    """A rank other than 0: reads rank 0's decisions in order."""

    def __init__(self, results_dir: str | Path, timeout_s: float) -> None:
        key, unique = job_key()
        if key is None:
            raise RuntimeError(
                "a sweep process of rank > 0 found no job key: set STBENCH_SWEEP_JOB, or run under SLURM, "
                "torchrun or with MASTER_ADDR and MASTER_PORT"
            )
        self.folder = jobs_folder(results_dir) / key
        self.unique = unique
        self.timeout_s = timeout_s
        self.started = time.time()
        self.nonce: str | None = None
        self.leader = "rank 0"
        self.probe = SoftFileLease(str(self.folder / LEADER_LEASE), lease_duration=timeout_s, thread_local=False)
        self.number = 0

    def _read(self, name: str) -> dict | None:
        try:
            return json.loads((self.folder / name).read_text())
        except (OSError, ValueError):
            return None

    def _join(self) -> bool:
        record = self._read(LEADER_RECORD)
        if record is None or (not self.unique and record["started"] < self.started - EARLIER_JOB_S):
            return False
        self.nonce = record["nonce"]
        self.leader = f"rank 0 (pid {record['pid']} on host {record['host']})"
        return True

    def _leader_gone(self) -> bool:
        """Whether rank 0's lease is free or stale (its process ended without a last decision)."""
        try:
            self.probe.acquire(timeout=0)
        except Timeout:
            return False
        self.probe.release(force=True)
        return True

    def next(self) -> str | None:
        """The run id of the next cell to train (None: the sweep is over); waits for rank 0's decision."""
        waited = 0.0
        while True:
            if self.nonce is None and not self._join():
                if waited > self.timeout_s + 120:
                    raise RuntimeError(f"no rank 0 of this job started in {self.folder} (waited {waited:.0f} s)")
            else:
                decision = self._read(f"{self.number}.json")
                if decision is not None and decision.get("nonce") == self.nonce:
                    self.number += 1
                    return decision["run_id"]
                record = self._read(LEADER_RECORD)
                if record is not None and record["nonce"] != self.nonce:
                    if self.number:
                        raise RuntimeError(f"another rank 0 took over {self.folder} during this job")
                    self.nonce = None  # joined an earlier job's rank 0 under a reused key: join again
                    continue
                if self._leader_gone() and self._read(f"{self.number}.json") is None:
                    raise RuntimeError(f"{self.leader} is gone without a decision; this process stops")
            time.sleep(POLL_S)
            waited += POLL_S
