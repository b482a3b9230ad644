"""How the command line reports a user's mistake: one line on stderr, exit status 2, no traceback.

A mistake is a value or path given on the command line, or a file it names (annotation, sweep or
system file, checkpoint, weights file), that cannot work; :func:`is_user_error` knows the errors
that say so. Anything else is a fault of the harness and keeps its traceback.
"""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn

USAGE_STATUS = 2


class UsageError(ValueError):
    """A command-line value or path that cannot work; the message names it and says why."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (argparse's usage block buries the error under it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_STATUS, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def one_line(text: str) -> str:
    """``text`` on one line: line breaks and runs of spaces become single spaces."""
    return " ".join(text.split())


def user_error_types() -> tuple[type[BaseException], ...]:
    """The errors raised for a user's mistake: each names the value, path, file or line at fault."""
    from lightning_fabric.utilities.exceptions import MisconfigurationException

    from backbones.weights import WeightsFileError
    from benchmark.run.checkpoint import CheckpointError
    from benchmark.run.config_file import ConfigFileError
    from benchmark.run.setting_rules import SettingError
    from datamodules.annotations.random_split import SplitError
    from datamodules.dataset_spec import UnknownSplitError
    from datamodules.records import AnnotationError

    return (
        UsageError,
        AnnotationError,  # an annotation file's line, or a file that cannot be read
        UnknownSplitError,
        SplitError,  # a dataset too small for its 7:3 split
        ConfigFileError,  # a sweep or system file's line
        SettingError,  # a run setting out of its range, or a cell no run can take (too few segments for its head)
        CheckpointError,  # a refused or unreadable checkpoint: the message says what to do
        WeightsFileError,
        MisconfigurationException,  # Lightning refusing --accelerator / --devices / --strategy
        FileNotFoundError,  # a dataset's official file or folder that is not where it is looked for
        NotADirectoryError,
    )


def is_user_error(error: BaseException) -> bool:
    return isinstance(error, user_error_types())


def report(command: str, error: BaseException) -> int:
    """Print ``error`` as the one line of a user's mistake; the exit status to return."""
    print(f"stbench {command}: {one_line(str(error)) or type(error).__name__}", file=sys.stderr)
    return USAGE_STATUS
