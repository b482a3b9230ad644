"""A checkpoint path that is a folder, a named pipe or a device is refused saying what it is, before anything
opens it (a named pipe would block the read, /dev/zero would never end it)."""
import os
import re

import pytest

from benchmark.run.checkpoint import CheckpointError, read_checkpoint


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda tmp: tmp, "is a folder, expected a file"),
        (lambda tmp: (os.mkfifo(tmp / "pipe"), tmp / "pipe")[1], "is a named pipe (FIFO), not a regular file"),
        (lambda tmp: "/dev/zero", "is a character device, not a regular file"),
        (lambda tmp: tmp / "missing.ckpt", "not found"),
    ],
    ids=["folder", "fifo", "dev-zero", "missing"],
)
@pytest.mark.timeout(20)
def test_a_path_that_is_no_checkpoint_file_is_named_for_what_it_is(tmp_path, make, said):
    path = make(tmp_path)
    with pytest.raises(CheckpointError, match=re.escape(f"{path}: cannot read the checkpoint: {said}")):
        read_checkpoint(path)
