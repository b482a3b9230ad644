import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from datamodules.flow.extract import FLOW_JSON
from datamodules.flow.reader import expand_starts, read_flow_stack
from datamodules.decoding.video import VideoReadError
from datamodules.sampling.segments import segment_indices


def make_flow_folder(folder: Path, num_pairs: int, size=(24, 32)) -> Path:
    """Pair i (1-based) has the uniform images x = 10 i and y = 250 - 10 i (exact through JPEG)."""
    folder.mkdir(parents=True)
    for i in range(1, num_pairs + 1):
        cv2.imwrite(str(folder / f"x_{i:05d}.jpg"), np.full(size, 10 * i, np.uint8))
        cv2.imwrite(str(folder / f"y_{i:05d}.jpg"), np.full(size, 250 - 10 * i, np.uint8))
    (folder / FLOW_JSON).write_text(json.dumps({"method": "dis", "bound": 20.0, "num_pairs": num_pairs}))
    return folder


def pair_numbers(stack: torch.Tensor) -> list[int]:
    """The 1-based pair number each read frame came from, checked on both channels."""
    x = stack[..., 0].float().mean(dim=(1, 2)) / 10
    y = (250 - stack[..., 1].float().mean(dim=(1, 2))) / 10
    assert torch.equal(x.round(), y.round())
    return [int(v) for v in x.round()]


def test_sampler_indices_are_read_in_order(tmp_path):
    folder = make_flow_folder(tmp_path / "v", 20)
    stack, num_pairs = read_flow_stack(folder, lambda n: segment_indices(n, 3, "test", frames_per_segment=4), 4)
    assert num_pairs == 20
    assert stack.dtype == torch.uint8 and stack.shape == (12, 24, 32, 2)
    expected = [i + 1 for i in segment_indices(20, 3, "test", frames_per_segment=4)]
    assert pair_numbers(stack) == expected


def test_start_indices_expand_to_consecutive_pairs(tmp_path):
    folder = make_flow_folder(tmp_path / "v", 10)
    stack, _ = read_flow_stack(folder, [0, 5], 3)
    assert pair_numbers(stack) == [1, 2, 3, 6, 7, 8]


def test_short_video_stacks_clamp_to_the_last_pair(tmp_path):
    folder = make_flow_folder(tmp_path / "v", 3)
    stack, _ = read_flow_stack(folder, [1, 2], 4)
    assert pair_numbers(stack) == [2, 3, 3, 3, 3, 3, 3, 3]
    sampled, _ = read_flow_stack(folder, lambda n: segment_indices(n, 2, "train", frames_per_segment=5), 5)
    assert pair_numbers(sampled) == [1, 2, 3, 3, 3] * 2
    assert expand_starts([0], 5, 3) == [0, 1, 2, 2, 2]


def test_resize_to_size(tmp_path):
    folder = make_flow_folder(tmp_path / "v", 4)
    stack, _ = read_flow_stack(folder, [0], 2, size=(12, 20))
    assert stack.shape == (2, 12, 20, 2)
    assert pair_numbers(stack) == [1, 2]


def test_missing_folder_names_it(tmp_path):
    with pytest.raises(VideoReadError, match=r"nothing_here: flow folder not found"):
        read_flow_stack(tmp_path / "nothing_here", [0], 1)


def test_unfinished_folder_names_flow_json(tmp_path):
    (tmp_path / "v").mkdir()
    with pytest.raises(VideoReadError, match=r"v/flow.json: missing or unreadable"):
        read_flow_stack(tmp_path / "v", [0], 1)


def test_missing_or_corrupt_image_names_the_file(tmp_path):
    folder = make_flow_folder(tmp_path / "v", 5)
    (folder / "y_00004.jpg").unlink()
    with pytest.raises(VideoReadError, match=r"y_00004.jpg: missing flow image"):
        read_flow_stack(folder, [2], 2)
    (folder / "x_00002.jpg").write_bytes(b"garbage")
    with pytest.raises(VideoReadError, match=r"x_00002.jpg: cannot decode flow image"):
        read_flow_stack(folder, [1], 1)


def test_sampler_out_of_range_or_wrong_length_is_refused(tmp_path):
    folder = make_flow_folder(tmp_path / "v", 5)
    with pytest.raises(VideoReadError, match=r"pair indices \[5\] outside \[0, 4\]"):
        read_flow_stack(folder, lambda n: [4, 5], 2)
    with pytest.raises(ValueError, match="not a multiple of the stack length 2"):
        read_flow_stack(folder, lambda n: [0, 1, 2], 2)
