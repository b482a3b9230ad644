"""What a command prints: the harness's own lines, Lightning's progress bar and warnings that concern the run.

By default Lightning's INFO lines (accelerator availability, product tips) and two warnings that say
nothing about the run are hidden: torch's deprecation of ``LeafSpec`` raised from inside Lightning, and
the note that a small training set has fewer batches than the logging interval. ``--verbose`` shows them.
"""
from __future__ import annotations

import logging
import warnings

LIGHTNING_LOGGERS = ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning.fabric")
HIDDEN_WARNINGS = (
    r".*isinstance\(treespec, LeafSpec\)",  # torch deprecation raised inside Lightning's own code
    r"The number of training batches \(\d+\) is smaller than the logging interval",
)


def quiet_console(verbose: bool) -> None:
    """Hide Lightning's chatter unless ``verbose`` (the harness's own warnings always show)."""
    if verbose:
        return
    for name in LIGHTNING_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for message in HIDDEN_WARNINGS:
        warnings.filterwarnings("ignore", message=message)
