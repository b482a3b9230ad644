"""The README's commands work as written: every ``stbench`` line of its code blocks parses, and each names a
dataset and split (or a sweep or system file whose cells do) that resolves; run as a user would run them, the
README's ``prepare ucf101 --root R`` and ``run --dataset ucf11 --data-root R`` end without a traceback."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmark.cli.arguments import run_config
from benchmark.cli.main import build_parser
from benchmark.project import PROJECT_ROOT as ROOT
from datamodules.datasets import get_dataset

PLACEHOLDERS = {"FILE": "configs/synthetic_heads.yaml", "<run_id>": "944c406c2a75", "DIR": "videos"}


def readme_commands() -> list[str]:
    """The ``stbench`` lines of the README's code blocks, comments cut, optional ``[...]`` parts included."""
    commands, in_block = [], False
    for line in (ROOT / "README.md").read_text().splitlines():
        if line.startswith("```"):
            in_block = not in_block
        elif in_block and line.startswith("stbench "):
            command = re.sub(r"\s+#.*$", "", line)
            command = re.sub(r"\[([^\]]*)\]", r"\1", command).replace(" ...", "")
            for placeholder, value in PLACEHOLDERS.items():
                command = command.replace(placeholder, value)
            commands.append(command)
    return commands


def test_the_readme_shows_commands_that_name_datasets():
    commands = readme_commands()
    assert any(c.startswith("stbench prepare ucf101") for c in commands)
    assert any("--dataset ucf101" in c for c in commands) and any(c.startswith("stbench multitask") for c in commands)


@pytest.mark.parametrize("command", readme_commands())
def test_a_readme_command_parses_and_its_datasets_and_splits_resolve(command):
    args = build_parser().parse_args(shlex.split(command)[1:])
    if args.command == "run":
        config = run_config(args, args.head)
        assert get_dataset(config.dataset).check_split(config.split) == config.split
    elif args.command in ("prepare", "flow"):
        spec = get_dataset(args.dataset)
        spec.check_split(args.split or spec.default_split)
    elif args.command == "sweep":
        from benchmark.run.sweep import load_sweep

        assert load_sweep(ROOT / args.file).cells
    elif args.command in ("two-stream", "hybrid"):
        from benchmark.systems.system_file import load_hybrid_file, load_system_file

        load = load_system_file if args.command == "two-stream" else load_hybrid_file
        assert load(ROOT / args.file)
    elif args.command == "multitask":
        assert [(dataset, split) for dataset, split, _ in args.task] == [("ucf101", "1"), ("hmdb51", "1")]


def stbench(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m benchmark ARGV`` as a user runs it, its caches kept inside ``cwd``."""
    environment = {**os.environ, "XDG_CACHE_HOME": str(cwd / "cache"), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "benchmark", *argv], cwd=cwd, env=environment, capture_output=True, text=True, timeout=240
    )


@pytest.mark.slow
def test_readme_prepare_ucf101_reads_the_first_official_split(reference_dir, tmp_path):
    """The official files and no video: every video is reported missing (exit 2), the split is split 1."""
    root = tmp_path / "UCF-101"
    shutil.copytree(reference_dir / "annotations" / "ucf101" / "ucfTrainTestlist", root / "ucfTrainTestlist")
    done = stbench("prepare", "ucf101", "--root", str(root), "--no-progress", cwd=tmp_path)
    assert "Traceback" not in done.stderr and "'default'" not in done.stderr
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1] == "error: no usable video found"
    assert "ucf101 (split 1)" in done.stdout and "13320 distinct videos, 0 usable" in done.stdout


@pytest.mark.slow
def test_run_on_ucf11_without_a_split_is_one_line_naming_what_is_missing(tmp_path):
    root = tmp_path / "UCF11"
    root.mkdir()
    done = stbench("run", "--dataset", "ucf11", "--data-root", str(root), cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    expected = f"stbench run: no UCF11 clips (<class>/v_<prefix>_<GG>/v_<prefix>_<GG>_<CC>.avi|mpg) under {root}"
    assert done.stderr.strip().splitlines() == [expected]
    assert not (tmp_path / "results").exists() and not (tmp_path / "runs").exists()
