"""``stbench sweep --status FILE``: where every cell of a sweep stands, read from the shared folder.

A cell is ``finished`` or ``failed`` by its leaderboard row; otherwise ``running`` while a claim on
it is held (who, since when, how long ago its heartbeat was), ``stale`` when its holder's process
is gone or its heartbeat is older than the claim timeout (the next sweep process takes it over),
and ``pending`` when nobody holds it.
"""
from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchmark.results.leaderboard import read_leaderboard
from benchmark.run.claims import DEFAULT_CLAIM_TIMEOUT_S, CellClaims, ClaimRecord
from benchmark.run.sweep import Sweep

STATES = ("finished", "running", "stale", "failed", "pending")


@dataclass(frozen=True)
class CellStatus:
    run_id: str
    cell: str  # head / backbone / dataset T seed
    state: str
    detail: str


def holder_text(record: ClaimRecord | None, heartbeat_age: float | None) -> str:
    who = f"pid {record.pid} on {record.host} since {record.started}" if record else "a process that is claiming it"
    job = f" (job {', '.join(f'{k}={v}' for k, v in record.job.items())})" if record and record.job else ""
    beat = f", heartbeat {heartbeat_age:.0f} s ago" if heartbeat_age is not None else ""
    return who + job + beat


def holder_gone(record: ClaimRecord | None, heartbeat_age: float, timeout_s: float) -> bool:
    if record is not None and record.host == socket.gethostname() and not psutil.pid_exists(record.pid):
        return True
    return heartbeat_age > timeout_s


def sweep_status(sweep: Sweep, results_dir: str | Path, timeout_s: float = DEFAULT_CLAIM_TIMEOUT_S) -> list[CellStatus]:
    table = read_leaderboard(Path(results_dir) / "leaderboard.csv")
    rows = {str(row["run_id"]): row for row in table.to_dict("records")} if len(table) else {}
    claims = CellClaims(results_dir, timeout_s)
    statuses = []
    for config in sweep.cells:
        run_id = config.run_id
        cell = f"{config.head} / {config.backbone} / {config.dataset} T={config.segments} seed={config.seed}"
        row = rows.get(run_id)
        record = claims.read_record(run_id)
        age = claims.heartbeat_age(run_id)
        attempts = f"attempt {record.attempt}" if record else "attempt 1"
        if row is not None and row["status"] == "finished":
            state, detail = "finished", f"top-1 {row['top1']:.4f}"
            if record is not None:
                detail += f", by pid {record.pid} on {record.host}"
        elif age is not None:
            state = "stale" if holder_gone(record, age, timeout_s) else "running"
            detail = holder_text(record, age)
        elif row is not None and row["status"] == "failed":
            state, detail = "failed", f"{attempts}: {str(row.get('error', ''))[:100]}"
        else:
            state, detail = "pending", ""
        statuses.append(CellStatus(run_id, cell, state, detail))
    return statuses


def format_status(sweep: Sweep, statuses: list[CellStatus]) -> str:
    counts = {state: sum(s.state == state for s in statuses) for state in STATES}
    lines = [
        f"{sweep.name}: {len(statuses)} cells — " + ", ".join(f"{counts[state]} {state}" for state in STATES),
    ]
    width = max((len(s.cell) for s in statuses), default=0)
    for status in statuses:
        lines.append(f"  {status.state:<8}  {status.run_id}  {status.cell:<{width}}  {status.detail}".rstrip())
    return "\n".join(lines)
