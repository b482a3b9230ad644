"""Shared files: locks, atomic writes and replacements, short hashes."""
import os

import pandas as pd
import pytest

from datamodules.storage import (
    build_directory_once,
    canonical_json,
    file_sha256,
    locked,
    replacing_directory,
    short_hash,
    temporary_siblings,
    upsert_csv,
    write_atomically,
)


def test_short_hash_is_a_prefix_of_the_sha256_of_canonical_json(tmp_path):
    assert canonical_json({"b": [1, 2], "a": "x"}) == '{"a":"x","b":[1,2]}'
    assert short_hash("") == "e3b0c44298fc"
    assert short_hash(b"abc", length=16) == "ba7816bf8f01cfea"
    assert short_hash("abc", length=None) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    (tmp_path / "f").write_bytes(b"abc")
    assert file_sha256(tmp_path / "f") == short_hash(b"abc", length=None)


def test_write_atomically_replaces_the_file_or_leaves_it(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "table.csv"
    write_atomically(path, "a,b\n1,é\n")
    assert path.read_bytes() == "a,b\n1,é\n".encode()
    write_atomically(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())

    def killed(fd):
        raise KeyboardInterrupt("killed before the rename")

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, b"new")
    assert path.read_bytes() == b"\x00\x01" and temporary_siblings(path) == []


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_the_lock_holder_removes_what_killed_writers_left(tmp_path):
    path = tmp_path / "index.json"
    stale_file = tmp_path / ".index.json.123-abcd.tmp"
    stale_folder = tmp_path / ".index.json.456-ef01.tmp"
    other = tmp_path / ".other.json.123-abcd.tmp"
    stale_file.write_text("half")
    (stale_folder / "x").mkdir(parents=True)
    other.write_text("not ours")
    with locked(path) as held:
        assert temporary_siblings(path) == []
        assert (tmp_path / "index.json.lease").exists()  # the lease file is there while the lock is held
        held.write(path, "{}")
    assert other.exists() and not (tmp_path / "index.json.lease").exists()
    assert path.read_text() == "{}" and temporary_siblings(path) == []


def test_replacing_directory_swaps_in_a_whole_folder_or_nothing(tmp_path):
    target = tmp_path / "dataset"
    (target / "old").mkdir(parents=True)  # an incomplete earlier attempt
    with replacing_directory(target) as building:
        assert building.parent == tmp_path and building.name.startswith(".dataset.") and building.name.endswith(".tmp")
        (building / "new").write_text("whole")
    assert sorted(p.name for p in target.iterdir()) == ["new"]
    with pytest.raises(RuntimeError, match="failed"):
        with replacing_directory(target) as building:
            (building / "part").write_text("half")
            raise RuntimeError("failed")
    assert sorted(p.name for p in target.iterdir()) == ["new"] and temporary_siblings(target) == []


def test_build_directory_once_builds_only_what_is_missing(tmp_path):
    built = []

    def build(folder):
        built.append(folder)
        (folder / "done").write_text("yes")

    def complete(folder):
        return (folder / "done").is_file()

    target = tmp_path / "cache" / "key"
    assert build_directory_once(target, complete, build) == target
    assert build_directory_once(target, complete, build) == target
    assert len(built) == 1 and (target / "done").read_text() == "yes"
    assert sorted(p.name for p in target.parent.iterdir()) == ["key"]  # the lock's lease file is gone


def test_upsert_csv_replaces_rows_by_key_and_arranges_the_table(tmp_path):
    path = tmp_path / "perf.csv"
    upsert_csv(path, [{"a": 1, "b": True, "v": 1.0}, {"a": 2, "b": True, "v": 2.0}], ["a", "b"])
    table = upsert_csv(path, [{"a": 1, "b": True, "v": 3.0}, {"a": 1, "b": False, "v": 4.0}], ["a", "b"])
    assert path.read_text() == "a,b,v\n2,True,2.0\n1,True,3.0\n1,False,4.0\n"
    assert list(table["v"]) == [2.0, 3.0, 4.0]
    arranged = upsert_csv(path, [{"v": 5.0, "a": 3, "b": True}], ["a", "b"], arrange=lambda t: t[["v", "a", "b"]])
    assert list(arranged.columns) == ["v", "a", "b"] and pd.read_csv(path)["v"].tolist() == [2.0, 3.0, 4.0, 5.0]
    with pytest.raises(ValueError, match=r"lack the key columns \['b'\]"):
        upsert_csv(path, [{"a": 1}], ["a", "b"])


def test_the_lock_is_a_lease_taken_over_from_a_dead_or_silent_holder(tmp_path):
    """A holder whose process is gone (this host) loses the lock at once; one on another host once
    its lease file went unrefreshed for the lease duration."""
    import subprocess
    import sys
    import time

    from filelock import SoftFileLease, Timeout

    from datamodules.storage import LOCK_SUFFIX, file_lock

    path = tmp_path / "leaderboard.csv"
    lease = tmp_path / f"leaderboard.csv{LOCK_SUFFIX}"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from datamodules.storage import file_lock\nimport sys, time\n"
         f"lock = file_lock({str(path)!r})\nlock.acquire()\nprint('held', flush=True)\ntime.sleep(600)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held" and lease.exists()
        assert f"pid={holder.pid}" in lease.read_text()
        with pytest.raises(Timeout):
            file_lock(path, timeout=0.3).acquire()
    finally:
        holder.kill()
        holder.wait()
    with file_lock(path, timeout=5):  # the holder's process is gone: taken at once
        assert f"pid={os.getpid()}" in lease.read_text()
    assert not lease.exists()
    # a holder on another host, silent (no heartbeat): taken after the lease duration, not before
    lease.write_text(f"filelock/2\npid=4242\nhost=another-node\nmode=lease\ntoken={'0' * 32}\nduration=1.5\n")
    contender = SoftFileLease(str(lease), lease_duration=1.5)
    started = time.monotonic()
    with pytest.raises(Timeout):
        contender.acquire(timeout=1.0)
    contender.acquire(timeout=5)
    assert 1.5 <= time.monotonic() - started < 5
    contender.release()
