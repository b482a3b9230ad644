import pytest
import torch

from datamodules.sampling.segments import segment_bounds, segment_indices

SEGMENT_COUNTS = (1, 3, 8, 16)
FRAME_COUNTS = range(1, 201)


@pytest.mark.parametrize("num_segments", SEGMENT_COUNTS)
def test_every_index_inside_the_video_for_every_length(num_segments):
    generator = torch.Generator().manual_seed(0)
    for num_frames in FRAME_COUNTS:
        for mode in ("train", "test"):
            for length in (1, 5):
                indices = segment_indices(num_frames, num_segments, mode, length, generator)
                assert len(indices) == num_segments * length
                assert all(0 <= i < num_frames for i in indices), (num_frames, num_segments, mode, length, indices)
                starts = indices[::length]
                assert starts == sorted(starts), "segments must keep temporal order"


@pytest.mark.parametrize("num_segments", SEGMENT_COUNTS)
def test_training_draws_one_index_inside_each_segment(num_segments):
    generator = torch.Generator().manual_seed(1)
    for num_frames in range(num_segments, 201):
        bounds = segment_bounds(num_frames, num_segments)
        for _ in range(3):
            indices = segment_indices(num_frames, num_segments, "train", generator=generator)
            for index, (lo, hi) in zip(indices, bounds):
                assert lo <= index < hi, (num_frames, num_segments, indices, bounds)


def test_training_covers_the_whole_segment():
    generator = torch.Generator().manual_seed(2)
    seen = [set() for _ in range(4)]
    for _ in range(400):
        for segment, index in enumerate(segment_indices(40, 4, "train", generator=generator)):
            seen[segment].add(index)
    assert seen == [set(range(10 * s, 10 * s + 10)) for s in range(4)]


@pytest.mark.parametrize("num_segments", SEGMENT_COUNTS)
def test_test_mode_takes_segment_centres(num_segments):
    for num_frames in FRAME_COUNTS:
        tick = num_frames / num_segments
        expected = [int(tick / 2 + tick * i) for i in range(num_segments)]
        assert segment_indices(num_frames, num_segments, "test") == expected


def test_test_mode_known_values():
    assert segment_indices(30, 3, "test") == [5, 15, 25]
    assert segment_indices(10, 4, "test") == [1, 3, 6, 8]


def test_test_mode_ignores_the_generator():
    a = segment_indices(77, 8, "test", generator=torch.Generator().manual_seed(1))
    b = segment_indices(77, 8, "test", generator=torch.Generator().manual_seed(2))
    assert a == b


def test_same_seed_same_indices_and_different_seed_differs():
    def draw(seed):
        generator = torch.Generator().manual_seed(seed)
        return [segment_indices(120, 8, "train", generator=generator) for _ in range(5)]

    assert draw(7) == draw(7)
    assert draw(7) != draw(8)


def test_frames_per_segment_gives_consecutive_stacks():
    generator = torch.Generator().manual_seed(3)
    num_frames, segments, length = 100, 4, 5
    for mode in ("train", "test"):
        indices = segment_indices(num_frames, segments, mode, length, generator)
        stacks = [indices[i * length : (i + 1) * length] for i in range(segments)]
        for stack in stacks:
            assert stack == list(range(stack[0], stack[0] + length))
        starts = [stack[0] for stack in stacks]
        bounds = segment_bounds(num_frames - length + 1, segments)
        if mode == "train":
            assert all(lo <= s < hi for s, (lo, hi) in zip(starts, bounds))
        else:
            tick = (num_frames - length + 1) / segments
            assert starts == [int(tick / 2 + tick * i) for i in range(segments)]


def test_short_videos_repeat_frames_in_order():
    # 3 frames, 8 segments: empty segments take their lower bound in training
    assert segment_indices(3, 8, "train", generator=torch.Generator().manual_seed(0)) == [0, 0, 0, 1, 1, 1, 2, 2]
    assert segment_indices(1, 8, "test") == [0] * 8
    # a stack longer than the video is clamped to the last frame
    assert segment_indices(3, 2, "test", frames_per_segment=5) == [0, 1, 2, 2, 2, 0, 1, 2, 2, 2]


@pytest.mark.parametrize(
    "args",
    [(0, 8, "test"), (10, 0, "test"), (10, 8, "val"), (10, 8, "train", 0)],
)
def test_invalid_arguments_raise(args):
    with pytest.raises(ValueError):
        segment_indices(*args)


def test_one_test_view_is_the_centre_sampling_and_25_views_are_evenly_spaced():
    from datamodules.sampling.segments import test_view_indices as view_indices

    for frames in (1, 5, 8, 31, 100):
        assert view_indices(frames, 8, 1) == segment_indices(frames, 8, "test")
    assert view_indices(100, 1, 25) == [2 + 4 * k for k in range(25)]  # the two-stream protocol's 25 frames
    stacks = view_indices(30, 2, 2, frames_per_segment=5)
    assert len(stacks) == 2 * 2 * 5 and max(stacks) <= 29
    assert all(stacks[k + 1] == stacks[k] + 1 for k in range(0, 20, 5) for k in range(k, k + 4))
