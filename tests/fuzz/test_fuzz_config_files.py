"""Fuzz: sweep files and system files (two-stream and hybrid, one or several datasets).

Each input is a YAML file: YAML dumped from random mappings over the real setting names and values
of every type YAML has, the shipped configs with random edits, YAML's own hazards (tags, aliases,
deep nesting) and arbitrary bytes. The loader returns its cells (or systems) or raises
ConfigFileError naming the file and line.
"""
from __future__ import annotations

import datetime
from dataclasses import fields
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from benchmark.run.config import RunConfig
from benchmark.run.config_file import ConfigFileError
from benchmark.run.sweep import load_sweep
from benchmark.systems.hybrid_settings import HybridSettings
from benchmark.systems.system_file import load_hybrid_file, load_system_file
from tests.fuzz.harness import FUZZ, check, scratch
from tests.fuzz.inputs import LARGE, json_values, mutated, names

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {path.name: path.read_bytes() for path in sorted((ROOT / "configs").glob("*.yaml"))}
RUN_FIELDS = [f.name for f in fields(RunConfig)]
HYBRID_FIELDS = [f.name for f in fields(HybridSettings)] + ["preset"]
GOOD_VALUES = {
    "dataset": ["synthetic", "ucf101", "jester"], "head": ["tsn", "lstm", "all"], "backbone": ["smallcnn"],
    "segments": [1, 3, 8], "seed": [0, 1], "modality": ["rgb", "flow", "rgb+flow"], "lr_steps": [[], [3, 5]],
    "split": ["default", "1", 2], "epochs": [1, 4], "lr": [0.001, 1], "backbone_weights": ["w.pth", {"smallcnn": "w.pth"}],
    "preset": ["paper", "synthetic"], "lambda_grid": [[1e-4]], "lstm_hidden": [[8, 4]],
}  # fmt: skip
HAZARDS = [
    b"!!python/object/apply:os.system ['true']\n", b"a: !!binary aGVsbG8=\n", b"a: !!set {x, y}\n",
    b"a: &a [1, 2]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\ngrid: {seed: *c}\n",
    b"grid: {seed: 2021-01-01}\n", b"grid: {head: [tsn]}\n---\ngrid: {head: [lstm]}\n", b"\xef\xbb\xbfgrid: {}\n",
    b"? [a, b]\n: 1\n", b"grid: {seed: .inf}\n", b"%YAML 1.1\n---\n", b"grid:\n\t- tab\n",
]  # fmt: skip

setting_values = st.one_of(
    json_values, st.dates(), st.datetimes(), st.binary(max_size=8), st.lists(st.integers(-3, 10), max_size=4),
    st.sampled_from([value for values in GOOD_VALUES.values() for value in values]),
)  # fmt: skip


def settings_of(names_: list[str]) -> st.SearchStrategy[dict]:
    name = st.one_of(st.sampled_from(names_), names())
    good = st.sampled_from(names_).flatmap(lambda n: st.tuples(st.just(n), st.sampled_from(GOOD_VALUES.get(n, [None]))))
    pairs = st.lists(st.one_of(good, good, st.tuples(name, setting_values)), max_size=5)
    return pairs.map(dict)


def grid_of(names_: list[str]) -> st.SearchStrategy[dict]:
    axis = st.one_of(st.lists(setting_values, max_size=3), setting_values)
    good = st.sampled_from(list(GOOD_VALUES)).flatmap(lambda n: st.tuples(st.just(n), st.just(GOOD_VALUES[n])))
    return st.lists(st.one_of(good, good, st.tuples(st.one_of(st.sampled_from(names_), names()), axis)), max_size=4).map(dict)


def dumped(document: object) -> bytes:
    try:
        return yaml.safe_dump(document, allow_unicode=True).encode("utf-8")
    except yaml.YAMLError:  # e.g. a datetime with a timezone PyYAML cannot represent
        return b"{}"


def yaml_files(structured: st.SearchStrategy[dict]) -> st.SearchStrategy[bytes]:
    shipped = st.sampled_from(list(SHIPPED.values()))
    deep = st.integers(1, 50_000 if LARGE else 5_000).map(lambda n: b"grid: " + b"[" * n + b"]" * n)
    anything = st.one_of(
        st.binary(max_size=400), mutated(shipped), mutated(structured.map(dumped)), st.sampled_from(HAZARDS), deep,
        json_values.map(dumped),
    )  # fmt: skip
    return st.one_of(structured.map(dumped), structured.map(dumped), shipped, anything)


sweeps = st.fixed_dictionaries(
    {"grid": grid_of(RUN_FIELDS)},
    optional={"name": st.one_of(st.sampled_from(["ok", "a/b", "..", ""]), names()), "settings": settings_of(RUN_FIELDS)},
)


def load(loader, path: Path):
    def parse():
        result = loader(path)
        for system in result if isinstance(result, list) else []:
            if system.system == "hybrid":
                HybridSettings.from_dict(system.settings)  # checked at load: never fails here
        return result

    return parse


@given(yaml_files(sweeps))
@FUZZ
def test_sweep_files(data):
    with scratch() as folder:
        (folder / "sweep.yaml").write_bytes(data)
        sweep = check("sweep_file", load(load_sweep, folder / "sweep.yaml"), (ConfigFileError,), folder)
        if sweep is not None:
            assert all(isinstance(cell, RunConfig) and len(cell.run_id) == 12 for cell in sweep.cells)
            assert "/" not in sweep.name and sweep.name not in ("", ".", "..")


stream = settings_of([n for n in RUN_FIELDS if n != "split"])
splits = st.one_of(st.lists(st.sampled_from(["default", "1", 2, "x"]), max_size=3), setting_values)
systems = st.fixed_dictionaries(
    {"system": st.sampled_from(["two_stream", "hybrid", "other"]), "spatial": stream, "temporal": stream},
    optional={
        "name": names(), "shared": stream, "fusion": st.lists(names(), max_size=3),
        "splits": st.one_of(splits, st.dictionaries(st.sampled_from(["synthetic", "ucf101", "x"]), splits, max_size=2)),
        "settings": settings_of(HYBRID_FIELDS),
    },
)  # fmt: skip


@given(yaml_files(systems))
@FUZZ
def test_system_files(data):
    with scratch() as folder:
        (folder / "system.yaml").write_bytes(data)
        check("system_file", load(load_system_file, folder / "system.yaml"), (ConfigFileError,), folder)
        check("hybrid_system_file", load(load_hybrid_file, folder / "system.yaml"), (ConfigFileError,), folder)


def test_yaml_dates_are_not_run_settings(tmp_path):
    """A YAML timestamp where a number belongs is refused at its line, not passed on to a run."""
    (tmp_path / "s.yaml").write_text("grid:\n  head: [tsn]\n  seed: [%s]\n" % datetime.date(2021, 1, 1))
    try:
        load_sweep(tmp_path / "s.yaml")
    except ConfigFileError as error:
        assert error.line_number == 3 and "seed" in error.reason
    else:
        raise AssertionError("a date was accepted as a seed")
