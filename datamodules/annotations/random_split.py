"""Seeded, class-stratified train/test division for the datasets without an official split."""

from __future__ import annotations

import re

from datamodules.records import VideoRecord

RANDOM_SPLIT = re.compile(r"^random(?P<seed>\d+)$")
TEST_FRACTION = 0.3  # the customary 7:3 division


class SplitError(ValueError):
    """Records that cannot be divided 7:3 within every class (too few videos of some class)."""


def random_seed(split: str) -> int | None:
    """The seed of a ``"random<seed>"`` split name, None for any other name."""
    match = RANDOM_SPLIT.match(split)
    return int(match["seed"]) if match else None


def stratified_split(records: list[VideoRecord], seed: int) -> tuple[list[VideoRecord], list[VideoRecord]]:
    """7:3 per class, a pure function of the records' order and ``seed``; each part keeps that order."""
    from sklearn.model_selection import train_test_split  # scikit-learn: only when a split is drawn

    positions = list(range(len(records)))
    try:
        train, test = train_test_split(
            positions, test_size=TEST_FRACTION, random_state=seed, stratify=[r.label for r in records]
        )
    except ValueError as error:  # scikit-learn's words for a class with fewer than two videos, or a tiny set
        where = f" (first video: {records[0].source})" if records else ""
        raise SplitError(f"cannot divide {len(records)} videos 7:3 within every class{where}: {error}") from None
    return [records[i] for i in sorted(train)], [records[i] for i in sorted(test)]
