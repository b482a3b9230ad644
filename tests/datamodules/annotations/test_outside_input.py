"""Annotation files from elsewhere: bytes that are not UTF-8, digits that are not ASCII, ids that
would name a path outside the dataset — each an AnnotationError at its line."""
from __future__ import annotations

import json

import pytest

from datamodules.adapters import ccv, jester, kinetics400, ssv2, ucf101
from datamodules.annotations.lines import iter_lines, whole_number
from datamodules.id_paths import UnsafeIdError, id_problem, join_inside
from datamodules.records import AnnotationError


def test_a_byte_that_is_not_utf8_is_an_error_at_its_line(tmp_path):
    path = tmp_path / "list.txt"
    path.write_bytes(b"\xef\xbb\xbfa 1\r\nb 2\r\nc \xff 3\r\n")
    with pytest.raises(AnnotationError, match=r"list.txt:3: not UTF-8 text \(byte 0xff\)"):
        list(iter_lines(path))
    path.write_bytes(b"\xef\xbb\xbfa 1\rb 2\n")  # a byte-order mark is dropped; CR alone ends a line
    assert list(iter_lines(path)) == [(1, "a 1"), (2, "b 2")]


@pytest.mark.parametrize("text, value", [("12", 12), ("007", 7), ("²", None), ("١٢", None), ("+1", None), ("9" * 19, None)])
def test_whole_numbers_are_ascii_digits(text, value):
    assert whole_number(text) == value


@pytest.mark.parametrize("identifier", ["", "..", "a/../../b", "/etc/passwd", "a//b", "..\\x", "a\x00b", "./a"])
def test_ids_that_could_leave_their_root_are_refused(tmp_path, identifier):
    assert id_problem(identifier) is not None
    with pytest.raises(UnsafeIdError, match="not a relative path inside"):
        join_inside(tmp_path, identifier)


def test_ids_with_subfolders_stay_inside(tmp_path):
    assert join_inside(tmp_path, "Walk/v_Walk_g01") == tmp_path / "Walk" / "v_Walk_g01"
    assert id_problem("Diving-Side/001") is None and id_problem("é 🎬") is None


def _write(folder, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    "load, files, where",
    [
        (ucf101.load, {"classInd.txt": "1 A\n", "trainlist01.txt": "A/.. 1\n", "testlist01.txt": ""},
         "trainlist01.txt:1"),
        (ucf101.load, {"classInd.txt": "1 ..\n", "trainlist01.txt": "../x.avi 1\n", "testlist01.txt": ""}, "trainlist01.txt:1"),
        (jester.load, {jester.LABELS_FILE: "A\n", jester.TRAIN_FILE: "../../etc;A\n", jester.VALIDATION_FILE: ""},
         f"{jester.TRAIN_FILE}:1"),
        (ssv2.load, {ssv2.LABELS_FILE: json.dumps({"A": "0"}), ssv2.TRAIN_FILE: json.dumps([{"id": "../x", "template": "A"}]),
                     ssv2.VALIDATION_FILE: "[]"}, f"{ssv2.TRAIN_FILE}:1"),
        (kinetics400.load, {kinetics400.TRAIN_FILE: "label,youtube_id,time_start,time_end,split\n..,x,0,10,train\n",
                            kinetics400.VALIDATION_FILE: "label,youtube_id,time_start,time_end,split\n"},
         f"{kinetics400.TRAIN_FILE}:2"),
        (ccv.load, {ccv.CATEGORY_FILE: "A\n", "trainVidID.txt": "../x\n", "trainLabel.txt": "1\n", "testVidID.txt": "",
                    "testLabel.txt": ""}, "trainVidID.txt:1"),
    ],
)  # fmt: skip
def test_every_adapter_refuses_an_id_outside_the_root(tmp_path, load, files, where):
    _write(tmp_path, files)
    with pytest.raises(AnnotationError, match="cannot name a path inside the dataset") as caught:
        load(tmp_path, load.__module__ == "datamodules.adapters.ucf101" and "1" or "default", tmp_path)
    assert where in str(caught.value)


def test_a_json_label_index_of_any_other_type_is_an_error(tmp_path):
    _write(tmp_path, {ssv2.LABELS_FILE: '{"A": 1e999}', ssv2.TRAIN_FILE: "[]", ssv2.VALIDATION_FILE: "[]"})
    with pytest.raises(AnnotationError, match="label index must be an integer, got inf"):
        ssv2.load(tmp_path, "default", tmp_path)
    _write(tmp_path, {ssv2.LABELS_FILE: "[" * 100_000})
    with pytest.raises(AnnotationError, match="nested too deeply|expected one of"):
        ssv2.load(tmp_path, "default", tmp_path)
