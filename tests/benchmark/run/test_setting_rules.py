"""Every run setting has a range or a table of names, checked when a sweep file is read: a value
outside it stops the file at its line, naming the setting and what is valid, before any cell runs."""
from __future__ import annotations

import json
import time
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from benchmark.run.config import RunConfig, resolve_config
from benchmark.run.config_file import ConfigFileError
from benchmark.run.setting_rules import HEAD_RULE, RULES, OneOf, Range, SettingError, check_cell, shown
from benchmark.run.sweep import load_sweep

ROOT = Path(__file__).resolve().parents[3]


def out_of_range(rule: Range) -> list[float]:
    """Values just outside each end of ``rule``, and a huge one."""
    step = 1 if rule.whole else 1e-9 * max(1.0, abs(rule.high))
    low = rule.low if rule.above_low else rule.low - step
    high = rule.high if rule.below_high else rule.high + step
    return [low, high, 10**30 if rule.whole else 1e300]


RANGE_CASES = [
    (name, value) for name, rule in RULES.items() if isinstance(rule, Range) for value in out_of_range(rule)
]
NAME_CASES = [name for name, rule in RULES.items() if isinstance(rule, OneOf) and name != "test_crops"]


def sweep_file(tmp_path: Path, name: str, value: object) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(f"grid:\n  head: [tsn]\nsettings:\n  {yaml.safe_dump({name: value}, width=1000)}")
    return path


def test_every_run_setting_has_a_rule():
    assert set(RULES) | {"head"} == {f.name for f in fields(RunConfig)}


@pytest.mark.parametrize("name, value", RANGE_CASES)
def test_a_number_out_of_its_range_stops_the_file_at_its_line(tmp_path, name, value):
    path = sweep_file(tmp_path, name, value)
    with pytest.raises(ConfigFileError) as caught:
        load_sweep(path)
    assert caught.value.line_number == 4 and caught.value.reason.startswith(f"{name}: ")
    assert "out of range; valid: a " in caught.value.reason and "\n" not in str(caught.value)


@pytest.mark.parametrize("name", [*NAME_CASES, "head"])
def test_a_name_outside_its_table_stops_the_file_listing_the_valid_names(tmp_path, name):
    path = tmp_path / "sweep.yaml"
    path.write_text("grid:\n  head: [tsn, no_such_thing]\n" if name == "head" else "")
    if name != "head":
        sweep_file(tmp_path, name, "no_such_thing")
    with pytest.raises(ConfigFileError) as caught:
        load_sweep(path)
    reason = caught.value.reason
    assert reason.startswith(f"{name}: ") and "'no_such_thing'" in reason
    rule = RULES.get(name) or HEAD_RULE
    assert all(str(valid) in reason for valid in rule.valid())


@pytest.mark.parametrize(
    "settings, message",
    [
        ("epochs: -1", "epochs: -1 is out of range; valid: a whole number from 1 to 10,000"),
        ("epochs: 1000000000000000000000000000000", "epochs: 1000000000000000000000000000000 is out of range"),
        ("epochs: 0", "epochs: 0 is out of range"),
        ("epochs: true", "epochs: expected a whole number"),
        ("lr: 0", "lr: 0 is out of range; valid: a number in (0, 10]"),
        ("test_crops: 2", "test_crops: unknown number of test crops 2; valid: 1, 3, 10"),
        ("test_crops: 3.0", "test_crops: expected a whole number"),
        ("lr_steps: [0]", "lr_steps: item 1: 0 is out of range"),
        ("lr_steps: [3, -1]", "lr_steps: item 2: -1 is out of range"),
        ("backbone_weights: {resnet-18: w.pth}", "backbone_weights: unknown backbone 'resnet-18'; valid: smallcnn"),
        ("backbone_weights: ''", "backbone_weights: expected text of 1 to"),
        ("modality: rgb+flow", "cell 1: modality: rgb+flow with head tsn"),
        ("seed: " + "9" * 5000, "invalid YAML"),
    ],
)
def test_listed_mistakes_are_refused_before_any_cell(tmp_path, settings, message):
    path = tmp_path / "sweep.yaml"
    path.write_text(f"grid:\n  head: [tsn]\nsettings:\n  {settings}\n")
    with pytest.raises(ConfigFileError) as caught:
        load_sweep(path)
    assert message in caught.value.reason


def test_a_head_gets_the_segments_it_needs_and_deep_fusion_its_input(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("grid:\n  head: [tsn, trn_multiscale]\n  segments: [1]\n")
    with pytest.raises(ConfigFileError, match="cell 2: segments: 1 is too few for head trn_multiscale; valid: a whole"):
        load_sweep(path)
    path.write_text("grid:\n  head: [deep_fusion]\n")
    with pytest.raises(ConfigFileError, match="cell 1: modality: rgb with head deep_fusion"):
        load_sweep(path)
    path.write_text("grid:\n  head: [deep_fusion]\nsettings: {modality: rgb+flow, test_clips: 2}\n")
    with pytest.raises(ConfigFileError, match="one test view only"):
        load_sweep(path)


def test_a_run_config_checks_itself_wherever_it_is_made():
    with pytest.raises(SettingError, match="epochs: -1 is out of range"):
        resolve_config("synthetic", epochs=-1)
    with pytest.raises(SettingError, match="unknown backbone 'resnet-18'"):
        RunConfig(backbone="resnet-18")
    with pytest.raises(SettingError, match="too few for head trn_multiscale"):
        check_cell(RunConfig(head="trn_multiscale", segments=1))
    assert RunConfig(head="two_stream").head == "two_stream"  # systems name their rows' configs after themselves
    with pytest.raises(SettingError, match="unknown head 'two_stream'"):
        check_cell(RunConfig(head="two_stream"))


def test_shipped_sweeps_and_committed_run_configs_keep_to_the_rules():
    for path in sorted((ROOT / "configs").glob("*.yaml")):
        if "system:" not in path.read_text():
            assert load_sweep(path).cells
    committed = sorted((ROOT / "results").rglob("config.json"))
    assert committed
    for path in committed:
        data = json.loads(path.read_text())
        assert RunConfig.from_dict(data).to_dict() == data, path


def test_a_value_is_shown_in_bounded_time_whatever_its_size():
    """A list of 9 references nested 9 deep stands for 387 million items; its repr would never end."""
    value: list = ["lol"] * 9
    for _ in range(8):
        value = [value] * 9
    started = time.monotonic()
    text = shown(value)
    assert time.monotonic() - started < 1 and len(text) < 200
