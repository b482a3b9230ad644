"""A checkpoint never runs code: a payload is refused by ``stbench test`` and by a resume, naming the
file and what it needs, and leaves no side effect; ``--trust-checkpoint`` is the explicit way out."""
from __future__ import annotations

import os
import pathlib
import pickle
from pathlib import Path

import pytest
import torch

from benchmark.cli.main import main
from benchmark.run.checkpoint import (
    CheckpointError,
    UntrustedCheckpointError,
    checkpoint_config,
    pickle_globals,
    read_checkpoint,
)
from benchmark.run.config import resolve_config
from benchmark.run.options import RunOptions


class Payload:
    """Unpickling this runs ``touch <marker>``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def torch_payload(path: Path, marker: Path) -> Path:
    """A zip checkpoint (torch.save) shaped like ours, with the payload in its hyper-parameters."""
    torch.save({"state_dict": {"w": torch.zeros(2)}, "hyper_parameters": {"config": Payload(marker)}}, path)
    return path


def bare_payload(path: Path, marker: Path) -> Path:
    """A bare pickle (no zip container) whose reduce runs the payload."""
    path.write_bytes(pickle.dumps({"epoch": 1, "payload": Payload(marker)}, protocol=2))
    return path


@pytest.mark.parametrize("write", [torch_payload, bare_payload])
def test_a_payload_is_refused_naming_the_file_and_the_type(tmp_path, write):
    marker = tmp_path / "marker"
    checkpoint = write(tmp_path / "payload.ckpt", marker)
    with pytest.raises(UntrustedCheckpointError) as refused:
        read_checkpoint(checkpoint)
    message = str(refused.value)
    assert str(checkpoint) in message and "posix.system" in message and "--trust-checkpoint" in message
    assert refused.value.offending == ("posix.system",)
    assert not marker.exists()


def test_the_globals_of_a_pickle_are_read_without_running_it(tmp_path):
    marker = tmp_path / "marker"
    data = bare_payload(tmp_path / "p.pkl", marker).read_bytes()
    assert pickle_globals(data) == ["posix.system"]
    assert pickle_globals(pickle.dumps({"a": [1, 2]}, protocol=4)) == []
    assert not marker.exists()


def test_stbench_test_refuses_a_payload_and_exits_with_the_refusal(tmp_path, capsys):
    marker = tmp_path / "marker"
    checkpoint = torch_payload(tmp_path / "last.ckpt", marker)
    assert main(["test", str(checkpoint), "--accelerator", "cpu", "--workers", "0", "--no-progress"]) == 2
    error = capsys.readouterr().err
    assert "stbench test:" in error and "refused" in error and str(checkpoint) in error
    assert "posix.system" in error and "--trust-checkpoint" in error
    assert not marker.exists()


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_resume_refuses_a_payload_and_exits_with_the_refusal(tiny_synthetic, tmp_path, capsys, command):
    marker = tmp_path / "marker"
    config = resolve_config("synthetic", head="tsn", epochs=1, batch_size=4, segments=2)
    options = RunOptions(work_dir=str(tmp_path / "runs"))
    checkpoint_dir = options.checkpoint_dir(config.run_id)
    checkpoint_dir.mkdir(parents=True)
    torch_payload(checkpoint_dir / "last.ckpt", marker)
    how = [
        "--data-root", str(tiny_synthetic), "--work-dir", str(tmp_path / "runs"), "--results-dir",
        str(tmp_path / "results"), "--accelerator", "cpu", "--workers", "0", "--no-progress",
    ]  # fmt: skip
    if command == "run":
        argv = ["run", "--head", "tsn", "--epochs", "1", "--batch-size", "4", "--segments", "2", *how]
    else:
        sweep = tmp_path / "sweep.yaml"
        sweep.write_text(
            "name: one\ngrid: {head: [tsn], segments: [2]}\nsettings: {epochs: 1, batch_size: 4}\n", encoding="utf-8"
        )
        argv = ["sweep", str(sweep), *how]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "refused" in error and str(checkpoint_dir / "last.ckpt") in error and "posix.system" in error
    assert not marker.exists()
    assert not (tmp_path / "results" / "leaderboard.csv").exists()  # nothing was trained


def test_a_type_outside_the_allow_list_loads_only_when_trusted(tmp_path):
    checkpoint = tmp_path / "other.ckpt"
    torch.save({"hyper_parameters": {"config": {"head": "tsn"}}, "where": pathlib.PurePosixPath("a/b")}, checkpoint)
    with pytest.raises(UntrustedCheckpointError, match="pathlib.PurePosixPath"):
        read_checkpoint(checkpoint)
    content = read_checkpoint(checkpoint, trust=True)
    assert content["where"] == pathlib.PurePosixPath("a/b")
    assert checkpoint_config(content, checkpoint) == {"head": "tsn"}


def test_what_is_not_a_checkpoint_of_a_run_is_a_checkpoint_error(tmp_path):
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"\x00\x01 not a checkpoint " * 10)
    with pytest.raises(CheckpointError, match="garbage.ckpt"):
        read_checkpoint(garbage)
    with pytest.raises(CheckpointError, match="not found"):
        read_checkpoint(tmp_path / "absent.ckpt")
    weights = tmp_path / "weights.pth"
    torch.save({"w": torch.zeros(1)}, weights)
    with pytest.raises(CheckpointError, match="no run configuration"):
        checkpoint_config(read_checkpoint(weights), weights)
    listed = tmp_path / "list.ckpt"
    torch.save([1, 2], listed)
    with pytest.raises(CheckpointError, match="holds a list"):
        read_checkpoint(listed)
