"""Sweep and system files: every fault is a ConfigFileError at the line that has it."""
from __future__ import annotations

import time

import pytest

from benchmark.run.config import resolve_config
from benchmark.run.config_file import MAX_BYTES, ConfigFileError
from benchmark.run.sweep import load_sweep
from benchmark.systems.system_file import load_hybrid_file, load_system_file


def write(tmp_path, text: str | bytes):
    path = tmp_path / "file.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    "text, line, reason",
    [
        ("grid:\n  head: [tsn]\n  segments: [2, x]\n", 3, "segments: expected a whole number, found 'x'"),
        ("grid:\n  head: [tsn]\nsettings:\n  lr: .nan\n", 4, "lr: expected a finite number"),
        ("grid:\n  head: [tsn]\nsettings:\n  modality: sound\n", 4, "modality: expected one of rgb, flow, rgb+flow"),
        ("grid:\n  dataset: [nowhere]\n", 2, "unknown dataset 'nowhere'"),
        ("grid:\n  head: [tsn]\nsettings:\n  lr_steps: [[1, 2]]\n", 4, "lr_steps: in the list"),
        ("name: ../report\ngrid: {head: [tsn]}\n", 1, "'name' must be a plain file name"),
        ("grid: {head: [tsn]\n", 2, "invalid YAML"),
        ("grid:\n  seed: !!python/object/apply:os.system [true]\n", 2, "invalid YAML"),
        ("- a\n- b\n", 1, "expected a mapping of settings, found a list"),
        ("grid:\n  seed: [" + ", ".join(map(str, range(101))) + "]\n  segments: [" + ", ".join(map(str, range(1, 101))) + "]\n",
         1, "the grid has 10,100 cells"),
        ("grid: " + "[" * 100 + "]" * 100 + "\n", 1, "nested deeper than 64 levels"),
    ],
)  # fmt: skip
def test_a_faulty_sweep_names_its_line(tmp_path, text, line, reason):
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError) as caught:
        load_sweep(path)
    assert caught.value.line_number == line and reason in caught.value.reason
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_bytes_that_are_not_utf8_and_oversized_files_are_refused(tmp_path):
    with pytest.raises(ConfigFileError, match=r":3: not UTF-8 text"):
        load_sweep(write(tmp_path, b"grid:\n  head: [tsn]\n  \xff: 1\n"))
    with pytest.raises(ConfigFileError, match="at most"):
        load_sweep(write(tmp_path, b"#" * (MAX_BYTES + 1)))


def test_a_dataset_in_settings_and_a_numeric_split_are_read_as_meant(tmp_path):
    sweep = load_sweep(write(tmp_path, "grid: {head: [tsn]}\nsettings: {dataset: ucf101, split: 2}\n"))
    assert sweep.cells == (resolve_config("ucf101", head="tsn", split="2"),)


def test_system_files_check_their_streams_and_hybrid_settings(tmp_path):
    base = "system: hybrid\nspatial: {modality: rgb}\ntemporal: {modality: flow}\n"
    (system,) = load_hybrid_file(write(tmp_path, base + "settings: {preset: synthetic}\n"))
    assert system.pairs[0].temporal.modality == "flow"
    with pytest.raises(ConfigFileError, match=r":4: hybrid setting lstm_epochs: expected a whole number"):
        load_hybrid_file(write(tmp_path, base + "settings: {lstm_epochs: many}\n"))
    with pytest.raises(ConfigFileError, match=r":2: spatial must be|:2: 'spatial' must be a mapping"):
        load_system_file(write(tmp_path, "system: two_stream\nspatial: [rgb]\ntemporal: {}\n"))
    with pytest.raises(ConfigFileError, match=r":3: unknown run settings \['colour'\]"):
        load_system_file(write(tmp_path, "system: two_stream\nspatial: {}\ntemporal: {colour: red}\n"))
    with pytest.raises(ConfigFileError, match="missing \\['temporal'\\]"):
        load_system_file(write(tmp_path, "system: two_stream\nspatial: {}\n"))


BOMB = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"{level}: &{level} [{', '.join([f'*{previous}'] * 9)}]\n" for previous, level in zip("abcdefgh", "bcdefghi")
)


@pytest.mark.parametrize("where", ["settings: {backbone_weights: *i}", "grid: {head: [tsn], seed: *i}", "name: *i"])
def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path, where):
    """Nine levels of nine aliases (387 million strings once expanded): refused while parsing, in bounded time."""
    path = write(tmp_path, BOMB + where + "\n" + ("grid: {head: [tsn]}\n" if "grid" not in where else ""))
    started = time.monotonic()
    with pytest.raises(ConfigFileError, match=r":1: invalid YAML: YAML anchors and aliases .* are not allowed"):
        load_sweep(path)
    assert time.monotonic() - started < 5


def test_anchors_and_aliases_are_refused_in_sweep_and_system_files_at_their_line(tmp_path):
    with pytest.raises(ConfigFileError, match=r":3: invalid YAML: YAML anchors and aliases"):
        load_sweep(write(tmp_path, "grid:\n  head: [tsn]\n  seed: &s [0, 1]\n"))
    system = "system: two_stream\nshared: &s {holdout_fraction: 0.2}\nspatial: *s\ntemporal: {modality: flow}\n"
    with pytest.raises(ConfigFileError, match=r":2: invalid YAML: YAML anchors and aliases"):
        load_system_file(write(tmp_path, system))


def test_system_files_name_their_system_and_fusion_methods_from_the_tables(tmp_path):
    base = "spatial: {modality: rgb, head: tsn}\ntemporal: {modality: flow, head: tsn}\nshared: {holdout_fraction: 0.2}\n"
    with pytest.raises(ConfigFileError, match=r":1: 'system' must name the system: one of two_stream, hybrid, found 'three"):
        load_system_file(write(tmp_path, "system: three_stream\n" + base))
    with pytest.raises(ConfigFileError, match=r":5: unknown fusion method 'max'; valid: average, weighted_average"):
        load_system_file(write(tmp_path, "system: two_stream\n" + base + "fusion: [average, max]\n"))
    with pytest.raises(ConfigFileError, match=r":4: lstm_epochs: 1000000000000000000000000000000 is out of range"):
        load_hybrid_file(write(tmp_path, "system: hybrid\n" + base.replace("shared: {holdout_fraction: 0.2}\n", "")
                               + "settings: {lstm_epochs: 1000000000000000000000000000000}\n"))  # fmt: skip
