from pathlib import Path

import pytest

from datamodules.synthetic import SyntheticConfig, ensure_synthetic

TINY = SyntheticConfig(seed=3, clips_per_class=5, min_frames=16, max_frames=20, sizes=(64,))


@pytest.fixture(scope="session")
def tiny_synthetic(tmp_path_factory) -> Path:
    """A tiny generated dataset (3 / 1 / 1 clips per class) whose test list has an odd length (9)."""
    directory = ensure_synthetic(tmp_path_factory.mktemp("synthetic"), TINY, workers=2, progress=False)
    test_csv = directory / "synthetic-test.csv"
    lines = test_csv.read_text().splitlines()
    assert len(lines) == 10
    test_csv.write_text("\n".join(lines[:-1]) + "\n")
    return directory
