"""The valid values of every run setting: a range for each number, a table for each name.

A :class:`~benchmark.run.config.RunConfig` checks its settings against :data:`RULES` when it is
made, so that a value out of range (``epochs: -1``, which Lightning reads as "no limit", or
``10**30``) stops a sweep file, a system file or a command line before any cell runs, with one
line naming the setting and its valid values. The ranges are wide: they catch mistakes, not taste.

The head is the one name a RunConfig does not check itself: the multi-stream systems name their
rows' configurations after the system (``two_stream``, a fusion component). :func:`check_cell`
checks what a run of one network needs beyond single settings — a head of the table, enough
segments for it, the deep fusion head with ``rgb+flow`` input and only with it; the sweep and
system files and :func:`benchmark.run.runner.run` call it.
"""
from __future__ import annotations

import math
import numbers
import reprlib
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from backbones import BACKBONES
from datamodules.datasets import DATASETS
from datamodules.modality import Modality
from heads import HEADS
from heads.fusion.deep_fusion import ConvSummary

__all__ = [
    "CONV_SUMMARIES", "DEEP_FUSION_HEAD", "EPOCHS", "FIRST_CONV_INITS", "Flag", "HEAD_RULE", "LR_SCHEDULES", "ListOf",
    "MAX_SEED", "OPTIMIZERS", "OneOf", "RULES", "Range", "Rule", "SettingError", "Text", "check_cell",
    "check_run_settings", "setting_problem", "shown",
]  # fmt: skip

DEEP_FUSION_HEAD = "deep_fusion"
OPTIMIZERS = ("sgd", "adam")
LR_SCHEDULES = ("steps", "two_stage")
FIRST_CONV_INITS = ("random", "cross_modality")
CONV_SUMMARIES: tuple[str, ...] = typing.get_args(ConvSummary)
MAX_SEED = 2**32 - 1  # Lightning's seed_everything takes unsigned 32-bit seeds
MAX_SEGMENTS = 128
MAX_TEXT = 4096

_SHOWN = reprlib.Repr()
_SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlist, _SHOWN.maxdict, _SHOWN.maxlevel = 40, 40, 4, 4, 2
SHOWN_LENGTH = 80


def shown(value: object) -> str:
    """``repr(value)`` cut short, in time bounded whatever the value's size or depth."""
    text = _SHOWN.repr(value)
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 3] + "..."


class SettingError(ValueError):
    """A run setting out of its range or naming nothing known; says which and what is valid."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


class Rule(Protocol):
    def problem(self, value: Any) -> str | None: ...


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


@dataclass(frozen=True)
class Range:
    """Numbers from ``low`` to ``high``; ``above_low`` / ``below_high`` leave that end out."""

    low: float
    high: float
    whole: bool = False
    above_low: bool = False
    below_high: bool = False

    def describe(self) -> str:
        if self.whole:
            return f"a whole number from {_number(self.low)} to {_number(self.high)}"
        opening, closing = "(" if self.above_low else "[", ")" if self.below_high else "]"
        return f"a number in {opening}{_number(self.low)}, {_number(self.high)}{closing}"

    def problem(self, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral if self.whole else numbers.Real):
            return f"expected {self.describe()}, found {shown(value)}"
        finite = isinstance(value, numbers.Integral) or math.isfinite(value)  # a huge int has no float
        inside = finite and self.low <= value <= self.high
        if not inside or (self.above_low and value == self.low) or (self.below_high and value == self.high):
            return f"{shown(value)} is out of range; valid: {self.describe()}"
        return None


@dataclass(frozen=True)
class OneOf:
    """A name (or number) from a table, read when checked (a head added to ``HEADS`` is known at once)."""

    kind: str
    valid: Callable[[], Iterable[Any]]

    def problem(self, value: Any) -> str | None:
        valid = list(self.valid())
        loose = isinstance(value, bool) or (isinstance(value, float) and not any(isinstance(v, float) for v in valid))
        if loose or value not in valid:  # True == 1 and 3.0 == 3 in Python, not here
            return f"unknown {self.kind} {shown(value)}; valid: {', '.join(map(str, valid))}"
        return None


@dataclass(frozen=True)
class Text:
    """Free text (a path, a split name): not empty, at most :data:`MAX_TEXT` characters."""

    optional: bool = False

    def problem(self, value: Any) -> str | None:
        if value is None and self.optional:
            return None
        if not isinstance(value, str) or not value or len(value) > MAX_TEXT or "\x00" in value:
            return f"expected text of 1 to {MAX_TEXT:,} characters, found {shown(value)}"
        return None


@dataclass(frozen=True)
class Flag:
    def problem(self, value: Any) -> str | None:
        return None if isinstance(value, bool) else f"expected true or false, found {shown(value)}"


@dataclass(frozen=True)
class ListOf:
    """A list of ``fewest`` to ``most`` items, each valid under ``item``."""

    item: Rule
    most: int
    fewest: int = 0

    def problem(self, value: Any) -> str | None:
        if not isinstance(value, (list, tuple)) or not self.fewest <= len(value) <= self.most:
            return f"expected a list of {self.fewest} to {self.most} items, found {shown(value)}"
        for index, item in enumerate(value):
            problem = self.item.problem(item)
            if problem is not None:
                return f"item {index + 1}: {problem}"
        return None


EPOCHS = Range(1, 10_000, whole=True)
RULES: dict[str, Rule] = {
    "dataset": OneOf("dataset", lambda: sorted(DATASETS)),
    "split": Text(),
    "modality": OneOf("modality", lambda: list(Modality)),
    "backbone": OneOf("backbone", lambda: list(BACKBONES)),
    "backbone_weights": Text(optional=True),
    "partial_bn": Flag(),
    "segments": Range(1, MAX_SEGMENTS, whole=True),
    "input_size": Range(32, 1024, whole=True),
    "seed": Range(0, MAX_SEED, whole=True),
    "epochs": EPOCHS,
    "batch_size": Range(1, 4096, whole=True),
    "optimizer": OneOf("optimizer", lambda: OPTIMIZERS),
    "lr": Range(0, 10, above_low=True),
    "lr_steps": ListOf(EPOCHS, 100),
    "momentum": Range(0, 1, below_high=True),
    "weight_decay": Range(0, 1),
    "clip_grad_norm": Range(0, 1e6),  # 0: no clipping
    "dropout": Range(0, 1, below_high=True),
    "feature_dim": Range(1, 16_384, whole=True),
    "transform_init_std": Range(0, 10, above_low=True),
    "frozen_backbone": Flag(),
    "cached_views": Range(1, 1000, whole=True),
    "test_clips": Range(1, 100, whole=True),
    "test_crops": OneOf("number of test crops", lambda: (1, 3, 10)),
    "flow_length": Range(1, 64, whole=True),
    "holdout_fraction": Range(0, 1, below_high=True),
    "temporal_first_conv": OneOf("temporal_first_conv", lambda: FIRST_CONV_INITS),
    "fusion_conv_summary": OneOf("fusion_conv_summary", lambda: CONV_SUMMARIES),
    "lr_schedule": OneOf("lr_schedule", lambda: LR_SCHEDULES),
    "stage_patience": Range(1, 1000, whole=True),
}
HEAD_RULE = OneOf("head", lambda: [*HEADS, DEEP_FUSION_HEAD])


def setting_problem(name: str, value: Any) -> str | None:
    """What is wrong with ``value`` as the run setting ``name`` (None: nothing; a name without a rule: nothing)."""
    rule = HEAD_RULE if name == "head" else RULES.get(name)
    return None if rule is None else rule.problem(value)


def check_run_settings(values: Mapping[str, Any]) -> None:
    """Raise :class:`SettingError` for the first setting of ``values`` outside its rule (the head aside)."""
    for name, value in values.items():
        problem = RULES[name].problem(value) if name in RULES else None
        if problem is not None:
            raise SettingError(name, problem)


class RunSettings(Protocol):
    head: str
    segments: int
    modality: Modality


def check_cell(config: RunSettings) -> None:
    """Raise :class:`SettingError` for a configuration no run can take: a head outside the table, fewer
    segments than its head needs, ``rgb+flow`` input without the deep fusion head or that head without it."""
    problem = HEAD_RULE.problem(config.head)
    if problem is not None:
        raise SettingError("head", problem)
    needed = HEADS[config.head].min_segments if config.head in HEADS else 1
    if config.segments < needed:
        valid = Range(needed, MAX_SEGMENTS, whole=True).describe()
        raise SettingError("segments", f"{config.segments} is too few for head {config.head}; valid: {valid}")
    fusion = config.head == DEEP_FUSION_HEAD
    if fusion != (config.modality is Modality.RGB_FLOW):
        needs = f"head {DEEP_FUSION_HEAD} takes modality rgb+flow" if fusion else "modality rgb+flow is for head deep_fusion"
        raise SettingError("modality", f"{config.modality} with head {config.head}: {needs} (and only it)")
