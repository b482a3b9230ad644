"""Stopped processes in tests: start a Python child that stops itself (SIGSTOP) at a chosen moment,
wait until it is stopped, let it go on (SIGCONT), and time what it does next. Every wait has a deadline."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Child code for "stop here": the process announces it, then stops itself until SIGCONT.
STOP_HERE = "print('stopping', flush=True); os.kill(os.getpid(), signal.SIGSTOP)"


def python_child(code: str, *args: str) -> subprocess.Popen:
    """``python -c code args`` with the project importable, stdout and stderr piped together."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def is_stopped(pid: int) -> bool:
    """Whether process ``pid`` is stopped by a signal (state T in /proc/<pid>/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] in ("T", "t")


def wait_until(condition, seconds: float, what: str) -> float:
    """Poll ``condition`` until it holds; the seconds it took. AssertionError after ``seconds``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"timed out after {seconds} s waiting for {what}"
        time.sleep(0.02)
    return time.monotonic() - started


def wait_stopped(process: subprocess.Popen, seconds: float = 60) -> None:
    wait_until(lambda: is_stopped(process.pid) or process.poll() is not None, seconds, "the process to stop")
    if process.poll() is not None:
        output, _ = process.communicate(timeout=30)
        raise AssertionError(f"the process ended ({process.returncode}) instead of stopping: {output[-3000:]}")


def go_on(process: subprocess.Popen) -> float:
    """Send SIGCONT; the monotonic time it was sent."""
    os.kill(process.pid, signal.SIGCONT)
    return time.monotonic()


def finish(process: subprocess.Popen, seconds: float = 120) -> str:
    """Wait for the process to end (killed after ``seconds``); its output."""
    try:
        output, _ = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate(timeout=30)
        raise AssertionError(f"the process did not end within {seconds} s: {output[-3000:]}") from None
    return output


def end(process: subprocess.Popen) -> None:
    """Make sure a child is gone at the end of a test (continued first, so a kill is not left pending)."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGCONT)
        process.kill()
        process.communicate(timeout=30)
