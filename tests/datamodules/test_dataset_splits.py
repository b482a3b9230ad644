"""Every dataset names its splits and has a default one (its first official split), so that a run or
``stbench prepare`` that names no split works; a split the dataset does not have is refused before any
data is read, with the valid ones listed."""
import re

import pytest

from benchmark.run.config import resolve_config
from datamodules.dataset_spec import UnknownSplitError, describe_splits
from datamodules.datasets import DATASETS, get_dataset

DEFAULTS = {
    "synthetic": "default", "ucf101": "1", "hmdb51": "1", "jester": "default", "ssv2": "default",
    "kinetics400": "default", "ccv": "default", "ucf11": "logo1", "ucfsports": "random0",
}  # fmt: skip


def test_every_dataset_has_a_default_split_it_accepts():
    assert set(DEFAULTS) == set(DATASETS)
    for name, spec in DATASETS.items():
        assert spec.default_split == DEFAULTS[name], name
        assert spec.check_split(spec.default_split) == spec.default_split


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_a_config_without_a_split_gets_the_default_one(name):
    assert resolve_config(name).split == DEFAULTS[name]


@pytest.mark.parametrize(
    ("name", "split", "valid"),
    [
        ("ucf101", "default", "valid: 1, 2, 3"),
        ("hmdb51", "4", "valid: 1, 2, 3"),
        ("ucf11", "default", "valid: logo1 .. logo25, random<seed> (e.g. random0), lists"),
        ("ucf11", "logo26", "logo1 .. logo25"),
        ("ucfsports", "1", "valid: random<seed> (e.g. random0)"),
        ("jester", "1", "valid: default"),
    ],
)
def test_an_unknown_split_lists_the_valid_ones_before_any_data_is_read(name, split, valid):
    with pytest.raises(UnknownSplitError, match=re.escape(f"unknown {name} split '{split}'; ") + ".*" + re.escape(valid)):
        resolve_config(name, split=split)
    with pytest.raises(UnknownSplitError):  # no data root given: the split is checked first
        get_dataset(name).load(None, split, progress=False)


def test_seeded_and_numbered_splits_are_accepted_where_declared():
    assert get_dataset("ucf11").check_split("random7") == "random7"
    assert get_dataset("ucf11").check_split("logo25") == "logo25"
    assert get_dataset("ucfsports").check_split("random12") == "random12"
    with pytest.raises(UnknownSplitError):
        get_dataset("ucf101").check_split("random0")


def test_split_lists_are_shortened_only_for_long_runs():
    assert describe_splits(("1", "2", "3")) == "1, 2, 3"
    assert describe_splits(("a1", "a2", "a3", "a4", "b")) == "a1 .. a4, b"
