"""Feature-cache training of frozen-backbone runs: cache contents, reuse, data module, module, runs."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import pytorch_lightning as pl
import torch

from benchmark.run import feature_cache
from benchmark.run.cached_module import FrozenBackboneClassifier
from benchmark.run.config import resolve_config
from benchmark.run.feature_cache import cache_identity, cache_key, ensure_feature_cache
from benchmark.run.data import build_datamodule
from benchmark.run.runner import RunOptions, run
from benchmark.run.sweep import load_sweep
from datamodules.cached_features import (
    CachedFeatureDataModule,
    FeatureCache,
    FeatureDataset,
    collate_features,
)
from datamodules.clip_dataset import EpochKeyedSampler, collate_clips

NUM_CLASSES = 10


def frozen_config(**overrides):
    settings = {"frozen_backbone": True, "epochs": 1, "batch_size": 4, "segments": 3, "cached_views": 2, **overrides}
    return resolve_config("synthetic", **settings)


def options(tiny: Path, tmp_path: Path, **overrides) -> RunOptions:
    base = RunOptions(
        data_root=str(tiny),
        results_dir=str(tmp_path / "results"),
        work_dir=str(tmp_path / "runs"),
        accelerator="cpu",
        num_workers=0,
        progress=False,
    )
    return replace(base, **overrides)


def parts(config, tiny: Path):
    """The model and clip datamodule a run builds (same seeding as ``run``)."""
    pl.seed_everything(config.seed, workers=True, verbose=False)
    model = FrozenBackboneClassifier(config, NUM_CLASSES)
    options = RunOptions(data_root=str(tiny), num_workers=0, progress=False)
    clips = build_datamodule(config, options, model.net.backbone.input_norm)
    return model, clips


@pytest.fixture(scope="module")
def built(tiny_synthetic, tmp_path_factory):
    config = frozen_config(epochs=2)
    model, clips = parts(config, tiny_synthetic)
    root = tmp_path_factory.mktemp("cache")
    directory = ensure_feature_cache(config, clips, model.net.backbone, root, num_workers=0, progress=False)
    return config, model, clips, directory


def backbone_maps(model, clips, items) -> torch.Tensor:
    """The frozen backbone on items of a ClipDataset, transformed as the datamodule does on the device."""
    batch = clips.on_after_batch_transfer(collate_clips(items), 0)
    model.net.backbone.eval()
    with torch.no_grad():
        frames = batch["frames"]
        maps = model.net.backbone(frames.flatten(0, 1))
    return maps.reshape(*frames.shape[:2], *maps.shape[1:])


def test_cached_training_views_are_the_backbone_on_the_training_draws(built):
    _, model, clips, directory = built
    cache = FeatureCache.open(directory)
    train = clips.train_dataloader().dataset
    assert cache.features["train"].shape == (2, len(train), 3, 128, 2, 2)
    assert cache.features["train"].dtype == np.float16
    for view, index in [(0, 0), (1, 0), (1, 17)]:
        expected = backbone_maps(model, clips, [train[(view, index)]])[0]
        cached = torch.from_numpy(np.array(cache.features["train"][view, index]))
        torch.testing.assert_close(cached.float(), expected.half().float(), rtol=2e-3, atol=2e-3)
        assert cache.labels["train"][view, index] == train.records[index].label
    # two views of one video are two different draws
    assert not np.array_equal(cache.features["train"][0, 0], cache.features["train"][1, 0])


def test_test_videos_get_their_deterministic_test_view(built):
    _, model, clips, directory = built
    cache = FeatureCache.open(directory)
    test = clips.test_dataloader().dataset
    assert cache.features["test"].shape[:2] == (1, 9)
    expected = backbone_maps(model, clips, [test[(0, i)] for i in (0, 8)])
    cached = torch.from_numpy(np.array(cache.features["test"][0, [0, 8]]))
    torch.testing.assert_close(cached.float(), expected.half().float(), rtol=2e-3, atol=2e-3)
    assert list(cache.labels["test"][0]) == [record.label for record in test.records]


def test_a_second_build_is_a_hit(built, monkeypatch):
    config, model, clips, directory = built
    meta = (directory / "meta.json").read_text()

    def no_build(*args, **kwargs):
        raise AssertionError("the cache was built again")

    monkeypatch.setattr(feature_cache, "write_features", no_build)
    again = ensure_feature_cache(config, clips, model.net.backbone, directory.parent, progress=False)
    assert again == directory and (directory / "meta.json").read_text() == meta
    assert [p.name for p in directory.parent.iterdir() if p.is_dir()] == [directory.name]  # no temporary left


def test_the_key_follows_seed_views_backbone_and_data_but_not_partial_bn(built, tiny_synthetic):
    config, model, clips, directory = built
    key = cache_key(cache_identity(config, clips, model.net.backbone))
    assert key == directory.name
    other_seed = frozen_config(epochs=2, seed=1)
    other_model, other_clips = parts(other_seed, tiny_synthetic)
    assert cache_key(cache_identity(other_seed, other_clips, other_model.net.backbone)) != key
    backbone = model.net.backbone
    assert cache_key(cache_identity(frozen_config(epochs=2, cached_views=1), clips, backbone)) != key
    assert cache_key(cache_identity(frozen_config(epochs=3, cached_views=3), clips, backbone)) != key
    # views no epoch reads are not built: 3 views for 2 epochs is the 2-view cache
    assert cache_key(cache_identity(frozen_config(epochs=2, cached_views=3), clips, backbone)) == key
    assert cache_key(cache_identity(frozen_config(epochs=2, partial_bn=True), clips, backbone)) == key
    changed = FrozenBackboneClassifier(config, NUM_CLASSES).net.backbone
    changed.load_state_dict(model.net.backbone.state_dict())
    assert cache_key(cache_identity(config, clips, changed)) == key
    with torch.no_grad():
        changed.features[0][0].weight[0, 0, 0, 0] += 1.0
    assert cache_key(cache_identity(config, clips, changed)) != key
    _, more_segments = parts(frozen_config(epochs=2, segments=4), tiny_synthetic)
    assert cache_key(cache_identity(frozen_config(epochs=2, segments=4), more_segments, backbone)) != key


def test_settings_the_cache_cannot_serve_are_refused(built):
    config, model, clips, _ = built
    with pytest.raises(ValueError, match="one test view"):
        cache_identity(replace(config, test_clips=2), clips, model.net.backbone)
    with pytest.raises(ValueError, match="rgb"):
        cache_identity(replace(config, modality="flow"), clips, model.net.backbone)
    with pytest.raises(FileNotFoundError, match="meta.json"):
        FeatureCache.open(clips.root)


def test_epoch_e_serves_view_e_mod_views(built):
    _, _, _, directory = built
    cache = FeatureCache.open(directory)
    dataset = FeatureDataset(cache.features["train"], cache.labels["train"])
    for epoch in range(5):
        item = dataset[(epoch, 4)]
        assert np.array_equal(item["features"].numpy(), cache.features["train"][epoch % 2, 4])
        assert item["label"] == cache.labels["train"][epoch % 2, 4]


def test_unreadable_clips_of_the_build_stay_skipped(built):
    _, _, _, directory = built
    cache = FeatureCache.open(directory)
    dataset = FeatureDataset(cache.features["train"], cache.labels["train"], {(1, 4): "broken.mp4: cannot open"})
    assert dataset[(1, 4)] == {"index": 4, "failed": "broken.mp4: cannot open"}
    assert "features" in dataset[(0, 4)]
    batch = collate_features([dataset[(1, 3)], dataset[(1, 4)]])
    assert batch["features"].shape[0] == 1 and batch["failed"] == [(4, "broken.mp4: cannot open")]


def test_loaders_shard_like_the_clip_datamodule(built):
    _, _, clips, directory = built
    datamodule = CachedFeatureDataModule(clips, lambda device: directory)
    datamodule.setup()
    assert datamodule.splits is clips.splits
    seen = []
    train_lengths = []
    for rank in range(2):
        datamodule._world = lambda rank=rank: (2, rank)
        test = datamodule.test_dataloader()
        seen += [int(i) for batch in test for i in batch["index"]]
        train = datamodule.train_dataloader()
        assert isinstance(train.sampler, EpochKeyedSampler) and train.sampler.shuffle and train.sampler.pad
        train_lengths.append(len(train.sampler))
    assert sorted(seen) == list(range(9))  # every test video once, no padding
    assert train_lengths[0] == train_lengths[1]
    batch = next(iter(datamodule.val_dataloader()))
    assert batch["features"].dtype == torch.float16 and batch["features"].shape[1:] == (3, 128, 2, 2)


def test_module_trains_only_transform_and_head_and_reads_maps_or_clips(built):
    config, _, clips, _ = built
    model = FrozenBackboneClassifier(config, NUM_CLASSES)
    assert not any(p.requires_grad for p in model.net.backbone.parameters())
    model.train()
    assert not model.net.backbone.training and model.net.head.training
    optimizer = model.configure_optimizers()["optimizer"]
    optimised = {id(p) for group in optimizer.param_groups for p in group["params"]}
    trainable = {id(p) for p in [*model.net.transform.parameters(), *model.net.head.parameters()]}
    assert optimised == trainable
    model.eval()
    batch = clips.on_after_batch_transfer(collate_clips([clips.test_dataloader().dataset[(0, i)] for i in range(2)]), 0)
    maps = model.encode(batch["frames"])
    assert maps.shape == (2, 3, 128, 2, 2)
    with torch.no_grad():
        torch.testing.assert_close(model(batch["frames"]), model(maps))
        torch.testing.assert_close(model(maps), model.net(batch["frames"]))
    with pytest.raises(ValueError, match="expected backbone maps"):
        model(torch.zeros(2, 3, 128, 4, 4))


def test_sweep_files_pass_frozen_backbone_through(tmp_path):
    sweep_file = tmp_path / "frozen.yaml"
    sweep_file.write_text("grid:\n  head: [tsn, lstm]\nsettings:\n  frozen_backbone: true\n  cached_views: 2\n")
    cells = load_sweep(sweep_file).cells
    assert all(cell.frozen_backbone and cell.cached_views == 2 for cell in cells)


def checkpoint_state(tmp_path: Path, config) -> dict[str, torch.Tensor]:
    saved = torch.load(tmp_path / "runs" / config.run_id / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    return saved["state_dict"]


def assert_only_transform_and_head_changed(state: dict[str, torch.Tensor], initial: FrozenBackboneClassifier) -> None:
    start = initial.state_dict()
    backbone_keys = [key for key in start if key.startswith("net.backbone.")]
    assert backbone_keys and all(torch.equal(state[key], start[key]) for key in backbone_keys)
    assert not torch.equal(state["net.transform.linear.weight"], start["net.transform.linear.weight"])


@pytest.mark.slow
@pytest.mark.parametrize("cached", [True, False])
def test_frozen_runs_finish_with_every_test_video_counted(tiny_synthetic, tmp_path, cached):
    config = frozen_config(head="lstm")
    initial, _ = parts(config, tiny_synthetic)
    row = run(config, options(tiny_synthetic, tmp_path, feature_cache=cached))
    assert row is not None and row["status"] == "finished"
    assert row["n_test_expected"] == 9 and row["n_test_evaluated"] == 9
    leaderboard = pd.read_csv(tmp_path / "results" / "leaderboard.csv", dtype={"run_id": str})
    assert list(leaderboard["run_id"]) == [config.run_id]
    assert row["backbone_params"] > 0 and row["total_params"] == row["head_params"] + row["transform_params"] + row["backbone_params"]
    caches = list((tmp_path / "runs" / "feature_cache").glob("*/meta.json"))
    assert len(caches) == (1 if cached else 0)
    assert_only_transform_and_head_changed(checkpoint_state(tmp_path, config), initial)


@pytest.mark.slow
def test_cached_and_uncached_runs_see_the_same_clips(tiny_synthetic, tmp_path):
    """With epochs <= cached_views, epoch e trains on view e = the draw the uncached run makes in epoch e."""
    config = frozen_config(head="tsn", epochs=2)
    run(config, options(tiny_synthetic, tmp_path / "cached"))
    run(config, options(tiny_synthetic, tmp_path / "uncached", feature_cache=False))
    cached = checkpoint_state(tmp_path / "cached", config)
    uncached = checkpoint_state(tmp_path / "uncached", config)
    weight = "net.transform.linear.weight"
    torch.testing.assert_close(cached[weight], uncached[weight], rtol=1e-2, atol=1e-4)


def test_bench_cells_are_the_sweeps_heads_frozen(tmp_path):
    from benchmark.perf.cache import bench_cells

    sweep_file = tmp_path / "heads.yaml"
    sweep_file.write_text("grid:\n  head: [tsn, lstm, gru]\nsettings:\n  epochs: 3\n")
    cells = bench_cells(sweep_file, heads=["gru", "tsn"], epochs=2, cached_views=2)
    assert [c.head for c in cells] == ["tsn", "gru"]
    assert all(c.frozen_backbone and c.epochs == 2 and c.cached_views == 2 for c in cells)
    with pytest.raises(ValueError, match="blstm"):
        bench_cells(sweep_file, heads=["blstm"])


def test_bench_summary_totals_and_speedups(built):
    from benchmark.perf.cache import CSV_COLUMNS, TOTAL, summarise

    _, _, _, directory = built
    cached = [{"head": "tsn", "wall_s": 4.0, "top1": 0.5}, {"head": "lstm", "wall_s": 1.0, "top1": 0.25}]
    uncached = [{"head": "lstm", "wall_s": 6.0, "top1": 0.75}, {"head": "tsn", "wall_s": 9.0, "top1": 0.5}]
    table = summarise(cached, uncached, FeatureCache.open(directory), {"machine": "m", "epochs": 2})
    assert list(table.columns) == CSV_COLUMNS
    rows = table.set_index("head")
    assert rows.loc["tsn", "speedup"] == 2.25 and rows.loc["lstm", "speedup"] == 6.0
    assert rows.loc[TOTAL, "cached_wall_s"] == 5.0 and rows.loc[TOTAL, "uncached_wall_s"] == 15.0
    assert rows.loc[TOTAL, "speedup"] == 3.0 and rows.loc[TOTAL, "uncached_top1"] == 0.625
    meta = FeatureCache.open(directory).meta
    # pandas rounds as numpy does (0.65 -> 0.6), Python's round as the decimal would (0.65 -> 0.7): one decimal,
    # within half a tenth of the measured build time
    build_s = rows.loc[TOTAL, "cache_build_s"]
    assert build_s == np.round(meta["build_seconds"], 1)
    assert abs(build_s - meta["build_seconds"]) <= 0.05 + 1e-9
    assert rows.loc[TOTAL, "train_videos"] == 30 and rows.loc[TOTAL, "views_built"] == 2
    assert set(table["machine"]) == {"m"}
