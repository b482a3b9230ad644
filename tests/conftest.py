"""Suite-wide fixtures, and the time limits that keep a hang from stalling the suite.

Every test has a time limit (pytest-timeout): ``timeout`` in pyproject.toml for ordinary tests,
:data:`SLOW_TEST_LIMIT_S` for tests marked ``slow``, or a test's own ``@pytest.mark.timeout(seconds)``.
A test past its limit ends the run at once with the stacks of all its threads (``timeout_method =
"thread"``: it works even when the test waits inside native code, where a signal would never be handled).
"""
from pathlib import Path

import pytest

from tests.reference import require_reference

SLOW_TEST_LIMIT_S = 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("slow") is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SLOW_TEST_LIMIT_S))


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    return require_reference()
