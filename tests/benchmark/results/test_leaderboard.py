"""Leaderboard writes: atomic, locked, one row per run id, none lost when a writer is stopped past its lease."""
import multiprocessing
from pathlib import Path

import pandas as pd
import pytest

from benchmark.results.leaderboard import LEADERBOARD_COLUMNS, finished_run_ids, read_leaderboard, upsert_rows
from tests.pauses import STOP_HERE, end, finish, go_on, python_child, wait_stopped


def row(run_id: str, top1: float = 0.5, status: str = "finished") -> dict:
    return {"run_id": run_id, "status": status, "head": "tsn", "top1": top1}


def test_upsert_keeps_schema_order_and_replaces_same_run_id(tmp_path):
    board = tmp_path / "leaderboard.csv"
    upsert_rows(board, [row("a"), row("b")])
    upsert_rows(board, [row("a", top1=0.9)])
    table = read_leaderboard(board)
    assert list(table.columns) == list(LEADERBOARD_COLUMNS)
    assert sorted(table["run_id"]) == ["a", "b"]
    assert table.set_index("run_id").loc["a", "top1"] == 0.9


def test_a_crash_while_writing_leaves_the_old_table_and_no_temp_file(tmp_path, monkeypatch):
    board = tmp_path / "leaderboard.csv"
    upsert_rows(board, [row("a")])
    before = board.read_bytes()

    def exploding_to_csv(self, stream, **kwargs):
        stream.write("run_id,status\nhalf-writ")
        raise KeyboardInterrupt("killed mid-write")

    monkeypatch.setattr(pd.DataFrame, "to_csv", exploding_to_csv)
    with pytest.raises(KeyboardInterrupt):
        upsert_rows(board, [row("b")])
    assert board.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def _append(path: str, start: int) -> None:
    for i in range(start, start + 10):
        upsert_rows(Path(path), [row(f"run{i}")])


def test_concurrent_writers_lose_no_row(tmp_path):
    board = tmp_path / "leaderboard.csv"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append, args=(str(board), start)) for start in (0, 10, 20)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    table = read_leaderboard(board)
    assert sorted(table["run_id"]) == sorted(f"run{i}" for i in range(30))


def test_finished_run_ids_ignores_other_statuses(tmp_path):
    board = tmp_path / "leaderboard.csv"
    upsert_rows(board, [row("a"), row("b", status="failed")])
    assert finished_run_ids(board) == {"a"}
    assert finished_run_ids(tmp_path / "missing.csv") == set()


def test_a_failed_row_never_replaces_a_finished_one(tmp_path):
    board = tmp_path / "leaderboard.csv"
    upsert_rows(board, [row("a", top1=0.7), row("b", status="failed")])
    upsert_rows(board, [row("a", status="failed"), row("b", top1=0.6)])  # a failed re-run of a; b retried
    table = read_leaderboard(board).set_index("run_id")
    assert table.loc["a", "status"] == "finished" and table.loc["a", "top1"] == 0.7
    assert table.loc["b", "status"] == "finished" and table.loc["b", "top1"] == 0.6
    upsert_rows(board, [row("b", status="failed")])
    assert finished_run_ids(board) == {"a", "b"}
    upsert_rows(board, [row("c", status="failed")])
    assert read_leaderboard(board).set_index("run_id").loc["c", "status"] == "failed"


# -- a writer stopped (SIGSTOP) inside the lock, past its lease ---------------------------------------
LEASE_S = 1.5  # the leaderboard lock's lease in these writers (60 s in use)
WRITER = f"""
import os, signal, sys, time
from datamodules import storage
from benchmark.results import leaderboard

board, run_id, stop_at = sys.argv[1], sys.argv[2], sys.argv[3]
storage.LOCK_LEASE_S = {LEASE_S}
real_read, real_replace, stopped = leaderboard.read_leaderboard, os.replace, []

def stop_once():
    if not stopped:
        stopped.append(1)
        {STOP_HERE}

def read(path):  # the table is read under the lock ...
    table = real_read(path)
    if stop_at == "read":
        stop_once()
    return table

def replace(source, target, **kwargs):  # ... and the new one about to replace it
    if stop_at == "rename" and os.path.basename(str(target)) == os.path.basename(board):
        stop_once()
    return real_replace(source, target, **kwargs)

leaderboard.read_leaderboard, os.replace = read, replace
leaderboard.upsert_rows(board, [{{"run_id": run_id, "status": "finished", "head": "tsn", "top1": 0.5}}])
print(f"wrote {{run_id}} at {{time.monotonic()}}", flush=True)
"""


def written_at(output: str, run_id: str) -> float:
    line = next(line for line in output.splitlines() if line.startswith(f"wrote {run_id} at "))
    return float(line.rsplit(" ", 1)[1])


@pytest.mark.parametrize("stop_at", ["read", "rename"])
def test_a_writer_stopped_past_its_lease_loses_no_row_and_overwrites_none(tmp_path, stop_at):
    """Writer A stops (SIGSTOP) after reading the table (or just before its rename); writer B takes the
    lock over once A's lease is stale and writes its row; A goes on: both rows are in the table."""
    board = tmp_path / "leaderboard.csv"
    upsert_rows(board, [row("first")])
    a = python_child(WRITER, str(board), "a", stop_at)
    try:
        wait_stopped(a)
        b = python_child(WRITER, str(board), "b", "never")
        b_output = finish(b, 60)
        assert b.returncode == 0, b_output
        assert sorted(read_leaderboard(board)["run_id"]) == ["b", "first"]
        continued = go_on(a)
        a_output = finish(a, 60)
    finally:
        end(a)
    assert a.returncode == 0, a_output
    table = read_leaderboard(board)
    assert sorted(table["run_id"]) == ["a", "b", "first"] and (table["status"] == "finished").all()
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".lease"))]
    print(f"stopped at {stop_at}: A wrote its row {written_at(a_output, 'a') - continued:.2f} s after SIGCONT")
