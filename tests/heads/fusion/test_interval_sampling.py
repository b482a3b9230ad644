from __future__ import annotations

import pytest
import torch

from datamodules.sampling.intervals import deep_fusion_indices


def intervals_of(indices: list[int]) -> set[int]:
    return {b - a for a, b in zip(indices, indices[1:])}


def test_train_intervals_lie_in_2_to_10_and_cover_the_range():
    g = torch.Generator().manual_seed(0)
    seen, starts = set(), set()
    for _ in range(400):
        idx = deep_fusion_indices(300, 17, "train", g)
        assert len(idx) == 17 and 0 <= idx[0] and idx[-1] <= 299
        (interval,) = intervals_of(idx)  # one fixed interval per clip
        seen.add(interval)
        starts.add(idx[0])
    assert seen == set(range(2, 11))
    assert len(starts) > 50  # random start


def test_train_interval_is_capped_to_fit_the_video():
    g = torch.Generator().manual_seed(1)
    # 17 steps in 60 frames: at most (60 - 1) // 16 = 3.
    seen = {next(iter(intervals_of(deep_fusion_indices(60, 17, "train", g)))) for _ in range(200)}
    assert seen == {2, 3}
    # Too short for τ = 2 but long enough for τ = 1.
    idx = deep_fusion_indices(20, 17, "train", g)
    assert intervals_of(idx) == {1} and idx[-1] <= 19


@pytest.mark.parametrize("num_frames, steps", [(170, 17), (100, 17), (35, 4), (8, 8)])
def test_test_spacing_is_floor_n_over_t_and_centred(num_frames, steps):
    idx = deep_fusion_indices(num_frames, steps, "test")
    assert intervals_of(idx) == {num_frames // steps}
    head, tail = idx[0], num_frames - 1 - idx[-1]
    assert abs(head - tail) <= 1
    assert idx == deep_fusion_indices(num_frames, steps, "test")  # deterministic


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("num_frames", [1, 2, 5, 16, 17, 18, 33, 40, 171, 500])
@pytest.mark.parametrize("steps", [1, 4, 17])
def test_indices_always_inside_the_video_and_ordered(mode, num_frames, steps):
    g = torch.Generator().manual_seed(num_frames)
    for _ in range(5):
        idx = deep_fusion_indices(num_frames, steps, mode, g)
        assert len(idx) == steps
        assert all(0 <= i < num_frames for i in idx)
        assert idx == sorted(idx)


def test_videos_shorter_than_t_use_every_frame_in_order():
    for mode in ("train", "test"):
        idx = deep_fusion_indices(5, 17, mode, torch.Generator().manual_seed(0))
        assert sorted(set(idx)) == [0, 1, 2, 3, 4]


def test_generator_makes_training_reproducible_and_bad_input_fails():
    a = deep_fusion_indices(200, 17, "train", torch.Generator().manual_seed(5))
    b = deep_fusion_indices(200, 17, "train", torch.Generator().manual_seed(5))
    assert a == b
    with pytest.raises(ValueError, match="num_frames"):
        deep_fusion_indices(0, 17, "train")
    with pytest.raises(ValueError, match="mode"):
        deep_fusion_indices(10, 2, "val")
    with pytest.raises(ValueError, match="intervals"):
        deep_fusion_indices(10, 2, "train", intervals=(5, 2))
