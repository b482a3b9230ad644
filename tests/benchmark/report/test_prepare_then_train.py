"""The frame counts `stbench prepare` caches are what a later run's datamodule reads."""
from backbones.base import TORCHVISION_NORM
from benchmark.report.prepare import prepare_dataset
from datamodules.datamodule import VideoDataModule


def _datamodule(root):
    return VideoDataModule("ucf101", 2, 4, 32, TORCHVISION_NORM, root=root, split="1", num_workers=0, progress=False)


def test_a_prepared_root_gives_records_with_frame_counts(ucf101_tiny_root, tmp_path, monkeypatch):
    monkeypatch.setattr("datamodules.decoding.index.default_cache_dir", lambda: tmp_path / "index")
    before = _datamodule(ucf101_tiny_root)
    before.setup()
    assert all(record.num_frames is None for record in before.splits.test)
    report = prepare_dataset("ucf101", ucf101_tiny_root, "1", workers=1, progress=False, report_path=tmp_path / "r.md")
    assert report.exit_code == 0
    after = _datamodule(ucf101_tiny_root)
    after.setup()
    assert {record.num_frames for record in [*after.splits.train, *after.splits.test]} == {8}
