"""Every annotation reader accepts a UTF-8 byte-order mark: each dataset's official files, copied with a
BOM at the start of every one, load to the same classes and records as without."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from datamodules.adapters import ccv, hmdb51, jester, kinetics400, ssv2, ucf101
from datamodules.dataset_spec import DatasetSplits

BOM = b"\xef\xbb\xbf"

# dataset → (reference folder, where it goes under the root, how it is loaded)
READERS: dict[str, tuple[str, str, Callable[[Path], DatasetSplits]]] = {
    "jester": ("jester", "annotations", lambda root: jester.load(root, "default")),
    "ucf101": ("ucf101/ucfTrainTestlist", "ucfTrainTestlist", lambda root: ucf101.load(root, "1")),
    "hmdb51": ("hmdb51", "annotations", lambda root: hmdb51.load(root, "2")),
    "ccv": ("ccv", ".", lambda root: ccv.load(root, "default")),
    "kinetics400": ("kinetics400", "annotations", lambda root: kinetics400.load(root, "default", require_train=False)),
    "ssv2": ("ssv2", "annotations", lambda root: ssv2.load(root, "default", require_train=False)),
}


LINES = 2000  # of each line-based file: a BOM is at the start, the rest only costs time


def copy(source: Path, target: Path, bom: bool) -> None:
    for path in source.rglob("*"):
        if path.is_file():
            out = target / path.relative_to(source)
            out.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            if path.suffix != ".json":
                data = b"".join(data.splitlines(keepends=True)[:LINES])
            out.write_bytes((BOM if bom else b"") + data)


def summary(splits: DatasetSplits, root: Path) -> tuple:
    records = [*splits.train, *splits.test]
    return (
        splits.class_names,
        [(r.video_id, r.label, r.labels, r.path.relative_to(root), r.source.rsplit(":", 1)[1]) for r in records],
    )


@pytest.mark.parametrize(
    "dataset", [pytest.param(d, marks=pytest.mark.slow) if d == "ssv2" else d for d in READERS]  # ssv2: 3 s of JSON
)
def test_a_byte_order_mark_changes_nothing(reference_dir, tmp_path, dataset):
    folder, place, load = READERS[dataset]
    roots = {bom: tmp_path / ("bom" if bom else "plain") for bom in (False, True)}
    for bom, root in roots.items():
        copy(reference_dir / "annotations" / folder, root / place, bom)
    plain, marked = (summary(load(roots[bom]), roots[bom]) for bom in (False, True))
    assert marked == plain
    assert not any(name.startswith("\ufeff") for name in marked[0])


def test_ucf11_lists_with_a_byte_order_mark(reference_dir, tmp_path):
    from datamodules.adapters import ucf11

    lists = reference_dir / "annotations" / "ucf11" / "third_party_split_peachman05"
    for name in ("trainUCF11.txt", "testUCF11.txt"):
        text = (lists / name).read_text()
        (tmp_path / name).write_bytes(BOM + text.encode())
        for line in filter(None, map(str.strip, text.splitlines())):
            clip = tmp_path / f"{line.split()[0]}.avi"
            clip.parent.mkdir(parents=True, exist_ok=True)
            clip.touch()
    splits = ucf11.load(tmp_path, "lists")
    assert len(splits.train) + len(splits.test) == 1600
    assert splits.train[0].source.endswith("trainUCF11.txt:1")
