"""The sweep's claim loop with a stand-in for training: which cells it runs, skips, retries and waits for."""
import threading

import pytest

import benchmark.run.claim_loop as claim_loop
from benchmark.results.leaderboard import read_leaderboard, upsert_rows
from benchmark.run.claim_loop import ClaimLoopSettings, run_claimed_sweep
from benchmark.run.claims import CellClaims
from benchmark.run.options import RunOptions
from benchmark.run.sweep import load_sweep


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
