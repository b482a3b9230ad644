from pathlib import Path

import pytest

from tests.reference import require_reference


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return require_reference()
