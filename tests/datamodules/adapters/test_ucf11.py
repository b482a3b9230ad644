import os
from pathlib import Path

import pytest

from datamodules.adapters import ucf11
from datamodules.records import AnnotationError

THIRD_PARTY = "third_party_split_peachman05"


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY))


@pytest.fixture(scope="module")
def tree(reference_dir, tmp_path_factory) -> Path:
    """An empty-file UCF11 tree holding every clip the third-party lists name (groups 01-25)."""
    root = tmp_path_factory.mktemp("ucf11")
    lists = reference_dir / "annotations" / "ucf11" / THIRD_PARTY
    for name in ("trainUCF11.txt", "testUCF11.txt"):
        text = (lists / name).read_text()
        (root / name).write_text(text)
        for line in filter(None, map(str.strip, text.splitlines())):
            relative = line.split()[0]
            touch(root / f"{relative}{'.mpg' if relative.startswith('walking') else '.avi'}")
    (root / "basketball" / "Annotation").mkdir()  # ViPER folders of the _updated_mpg release are ignored
    touch(root / "basketball" / "Annotation" / "v_shooting_01_01.xgtf")
    return root


def test_scan_finds_eleven_classes_and_every_clip(tree):
    names, found = ucf11.scan(tree)
    assert len(names) == 11 and names == sorted(names)
    assert len(found) == 1600 and {group for _, group in found} == set(range(1, 26))


def test_third_party_lists(tree):
    splits = ucf11.load(tree, "lists")
    assert (len(splits.train), len(splits.test)) == (1129, 471)
    assert splits.val is splits.test
    walking = [r for r in splits.train if r.path.parts[-3] == "walking"]
    assert walking and all(r.path.suffix == ".mpg" for r in walking)
    assert splits.train[0].source == f"{tree / 'trainUCF11.txt'}:1"


@pytest.mark.parametrize("group", [1, 19, 25])
def test_leave_one_group_out(tree, group):
    splits = ucf11.load(tree, f"logo{group}")
    assert {int(r.path.parent.name[-2:]) for r in splits.test} == {group}
    assert group not in {int(r.path.parent.name[-2:]) for r in splits.train}
    assert len(splits.train) + len(splits.test) == 1600
    assert {r.label for r in splits.test} == {r.label for r in splits.train} == set(range(11))


def test_random_split_is_a_seeded_stratified_seven_to_three(tree):
    first, again, other = (ucf11.load(tree, s) for s in ("random0", "random0", "random1"))
    assert [r.path for r in first.test] == [r.path for r in again.test]
    assert [r.path for r in first.test] != [r.path for r in other.test]
    assert not {r.path for r in first.train} & {r.path for r in first.test}
    assert len(first.train) + len(first.test) == 1600
    assert abs(len(first.test) / 1600 - 0.3) < 0.01
    assert {r.label for r in first.test} == {r.label for r in first.train} == set(range(11))


def test_bad_list_line_names_file_and_line(tree, tmp_path):
    (tmp_path / "trainUCF11.txt").write_text(
        "basketball/v_shooting_01/v_shooting_01_01 0\n\nbiking/v_biking_01/v_biking_01_01 0\n"
    )
    (tmp_path / "testUCF11.txt").write_text("")
    with pytest.raises(AnnotationError, match=r"trainUCF11.txt:3: label 0 does not match 'biking'"):
        ucf11.load(tree, "lists", annotations=tmp_path)


@pytest.mark.parametrize("split", ["logo0", "logo26", "random", "default"])
def test_unknown_split_lists_the_valid_ones(tree, split):
    with pytest.raises(ValueError, match="valid: logo1 .. logo25, random<seed>"):
        ucf11.load(tree, split)
