import json
from pathlib import Path

import pytest

from datamodules.adapters import ssv2
from datamodules.datasets import DATASETS, get_dataset
from datamodules.records import AnnotationError

LABELS = "something-something-v2-labels.json"
TRAIN = "something-something-v2-train.json"
VALIDATION = "something-something-v2-validation.json"


@pytest.fixture(scope="module")
def real_root(reference_dir, tmp_path_factory) -> Path:
    """The real labels and validation files, plus a small generated train.json (the real one is not stored)."""
    import shutil

    root = tmp_path_factory.mktemp("ssv2")
    folder = root / "labels"
    shutil.copytree(reference_dir / "annotations" / "ssv2", folder)
    templates = list(json.loads((folder / LABELS).read_text()))[:3]
    entries = [
        {"id": str(900000 + i), "template": t.replace("something", "[something]", 1)} for i, t in enumerate(templates)
    ]
    (folder / TRAIN).write_text("[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n")
    return root


def test_official_validation_is_the_test_set(real_root):
    splits = ssv2.load(real_root, "default")
    assert len(splits.class_names) == 174
    assert len(splits.test) == 24777 and splits.val is splits.test
    assert {r.label for r in splits.test} == set(range(174))
    assert [r.label for r in splits.train] == [0, 1, 2]


def test_brackets_are_stripped_to_find_the_label(real_root):
    splits = ssv2.load(real_root, "default")
    first = splits.test[0]  # {"id":"74225", "template":"Spinning [something] that quickly stops spinning", ...}
    assert splits.class_names[first.label] == "Spinning something that quickly stops spinning"
    assert first.path == real_root / "74225.webm"
    assert first.source == f"{real_root / 'labels' / VALIDATION}:2"
    assert ssv2.strip_brackets("Putting [something] on [something]") == "Putting something on something"


def test_missing_train_file_is_an_error_unless_only_evaluating(real_root, tmp_path):
    import shutil

    for name in (LABELS, VALIDATION):
        shutil.copy(real_root / "labels" / name, tmp_path / name)
    with pytest.raises(FileNotFoundError, match="training on Something-Something v2 needs it"):
        ssv2.load(tmp_path, "default")
    splits = ssv2.load(tmp_path, "default", require_train=False)
    assert splits.train == [] and len(splits.test) == 24777


def test_flip_map_swaps_left_and_right_classes(real_root):
    names = ssv2.load(real_root, "default").class_names
    mapping = ssv2.flip_label_map(names)
    index = names.index
    swapped = {(names[i], names[j]) for i, j in enumerate(mapping) if i != j}
    assert ("Pushing something from left to right", "Pushing something from right to left") in swapped
    assert (
        "Turning the camera right while filming something",
        "Turning the camera left while filming something",
    ) in swapped
    assert all(mapping[mapping[i]] == i for i in range(len(names)))  # a mirror of a mirror is the clip itself
    for i, j in enumerate(mapping):
        if i != j:
            assert ssv2.mirrored(names[i]) == names[j]
    # "pulling it right out" names no side: no partner, so it keeps its label, as do side-free classes
    unpaired = ssv2.unpaired_side_classes(names)
    assert unpaired == ["Plugging something into something but pulling it right out as you remove your hand"]
    assert mapping[index(unpaired[0])] == index(unpaired[0])
    assert mapping[index("Putting something upright on the table")] == index("Putting something upright on the table")


def test_loaded_splits_carry_the_flip_map_of_the_labels_file_read(real_root):
    spec = get_dataset("ssv2")
    assert spec.flip and spec.flip_label_map is None  # the map depends on the labels file read
    splits = spec.load(real_root, "default", False)
    assert splits.flip_label_map == ssv2.flip_label_map(splits.class_names)
    assert sum(i != j for i, j in enumerate(splits.flip_label_map)) == 6  # three swapped pairs


def write(folder: Path, validation: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LABELS).write_text('{\n "Moving something up":"0",\n "Moving something down":"1"\n}\n')
    (folder / VALIDATION).write_text(validation)
    return folder


@pytest.mark.parametrize(
    "validation, line, reason",
    [
        (
            '[\n{"id":"1","template":"Moving [something] up"},\n{"id":"2","template":"Moving [something] sideways"}\n]',
            3,
            "unknown label",
        ),
        (
            '[\n{"id":"1","template":"Moving [something] up"},\n\n{"id":"1","template":"Moving [something] down"}\n]',
            4,
            "duplicate video id",
        ),
        (
            '[\n{"id":"1","template":"Moving [something] up"},\n{"id":"2"}\n]',
            3,
            "expected an object with 'id' and 'template'",
        ),
        ('[\n{"id":"1","template":"Moving [something] up"},\n{"id":"2",\n]', 4, "invalid JSON"),
        (
            '[\r\n{"id":"1","template":"Moving [something] up"}\r\n{"id":"2","template":"Moving [something] up"}\r\n]',
            3,
            "expected one of ',]'",
        ),
    ],
)
def test_bad_entries_name_file_and_line(tmp_path, validation, line, reason):
    folder = write(tmp_path, validation)
    with pytest.raises(AnnotationError, match=reason) as caught:
        ssv2.load(tmp_path, "default", require_train=False)
    assert str(caught.value).startswith(f"{folder / VALIDATION}:{line}:")


def test_crlf_and_minified_files_are_read(tmp_path):
    write(
        tmp_path, '[{"id":"1","template":"Moving [something] down"},\r\n{"id":"2","template":"Moving [something] up"}]'
    )
    splits = ssv2.load(tmp_path, "default", require_train=False)
    assert [(r.video_id, r.label) for r in splits.test] == [("1", 1), ("2", 0)]
    assert splits.test[1].source.endswith(f"{VALIDATION}:2")


def test_label_indices_must_be_0_to_k_minus_1(tmp_path):
    (tmp_path / LABELS).write_text('{\n "Moving something up":"0",\n "Moving something down":"2"\n}\n')
    with pytest.raises(AnnotationError, match=r"labels.json:3: label index 2 out of range"):
        ssv2.read_labels(tmp_path / LABELS)
