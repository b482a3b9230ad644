"""Value types of command-line options, so that a number no run can take is refused by the parser (one
line, exit status 2) instead of failing inside training (``--batch-size 0``) or never ending (``--epochs -1``)."""
from __future__ import annotations

import argparse
import math
import re
from typing import Callable

MAX_SEED = 2**32 - 1  # NumPy's and Lightning's seeds are 32-bit
_DEVICE_COUNT = re.compile(r"-?[0-9]{1,6}")
_INDICES = re.compile(r"[0-9]{1,4}(,[0-9]{1,4})*,?")


def shown(text: str) -> str:
    """``text`` quoted for a message, cut short."""
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def whole(low: int, high: int | None = None) -> Callable[[str], int]:
    """A type accepting whole numbers from ``low`` to ``high`` (no upper bound when None)."""
    wanted = f"a whole number from {low:,} to {high:,}" if high is not None else f"a whole number of at least {low:,}"

    def parse(text: str) -> int:
        try:
            value = int(text.strip().replace("_", ""), 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {shown(text)}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {shown(text)}")
        return value

    parse.__name__ = "whole number"
    return parse


def number(
    low: float, high: float | None = None, low_open: bool = False, high_open: bool = False
) -> Callable[[str], float]:
    """A type accepting finite numbers in the interval from ``low`` to ``high``; ``*_open`` leaves an end out."""
    above = f"above {low:g}" if low_open else f"at least {low:g}"
    below = "" if high is None else (f" and below {high:g}" if high_open else f" and at most {high:g}")
    wanted = f"a finite number {above}{below}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {shown(text)}") from None
        inside = math.isfinite(value) and (value > low if low_open else value >= low)
        if inside and high is not None:
            inside = value < high if high_open else value <= high
        if not inside:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {shown(text)}")
        return value

    parse.__name__ = "number"
    return parse


def devices(text: str) -> int | str:
    """``--devices``: a count (1 or more), -1 or ``auto`` (every device), or a list of device indices ("0,1")."""
    text = text.strip()
    if text == "auto":
        return text
    if _DEVICE_COUNT.fullmatch(text) and (int(text) >= 1 or int(text) == -1):
        return int(text)
    if _INDICES.fullmatch(text) and not _DEVICE_COUNT.fullmatch(text):
        return text  # device indices, as Lightning reads them
    wanted = "a number of devices (1 or more), -1 or auto for all of them, or device indices such as 0,1"
    raise argparse.ArgumentTypeError(f"expected {wanted}; got {shown(text)}")


def accelerator(text: str) -> str:
    """``--accelerator``: ``auto``, ``gpu`` or an accelerator Lightning has registered (cpu, cuda, ...)."""
    if text in ("auto", "cpu"):
        return text
    from pytorch_lightning.accelerators import AcceleratorRegistry  # Lightning is imported for other names only

    known = ["auto", "gpu", *sorted(AcceleratorRegistry.available_accelerators())]
    if text in known:
        return text
    raise argparse.ArgumentTypeError(f"unknown accelerator {shown(text)}; valid: {', '.join(known)}")


def strategy(text: str) -> str:
    """``--strategy``: ``auto`` or a strategy Lightning has registered (ddp, ddp_spawn, fsdp, ...)."""
    if text == "auto":
        return text
    from pytorch_lightning.strategies import StrategyRegistry

    known = ["auto", *StrategyRegistry.available_strategies()]
    if text in known:
        return text
    raise argparse.ArgumentTypeError(f"unknown strategy {shown(text)}; valid: {', '.join(known)}")


# The value types of the options shared by the commands that train (benchmark.cli.arguments). Those of
# run settings refuse what no run can take (a count below 1, a negative or non-finite rate); a narrower
# range of a setting is RunConfig's to check, and a value it refuses is a one-line mistake too
# (benchmark.cli.arguments.run_config).
SEGMENTS = whole(1)
INPUT_SIZE = whole(1)
EPOCHS = whole(1, 10_000)  # Lightning reads -1 as "no limit"
BATCH_SIZE = whole(1)
LEARNING_RATE = number(0, low_open=True)
LR_STEP = whole(0)
NON_NEGATIVE = number(0)
SEED = whole(0, MAX_SEED)
FLOW_LENGTH = whole(1)
FRACTION = number(0, 1, high_open=True)
VIEWS = whole(1)
COUNT = whole(1)  # nodes, jobs, CPUs, minutes: one or more
WORKERS = whole(0, 1024)
POSITIVE = number(0, low_open=True)
