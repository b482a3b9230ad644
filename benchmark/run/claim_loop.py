"""The sweep loop of ``stbench sweep``: claim a cell, train it, repeat — with any number of processes.

Any number of sweep processes, on any hosts, started at any times, can work on one sweep file and
one results folder. Each pass reads the leaderboard, claims the first cell that still needs a run
(:mod:`benchmark.run.claims`), reads the leaderboard again under the claim (another process may
have finished the cell meanwhile) and trains it; its row is written before the claim is given
back, so a process that claims the cell later sees that row. A process with nothing left to
claim waits for the cells other processes hold — taking over those whose holder died — until
every cell is finished or failed (``wait=False``: it stops instead).

A run that fails leaves a ``failed`` row and the loop goes on with the next cell; an error that
leaves no row (the run could not start: a refused checkpoint, a bad setting) stops the loop. A
cell with a ``failed`` row is not run again unless ``retry_failed``: then each failed cell gets
one more attempt, counted in its claim record, whichever process makes it.

A process stopped (SIGSTOP, a frozen machine) for longer than the claim timeout loses its cell
to another process, which resumes it. When it goes on, it stops that cell within a batch or so
(:mod:`benchmark.run.lease_watch`), writes no row and leaves the new holder's claim record alone
(the claim fences every write for the cell, :mod:`benchmark.run.claims`), and goes on with the
next cell.

In a multi-process job (DDP) only global rank 0 claims; the other ranks train the cells it
announces (:mod:`benchmark.run.rank_plan`).
"""
from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from benchmark.results.leaderboard import read_leaderboard
from benchmark.run.claims import DEFAULT_CLAIM_TIMEOUT_S, CellClaims, Claim
from benchmark.run.config import RunConfig
from benchmark.run.options import RunOptions
from benchmark.run.rank_plan import FollowerPlan, LeaderPlan, expects_other_ranks, is_global_rank_zero
from benchmark.run.runner import run
from benchmark.run.sweep import Sweep, SweepProgress
from datamodules.fencing import LeaseLost, in_force


@dataclass(frozen=True)
class ClaimLoopSettings:
    retry_failed: bool = False  # give each failed cell one more attempt
    wait: bool = True  # wait for cells other processes hold (taking over stale ones) rather than stop
    claim_timeout_s: float = DEFAULT_CLAIM_TIMEOUT_S  # the lease of a claim (and of rank 0 in a DDP job)

    @property
    def poll_s(self) -> float:
        """How often a waiting process looks at the cells others hold."""
        return max(0.5, min(10.0, self.claim_timeout_s / 3))


@dataclass
class ClaimLoopOutcome:
    trained: list[str] = field(default_factory=list)  # run ids this process trained to a finished row
    failed: list[str] = field(default_factory=list)  # run ids whose run failed in this process
    lapsed: list[str] = field(default_factory=list)  # run ids this process stopped: its claim was taken over
    retried: list[str] = field(default_factory=list)  # failed cells this process gave another attempt
    states: dict[str, str] = field(default_factory=dict)  # run id → finished / failed / "" at the end
    rows: list[dict[str, Any]] | None = None  # the sweep's leaderboard rows at the end (rank 0 only)


def cell_states(sweep: Sweep, options: RunOptions) -> dict[str, str]:
    """Run id → ``finished``, ``failed`` or ``""`` (no row) for every cell of the sweep."""
    table = read_leaderboard(options.leaderboard)
    statuses = dict(zip(table["run_id"].astype(str), table["status"].astype(str))) if len(table) else {}
    return {cell.run_id: statuses.get(cell.run_id, "") for cell in sweep.cells}


def attempts(claims: CellClaims, run_id: str) -> int:
    record = claims.read_record(run_id)
    return record.attempt if record else 0


def say(message: str) -> None:
    print(message, flush=True)


class ClaimLoop:
    def __init__(self, sweep: Sweep, options: RunOptions, settings: ClaimLoopSettings, plan: LeaderPlan | None):
        self.sweep = sweep
        self.options = options
        self.settings = settings
        self.plan = plan
        self.claims = CellClaims(options.results_dir, settings.claim_timeout_s)
        self.outcome = ClaimLoopOutcome()
        self.attempted: set[str] = set()
        self.me = f"host {socket.gethostname()} pid {os.getpid()}"
        states = cell_states(sweep, options)
        failed = [run_id for run_id, state in states.items() if state == "failed"]
        # a failed cell is retried once: while its attempt count is still the one seen here
        self.retry = {run_id: attempts(self.claims, run_id) for run_id in failed} if settings.retry_failed else {}
        self.progress = SweepProgress(len(sweep.cells), sum(state == "finished" for state in states.values()))
        note = f", {len(failed)} failed earlier" + ("" if settings.retry_failed else " (--retry-failed retries them)")
        say(
            f"[sweep] {sweep.name}: {len(sweep.cells)} cells, {self.progress.done} already finished"
            + (note if failed else "")
            + f"; {self.me} joins"
        )

    def wanted(self, config: RunConfig, state: str) -> bool:
        if config.run_id in self.attempted:  # once per cell and process, whatever the outcome
            return False
        if state == "":
            return True
        return state == "failed" and self.retry.get(config.run_id) == attempts(self.claims, config.run_id)

    def run(self) -> ClaimLoopOutcome:
        waiting_for: tuple[str, ...] = ()
        while True:
            states = cell_states(self.sweep, self.options)
            todo = [cell for cell in self.sweep.cells if self.wanted(cell, states[cell.run_id])]
            if not todo:
                break
            if any(self.try_cell(config) for config in todo):
                continue
            held = tuple(cell.run_id for cell in todo)
            if not self.settings.wait:
                say(f"[sweep] {len(held)} cell(s) held by other processes; {self.me} stops (no waiting)")
                break
            if held != waiting_for:
                say(f"[sweep] {self.me} waits for {len(held)} cell(s) held by other processes: {', '.join(held)}")
                waiting_for = held
            time.sleep(self.settings.poll_s)
        self.outcome.states = cell_states(self.sweep, self.options)
        done = sum(state == "finished" for state in self.outcome.states.values())
        failed = sum(state == "failed" for state in self.outcome.states.values())
        lapsed = f", {len(self.outcome.lapsed)} stopped (claim taken over)" if self.outcome.lapsed else ""
        say(
            f"[sweep] {self.me} done: {len(self.outcome.trained)} cell(s) trained here{lapsed}; "
            f"{done}/{len(self.sweep.cells)} finished, {failed} failed"
        )
        return self.outcome

    def try_cell(self, config: RunConfig) -> bool:
        """Claim and train ``config`` if no other process holds it and it still needs a run."""
        claim = self.claims.try_claim(config.run_id)
        if claim is None:
            return False
        state = cell_states(self.sweep, self.options)[config.run_id]
        if not self.wanted(config, state):  # finished (or retried) by another process meanwhile
            claim.release()
            return False
        self.train(config, claim, retry=state == "failed")
        return True

    def train(self, config: RunConfig, claim: Claim, retry: bool) -> None:
        self.attempted.add(config.run_id)
        outcome = "interrupted"
        try:
            record = claim.start(self.sweep.name)
            self.progress.done = sum(s == "finished" for s in cell_states(self.sweep, self.options).values())
            say(self.progress.line(config))
            taken = f", taking over the stale claim of {claim.took_over}" if claim.took_over else ""
            say(f"[sweep] {self.me} trains run {config.run_id} (attempt {record.attempt}{taken})")
            if retry:
                self.outcome.retried.append(config.run_id)
            if self.plan is not None:
                self.plan.publish(config.run_id)
            self.progress.start_cell()
            with in_force(claim.fence):  # the run's row is written only while the claim holds
                run(config, self.options)
            outcome = "finished"
            self.outcome.trained.append(config.run_id)
        except Exception as error:
            if isinstance(error, LeaseLost) and claim.lost:
                outcome = "lapsed"
                self.outcome.lapsed.append(config.run_id)
                say(f"[sweep] {self.me} stops run {config.run_id}: its claim lapsed and another process took it "
                    f"over ({error}); no row written")  # fmt: skip
                if self.plan is not None:
                    raise  # the job's other processes stopped with it; so does the job
                return
            outcome = "failed"
            self.outcome.failed.append(config.run_id)
            say(f"[sweep] run {config.run_id} failed: {type(error).__name__}: {error}")
            if self.plan is not None:
                raise  # the job's other processes ended with the run; so does the job
            if cell_states(self.sweep, self.options)[config.run_id] != "failed":
                raise  # the run could not start (a refused checkpoint, a bad setting): stop the sweep
        finally:
            claim.release(outcome)  # the record is written only while the claim is still this process's
            self.progress.finish_cell()


def run_claimed_sweep(
    sweep: Sweep, options: RunOptions, settings: ClaimLoopSettings = ClaimLoopSettings()
) -> ClaimLoopOutcome:
    """Train the sweep's cells that need a run, cooperating with every other process on its results folder."""
    multi_process = expects_other_ranks(options)
    if multi_process and not is_global_rank_zero():
        follow(sweep, options, settings)
        return ClaimLoopOutcome()
    plan = LeaderPlan(options.results_dir, settings.claim_timeout_s) if multi_process else None
    try:
        outcome = ClaimLoop(sweep, options, settings, plan).run()
    finally:
        if plan is not None:
            plan.close()
    table = read_leaderboard(options.leaderboard)
    order = {cell.run_id: i for i, cell in enumerate(sweep.cells)}
    rows = table[table["run_id"].isin(order)].sort_values("run_id", key=lambda ids: ids.map(order))
    outcome.rows = rows.to_dict("records")
    return outcome


def follow(sweep: Sweep, options: RunOptions, settings: ClaimLoopSettings) -> None:
    """A DDP process of rank > 0: train the cells global rank 0 announces, in its order."""
    cells = {cell.run_id: cell for cell in sweep.cells}
    plan = FollowerPlan(options.results_dir, settings.claim_timeout_s)
    while (run_id := plan.next()) is not None:
        if run_id not in cells:
            raise RuntimeError(f"rank 0 trains run {run_id}, which is not a cell of {sweep.source}")
        run(cells[run_id], options)
