import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def official(reference_dir: Path, tmp_path: Path) -> Callable[[str, Path], Path]:
    """Copy the real annotation files of a dataset (a folder under reference/annotations) to ``target``."""

    def copy(name: str, target: Path) -> Path:
        shutil.copytree(reference_dir / "annotations" / name, target)
        return target

    return copy
