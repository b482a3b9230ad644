"""Sweeps run by many processes on one results folder, end to end on the tiny dataset: three processes at
different offsets, a claim holder killed and taken over, a claim holder stopped and taken over, exact resume
after a kill, submitit's local executor, DDP across two "nodes" of localhost, and the SLURM array script."""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from benchmark.run.claims import CellClaims
from benchmark.run.sweep import load_sweep

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TRAINS = re.compile(r"\[sweep\] host \S+ pid (\d+) trains run (\w+)")


def write_sweep(tmp_path: Path, heads: str, epochs: int = 1) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: cluster\ngrid:\n  head: [{heads}]\n  segments: [2]\nsettings:\n  epochs: {epochs}\n  batch_size: 4\n"
    )
    return path


def sweep_command(sweep: Path, tiny: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "benchmark", "sweep", str(sweep), "--data-root", str(tiny),
        "--results-dir", str(tmp_path / "results"), "--work-dir", str(tmp_path / "runs"),
        "--accelerator", "cpu", "--workers", "0", "--no-progress", *extra,
    ]  # fmt: skip


def board(tmp_path: Path) -> pd.DataFrame:
    return pd.read_csv(tmp_path / "results" / "leaderboard.csv", dtype={"run_id": str})


def trained_by(logs: dict[str, str]) -> dict[str, list[str]]:
    """Run id → the processes whose log says they trained it."""
    found: dict[str, list[str]] = {}
    for name, text in logs.items():
        for _, run_id in TRAINS.findall(text):
            found.setdefault(run_id, []).append(name)
    return found


def wait_for(condition, seconds: float, process: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "timed out"
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process ended first ({process.returncode}): {log.read_text()[-3000:] if log else ''}")
        time.sleep(0.05)


def checkpoint_written(path: Path) -> bool:
    """``last.ckpt`` is there and no longer growing."""
    if not path.is_file():
        return False
    size = path.stat().st_size
    time.sleep(0.3)
    return size > 0 and path.stat().st_size == size


@pytest.mark.slow
def test_three_processes_started_apart_train_each_cell_once(tiny_synthetic, tmp_path):
    sweep = write_sweep(tmp_path, "tsn, mlp, lstm, gru")
    command = sweep_command(sweep, tiny_synthetic, tmp_path, "--limit-train-batches", "2", "--claim-timeout", "10")
    processes = {}
    start = time.monotonic()
    for number, offset in enumerate((0.0, 3.0, 6.0)):
        time.sleep(max(0.0, start + offset - time.monotonic()))
        processes[f"p{number}"] = subprocess.Popen(
            command, cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    logs = {name: process.communicate(timeout=600)[0] for name, process in processes.items()}
    codes = {name: process.returncode for name, process in processes.items()}
    assert codes == {"p0": 0, "p1": 0, "p2": 0}, {name: logs[name][-2000:] for name in logs}
    ids = [cell.run_id for cell in load_sweep(sweep).cells]
    table = board(tmp_path)
    assert sorted(table["run_id"]) == sorted(ids) and (table["status"] == "finished").all()
    owners = trained_by(logs)
    assert sorted(owners) == sorted(ids) and all(len(names) == 1 for names in owners.values()), owners
    per_process = Counter(names[0] for names in owners.values())
    print(f"cells trained per process: {dict(sorted(per_process.items()))}")


@pytest.mark.slow
def test_a_killed_claim_holder_is_taken_over_after_its_lease_and_resumed(tiny_synthetic, tmp_path):
    """Process A is killed after its first cell's first checkpoint; its claim is made to look held from
    another host, so process B may take it only once the lease has gone unrefreshed for the timeout."""
    sweep = write_sweep(tmp_path, "tsn, mlp", epochs=3)
    first, second = (cell.run_id for cell in load_sweep(sweep).cells)
    command = sweep_command(sweep, tiny_synthetic, tmp_path, "--limit-train-batches", "2", "--claim-timeout", "4")
    a = subprocess.Popen(command, cwd=tmp_path, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = tmp_path / "runs" / first / "checkpoints" / "last.ckpt"
    wait_for(lambda: checkpoint_written(checkpoint), 300, a)
    os.kill(a.pid, signal.SIGKILL)
    a.wait()
    lease = tmp_path / "results" / "claims" / f"{first}.lease"
    assert f"pid={a.pid}" in lease.read_text()  # the dead holder's claim is still there
    lease.write_text(re.sub(r"host=.*", "host=another-node", lease.read_text()))
    started = time.monotonic()
    b = subprocess.run(command, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600)
    assert b.returncode == 0, b.stdout[-3000:] + b.stderr[-3000:]
    assert f"trains run {first} (attempt 2, taking over the stale claim of pid {a.pid} on host another-node)" in b.stdout
    assert b.stdout.index(f"trains run {second}") < b.stdout.index(f"trains run {first}")  # the free cell first
    assert time.monotonic() - started > 4
    table = board(tmp_path).set_index("run_id")
    assert sorted(table.index) == sorted([first, second]) and (table["status"] == "finished").all()
    assert table.loc[first, "resumed_epoch"] >= 1 and table.loc[second, "resumed_epoch"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("go_on", ["after B finished", "while B trains"])
def test_a_claim_holder_stopped_past_the_timeout_stops_its_cell_and_writes_nothing(tiny_synthetic, tmp_path, go_on):
    """Process A is stopped (SIGSTOP) while it trains; B takes the stale claim over and resumes the cell from
    A's checkpoint; A goes on (SIGCONT) once B finished, or while B still trains: A stops that cell, writes no
    row and leaves B's claim record alone. One finished row, B's."""
    sweep = write_sweep(tmp_path, "mlp", epochs=6)
    run_id = load_sweep(sweep).cells[0].run_id
    command = sweep_command(sweep, tiny_synthetic, tmp_path, "--claim-timeout", "3")
    logs = {name: tmp_path / f"{name}.log" for name in ("a", "b")}
    processes: dict[str, subprocess.Popen] = {}

    def start(name: str) -> subprocess.Popen:
        with logs[name].open("w") as output:
            processes[name] = subprocess.Popen(command, cwd=tmp_path, env=ENV, stdout=output, stderr=subprocess.STDOUT)
        return processes[name]

    try:
        a = start("a")
        checkpoint = tmp_path / "runs" / run_id / "checkpoints" / "last.ckpt"
        wait_for(lambda: checkpoint_written(checkpoint), 300, a, logs["a"])
        os.kill(a.pid, signal.SIGSTOP)  # between two checkpoints: A trains its second epoch
        b = start("b")
        if go_on == "after B finished":
            b.wait(timeout=300)
        else:
            wait_for(lambda: f"trains run {run_id}" in logs["b"].read_text(), 120, b, logs["b"])
        continued = time.monotonic()
        os.kill(a.pid, signal.SIGCONT)
        wait_for(lambda: "stops run" in logs["a"].read_text() or a.poll() is not None, 300)
        noticed = time.monotonic() - continued
        a.wait(timeout=120)
        ended = time.monotonic() - continued
        b.wait(timeout=300)
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.kill(process.pid, signal.SIGCONT)
                process.kill()
                process.wait(timeout=30)
    a_log, b_log = (logs[name].read_text() for name in ("a", "b"))
    assert (a.returncode, b.returncode) == (0, 0), a_log[-3000:] + b_log[-3000:]
    assert f"trains run {run_id} (attempt 2, taking over the stale claim of pid {a.pid} on host" in b_log
    table = board(tmp_path)
    assert list(table["run_id"]) == [run_id] and list(table["status"]) == ["finished"]
    record = CellClaims(tmp_path / "results").read_record(run_id)
    assert (record.pid, record.attempt, record.outcome) == (b.pid, 2, "finished")
    assert table.iloc[0]["resumed_epoch"] >= 1  # B's row: B resumed from A's checkpoint; A's would say 0
    assert f"stops run {run_id}: its claim lapsed and another process took it over" in a_log
    assert sorted(p.name for p in (tmp_path / "results" / "claims").iterdir()) == [f"{run_id}.json"]
    assert not [p.name for p in (tmp_path / "results").iterdir() if p.name.endswith((".tmp", ".lease"))]
    print(f"{go_on}: A stopped the cell {noticed:.1f} s after SIGCONT and ended {ended:.1f} s after it")


@pytest.mark.slow
@pytest.mark.parametrize("workers", [0, 2])
def test_a_run_killed_after_its_first_checkpoint_resumes_to_the_same_figures(tiny_synthetic, tmp_path, workers):
    sweep = write_sweep(tmp_path, "mlp", epochs=2)
    run_id = load_sweep(sweep).cells[0].run_id
    limits = ("--workers", str(workers), "--limit-train-batches", "4")
    whole = sweep_command(sweep, tiny_synthetic, tmp_path / "whole", *limits)
    done = subprocess.run(whole, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    cut = sweep_command(sweep, tiny_synthetic, tmp_path / "cut", *limits)
    log = tmp_path / "killed.log"
    with log.open("w") as output:
        killed = subprocess.Popen(cut, cwd=tmp_path, env=ENV, stdout=output, stderr=subprocess.STDOUT)
    checkpoint = tmp_path / "cut" / "runs" / run_id / "checkpoints" / "last.ckpt"
    wait_for(lambda: checkpoint_written(checkpoint), 300, killed, log)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    resumed = subprocess.run(cut, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    a, b = board(tmp_path / "whole").iloc[0], board(tmp_path / "cut").iloc[0]
    assert b["resumed_epoch"] >= 1 and a["resumed_epoch"] == 0
    timing = {"timestamp", "resumed_epoch", "train_clips_per_s", "test_clips_per_s", "wall_s"}
    figures = [column for column in a.index if column not in timing]
    differ = {c: (a[c], b[c]) for c in figures if not (a[c] == b[c] or (pd.isna(a[c]) and pd.isna(b[c])))}
    assert not differ, differ
    folders = (tmp_path / "whole", tmp_path / "cut")
    pd.testing.assert_frame_equal(*(pd.read_csv(f / "results" / "runs" / run_id / "confusion.csv") for f in folders))
    print(f"workers={workers}: top1 {a['top1']} / {b['top1']}, map {a['map']} / {b['map']}, resumed after {b['resumed_epoch']}")


@pytest.mark.slow
def test_submitit_local_jobs_share_a_sweep(tiny_synthetic, tmp_path):
    sweep = write_sweep(tmp_path, "tsn, mlp, lstm, gru")
    launcher_dir = tmp_path / "submitit"
    command = sweep_command(
        sweep, tiny_synthetic, tmp_path, "--limit-train-batches", "2", "--claim-timeout", "10",
        "--launcher", "local", "--jobs", "2", "--launcher-dir", str(launcher_dir), "--follow",
    )  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "submitted 2 local job(s)" in done.stdout and "4 finished" in done.stdout
    logs = {path.name: path.read_text() for path in launcher_dir.glob("*_log.out")}
    assert len(logs) == 2
    ids = [cell.run_id for cell in load_sweep(sweep).cells]
    owners = trained_by(logs)
    assert sorted(owners) == sorted(ids) and all(len(names) == 1 for names in owners.values()), owners
    table = board(tmp_path)
    assert sorted(table["run_id"]) == sorted(ids) and (table["status"] == "finished").all()
    print(f"cells trained per job: {dict(Counter(names[0] for names in owners.values()))}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_a_sweep_across_two_nodes_of_localhost_counts_every_test_video_once(tiny_synthetic, tmp_path):
    """Two processes as two nodes (NODE_RANK 0 and 1, gloo): rank 0 claims, rank 1 follows, one row per cell."""
    sweep = write_sweep(tmp_path, "tsn, lstm")
    command = sweep_command(
        sweep, tiny_synthetic, tmp_path, "--limit-train-batches", "2", "--claim-timeout", "10",
        "--devices", "1", "--num-nodes", "2", "--strategy", "ddp",
    )  # fmt: skip
    port = str(free_port())
    nodes = [
        subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**ENV, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "NODE_RANK": str(rank), "WORLD_SIZE": "2"},
        )  # fmt: skip
        for rank in (0, 1)
    ]
    logs = [node.communicate(timeout=600)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], [log[-3000:] for log in logs]
    ids = [cell.run_id for cell in load_sweep(sweep).cells]
    assert sorted(trained_by({"node0": logs[0]})) == sorted(ids) and not trained_by({"node1": logs[1]})
    table = board(tmp_path)
    assert sorted(table["run_id"]) == sorted(ids) and (table["status"] == "finished").all()
    assert (table["world_size"] == 2).all()
    assert (table["n_test_expected"] == 9).all() and (table["n_test_evaluated"] == 9).all()


@pytest.mark.slow
def test_the_slurm_array_script_runs_the_claim_loop(tiny_synthetic, tmp_path):
    """The script as an array task would run it, with ``srun`` standing in for SLURM's."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "srun").write_text('#!/bin/sh\nexec "$@"\n')
    (bin_dir / "stbench").write_text(f'#!/bin/sh\nexec {sys.executable} -m benchmark "$@"\n')
    for name in ("srun", "stbench"):
        (bin_dir / name).chmod(0o755)
    sweep = write_sweep(tmp_path, "tsn")
    script = ROOT / "configs" / "slurm" / "sweep_array.sbatch"
    arguments = sweep_command(sweep, tiny_synthetic, tmp_path, "--limit-train-batches", "2")[5:]
    env = {**ENV, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SLURM_NTASKS_PER_NODE": "1", "SLURM_JOB_NUM_NODES": "1"}
    done = subprocess.run(["bash", str(script), str(sweep), *arguments], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert trained_by({"task": done.stdout}).keys() == {load_sweep(sweep).cells[0].run_id}
    assert (board(tmp_path)["status"] == "finished").all()
