"""Fuzz: the eight dataset adapters and the Jester format on arbitrary annotation files.

Each input is a set of annotation files (and, for the datasets without lists, a folder tree) in a
fresh dataset root. The adapter returns its splits — every record's path inside the root — or
raises an error of its own naming the file (AnnotationError; for the folder scans also
FileNotFoundError naming the folder and SplitError for a tree too small to divide).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sklearn.model_selection  # noqa: F401  (imported once here, not timed inside the first input)
from hypothesis import given
from hypothesis import strategies as st

from datamodules.adapters import ccv, hmdb51, jester, kinetics400, ssv2, synthetic, ucf11, ucf101, ucfsports
from datamodules.annotations.jester_format import read_label_names, read_labelled_split
from datamodules.annotations.random_split import SplitError
from datamodules.dataset_spec import DatasetSplits
from datamodules.records import AnnotationError
from tests.fuzz.harness import FUZZ, check, inside, scratch
from tests.fuzz.inputs import LARGE, file_contents, huge_inputs, joined_lines, json_contents, names

WORD = st.text(alphabet="abcdefgh", min_size=1, max_size=6)
CLASSES = st.lists(WORD, min_size=1, max_size=5, unique=True)


def contents(structured: st.SearchStrategy[bytes], tokens: list[str]) -> st.SearchStrategy[bytes]:
    """Mostly the format's own shape (so that many inputs are read whole), else anything."""
    return st.one_of(structured, structured, file_contents(structured, tokens))


def lines(rows: list[str]) -> st.SearchStrategy[bytes]:
    return joined_lines(st.just(rows))


def run_adapter(name: str, files: dict[str, bytes], load: Callable[[Path], DatasetSplits], own=(AnnotationError,)) -> None:
    with scratch() as root:
        for relative, data in files.items():
            try:
                (root / relative).parent.mkdir(parents=True, exist_ok=True)
                (root / relative).write_bytes(data)
            except (OSError, ValueError):  # a name the file system refuses (too long, NUL) cannot be on disk
                continue
        splits = check(name, lambda: load(root), own, root)
        if splits is not None:
            for record in [*splits.train, *splits.val, *splits.test]:
                assert inside(record.path, root), f"{name}: {record.path} is outside the dataset root {root}"


@st.composite
def ucf101_files(draw) -> dict[str, bytes]:
    classes = draw(CLASSES)
    index = [f"{i + 1} {c}" for i, c in enumerate(classes)]
    label = st.one_of(st.integers(0, len(classes) + 1), st.none())
    train = [f"{c}/v_{c}_g0{k}_c01.avi {draw(label) or k + 1}" for k, c in enumerate(classes)]
    test = [f"{c}/v_{c}_g09_c0{k}.avi" for k, c in enumerate(classes)]
    tokens = [*classes, "1", "2", f"{classes[0]}/v_x.avi", "v_x.avi"]
    return {
        "classInd.txt": draw(contents(lines(index), tokens)),
        "trainlist01.txt": draw(contents(lines(train), tokens)),
        "testlist01.txt": draw(contents(lines(test), tokens)),
    }


@given(ucf101_files())
@FUZZ
def test_ucf101(files):
    run_adapter("ucf101", files, lambda root: ucf101.load(root, "1", root))


@st.composite
def hmdb51_files(draw) -> dict[str, bytes]:
    classes = draw(CLASSES)
    files = {}
    for c in classes:
        rows = [f"{c}_{k}.avi {draw(st.sampled_from('0122'))} " for k in range(draw(st.integers(0, 4)))]
        files[f"{c}_test_split1.txt"] = draw(contents(lines(rows), [f"{c}_1.avi", "0", "1", "2"]))
    if draw(st.booleans()):
        files["class_list.txt"] = draw(contents(lines(classes), classes))
    return files


@given(hmdb51_files())
@FUZZ
def test_hmdb51(files):
    run_adapter("hmdb51", files, lambda root: hmdb51.load(root, "1", root))


def jester_like(draw, labels_name: str, train_name: str, validation_name: str) -> dict[str, bytes]:
    classes = draw(CLASSES)
    rows = [f"{draw(st.integers(0, 30))};{draw(st.sampled_from(classes))}" for _ in range(draw(st.integers(0, 8)))]
    tokens = [*classes, "1", "12;", f"3;{classes[0]}"]
    return {
        labels_name: draw(contents(lines(classes), tokens)),
        train_name: draw(contents(lines(rows), tokens)),
        validation_name: draw(contents(lines(rows[::-1]), tokens)),
    }


@given(st.data())
@FUZZ
def test_jester(data):
    files = jester_like(data.draw, jester.LABELS_FILE, jester.TRAIN_FILE, jester.VALIDATION_FILE)
    run_adapter("jester", files, lambda root: jester.load(root, "default", root))


@given(st.data())
@FUZZ
def test_jester_format_and_the_synthetic_reader(data):
    from datamodules.synthetic.layout import LABELS_FILE, split_file

    files = jester_like(data.draw, LABELS_FILE, split_file("train"), split_file("validation"))
    files[split_file("test")] = files[split_file("validation")]

    def load(root: Path) -> DatasetSplits:
        names_ = read_label_names(root / LABELS_FILE)
        read_labelled_split(root / split_file("train"), {n: i for i, n in enumerate(names_)}, lambda v: root / v)
        return synthetic.load(root, "default")

    run_adapter("jester_format", files, load)


@st.composite
def ssv2_files(draw) -> dict[str, bytes]:
    templates = draw(st.lists(st.one_of(WORD, st.just("Pushing [something] from left to right")), min_size=1, max_size=4, unique=True))
    labels = {t.replace("[", "").replace("]", ""): str(i) for i, t in enumerate(templates)}
    entry = st.fixed_dictionaries(
        {"id": st.one_of(st.integers(0, 50).map(str), st.integers(), names()), "template": st.sampled_from(templates)}
    )
    return {
        ssv2.LABELS_FILE: draw(json_contents(st.just(labels))),
        ssv2.TRAIN_FILE: draw(json_contents(st.lists(entry, max_size=6))),
        ssv2.VALIDATION_FILE: draw(json_contents(st.lists(entry, max_size=6))),
    }


@given(ssv2_files())
@FUZZ
def test_ssv2(files):
    run_adapter("ssv2", files, lambda root: ssv2.load(root, "default", root))


@st.composite
def kinetics_files(draw) -> dict[str, bytes]:
    classes = draw(CLASSES)
    header = "label,youtube_id,time_start,time_end,split" + draw(st.sampled_from(["", ",is_cc"]))

    def rows(split: str) -> list[str]:
        extra = ",0" if header.endswith("is_cc") else ""
        return [header] + [
            f"{draw(st.sampled_from(classes))},{draw(WORD)},{s},{s + 10},{split}{extra}"
            for s in draw(st.lists(st.integers(0, 99), max_size=5))
        ]

    tokens = [*classes, header, "train", "val", "10", "3.5", '"a,b"']
    files = {
        kinetics400.TRAIN_FILE: draw(contents(lines(rows("train")), tokens)),
        kinetics400.VALIDATION_FILE: draw(contents(lines(rows("val")), tokens)),
    }
    if draw(st.booleans()):
        files[kinetics400.LABEL_MAP_FILE] = draw(contents(lines(classes), classes))
    return files


@given(kinetics_files())
@FUZZ
def test_kinetics400(files):
    run_adapter("kinetics400", files, lambda root: kinetics400.load(root, "default", root))


@st.composite
def ccv_files(draw) -> dict[str, bytes]:
    classes = draw(CLASSES)
    files = {ccv.CATEGORY_FILE: draw(contents(lines(classes), classes))}
    for part in ("train", "test"):
        ids = draw(st.lists(WORD, max_size=5, unique=True))
        rows = [" ".join(draw(st.sampled_from("01")) for _ in classes) + " " for _ in ids]
        files[f"{part}VidID.txt"] = draw(contents(lines(ids), ids or ["x"]))
        files[f"{part}Label.txt"] = draw(contents(lines(rows), ["0", "1", "0 1"]))
    return files


@given(ccv_files())
@FUZZ
def test_ccv(files):
    run_adapter("ccv", files, lambda root: ccv.load(root, "default", root))


@st.composite
def ucf11_tree(draw) -> tuple[dict[str, bytes], str]:
    classes = draw(CLASSES)
    files: dict[str, bytes] = {}
    for c in classes:
        for group in draw(st.lists(st.integers(1, 3), max_size=3, unique=True)):
            for clip in range(draw(st.integers(1, 3))):
                files[f"{c}/v_{c}_{group:02d}/v_{c}_{group:02d}_{clip:02d}.{draw(st.sampled_from(['avi', 'mpg']))}"] = b""
    clips = [name.rsplit(".", 1)[0] for name in files]
    rows = [f"{clip} {classes.index(clip.split('/')[0]) if draw(st.booleans()) else 0}" for clip in clips]
    tokens = [*clips, *classes, "0", "1"] if clips else classes
    files[ucf11.TRAIN_LIST] = draw(contents(lines(rows[::2]), tokens))
    files[ucf11.TEST_LIST] = draw(contents(lines(rows[1::2]), tokens))
    return files, draw(st.sampled_from(["lists", "logo1", "logo2", "random0", "random7"]))


@given(ucf11_tree())
@FUZZ
def test_ucf11(tree):
    files, split = tree
    run_adapter("ucf11", files, lambda root: ucf11.load(root, split, root), (AnnotationError, FileNotFoundError, SplitError))


@st.composite
def ucfsports_tree(draw) -> dict[str, bytes]:
    folders = draw(st.lists(st.one_of(st.sampled_from(list(ucfsports.FOLDER_CLASSES)), names("abcXYZ-_.")), max_size=8))
    files: dict[str, bytes] = {}
    for folder in folders:
        for sequence in draw(st.lists(st.sampled_from(["001", "002", "003", "x", "١"]), max_size=3, unique=True)):
            for video in range(draw(st.integers(0, 2))):
                files[f"{folder}/{sequence}/v{video}.avi"] = b""
    return files


@given(ucfsports_tree(), st.integers(0, 3))
@FUZZ
def test_ucfsports(files, seed):
    files = {path: data for path, data in files.items() if "/" not in path.split("/", 1)[0] and path[0] not in "./"}
    run_adapter(
        "ucfsports", files, lambda root: ucfsports.load(root, f"random{seed}"), (AnnotationError, FileNotFoundError, SplitError)
    )


# Each line-based format once per very large input, every file of the dataset holding it.
HUGE: dict[str, tuple[tuple[str, ...], Callable[[Path], DatasetSplits], str]] = {
    "ucf101": (("classInd.txt", "trainlist01.txt", "testlist01.txt"), lambda r: ucf101.load(r, "1", r), "1 A"),
    "hmdb51": (("a_test_split1.txt",), lambda r: hmdb51.load(r, "1", r), "a.avi 1 "),
    "jester": ((jester.LABELS_FILE, jester.TRAIN_FILE, jester.VALIDATION_FILE), lambda r: jester.load(r, "default", r), "1;A"),
    "ssv2": ((ssv2.LABELS_FILE, ssv2.TRAIN_FILE, ssv2.VALIDATION_FILE), lambda r: ssv2.load(r, "default", r), '{"a": "0", '),
    "kinetics400": (
        (kinetics400.TRAIN_FILE, kinetics400.VALIDATION_FILE), lambda r: kinetics400.load(r, "default", r), "a,b,1,2,val"
    ),
    "ccv": (
        (ccv.CATEGORY_FILE, "trainVidID.txt", "trainLabel.txt", "testVidID.txt", "testLabel.txt"),
        lambda r: ccv.load(r, "default", r), "0 1",
    ),
    "ucf11": ((ucf11.TRAIN_LIST, ucf11.TEST_LIST, "a/v_a_01/v_a_01_01.avi"), lambda r: ucf11.load(r, "lists", r), "a/v_a_01/x 0"),
}  # fmt: skip


@pytest.mark.skipif(not LARGE, reason="very large inputs: STBENCH_FUZZ_PROFILE=long only")
@pytest.mark.parametrize("kind", list(huge_inputs("x")))
@pytest.mark.parametrize("name", list(HUGE))
def test_very_large_inputs(name, kind):
    files, load, line = HUGE[name]
    data = huge_inputs(line)[kind]
    run_adapter(name, {file: data for file in files}, load, (AnnotationError, FileNotFoundError))
