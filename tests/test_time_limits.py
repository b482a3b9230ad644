"""The suite's time limits: a hung test ends the run within its limit, printing every thread's stack."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SLOW_TEST_LIMIT_S

ROOT = Path(__file__).resolve().parents[1]
HUNG_TEST = """
import threading, time
import pytest


@pytest.mark.timeout(3)
def test_waits_for_ever():
    threading.Thread(target=time.sleep, args=(3600,), name="helper-that-sleeps", daemon=True).start()
    threading.Event().wait()
"""


def test_a_hung_test_fails_within_its_limit_with_the_stacks_of_all_threads(tmp_path):
    (tmp_path / "test_hung.py").write_text(HUNG_TEST)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(ROOT / "pyproject.toml"),
         "--rootdir", str(tmp_path), str(tmp_path / "test_hung.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    waited = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Timeout" in output
    assert "helper-that-sleeps" in output and "test_waits_for_ever" in output  # every thread's stack
    assert waited < 60, waited


def test_ordinary_tests_have_the_configured_limit(request):
    assert request.config.getini("timeout") == "120"
    assert request.config.getini("timeout_method") == "thread"


@pytest.mark.slow
def test_slow_tests_get_the_slow_limit(request):
    assert request.node.get_closest_marker("timeout").args == (SLOW_TEST_LIMIT_S,)
