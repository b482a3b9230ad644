"""Cell claims: one holder at a time, stale holders taken over (dead process, silent on another host, or
stopped), attempts counted, a stopped holder's record writes refused; the DDP plan's rank and job-key rules;
the status of a sweep's cells."""
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from benchmark.results.leaderboard import read_leaderboard, upsert_rows
from benchmark.run.claims import CellClaims
from benchmark.run.rank_plan import FollowerPlan, LeaderPlan, is_global_rank_zero, job_key
from benchmark.run.sweep import load_sweep
from benchmark.run.sweep_status import format_status, sweep_status
from datamodules.fencing import in_force
from tests.pauses import STOP_HERE, end, finish, go_on, python_child, wait_stopped

ROOT = Path(__file__).resolve().parents[3]


def hold_in_another_process(results: Path, run_id: str, timeout: float) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import time
        from benchmark.run.claims import CellClaims
        claim = CellClaims({str(results)!r}, {timeout}).try_claim({run_id!r})
        claim.start("demo")
        print("held", flush=True)
        time.sleep(600)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_held_cell_is_refused_and_taken_over_once_its_holder_is_killed(tmp_path):
    claims = CellClaims(tmp_path, timeout_s=30)
    holder = hold_in_another_process(tmp_path, "cell1", 30)
    try:
        assert claims.try_claim("cell1") is None
        record = claims.read_record("cell1")
        assert record.pid == holder.pid and record.attempt == 1 and record.outcome is None
        own = claims.try_claim("cell2")  # other cells stay free
        assert own is not None
        own.release()
    finally:
        holder.kill()
        holder.wait()
    claim = claims.try_claim("cell1")  # same host, process gone: stale at once
    assert claim is not None and claim.took_over == f"pid {holder.pid} on host {record.host}"
    assert claim.start("demo").attempt == 2
    claim.release("finished")
    record = claims.read_record("cell1")
    assert (record.pid, record.attempt, record.outcome) == (os.getpid(), 2, "finished")
    assert not claims.lease_path("cell1").exists()


def test_a_silent_holder_on_another_host_loses_the_claim_after_the_timeout(tmp_path):
    claims = CellClaims(tmp_path, timeout_s=1.5)
    claims.folder.mkdir(parents=True)
    claims.lease_path("cell").write_text(
        f"filelock/2\npid=4242\nhost=other-node\nmode=lease\ntoken={'1' * 32}\nduration=1.5\n"
    )
    started = time.monotonic()
    while (claim := claims.try_claim("cell")) is None:
        assert time.monotonic() - started < 10
        time.sleep(0.1)
    assert time.monotonic() - started >= 1.5
    assert claim.took_over == "pid 4242 on host other-node"
    claim.release()


def test_a_heartbeat_keeps_a_claim(tmp_path):
    holder = hold_in_another_process(tmp_path, "cell", 1.5)
    try:
        lease = CellClaims(tmp_path).lease_path("cell")
        lease.write_text(lease.read_text().replace("host=", "host=x"))  # as if held from another host
        claims = CellClaims(tmp_path, timeout_s=1.5)
        started = time.monotonic()
        while time.monotonic() - started < 4:  # over twice the timeout: the heartbeat keeps touching it
            assert claims.try_claim("cell") is None
            time.sleep(0.2)
    finally:
        holder.kill()
        holder.wait()


STOPPED_HOLDER = f"""
import os, signal, sys, time
from benchmark.run.claims import CellClaims

results, timeout, stop_at = sys.argv[1], float(sys.argv[2]), sys.argv[3]
real_replace = os.replace

def replace(source, target, **kwargs):  # stops right before its last record replaces the file
    if stop_at == "record" and str(target).endswith("cell.json") and replace.records == 1:
        {STOP_HERE}
    replace.records += str(target).endswith("cell.json")
    return real_replace(source, target, **kwargs)

replace.records = 0
os.replace = replace
claim = CellClaims(results, timeout).try_claim("cell")
claim.start("demo")
if stop_at == "training":
    {STOP_HERE}
print(f"continued at {{time.monotonic()}}; lost={{claim.lost}}", flush=True)
claim.release("finished")
print("released", flush=True)
"""


@pytest.mark.parametrize("stop_at", ["training", "record"])
def test_a_holder_stopped_past_the_timeout_leaves_the_new_holders_claim_alone(tmp_path, stop_at):
    """A holder stops (SIGSTOP) while it trains, or right before writing its final record; another process
    takes the claim over once it is stale and records its attempt; the first goes on and gives the claim
    back: the record, and the lease file, stay the new holder's."""
    a = python_child(STOPPED_HOLDER, str(tmp_path), "1.5", stop_at)
    try:
        wait_stopped(a)
        claims = CellClaims(tmp_path, timeout_s=1.5)
        started = time.monotonic()
        while (b := claims.try_claim("cell")) is None:
            assert time.monotonic() - started < 30
            time.sleep(0.1)
        assert time.monotonic() - started >= 1.0 and b.took_over.startswith(f"pid {a.pid} on host ")
        assert b.start("demo").attempt == 2
        go_on(a)
        output = finish(a, 60)
    finally:
        end(a)
    assert a.returncode == 0 and "released" in output, output
    record = claims.read_record("cell")
    assert (record.pid, record.attempt, record.outcome) == (os.getpid(), 2, None)
    if stop_at == "training":
        assert "lost=True" in output  # the first holder sees at once that the claim is no longer its
    assert not b.lost and b.lease.owner.token == b.lease.token  # the lease file is still this holder's
    b.release("finished")
    record = claims.read_record("cell")
    assert (record.pid, record.attempt, record.outcome) == (os.getpid(), 2, "finished")
    assert sorted(p.name for p in claims.folder.iterdir()) == ["cell.json"]


ROW_WRITER = f"""
import os, signal, sys
from benchmark.results.leaderboard import upsert_rows
from benchmark.run.claims import CellClaims
from datamodules.fencing import LeaseLost, in_force

results = sys.argv[1]
board, real_replace = os.path.join(results, "leaderboard.csv"), os.replace

def replace(source, target, **kwargs):  # the row's table is written and checked, about to be renamed in
    if str(target) == board:
        {STOP_HERE}
    return real_replace(source, target, **kwargs)

claim = CellClaims(results, 1.5).try_claim("cell")
os.replace = replace
try:
    with in_force(claim.fence):
        upsert_rows(board, [{{"run_id": "cell", "status": "finished", "detail": "first holder"}}])
    print("wrote", flush=True)
except LeaseLost as error:
    print(f"refused: {{error}}", flush=True)
"""


def test_a_row_staged_under_a_claim_that_was_taken_over_is_not_renamed_in(tmp_path):
    """The first holder stops right before renaming its row's table into place, holding the leaderboard's
    lock (60 s lease, still valid); taking the claim over clears its staged table, so its rename fails."""
    a = python_child(ROW_WRITER, str(tmp_path))
    try:
        wait_stopped(a)
        claims = CellClaims(tmp_path, timeout_s=1.5)
        started = time.monotonic()
        while (b := claims.try_claim("cell")) is None:
            assert time.monotonic() - started < 30
            time.sleep(0.1)
        go_on(a)
        output = finish(a, 60)
    finally:
        end(a)
    assert a.returncode == 0 and "refused: " in output, output
    with in_force(b.fence):
        upsert_rows(tmp_path / "leaderboard.csv", [{"run_id": "cell", "status": "finished", "detail": "new holder"}])
    b.release()
    table = read_leaderboard(tmp_path / "leaderboard.csv")
    assert list(table["detail"]) == ["new holder"]
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".lease"))]


@pytest.mark.parametrize(
    "environ, zero",
    [({}, True), ({"LOCAL_RANK": "1"}, False), ({"NODE_RANK": "1", "LOCAL_RANK": "0"}, False),
     ({"SLURM_PROCID": "0", "LOCAL_RANK": "0"}, True), ({"SLURM_PROCID": "3"}, False), ({"RANK": "2"}, False)],
)  # fmt: skip
def test_global_rank_zero_from_the_launchers_variables(environ, zero):
    assert is_global_rank_zero(environ) is zero


def test_every_process_of_a_job_derives_the_same_job_key():
    assert job_key({"STBENCH_SWEEP_JOB": "abc", "SLURM_JOB_ID": "7"}) == ("abc", True)
    assert job_key({"SLURM_JOB_ID": "7", "SLURM_STEP_ID": "0"}) == ("slurm-7-0", False)
    assert job_key({"TORCHELASTIC_RUN_ID": "none", "MASTER_ADDR": "h", "MASTER_PORT": "1"}) == ("master-h-1", False)
    assert job_key({}) == (None, True)


def test_followers_train_what_rank_zero_decides_and_stop_when_it_is_gone(tmp_path, monkeypatch):
    monkeypatch.delenv("STBENCH_SWEEP_JOB", raising=False)
    for name in ("SLURM_JOB_ID", "TORCHELASTIC_RUN_ID", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    leader = LeaderPlan(tmp_path, timeout_s=1.5)
    assert os.environ["STBENCH_SWEEP_JOB"]  # inherited by the processes Lightning starts
    follower = FollowerPlan(tmp_path, timeout_s=1.5)
    leader.publish("cell-a")
    leader.publish("cell-b")
    assert [follower.next(), follower.next()] == ["cell-a", "cell-b"]
    leader.close()
    assert follower.next() is None
    gone = LeaderPlan(tmp_path, timeout_s=1.5)
    gone.lease.release(force=True)  # rank 0 ended without a last decision
    with pytest.raises(RuntimeError, match="is gone"):
        FollowerPlan(tmp_path, timeout_s=1.5).next()


def test_status_shows_finished_running_failed_and_pending_cells(tmp_path):
    sweep_file = tmp_path / "s.yaml"
    sweep_file.write_text("name: demo\ngrid:\n  head: [tsn, lstm, gru, mlp]\n")
    sweep = load_sweep(sweep_file)
    ids = [cell.run_id for cell in sweep.cells]
    results = tmp_path / "results"
    results.mkdir()
    pd.DataFrame(
        {"run_id": [ids[0], ids[2]], "status": ["finished", "failed"], "top1": [0.5, None], "error": ["", "boom"]}
    ).to_csv(results / "leaderboard.csv", index=False)
    holder = hold_in_another_process(results, ids[1], 30)
    try:
        statuses = sweep_status(sweep, results, timeout_s=30)
        text = format_status(sweep, statuses)
    finally:
        holder.kill()
        holder.wait()
    assert [s.state for s in statuses] == ["finished", "running", "failed", "pending"]
    assert f"pid {holder.pid}" in statuses[1].detail and "heartbeat" in statuses[1].detail
    assert "boom" in statuses[2].detail
    assert "1 finished, 1 running, 0 stale, 1 failed, 1 pending" in text
    assert sweep_status(sweep, results, timeout_s=30)[1].state == "stale"  # its process is gone
