import shutil
from pathlib import Path

import pytest

from datamodules.datasets import get_dataset
from datamodules.flow.extract import extract_dataset_flow


@pytest.fixture(scope="session")
def tiny_synthetic_flow(tiny_synthetic, tmp_path_factory) -> Path:
    """A copy of the tiny generated dataset with its optical flow in ``<copy>/flow`` (the default place)."""
    copy = tmp_path_factory.mktemp("with_flow") / tiny_synthetic.name
    shutil.copytree(tiny_synthetic, copy)
    splits = get_dataset("synthetic").load(copy, "default", False)
    records = {r.video_id: r for r in [*splits.train, *splits.val, *splits.test]}
    summary = extract_dataset_flow(list(records.values()), copy / "flow", "dis", 20.0, (64, 64), workers=1, progress=False)
    assert not summary.failed
    return copy
