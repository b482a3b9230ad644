"""A seeded held-out part of a training set (fusion weights are fitted on it, never on the test set)."""
from __future__ import annotations

import random
from collections import defaultdict
from typing import Sequence

from datamodules.records import VideoRecord


def hold_out(records: Sequence[VideoRecord], fraction: float, seed: int) -> tuple[list[VideoRecord], list[VideoRecord]]:
    """``(kept, held_out)``: ``round(fraction * n)`` videos of each class (by first label for
    multi-label records) are held out, chosen by a permutation seeded with ``seed``; every class
    keeps at least one training video. Both lists keep the original order."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"holdout fraction must be in [0, 1), got {fraction}")
    by_class: dict[int, list[int]] = defaultdict(list)
    for position, record in enumerate(records):
        key = record.label if record.labels is None else (record.labels[0] if record.labels else -1)
        by_class[key].append(position)
    chosen: set[int] = set()
    for key in sorted(by_class):
        members = by_class[key]
        count = min(int(fraction * len(members) + 0.5), len(members) - 1)
        rng = random.Random(f"{seed}:{key}")
        chosen.update(rng.sample(members, count) if count > 0 else [])
    kept = [r for i, r in enumerate(records) if i not in chosen]
    held = [r for i, r in enumerate(records) if i in chosen]
    return kept, held
