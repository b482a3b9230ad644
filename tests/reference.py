"""Where the real reference annotation files and videos are (../shared/reference or STBENCH_REFERENCE)."""
import os
from pathlib import Path

import pytest

REFERENCE = Path(os.environ.get("STBENCH_REFERENCE", Path(__file__).resolve().parents[2] / "shared" / "reference"))


def require_reference() -> Path:
    """The reference folder; under CI its absence is a failure, elsewhere the test is skipped."""
    if not (REFERENCE / "videos").is_dir():
        message = f"reference data not found at {REFERENCE} (set STBENCH_REFERENCE)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return REFERENCE
