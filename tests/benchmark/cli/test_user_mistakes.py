"""Every user mistake ends in one line on stderr naming the problem and exit status 2, never a traceback,
and before anything is trained: the command line is run in-process (``benchmark.cli.main.main``) on a table of
mistakes — unknown datasets and splits, missing or wrong data roots, folders the results cannot be written to,
checkpoints that are folders, named pipes or devices, numbers no run can take, files that are not files."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from benchmark.cli.main import main
from benchmark.project import PROJECT_ROOT as ROOT

QUICK = [
    "--accelerator", "cpu", "--workers", "0", "--no-progress", "--epochs", "1", "--segments", "2", "--batch-size", "2",
    "--input-size", "32", "--limit-train-batches", "1", "--limit-eval-batches", "1",
]  # fmt: skip


@dataclass(frozen=True)
class Paths:
    """The places a mistake points at (``synthetic``: a tiny generated dataset, the one real input)."""

    tmp: Path
    synthetic: Path

    @property
    def results(self) -> list[str]:
        return ["--results-dir", str(self.tmp / "results"), "--work-dir", str(self.tmp / "runs")]

    @property
    def empty(self) -> Path:
        folder = self.tmp / "empty"
        folder.mkdir(exist_ok=True)
        return folder

    @property
    def file(self) -> Path:
        path = self.tmp / "a_file"
        path.write_text("not a folder\n")
        return path

    @property
    def fifo(self) -> Path:
        path = self.tmp / "pipe"
        if not path.exists():
            os.mkfifo(path)
        return path

    @property
    def missing(self) -> Path:
        return self.tmp / "missing"

    def run(self, *argv: str) -> list[str]:
        """A quick run on the tiny dataset, ``argv`` last (it overrides the quick settings)."""
        return ["run", "--data-root", str(self.synthetic), *self.results, *QUICK, *argv]

    def checkpoint(self, dataset: str) -> str:
        """A checkpoint holding a run configuration of ``dataset`` (and no weights: it is never loaded)."""
        import torch

        from benchmark.run.config import resolve_config

        path = self.tmp / f"{dataset}.ckpt"
        config = resolve_config(dataset, head="tsn").to_dict()
        torch.save({"hyper_parameters": {"config": config}, "state_dict": {}}, path)
        return str(path)

    def sweep_file(self, text: str) -> str:
        path = self.tmp / "sweep.yaml"
        path.write_text(text)
        return str(path)


Case = Callable[[Paths], list[str]]
MISTAKES: dict[str, tuple[Case, str]] = {
    # datasets, splits, data roots
    "unknown dataset": (lambda p: ["run", "--dataset", "nosuch"], "invalid choice: 'nosuch'"),
    "unknown split": (
        lambda p: ["run", "--dataset", "ucf101", "--split", "9", "--data-root", str(p.empty), *p.results],
        "unknown ucf101 split '9'; valid: 1, 2, 3",
    ),
    "ucf11 without a split uses logo1": (
        lambda p: ["run", "--dataset", "ucf11", "--data-root", str(p.empty), *p.results], "no UCF11 clips",
    ),
    "no data root": (lambda p: ["run", "--dataset", "ucf101", *p.results], "ucf101 needs --data-root"),
    "data root missing": (
        lambda p: ["run", "--dataset", "hmdb51", "--data-root", str(p.missing), *p.results], "missing: not found",
    ),
    "data root is a file": (
        lambda p: ["run", "--dataset", "ucf101", "--data-root", str(p.file), *p.results], "is a file, expected a folder",
    ),
    "annotation files missing": (
        lambda p: ["run", "--dataset", "ucf101", "--data-root", str(p.empty), *p.results], "classInd.txt not found",
    ),
    # output folders
    "results dir is a file": (
        lambda p: [*p.run(), "--results-dir", str(p.file)], "--results-dir {tmp}/a_file: is a file, expected a folder",
    ),
    "results dir under a file": (
        lambda p: [*p.run(), "--results-dir", str(p.file / "results")], "a parent of the path is a file, not a folder",
    ),
    "work dir is a file": (lambda p: [*p.run(), "--work-dir", str(p.file)], "--work-dir {tmp}/a_file: is a file"),
    # numbers no run can take
    "epochs -1": (lambda p: p.run("--epochs", "-1"), "argument --epochs: expected a whole number from 1 to 10,000"),
    "epochs 0": (lambda p: p.run("--epochs", "0"), "argument --epochs"),
    "epochs 10**30": (lambda p: p.run("--epochs", "1" + "0" * 30), "argument --epochs"),
    "batch size 0": (lambda p: p.run("--batch-size", "0"), "argument --batch-size"),
    "lr nan": (lambda p: p.run("--lr", "nan"), "argument --lr: expected a finite number above 0"),
    "lr -1": (lambda p: p.run("--lr", "-1"), "argument --lr"),
    "segments 0": (lambda p: p.run("--segments", "0"), "argument --segments"),
    "input size 0": (lambda p: p.run("--input-size", "0"), "argument --input-size"),
    "seed -1": (lambda p: p.run("--seed", "-1"), "argument --seed"),
    "weight decay -1": (lambda p: p.run("--weight-decay", "-1"), "argument --weight-decay"),
    "holdout fraction 1.5": (lambda p: p.run("--holdout-fraction", "1.5"), "argument --holdout-fraction"),
    "test clips 0": (lambda p: p.run("--test-clips", "0"), "argument --test-clips"),
    "flow length 0": (lambda p: p.run("--flow-length", "0"), "argument --flow-length"),
    "lr step -3": (lambda p: p.run("--lr-steps", "-3"), "argument --lr-steps"),
    "transform init std -1": (lambda p: p.run("--transform-init-std", "-1"), "argument --transform-init-std"),
    "workers -1": (lambda p: p.run("--workers", "-1"), "argument --workers"),
    "num nodes 0": (lambda p: p.run("--num-nodes", "0"), "argument --num-nodes"),
    "devices 0": (lambda p: p.run("--devices", "0"), "argument --devices"),
    "devices abc": (lambda p: p.run("--devices", "abc"), "argument --devices"),
    "limit train batches -1": (lambda p: p.run("--limit-train-batches", "-1"), "argument --limit-train-batches"),
    "data timeout -1": (lambda p: p.run("--data-timeout", "-1"), "argument --data-timeout"),
    "unknown accelerator": (lambda p: p.run("--accelerator", "nosuch"), "unknown accelerator 'nosuch'"),
    "unknown strategy": (lambda p: p.run("--strategy", "nosuch"), "unknown strategy 'nosuch'"),
    "input too small for the backbone": (lambda p: p.run("--backbone", "vgg16", "--input-size", "24"), "24"),
    # input files that are no files
    "weights file is a folder": (lambda p: p.run("--backbone-weights", str(p.tmp)), "is a folder, expected a file"),
    "weights file is a FIFO": (lambda p: p.run("--backbone-weights", str(p.fifo)), "is a named pipe (FIFO)"),
    "weights file missing": (lambda p: p.run("--backbone-weights", str(p.missing)), "missing: not found"),
    "flow root missing": (
        lambda p: p.run("--modality", "flow", "--flow-root", str(p.missing)), "--flow-root {tmp}/missing: not found"
    ),
    # stbench test / export-backbone
    "test a folder": (lambda p: ["test", str(p.tmp), *p.results], "cannot read the checkpoint: is a folder"),
    "test a FIFO": (lambda p: ["test", str(p.fifo), *p.results], "is a named pipe (FIFO), not a regular file"),
    "test /dev/zero": (lambda p: ["test", "/dev/zero", *p.results], "is a character device, not a regular file"),
    "test a missing file": (lambda p: ["test", str(p.missing), *p.results], "cannot read the checkpoint: not found"),
    "test --out is a folder": (
        lambda p: ["test", str(p.missing), "--out", str(p.tmp), *p.results], "--out {tmp}: is a folder",
    ),
    "test without the run's data root": (
        lambda p: ["test", p.checkpoint("ucf101"), *p.results], "ucf101 needs --data-root",
    ),
    "test without the run's annotation files": (
        lambda p: ["test", p.checkpoint("ucf101"), "--data-root", str(p.empty), *p.results], "classInd.txt not found",
    ),
    "test with a data root that is a file": (
        lambda p: ["test", p.checkpoint("synthetic"), "--data-root", str(p.file), *p.results], "is a file, expected a folder",
    ),
    "export a FIFO": (lambda p: ["export-backbone", str(p.fifo), "--out", str(p.tmp / "b.pt")], "named pipe"),
    "export --out under a file": (
        lambda p: ["export-backbone", str(p.missing), "--out", str(p.file / "b.pt")], "--out {tmp}/a_file/b.pt",
    ),
    # prepare, flow
    "prepare without a split (README)": (
        lambda p: ["prepare", "ucf101", "--root", str(p.empty), "--no-progress"], "classInd.txt not found",
    ),
    "prepare root missing": (lambda p: ["prepare", "hmdb51", "--root", str(p.missing)], "--root {tmp}/missing: not found"),
    "prepare unknown split": (
        lambda p: ["prepare", "ucf101", "--split", "7", "--root", str(p.empty)], "unknown ucf101 split '7'",
    ),
    "prepare workers 0": (lambda p: ["prepare", "ucf101", "--root", str(p.empty), "--workers", "0"], "--workers"),
    "flow root missing (flow)": (lambda p: ["flow", "ucf101", "--root", str(p.missing)], "--root {tmp}/missing"),
    "flow unknown split": (lambda p: ["flow", "ucf101", "--root", str(p.empty), "--split", "9"], "split '9'"),
    "flow workers 0": (lambda p: ["flow", "ucf101", "--root", str(p.empty), "--workers", "0"], "--workers"),
    # sweep, benchmark, systems
    "sweep file missing": (lambda p: ["sweep", str(p.missing), *p.results], "sweep file {tmp}/missing: not found"),
    "sweep file is a folder": (lambda p: ["sweep", str(p.tmp), *p.results], "is a folder, expected a file"),
    "sweep file is a FIFO": (lambda p: ["sweep", str(p.fifo), *p.results], "is a named pipe (FIFO)"),
    "sweep with an unknown split": (
        lambda p: ["sweep", p.sweep_file("grid:\n  dataset: [ucf101]\n  split: ['9']\n"), *p.results],
        "unknown ucf101 split '9'",
    ),
    "sweep into a results file": (
        lambda p: ["sweep", p.sweep_file("grid:\n  head: [tsn]\n"), "--results-dir", str(p.file)],
        "--results-dir {tmp}/a_file",
    ),
    "sweep on a root without annotation files": (
        lambda p: ["sweep", p.sweep_file("grid:\n  dataset: [ucf101]\n  head: [tsn]\n"), "--data-root", str(p.empty),
                   *p.results],  # fmt: skip
        "classInd.txt not found",
    ),
    "two-stream without optical flow": (
        lambda p: ["two-stream", str(ROOT / "configs" / "two_stream_synthetic.yaml"), "--data-root", str(p.synthetic),
                   *p.results],  # fmt: skip
        "no optical flow at",
    ),
    "sweep claim timeout 0": (lambda p: ["sweep", str(p.missing), "--claim-timeout", "0"], "--claim-timeout"),
    "sweep malformed slurm option": (
        lambda p: ["sweep", p.sweep_file("grid:\n  head: [tsn]\n"), "--launcher", "local", "--slurm-option", "abc"],
        "--slurm-option 'abc': expected KEY=VALUE",
    ),
    "benchmark sweep missing": (lambda p: ["benchmark", "--sweep", str(p.missing), *p.results], "not found"),
    "two-stream file missing": (lambda p: ["two-stream", str(p.missing), *p.results], "system file {tmp}/missing"),
    "hybrid file is a FIFO": (lambda p: ["hybrid", str(p.fifo), *p.results], "is a named pipe (FIFO)"),
    "multitask unknown dataset": (lambda p: ["multitask", "--task", "nosuch:1"], "unknown dataset 'nosuch'"),
    "multitask unknown split": (
        lambda p: ["multitask", "--task", f"ucf101:9:{p.empty}", "--task", "hmdb51"], "unknown ucf101 split '9'",
    ),
    "multitask task without a root": (
        lambda p: ["multitask", "--task", "ucf101", "--task", f"hmdb51::{p.empty}", *p.results], "ucf101 needs --task",
    ),
    # other commands
    "complexity segments 0": (
        lambda p: ["complexity", "--dataset", "ucf101", "--backbone", "smallcnn", "--segments", "0"], "--segments",
    ),
    "complexity out is a folder": (
        lambda p: ["complexity", "--dataset", "ucf101", "--backbone", "smallcnn", "--segments", "2", "--out", str(p.tmp)],
        "--out {tmp}: is a folder",
    ),
    "complexity input too small": (
        lambda p: ["complexity", "--dataset", "ucf101", "--backbone", "vgg16", "--segments", "2", "--input-size", "16",
                   "--out", str(p.tmp / "c.csv")],  # fmt: skip
        "--input-size 16 is too small for backbone vgg16",
    ),
    "report leaderboard missing": (
        lambda p: ["report", "--leaderboard", str(p.missing), "--out-dir", str(p.tmp / "r")], "--leaderboard {tmp}/missing",
    ),
    "report leaderboard FIFO": (
        lambda p: ["report", "--leaderboard", str(p.fifo), "--out-dir", str(p.tmp / "r")], "named pipe",
    ),
    "generate into a file": (lambda p: ["generate", "--data-root", str(p.file)], "--data-root {tmp}/a_file: is a file"),
    "regress with a work dir that is a file": (lambda p: ["regress", "--work-dir", str(p.file)], "--work-dir"),
}


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit status and stderr of ``stbench ARGV`` run in-process (a traceback would escape as an exception)."""
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code
    return status, capsys.readouterr().err


def assert_one_line_mistake(status: int, err: str, said: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert said in lines[0], lines[0]
    assert lines[0].startswith("stbench"), lines[0]


@pytest.mark.parametrize("name", list(MISTAKES))
def test_a_mistake_is_one_line_and_exit_status_2(name, tiny_synthetic, tmp_path, capsys):
    case, said = MISTAKES[name]
    paths = Paths(tmp_path, tiny_synthetic)
    status, err = run_cli(case(paths), capsys)
    assert_one_line_mistake(status, err, said.format(tmp=tmp_path))
    assert not (tmp_path / "runs").exists() and not (tmp_path / "results").exists(), "nothing trained"


def test_a_results_folder_that_cannot_be_written_stops_the_run_before_training(tiny_synthetic, tmp_path, capsys):
    """Root ignores mode bits, so where the tests run as root the folder is made immutable (chattr +i)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    immutable = os.geteuid() == 0 and subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode == 0
    if os.geteuid() == 0 and not immutable:
        pytest.skip("running as root without chattr: no folder here refuses writing")
    try:
        status, err = run_cli([*Paths(tmp_path, tiny_synthetic).run(), "--results-dir", str(locked)], capsys)
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(locked)], check=True)
        locked.chmod(0o755)
    assert_one_line_mistake(status, err, f"--results-dir {locked}: cannot be written: permission denied")
    assert not (tmp_path / "runs").exists()


def test_a_bad_data_timeout_in_the_environment_is_a_mistake_too(tiny_synthetic, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STBENCH_DATA_TIMEOUT_S", "soon")
    status, err = run_cli(Paths(tmp_path, tiny_synthetic).run(), capsys)
    assert_one_line_mistake(status, err, "STBENCH_DATA_TIMEOUT_S='soon' is not a number of seconds")


def test_a_harness_fault_keeps_its_traceback(monkeypatch, tmp_path):
    """Only a user's mistake is shortened: an error that is the harness's own still raises."""
    import benchmark.cli.commands as commands

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(commands, "check_data_root", broken)
    with pytest.raises(ZeroDivisionError):
        main(["generate", "--data-root", str(tmp_path)])
