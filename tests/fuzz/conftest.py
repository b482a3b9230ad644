"""Prints each parser's fuzz figures after the session; writes them as JSON to STBENCH_FUZZ_REPORT if set."""
from __future__ import annotations

import json
import os
from dataclasses import asdict

from tests.fuzz.harness import LEDGER, PROFILE


def write_figures() -> None:
    """The figures so far, as JSON, to STBENCH_FUZZ_REPORT (after every test, so a long run that is
    stopped keeps what it measured)."""
    report = os.environ.get("STBENCH_FUZZ_REPORT")
    if report and LEDGER:
        with open(report, "w", encoding="utf-8") as handle:
            figures = {name: asdict(figures) for name, figures in sorted(LEDGER.items())}
            json.dump({"profile": PROFILE, "parsers": figures}, handle, indent=1)


def pytest_runtest_logfinish(nodeid, location) -> None:  # noqa: ARG001 (pytest's hook signature)
    write_figures()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001 (pytest's hook signature)
    if not LEDGER:
        return
    terminalreporter.section(f"fuzz figures (profile {PROFILE})")
    terminalreporter.write_line(f"{'parser':<22} {'inputs':>8} {'foreign exceptions':>19} {'slowest input':>14}  outcomes")
    for name, figures in sorted(LEDGER.items()):
        outcomes = ", ".join(f"{kind} {count}" for kind, count in sorted(figures.outcomes.items()))
        terminalreporter.write_line(
            f"{name:<22} {figures.inputs:>8} {figures.foreign_exceptions:>19} {figures.slowest_s:>12.3f} s  {outcomes}"
        )
    write_figures()
