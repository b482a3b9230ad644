"""Labels are read in Unicode normal form C: "é" written as one code point (NFC) or as "e" and a combining
accent (NFD) is one label in every format that names labels; a labels file that lists both spellings is an
error naming the file and both lines, not two classes that print the same."""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from datamodules.adapters import ccv, hmdb51, jester, kinetics400, ssv2, ucf11, ucf101
from datamodules.annotations.jester_format import read_label_names, read_labelled_split
from datamodules.annotations.labels import label_name
from datamodules.records import AnnotationError

NFC = unicodedata.normalize("NFC", "Café dancing")
NFD = unicodedata.normalize("NFD", "Café dancing")
OTHER = "Running"


def test_the_two_spellings_differ_as_text_and_are_one_label():
    assert NFC != NFD and NFC.encode() != NFD.encode()
    assert label_name(NFD) == label_name(NFC) == NFC


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def collapse_error(path: Path, line: int, first_line: int) -> str:
    """The message of a labels file listing both spellings: the file, the line, the first line, both forms."""
    return rf"{path.name}:{line}: .*{first_line}.*two Unicode forms"


# -- Jester format (Jester, the built-in dataset) ------------------------------------------------------------
def test_jester_format_split_line_in_the_other_form_finds_its_class(tmp_path):
    names = read_label_names(write(tmp_path / "labels.csv", f"{OTHER}\n{NFC}\n"))
    split = write(tmp_path / "train.csv", f"1;{NFD}\n2;{OTHER}\n")
    records = read_labelled_split(split, {n: i for i, n in enumerate(names)}, lambda video: tmp_path / video)
    assert names == [OTHER, NFC]
    assert [r.label for r in records] == [1, 0]


def test_jester_format_labels_file_with_both_forms_is_an_error(tmp_path):
    labels = write(tmp_path / "labels.csv", f"{NFC}\n{OTHER}\n{NFD}\n")
    with pytest.raises(AnnotationError, match=collapse_error(labels, 3, 1)):
        read_label_names(labels)


def jester_root(root: Path, labels: list[str], train: str, validation: str) -> Path:
    write(root / jester.LABELS_FILE, "\n".join(labels) + "\n")
    write(root / jester.TRAIN_FILE, train)
    write(root / jester.VALIDATION_FILE, validation)
    return root


def test_jester_nfd_split_lines_against_nfc_labels(tmp_path):
    root = jester_root(tmp_path, [NFC, OTHER], f"1;{NFD}\n2;{OTHER}\n", f"3;{NFD}\n")
    splits = jester.load(root, "default")
    assert splits.class_names == [NFC, OTHER]
    assert [r.label for r in splits.train] == [0, 1] and [r.label for r in splits.test] == [0]


def test_jester_labels_with_both_forms_name_the_file_and_lines(tmp_path):
    root = jester_root(tmp_path, [NFD, OTHER, NFC], f"1;{OTHER}\n", f"2;{OTHER}\n")
    with pytest.raises(AnnotationError, match=collapse_error(root / jester.LABELS_FILE, 3, 1)):
        jester.load(root, "default")


# -- Something-Something v2 ----------------------------------------------------------------------------------
def ssv2_root(root: Path, labels: list[str], template: str) -> Path:
    write(root / ssv2.LABELS_FILE, "{\n" + ",\n".join(f"{json.dumps(n)}: \"{i}\"" for i, n in enumerate(labels)) + "\n}\n")
    for name, video in ((ssv2.TRAIN_FILE, "1"), (ssv2.VALIDATION_FILE, "2")):
        write(root / name, "[\n" + json.dumps({"id": video, "template": template}) + "\n]\n")
    return root


def test_ssv2_template_in_the_other_form_finds_its_class(tmp_path):
    nfd_template = unicodedata.normalize("NFD", "Pushing [something] into a café")
    root = ssv2_root(tmp_path, [OTHER, unicodedata.normalize("NFC", "Pushing something into a café")], nfd_template)
    splits = ssv2.load(root, "default")
    assert splits.class_names[1] == unicodedata.normalize("NFC", "Pushing something into a café")
    assert [r.label for r in splits.train] == [1] and [r.label for r in splits.test] == [1]


def test_ssv2_labels_with_both_forms_name_the_file_and_lines(tmp_path):
    root = ssv2_root(tmp_path, [NFC, OTHER, NFD], OTHER)
    with pytest.raises(AnnotationError, match=collapse_error(root / ssv2.LABELS_FILE, 4, 2)):
        ssv2.load(root, "default")


# -- Kinetics-400 ---------------------------------------------------------------------------------------------
HEADER = "label,youtube_id,time_start,time_end,split"


def kinetics_root(root: Path, val_labels: list[str], label_map: list[str] | None) -> Path:
    rows = [f'"{label}",id{i},0,10,val' for i, label in enumerate(val_labels)]
    write(root / kinetics400.VALIDATION_FILE, "\n".join([HEADER, *rows]) + "\n")
    if label_map is not None:
        write(root / kinetics400.LABEL_MAP_FILE, "\n".join(label_map) + "\n")
    return root


def test_kinetics_csv_label_in_the_other_form_finds_its_class(tmp_path):
    root = kinetics_root(tmp_path, [NFD, OTHER], [NFC, OTHER])
    splits = kinetics400.load(root, "default", require_train=False)
    assert splits.class_names == [NFC, OTHER] and [r.label for r in splits.test] == [0, 1]
    assert splits.test[0].path.parent.name == NFD  # the video folder as the CSV spells it


def test_kinetics_labels_read_from_the_csv_in_both_forms_are_one_class(tmp_path):
    root = kinetics_root(tmp_path, [NFC, NFD, OTHER], None)
    splits = kinetics400.load(root, "default", require_train=False)
    assert sorted(splits.class_names) == sorted([NFC, OTHER])
    assert [splits.class_names[r.label] for r in splits.test] == [NFC, NFC, OTHER]


def test_kinetics_label_map_with_both_forms_names_the_file_and_lines(tmp_path):
    root = kinetics_root(tmp_path, [OTHER], [NFC, OTHER, NFD])
    with pytest.raises(AnnotationError, match=collapse_error(root / kinetics400.LABEL_MAP_FILE, 3, 1)):
        kinetics400.load(root, "default", require_train=False)


# -- CCV ------------------------------------------------------------------------------------------------------
def ccv_root(root: Path, categories: list[str]) -> Path:
    write(root / ccv.CATEGORY_FILE, "\n".join(categories) + "\n")
    for part, video in (("train", "a"), ("test", "b")):
        write(root / f"{part}VidID.txt", f"{video}\n")
        write(root / f"{part}Label.txt", " ".join(["1"] + ["0"] * (len(categories) - 1)) + " \n")
    return root


def test_ccv_category_names_are_read_in_normal_form_c(tmp_path):
    assert ccv.load(ccv_root(tmp_path, [NFD, OTHER]), "default").class_names == [NFC, OTHER]


def test_ccv_categories_with_both_forms_name_the_file_and_lines(tmp_path):
    root = ccv_root(tmp_path, [NFC, OTHER, NFD])
    with pytest.raises(AnnotationError, match=collapse_error(root / ccv.CATEGORY_FILE, 3, 1)):
        ccv.load(root, "default")


# -- HMDB-51 --------------------------------------------------------------------------------------------------
def hmdb_root(root: Path, classes: list[str], class_list: list[str] | None) -> Path:
    for i, name in enumerate(classes):
        write(root / f"{name}_test_split1.txt", f"v{i}_a.avi 1 \nv{i}_b.avi 2 \n")
    if class_list is not None:
        write(root / hmdb51.CLASS_LIST_FILE, "\n".join(class_list))
    return root


def test_hmdb_class_list_in_the_other_form_matches_the_split_files(tmp_path):
    root = hmdb_root(tmp_path, [NFD, OTHER], [NFC, OTHER])
    splits = hmdb51.load(root, "1")
    assert splits.class_names == [NFC, OTHER]
    assert splits.train[0].path == root / NFD / "v0_a.avi"  # the folder as the split file's name spells it


def test_hmdb_split_files_of_one_class_in_both_forms_are_an_error(tmp_path):
    root = hmdb_root(tmp_path, [NFC, NFD, OTHER], None)
    with pytest.raises(AnnotationError, match="_test_split1.txt:0: .*another Unicode form"):
        hmdb51.load(root, "1")


# -- UCF-101 --------------------------------------------------------------------------------------------------
def ucf101_root(root: Path, classes: list[str], train_folder: str) -> Path:
    write(root / ucf101.CLASS_INDEX_FILE, "".join(f"{i} {name}\r\n" for i, name in enumerate(classes, 1)))
    write(root / "trainlist01.txt", f"{train_folder}/v_x_g01_c01.avi 1\r\n")
    write(root / "testlist01.txt", f"{train_folder}/v_x_g09_c01.avi\r\n")
    return root


def test_ucf101_list_folder_in_the_other_form_finds_its_class(tmp_path):
    name = unicodedata.normalize("NFC", "CaféDancing")
    root = ucf101_root(tmp_path, [name, OTHER], unicodedata.normalize("NFD", name))
    splits = ucf101.load(root, "1")
    assert splits.class_names == [name, OTHER] and [r.label for r in splits.train + splits.test] == [0, 0]


def test_ucf101_class_index_with_both_forms_names_the_file_and_lines(tmp_path):
    name = "CaféDancing"
    root = ucf101_root(tmp_path, [unicodedata.normalize("NFC", name), OTHER, unicodedata.normalize("NFD", name)], OTHER)
    with pytest.raises(AnnotationError, match=collapse_error(root / ucf101.CLASS_INDEX_FILE, 3, 1)):
        ucf101.load(root, "1")


# -- UCF11 ----------------------------------------------------------------------------------------------------
def ucf11_clip(root: Path, folder: str, group: int) -> None:
    write(root / folder / f"v_x_{group:02d}" / f"v_x_{group:02d}_01.avi", "")


def test_ucf11_list_in_the_other_form_finds_the_class_folder(tmp_path):
    name = unicodedata.normalize("NFC", "café")
    for folder in (name, "walking"):
        for group in (1, 19):
            ucf11_clip(tmp_path, folder, group)
    nfd = unicodedata.normalize("NFD", name)
    write(tmp_path / ucf11.TRAIN_LIST, f"{name}/v_x_01/v_x_01_01 0\n")
    write(tmp_path / ucf11.TEST_LIST, f"{nfd}/v_x_19/v_x_19_01 0\n")
    names, _ = ucf11.scan(tmp_path)
    assert names == [name, "walking"]
    test = ucf11.read_list(tmp_path / ucf11.TEST_LIST, tmp_path, names)
    assert [r.label for r in test] == [0]


def test_ucf11_class_folders_in_both_forms_are_an_error(tmp_path):
    for folder in (unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")):
        ucf11_clip(tmp_path, folder, 1)
    with pytest.raises(AnnotationError, match="another Unicode form"):
        ucf11.scan(tmp_path)
