"""The sweep's claim loop with a stand-in for training: which cells it runs, skips, retries and waits for,
and what a process stopped past its claim timeout does when it goes on."""
import os
import threading

import pytest

import benchmark.run.claim_loop as claim_loop
from benchmark.results.leaderboard import read_leaderboard, upsert_rows
from benchmark.run.claim_loop import ClaimLoopSettings, run_claimed_sweep
from benchmark.run.claims import CellClaims
from benchmark.run.options import RunOptions
from benchmark.run.sweep import load_sweep
from tests.pauses import STOP_HERE, end, finish, go_on, python_child, wait_stopped


@pytest.fixture
def sweep(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("name: demo\ngrid:\n  head: [tsn, lstm, gru]\n")
    return load_sweep(path)


@pytest.fixture
def trained(monkeypatch):
    """Runs stand-in: a finished row, or a failed one for the heads in ``trained.failing``."""
    calls: list[str] = []

    def fake_run(config, options, fresh=False):
        calls.append(config.head)
        if config.head in calls_failing:
            upsert_rows(options.leaderboard, [{"run_id": config.run_id, "status": "failed", "error": "boom"}])
            raise RuntimeError("boom")
        row = {"run_id": config.run_id, "status": "finished", "head": config.head, "top1": 0.5}
        upsert_rows(options.leaderboard, [row])
        return row

    calls_failing: set[str] = set()
    monkeypatch.setattr(claim_loop, "run", fake_run)
    fake_run.calls, fake_run.failing = calls, calls_failing
    return fake_run


def options(tmp_path) -> RunOptions:
    return RunOptions(results_dir=str(tmp_path / "results"), work_dir=str(tmp_path / "runs"), progress=False)


def test_every_cell_once_and_a_failure_does_not_stop_the_others(tmp_path, sweep, trained):
    trained.failing.add("lstm")
    outcome = run_claimed_sweep(sweep, options(tmp_path), ClaimLoopSettings(claim_timeout_s=3))
    assert trained.calls == ["tsn", "lstm", "gru"]
    assert outcome.failed == [sweep.cells[1].run_id] and len(outcome.trained) == 2
    assert list(outcome.states.values()) == ["finished", "failed", "finished"]
    assert [row["status"] for row in outcome.rows] == ["finished", "failed", "finished"]

    trained.calls.clear()
    again = run_claimed_sweep(sweep, options(tmp_path), ClaimLoopSettings(claim_timeout_s=3))
    assert trained.calls == [] and again.trained == [] and again.retried == []  # failed cells wait for --retry-failed

    retried = run_claimed_sweep(sweep, options(tmp_path), ClaimLoopSettings(retry_failed=True, claim_timeout_s=3))
    assert trained.calls == ["lstm"] and retried.retried == [sweep.cells[1].run_id]  # one more attempt, not more
    assert CellClaims(tmp_path / "results").read_record(sweep.cells[1].run_id).attempt == 2

    trained.failing.clear()
    fixed = run_claimed_sweep(sweep, options(tmp_path), ClaimLoopSettings(retry_failed=True, claim_timeout_s=3))
    assert trained.calls == ["lstm", "lstm"] and fixed.trained == [sweep.cells[1].run_id]
    assert set(fixed.states.values()) == {"finished"}
    record = CellClaims(tmp_path / "results").read_record(sweep.cells[1].run_id)
    assert (record.attempt, record.outcome) == (3, "finished")


def test_cells_held_elsewhere_are_left_or_waited_for(tmp_path, sweep, trained):
    claims = CellClaims(tmp_path / "results", timeout_s=3)
    held = claims.try_claim(sweep.cells[0].run_id)  # another holder, live (this process's lease)
    assert held is not None
    outcome = run_claimed_sweep(sweep, options(tmp_path), ClaimLoopSettings(wait=False, claim_timeout_s=3))
    assert trained.calls == ["lstm", "gru"] and outcome.states[sweep.cells[0].run_id] == ""

    threading.Timer(2.0, held.release).start()  # the holder finishes without a row: the cell is claimed again
    waited = run_claimed_sweep(sweep, options(tmp_path), ClaimLoopSettings(claim_timeout_s=3))
    assert trained.calls == ["lstm", "gru", "tsn"] and set(waited.states.values()) == {"finished"}
    assert len(read_leaderboard(tmp_path / "results" / "leaderboard.csv")) == 3


STOPPED_SWEEP = """
import os, signal, sys
import benchmark.run.claim_loop as claim_loop
from benchmark.results.leaderboard import upsert_rows
from benchmark.run.claim_loop import ClaimLoopSettings, run_claimed_sweep
from benchmark.run.options import RunOptions
from benchmark.run.sweep import load_sweep

def stand_in(config, options, fresh=False):  # stops while it trains its first cell, then writes its row
    if config.head == "tsn":
        STOP_HERE
    upsert_rows(options.leaderboard, [{"run_id": config.run_id, "status": "finished", "detail": f"pid {os.getpid()}"}])

claim_loop.run = stand_in
options = RunOptions(results_dir=sys.argv[2], work_dir=sys.argv[3], progress=False)
outcome = run_claimed_sweep(load_sweep(sys.argv[1]), options, ClaimLoopSettings(claim_timeout_s=1.5))
print("trained", outcome.trained, "lapsed", getattr(outcome, "lapsed", None), flush=True)
""".replace("STOP_HERE", STOP_HERE)


@pytest.mark.slow
def test_a_process_stopped_past_its_claim_stops_that_cell_and_writes_no_row(tmp_path, sweep, monkeypatch):
    """A stops (SIGSTOP) while training its first cell; B trains the free cells, then takes the stale claim
    over and trains that cell too; A goes on: it writes no row, leaves B's claim records alone and stops."""
    opts = options(tmp_path)

    def stand_in(config, options, fresh=False):
        row = {"run_id": config.run_id, "status": "finished", "detail": f"pid {os.getpid()}"}
        upsert_rows(options.leaderboard, [row])

    monkeypatch.setattr(claim_loop, "run", stand_in)
    a = python_child(STOPPED_SWEEP, str(sweep.source), opts.results_dir, opts.work_dir)
    try:
        wait_stopped(a)
        b = run_claimed_sweep(sweep, opts, ClaimLoopSettings(claim_timeout_s=1.5))
        ids = [cell.run_id for cell in sweep.cells]
        assert sorted(b.trained) == sorted(ids)  # the free cells first, then the stopped process's
        go_on(a)
        output = finish(a, 60)
    finally:
        end(a)
    assert a.returncode == 0, output
    assert f"stops run {ids[0]}: its claim lapsed" in output and f"lapsed ['{ids[0]}']" in output, output
    table = read_leaderboard(tmp_path / "results" / "leaderboard.csv")
    assert sorted(table["run_id"]) == sorted(ids) and (table["status"] == "finished").all()
    assert set(table["detail"]) == {f"pid {os.getpid()}"}  # every row B's, one per cell
    claims = CellClaims(tmp_path / "results")
    records = [claims.read_record(run_id) for run_id in ids]
    assert [(r.pid, r.attempt, r.outcome) for r in records] == [(os.getpid(), 2, "finished")] + [
        (os.getpid(), 1, "finished")
    ] * 2
