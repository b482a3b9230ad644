import pytest

from datamodules.sampling.holdout import hold_out
from datamodules.records import VideoRecord


def _records(per_class: dict[int, int]) -> list[VideoRecord]:
    return [VideoRecord(f"{label}-{i}", None, label, f"list:{n}")
            for n, (label, i) in enumerate((label, i) for label, count in per_class.items() for i in range(count))]  # fmt: skip


def test_hold_out_is_a_seeded_per_class_partition_in_the_original_order():
    records = _records({0: 10, 1: 10, 2: 5})
    kept, held = hold_out(records, 0.2, seed=7)
    assert [r.label for r in held].count(0) == 2 and [r.label for r in held].count(2) == 1
    assert {r.video_id for r in kept}.isdisjoint(r.video_id for r in held)
    assert len(kept) + len(held) == len(records)
    assert kept == [r for r in records if r in kept] and held == [r for r in records if r in held]
    assert hold_out(records, 0.2, seed=7) == (kept, held)
    assert hold_out(records, 0.2, seed=8)[1] != held


def test_every_class_keeps_a_training_video_and_bad_fractions_are_refused():
    kept, held = hold_out(_records({0: 1, 1: 2}), 0.9, seed=0)
    assert sorted(r.label for r in kept) == [0, 1] and [r.label for r in held] == [1]
    assert hold_out(_records({0: 3}), 0.0, seed=0)[1] == []
    with pytest.raises(ValueError, match="holdout fraction"):
        hold_out(_records({0: 3}), 1.0, seed=0)
