"""How every fuzz test runs one input: in a fresh folder, under a time limit, watching writes.

Property, per parser: it returns its records (or nothing) or raises the harness's own error for that
kind of file, naming it; any other exception fails the test. An input may take at most
:data:`TIME_LIMIT_S` (a SIGALRM stops one that hangs), and the parser may write only inside the
folders it was given (Python's audit hooks see every file opened for writing, created, renamed or
removed).

Profiles (``STBENCH_FUZZ_PROFILE``): ``ci`` (the default: a few dozen inputs per parser, part of
``make test``) and ``long`` (10,000 inputs per parser and a few very large ones, by hand);
``STBENCH_FUZZ_EXAMPLES`` sets another number of inputs per parser. Each parser's figures (inputs
tried, exceptions other than its own, slowest input) are kept in :data:`LEDGER`; the conftest prints
them and writes them to ``STBENCH_FUZZ_REPORT`` when that is set.
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("STBENCH_FUZZ_PROFILE", "ci")
EXAMPLES = {"ci": 30, "long": 10_000}
TIME_LIMIT_S = 20.0

settings.register_profile(
    "stbench-fuzz",
    max_examples=int(os.environ.get("STBENCH_FUZZ_EXAMPLES", EXAMPLES.get(PROFILE, EXAMPLES["ci"]))),
    deadline=None,  # time is bounded by the SIGALRM limit and measured per input instead
    database=None,  # nothing written under the repository
    derandomize=PROFILE != "long",  # the CI profile tries the same inputs every time
    suppress_health_check=list(HealthCheck),
)
FUZZ = settings.get_profile("stbench-fuzz")


@dataclass
class Figures:
    """One parser's figures over a session."""

    inputs: int = 0
    foreign_exceptions: int = 0
    slowest_s: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)


LEDGER: dict[str, Figures] = {}


class InputTookTooLong(Exception):
    """An input ran past :data:`TIME_LIMIT_S`."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def stop(_signum: int, _frame: Any) -> None:
        raise InputTookTooLong(f"one input ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- writes outside the given folders ------------------------------------------------------------------
_WATCH: dict[str, Any] = {"allowed": None, "outside": []}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PATH_EVENTS = {
    "os.mkdir": (0,), "os.rename": (0, 1), "os.remove": (0,), "os.rmdir": (0,), "os.symlink": (1,),
    "os.link": (1,), "os.truncate": (0,), "os.chmod": (0,), "shutil.rmtree": (0,), "shutil.copyfile": (1,),
    "shutil.move": (1,),
}  # fmt: skip


def _written_paths(event: str, args: tuple) -> list[Any]:
    if event == "open":
        path, mode, flags = (args + (None, None))[:3]
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        return [path] if writes else []
    return [args[i] for i in _PATH_EVENTS.get(event, ()) if i < len(args)]


def _audit(event: str, args: tuple) -> None:
    allowed = _WATCH["allowed"]
    if allowed is None or (event != "open" and event not in _PATH_EVENTS):
        return
    for path in _written_paths(event, args):
        if isinstance(path, int) or path is None:
            continue
        absolute = os.path.realpath(os.fsdecode(path))
        if absolute != os.devnull and not any(absolute == a or absolute.startswith(a + os.sep) for a in allowed):
            _WATCH["outside"].append(f"{event} {absolute}")


sys.addaudithook(_audit)


@contextmanager
def writes_only_inside(*folders: Path) -> Iterator[list[str]]:
    """Collects, into the yielded list, every write outside ``folders`` made within the block."""
    _WATCH["allowed"], _WATCH["outside"] = [os.path.realpath(f) for f in folders], []
    try:
        yield _WATCH["outside"]
    finally:
        _WATCH["allowed"] = None


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh folder for one input."""
    with tempfile.TemporaryDirectory(prefix="stbench-fuzz-") as folder:
        yield Path(folder)


def check(name: str, parse: Callable[[], Any], own: tuple[type[BaseException], ...], allowed: Path) -> Any:
    """Run ``parse`` on one input: its result, or None when it raised one of its ``own`` errors.

    Any other exception, a write outside ``allowed`` or an input past the time limit fails the test;
    each input's time and outcome go to :data:`LEDGER`."""
    figures = LEDGER.setdefault(name, Figures())
    figures.inputs += 1
    started = time.perf_counter()
    outcome, result = "returned", None
    try:
        with writes_only_inside(allowed) as outside, time_limit(TIME_LIMIT_S):
            try:
                result = parse()
            except own as error:
                outcome = type(error).__name__
                assert str(error), f"{name}: {outcome} without a message"
    except BaseException:
        figures.foreign_exceptions += 1
        raise
    finally:
        figures.slowest_s = max(figures.slowest_s, time.perf_counter() - started)
        figures.outcomes[outcome] = figures.outcomes.get(outcome, 0) + 1
    assert not outside, f"{name} wrote outside its folders: {outside[:3]}"
    return result


def inside(path: str | Path, root: Path) -> bool:
    """Whether ``path`` resolves (lexically) inside ``root``."""
    absolute, base = os.path.abspath(path), os.path.abspath(root)
    return absolute.startswith(base + os.sep)
