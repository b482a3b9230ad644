import pytest

from datamodules.clip_dataset import EpochKeyedSampler, clip_seed


def test_clip_seed_is_stable_and_distinct():
    assert clip_seed(0, 1, 2) == clip_seed(0, 1, 2)
    seeds = {clip_seed(s, e, i) for s in range(3) for e in range(3) for i in range(50)}
    assert len(seeds) == 3 * 3 * 50


@pytest.mark.parametrize("size, world", [(11, 2), (10, 2), (7, 3), (1, 4), (0, 2)])
def test_evaluation_shards_cover_every_item_exactly_once(size, world):
    keys = []
    for rank in range(world):
        sampler = EpochKeyedSampler(size, shuffle=False, seed=0, num_replicas=world, rank=rank, pad=False)
        shard = list(sampler)
        assert len(shard) == len(sampler)
        keys += [index for _, index in shard]
    assert sorted(keys) == list(range(size))


@pytest.mark.parametrize("size, world", [(11, 2), (7, 3), (2, 4)])
def test_training_shards_are_padded_to_equal_length(size, world):
    shards = []
    for rank in range(world):
        sampler = EpochKeyedSampler(size, shuffle=True, seed=0, num_replicas=world, rank=rank, pad=True)
        shards.append([index for _, index in sampler])
        assert len(shards[-1]) == len(sampler)
    assert len({len(s) for s in shards}) == 1
    assert set(i for s in shards for i in s) == set(range(size))


def test_training_order_depends_on_seed_and_epoch_only():
    def order(seed, epoch):
        sampler = EpochKeyedSampler(50, shuffle=True, seed=seed)
        sampler.set_epoch(epoch)
        return list(sampler)

    assert order(0, 3) == order(0, 3)
    assert order(0, 3) != order(0, 4)
    assert order(0, 3) != order(1, 3)
    assert all(epoch == 3 for epoch, _ in order(0, 3))


# -- bad videos, label sets, label-swapping flips, test views ---------------------------------------------------
import torch  # noqa: E402

from datamodules.clip_dataset import ClipDataset, collate_clips  # noqa: E402
from datamodules.decoding.video import VideoReadError  # noqa: E402
from datamodules.records import VideoRecord  # noqa: E402
from datamodules.sampling.segments import test_view_indices as view_indices  # noqa: E402


@pytest.fixture(scope="module")
def two_videos(tmp_path_factory):
    import numpy as np

    from datamodules.synthetic.generate import encode_mp4

    folder = tmp_path_factory.mktemp("clips")
    paths = []
    for i in range(2):
        path = folder / f"v{i}.mp4"
        frames = np.full((12, 32, 32, 3), 40 + 100 * i, dtype=np.uint8)
        frames[:, :, :, 0] = np.arange(12, dtype=np.uint8)[:, None, None] * 20  # frame number in red
        encode_mp4(frames, path, fps=25)
        paths.append(path)
    (folder / "empty.mp4").write_bytes(b"")
    return folder, paths


def _record(path, label=0, labels=None, line=1):
    return VideoRecord(path.stem, path, label, f"list.txt:{line}", labels=labels)


def test_fail_policy_raises_naming_the_video_and_its_annotation_line(two_videos):
    folder, _ = two_videos
    dataset = ClipDataset([_record(folder / "empty.mp4", line=7)], 4, "test", (32, 32), seed=0)
    with pytest.raises(VideoReadError, match=r"empty\.mp4.*list\.txt:7"):
        dataset[0]


def test_skip_policy_moves_bad_clips_to_the_failed_list_of_the_batch(two_videos):
    folder, paths = two_videos
    records = [_record(paths[0]), _record(folder / "empty.mp4", line=2), _record(folder / "gone.mp4", line=3)]
    dataset = ClipDataset(records, 4, "train", (32, 32), seed=0, on_bad_video="skip")
    batch = collate_clips([dataset[(0, i)] for i in range(3)])
    assert batch["frames"].shape[0] == 1 and batch["index"].tolist() == [0]
    assert [index for index, _ in batch["failed"]] == [1, 2]
    assert "empty.mp4" in batch["failed"][0][1] and "list.txt:2" in batch["failed"][0][1]
    assert "file not found" in batch["failed"][1][1]
    only_bad = collate_clips([dataset[(0, 1)]])
    assert "frames" not in only_bad and len(only_bad["failed"]) == 1


def test_multi_label_records_become_multi_hot_targets(two_videos):
    _, paths = two_videos
    records = [_record(paths[0], -1, labels=(1, 3)), _record(paths[1], -1, labels=())]
    dataset = ClipDataset(records, 2, "test", (32, 32), seed=0, num_classes=5, multi_label=True)
    assert dataset[0]["label"].tolist() == [0, 1, 0, 1, 0]
    assert dataset[1]["label"].tolist() == [0, 0, 0, 0, 0]  # no label: a negative for every class


def test_a_flipped_clip_takes_the_mirrored_class_and_an_unflipped_one_keeps_its_own(two_videos):
    _, paths = two_videos
    dataset = ClipDataset(
        [_record(paths[0], label=0)] * 40, 2, "train", (32, 32), seed=0, allow_flip=True, flip_label_map=(1, 0, 2)
    )
    items = [dataset[(0, i)] for i in range(40)]
    flipped = [int(item["augment"][3]) for item in items]
    assert 0 < sum(flipped) < 40
    assert [item["label"] for item in items] == [1 if f else 0 for f in flipped]


def test_test_views_decode_every_view_in_order(two_videos):
    _, paths = two_videos
    dataset = ClipDataset([_record(paths[0])], 2, "test", (32, 32), seed=0, test_views=3)
    frames = dataset[0]["frames"]
    assert frames.shape[0] == 3 * 2
    red = (frames[:, 16, 16, 0].float() / 20).round().long().tolist()
    assert red == view_indices(12, 2, 3)
    assert red == [1, 7, 3, 9, 5, 11]  # view v of segment i: floor(6 * (i + (v + 0.5) / 3))
