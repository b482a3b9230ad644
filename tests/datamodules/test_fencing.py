"""Fenced writes: a holder stopped (SIGSTOP) past its lease, whose lock another process took over, can
no longer replace what the lock guards — files, CSV tables, folders — and loses none of its own rows."""
import os

import pandas as pd
import pytest

from datamodules import storage
from datamodules.fencing import Fence, LeaseLost, clear_staging, fence_in_force, in_force, lease_tag, staging_path
from tests.pauses import STOP_HERE, end, finish, go_on, python_child, wait_stopped

LEASE_S = 1.5  # the lock's lease in these tests (storage.LOCK_LEASE_S is 60 s in use)

PRELUDE = f"""
import os, signal, sys
from pathlib import Path
from datamodules import storage
from datamodules.fencing import LeaseLost

storage.LOCK_LEASE_S = {LEASE_S}
target, stop_at = sys.argv[1], sys.argv[2]
real_replace, stopped = os.replace, []

def stop_once(here):
    if here == stop_at and not stopped:
        stopped.append(here)
        {STOP_HERE}

def replace(source, destination, **kwargs):  # stops right before the rename onto the target
    if str(destination) == target:
        stop_once("rename")
    return real_replace(source, destination, **kwargs)

os.replace = replace
"""

FILE_WRITER = PRELUDE + """
try:
    with storage.locked(target) as held:
        stop_once("write")
        held.write(target, "A")
    print("wrote", flush=True)
except LeaseLost as error:
    print(f"refused: {error}", flush=True)
"""

CSV_WRITER = PRELUDE + """
import pandas

def read(path):  # the table is read under the lock, then the writer stops
    table = pandas.read_csv(path)
    stop_once("read")
    return table

storage.upsert_csv(target, [{"machine": "a", "value": 1.0}], ["machine"], read=read)
print("wrote", flush=True)
"""

FOLDER_BUILDER = PRELUDE + """
def build(folder):
    (folder / "first").write_text("A")
    stop_once("build")
    (folder / "done").write_text("A")

built = storage.build_directory_once(target, lambda folder: (folder / "done").is_file(), build)
print("uses", (built / "first").read_text(), (built / "done").read_text(), flush=True)
"""


@pytest.fixture
def short_lease(monkeypatch):
    monkeypatch.setattr(storage, "LOCK_LEASE_S", LEASE_S)


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".lease")))


def stop_then_take_over(code: str, target, stop_at: str, take_over) -> str:
    """Run ``code`` until it stops itself, run ``take_over()`` here (which waits out its lease), then let it go on."""
    holder = python_child(code, str(target), stop_at)
    try:
        wait_stopped(holder)
        take_over()
        go_on(holder)
        output = finish(holder, 60)
    finally:
        end(holder)
    assert holder.returncode == 0, output
    return output


@pytest.mark.parametrize("stop_at", ["write", "rename"])
def test_a_holder_stopped_past_its_lease_can_no_longer_replace_the_file(tmp_path, short_lease, stop_at):
    target = tmp_path / "index.json"

    def take_over():
        with storage.locked(target, timeout=30) as held:
            held.write(target, "B")

    output = stop_then_take_over(FILE_WRITER, target, stop_at, take_over)
    assert "refused: " in output and ("was taken over" in output or "was not written" in output), output
    assert target.read_text() == "B" and leftovers(tmp_path) == []


def test_a_csv_writer_stopped_past_its_lease_reads_again_and_merges(tmp_path, short_lease):
    target = tmp_path / "perf.csv"
    storage.upsert_csv(target, [{"machine": "first", "value": 0.0}], ["machine"])
    output = stop_then_take_over(
        CSV_WRITER, target, "read", lambda: storage.upsert_csv(target, [{"machine": "b", "value": 2.0}], ["machine"])
    )
    assert "wrote" in output
    assert sorted(pd.read_csv(target)["machine"]) == ["a", "b", "first"] and leftovers(tmp_path) == []


@pytest.mark.parametrize("stop_at", ["build", "rename"])
def test_a_builder_stopped_past_its_lease_uses_the_folder_another_process_built(tmp_path, short_lease, stop_at):
    target = tmp_path / "cache" / "key"

    def build(folder):
        (folder / "first").write_text("B")
        (folder / "done").write_text("B")

    output = stop_then_take_over(
        FOLDER_BUILDER, target, stop_at, lambda: storage.build_directory_once(target, lambda f: False, build)
    )
    assert "uses B B" in output
    assert sorted(p.name for p in target.iterdir()) == ["done", "first"] and (target / "done").read_text() == "B"
    assert leftovers(target.parent) == []


def test_a_lease_clears_only_the_staging_files_tagged_with_it(tmp_path):
    target = tmp_path / "leaderboard.csv"
    mine, other = lease_tag(tmp_path / "cell-a.lease"), lease_tag(tmp_path / "cell-b.lease")
    assert mine != other and mine == lease_tag("/elsewhere/cell-a.lease")  # the same on every host
    staged = [staging_path(target, (mine,)), staging_path(target, ("0" * 12, mine)), staging_path(target, (other,))]
    for path in staged:
        path.write_text("x")
    (staged[1].parent / ".folder.1-2.{}.tmp".format(mine)).mkdir()
    clear_staging(tmp_path, mine)
    assert [p.name for p in tmp_path.iterdir()] == [staged[2].name]


def test_a_fence_in_force_is_the_default_of_fenced_writers_within_its_block_only():
    fence = Fence()
    assert fence_in_force() is None
    with in_force(fence):
        assert fence_in_force() is fence
        other = Fence()
        assert fence_in_force(other) is other
    assert fence_in_force() is None


def test_a_fence_without_leases_writes_atomically_and_refuses_nothing(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "file.bin"
    Fence().write(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"

    def stolen(source, destination):  # the staging file gone before the rename: not a lease loss
        os.unlink(source)
        raise FileNotFoundError(source)

    monkeypatch.setattr(os, "replace", stolen)
    with pytest.raises(FileNotFoundError):
        Fence().write(target, b"new")
    with pytest.raises(LeaseLost):
        Fence(AlwaysLost()).write(target, b"new")
    assert target.read_bytes() == b"\x00\x01" and leftovers(target.parent) == []


class AlwaysLost:
    """A guard whose lease is gone."""

    tag = "0" * 12

    def held(self) -> bool:
        return False

    def describe_holder(self) -> str:
        return "pid 1 on host elsewhere"

    class lease:
        lock_file = "cell.lease"
