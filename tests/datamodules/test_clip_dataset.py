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
