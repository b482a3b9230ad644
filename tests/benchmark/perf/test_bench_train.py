import argparse

import pandas as pd
import pytest
import torch

from benchmark.perf import train as bench_train
from benchmark.cli.bench import add_bench_parser
from benchmark.perf.machine import machine_name


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="stbench")
    add_bench_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


SMALL = ["--backbone", "smallcnn", "--head", "tsn", "--segments", "3", "--input-size", "32",
         "--batch-size", "2", "--steps", "2", "--warmup", "1", "--workers", "0"]  # fmt: skip


def test_bench_train_writes_a_row_per_option_set(tiny_synthetic, tmp_path):
    out = tmp_path / "perf"
    common = ["bench", "train", "--data-root", str(tiny_synthetic), *SMALL, "--out-dir", str(out)]
    assert _run_cli(common) == 0
    assert _run_cli(common + ["--synthetic-input", "--channels-last", "--bf16"]) == 0
    table = pd.read_csv(out / f"train_{machine_name()}.csv")
    assert len(table) == 2
    assert set(bench_train.KEY_COLUMNS) | set(bench_train.RESULT_COLUMNS) <= set(table.columns)
    assert (table["clips_per_s"] > 0).all()
    assert table["data_wait_share"].between(0, 1).all()
    ceiling = table[table["synthetic_input"]].iloc[0]
    assert ceiling["data_wait_share"] < 0.01 and bool(ceiling["bf16"]) and bool(ceiling["channels_last"])
    loader_row = table[~table["synthetic_input"]].iloc[0]
    assert (loader_row["segments"], loader_row["input_size"], loader_row["batch_size"]) == (3, 32, 2)

    assert _run_cli(common) == 0  # the same options replace their row
    assert len(pd.read_csv(out / f"train_{machine_name()}.csv")) == 2


def test_unset_sizes_come_from_the_dataset_protocol(tiny_synthetic):
    settings = bench_train.TrainBenchSettings(head="tsn", segments=2, steps=1, warmup=1, workers=0, synthetic_input=True)
    row = bench_train.measure_training(settings, data_root=tiny_synthetic)
    assert (row["input_size"], row["batch_size"]) == (64, 16)
    assert row["segments"] == 2


def test_channels_last_clips_keep_values_and_give_a_channels_last_frame_view():
    clips = torch.randn(2, 3, 3, 5, 4)
    converted = bench_train.channels_last_clips(clips)
    assert torch.equal(converted, clips)
    frames = converted.flatten(0, 1)
    assert frames.is_contiguous(memory_format=torch.channels_last)
    assert not clips.flatten(0, 1).is_contiguous(memory_format=torch.channels_last)


def test_random_batch_looks_like_a_loader_batch():
    batch = bench_train.random_batch(4, 3, (10, 12), num_classes=5, seed=0, allow_flip=False)
    assert batch["frames"].shape == (4, 3, 10, 12, 3) and batch["frames"].dtype == torch.uint8
    assert batch["label"].shape == (4,) and int(batch["label"].max()) < 5
    assert batch["augment"].shape == (4, 4) and not batch["augment"][:, 3].any()
    multi = bench_train.random_batch(4, 3, (10, 12), num_classes=5, seed=0, allow_flip=True, multi_label=True)
    assert multi["label"].shape == (4, 5) and multi["label"].dtype == torch.float32


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_cuda_without_a_device_is_a_clear_error():
    with pytest.raises(RuntimeError, match="no CUDA device"):
        bench_train.measure_training(bench_train.TrainBenchSettings(device="cuda"))


def test_needs_a_timed_step():
    with pytest.raises(ValueError, match="warm-up"):
        bench_train.measure_training(bench_train.TrainBenchSettings(steps=0))
