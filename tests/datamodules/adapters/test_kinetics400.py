from pathlib import Path

import pytest

from datamodules.adapters import kinetics400
from datamodules.records import AnnotationError

HEADER = "label,youtube_id,time_start,time_end,split"


def test_official_validation_is_the_test_set(official, tmp_path):
    root = tmp_path / "kinetics400"
    official("kinetics400", root / "annotations")
    with pytest.raises(FileNotFoundError, match="training on Kinetics-400 needs it"):
        kinetics400.load(root, "default")
    splits = kinetics400.load(root, "default", require_train=False)
    assert len(splits.class_names) == 400 and len(splits.test) == 19906
    assert splits.val is splits.test and splits.train == []
    assert {r.label for r in splits.test} == set(range(400))
    first = splits.test[0]  # abseiling,0wR5jVB-WPk,417,427,val,0 (the 2017 release's is_cc column)
    assert first.path == root / "val" / "abseiling" / "0wR5jVB-WPk_000417_000427.mp4"
    assert first.source == f"{root / 'annotations' / 'kinetics-400_val.csv'}:2"


def write(folder: Path, train: str | None, validation: str, label_map: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if train is not None:
        (folder / "kinetics-400_train.csv").write_text(train)
    (folder / "kinetics-400_val.csv").write_text(validation)
    if label_map is not None:
        (folder / "label_map.txt").write_text(label_map)
    return folder


def test_train_csv_quoted_labels_and_sorted_order_without_label_map(tmp_path):
    write(
        tmp_path,
        f'{HEADER}\nzumba,aaa,0,10,train\n"air drumming",bbb,5.0,15.0,train\n',
        f"{HEADER},is_cc\r\nzumba,ccc,1,11,val,0\r\n",
    )
    splits = kinetics400.load(tmp_path, "default")
    assert splits.class_names == ["air drumming", "zumba"]
    assert [(r.video_id, r.label) for r in splits.train] == [("aaa_000000_000010", 1), ("bbb_000005_000015", 0)]
    assert splits.train[1].path == tmp_path / "train" / "air drumming" / "bbb_000005_000015.mp4"
    assert splits.test[0].path == tmp_path / "val" / "zumba" / "ccc_000001_000011.mp4"


def test_label_map_gives_the_class_order(tmp_path):
    write(tmp_path, None, f"{HEADER}\nabseiling,a,0,10,val\nzumba,b,0,10,val\n", label_map="zumba\nabseiling\n")
    splits = kinetics400.load(tmp_path, "default", require_train=False)
    assert splits.class_names == ["zumba", "abseiling"] and [r.label for r in splits.test] == [1, 0]


@pytest.mark.parametrize(
    "validation, line, reason",
    [
        (f"{HEADER},is_cc\nzumba,a,0,10,val\n", 2, "expected 6 columns"),
        ("youtube_id,time_start,time_end,split\na,0,10,val\n", 1, "expected a header"),
        (f"{HEADER}\nzumba,a,0,10,val\nzumba,a,0,10,val\n", 3, "duplicate clip"),
        (f"{HEADER}\nzumba,a,x,10,val\n", 2, "time_start must be a number"),
        (f"{HEADER}\nzumba,a,0,10,train\n", 2, "split column is 'train'"),
        (f"{HEADER}\n\nzumba,a,0,10,val\nsalsa,b,0,10,val\n", 4, "unknown label 'salsa'"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, validation, line, reason):
    folder = write(tmp_path, None, validation, label_map="zumba\n")
    with pytest.raises(AnnotationError, match=reason) as caught:
        kinetics400.load(tmp_path, "default", require_train=False)
    assert str(caught.value).startswith(f"{folder / 'kinetics-400_val.csv'}:{line}:")
