"""A setting no run can take, in a sweep or system file or on the command line, ends the command with one
line on stderr naming the file, the setting and its valid values, exit status 2, before anything is trained."""
from __future__ import annotations

from pathlib import Path

import pytest

from benchmark.cli.main import main

BOMB = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"{level}: &{level} [{', '.join([f'*{previous}'] * 9)}]\n" for previous, level in zip("abcdefgh", "bcdefghi")
)
SWEEP_MISTAKES = [
    (BOMB + "grid: {head: [tsn]}\nsettings: {backbone_weights: *i}\n", 1, "YAML anchors and aliases"),
    ("grid: {head: [tsn]}\nsettings:\n  epochs: -1\n", 3, "epochs: -1 is out of range; valid: a whole number from 1 to"),
    ("grid: {head: [tsn]}\nsettings:\n  epochs: 1000000000000000000000000000000\n", 3, "is out of range"),
    ("grid: {head: [tsn]}\nsettings:\n  epochs: 0\n", 3, "epochs: 0 is out of range"),
    ("grid:\n  head: [tsn, nohead]\n", 2, "head: unknown head 'nohead'; valid: mlp, tsn,"),
    ("grid:\n  head: [tsn]\n  backbone: [resnet-18]\n", 3, "backbone: unknown backbone 'resnet-18'; valid: smallcnn,"),
    ("grid:\n  head: [trn_multiscale]\n  segments: [1]\n", 1, "segments: 1 is too few for head trn_multiscale"),
]  # fmt: skip


def how(tmp_path: Path) -> list[str]:
    return ["--results-dir", str(tmp_path / "results"), "--work-dir", str(tmp_path / "runs"), "--accelerator", "cpu",
            "--workers", "0", "--no-progress"]  # fmt: skip


def one_line_mistake(capsys, tmp_path: Path, argv: list[str], start: str, message: str) -> None:
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(start) and message in error, error
    assert not (tmp_path / "results").exists() and not (tmp_path / "runs").exists()  # nothing trained or written


@pytest.mark.parametrize("text, line, message", SWEEP_MISTAKES)
def test_a_sweep_file_mistake_is_one_line_and_exit_2(tmp_path, capsys, text, line, message):
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(text)
    one_line_mistake(capsys, tmp_path, ["sweep", str(sweep), *how(tmp_path)], f"stbench sweep: {sweep}:{line}: ", message)


def test_a_system_file_mistake_is_one_line_and_exit_2(tmp_path, capsys):
    system = tmp_path / "system.yaml"
    system.write_text(
        "system: two_stream\nshared: {holdout_fraction: 0.2}\nspatial: {modality: rgb, head: tsn}\n"
        "temporal: {modality: flow, head: tsn}\nfusion: [max]\n"
    )
    start = f"stbench two-stream: {system}:5: "
    one_line_mistake(capsys, tmp_path, ["two-stream", str(system), *how(tmp_path)], start, "unknown fusion method 'max'")


def test_a_command_line_run_a_head_cannot_take_is_one_line_and_exit_2(tmp_path, capsys):
    argv = ["run", "--head", "trn_multiscale", "--segments", "1", *how(tmp_path)]
    one_line_mistake(capsys, tmp_path, argv, "stbench run: segments: 1 is too few for head trn_multiscale", "valid: a")
