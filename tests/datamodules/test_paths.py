"""What a path is, in words: a folder, a named pipe or a device where a file belongs is named as such (never
"not found"), and a folder that cannot be written is found by trying, as permission bits do not tell."""
import os
import subprocess
from pathlib import Path

import pytest

from datamodules.paths import NOT_FOUND, folder_write_problem, path_problem


@pytest.fixture
def fifo(tmp_path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


def test_a_file_that_is_not_a_regular_file_says_what_it_is(tmp_path, fifo):
    assert path_problem(tmp_path, "file") == "is a folder, expected a file"
    assert path_problem(fifo, "file") == "is a named pipe (FIFO), not a regular file"
    assert path_problem("/dev/zero", "file") == "is a character device, not a regular file"
    assert path_problem(tmp_path / "missing", "file") == NOT_FOUND
    (tmp_path / "file").write_text("x")
    assert path_problem(tmp_path / "file", "file") is None


def test_a_folder_that_is_not_a_folder_says_what_it_is(tmp_path, fifo):
    (tmp_path / "file").write_text("x")
    assert path_problem(tmp_path / "file", "folder") == "is a file, expected a folder"
    assert path_problem(fifo, "folder") == "is a named pipe (FIFO), expected a folder"
    assert path_problem("/dev/zero", "folder") == "is a character device, expected a folder"


def test_a_writable_folder_or_one_that_can_be_made_passes_and_nothing_is_left(tmp_path):
    assert folder_write_problem(tmp_path) is None
    assert folder_write_problem(tmp_path / "new" / "deeper") is None
    assert sorted(tmp_path.iterdir()) == []  # the check made no folder and left no file


def test_a_folder_that_cannot_be_written_says_why(tmp_path, fifo):
    (tmp_path / "file").write_text("x")
    assert folder_write_problem(tmp_path / "file") == "is a file, expected a folder"
    assert folder_write_problem(tmp_path / "file" / "results") == "a parent of the path is a file, not a folder"
    assert folder_write_problem(fifo) == "is a named pipe (FIFO), expected a folder"


def test_a_read_only_folder_is_found_by_trying(tmp_path):
    """Mode 0o555 stops an ordinary user; root is stopped only by an immutable folder (chattr +i)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    if os.geteuid() == 0:
        immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
        if not immutable:
            folder.chmod(0o755)
            pytest.skip("running as root without chattr: no folder here refuses writing")
    try:
        assert folder_write_problem(folder) == "cannot be written: permission denied"
        below = folder_write_problem(folder / "results")
        assert below == f"cannot be written (it would be created in {folder}): permission denied"
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)
