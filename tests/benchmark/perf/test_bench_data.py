import argparse
import re

import numpy as np
import pandas as pd
import pytest

from benchmark.perf import data as bench_data
from benchmark.cli.bench import add_bench_parser
from benchmark.perf.machine import machine_name, upsert_keyed


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="stbench")
    add_bench_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_decoder_plan_reads_the_frames_the_training_loader_reads(tiny_synthetic, monkeypatch):
    records = bench_data.dataset_records("synthetic", tiny_synthetic, 12)
    loader = bench_data.training_loader(records, "synthetic", tiny_synthetic, 5, batch_size=4, decode_size=(48, 40), workers=0, seed=7)
    keys = list(loader.sampler)
    jobs = bench_data.plan_clips(loader.dataset, keys)

    read = []
    original = loader.dataset.reader

    def recording_read_record(record, sample, size=None):
        def recorded(num_frames):
            indices = sample(num_frames)
            read.append((str(record.path), tuple(indices)))
            return indices

        return original(record, recorded, size)

    monkeypatch.setattr(loader.dataset, "reader", recording_read_record)
    items = [loader.dataset[key] for key in keys]
    assert read == [(job.path, job.indices) for job in jobs]
    assert len({job.indices for job in jobs}) > 1  # the draws differ from clip to clip
    for item, job in list(zip(items, jobs))[:3]:
        np.testing.assert_array_equal(item["frames"].numpy(), bench_data.decode_with_decord(job, (48, 40)))


def test_naive_baseline_picks_the_same_frames(tiny_synthetic):
    records = bench_data.dataset_records("synthetic", tiny_synthetic, 2)
    loader = bench_data.training_loader(records, "synthetic", tiny_synthetic, 4, batch_size=1, decode_size=(64, 64), workers=0, seed=0)
    jobs = bench_data.plan_clips(loader.dataset, [(0, 0), (0, 1)])
    for job in jobs:
        fast = bench_data.decode_with_decord(job, (64, 64)).astype(float)
        naive = bench_data.decode_with_pyav(job, (64, 64)).astype(float)
        assert naive.shape == fast.shape == (4, 64, 64, 3)
        # native size, so no resampling: only the colour conversions may differ slightly
        assert np.abs(naive - fast).mean() < 2.0
        shifted = np.abs(naive[1:] - fast[:-1]).mean()
        assert np.abs(naive - fast).mean() < shifted  # a different frame would be further off


def test_folder_records_repeat_every_video(tmp_path):
    for name in ("b.mp4", "a.mp4", "c.mpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    records = bench_data.folder_records(tmp_path, 5)
    assert [r.path.name for r in records] == ["a.mp4", "b.mp4", "c.mpg", "a.mp4", "b.mp4"]
    assert {r.label for r in records} == {0}
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="no video files"):
        bench_data.folder_records(empty, 1)


def test_bench_data_writes_one_row_per_pipeline_and_worker_count(tiny_synthetic, tmp_path, monkeypatch):
    monkeypatch.setenv("STBENCH_WORKER_START", "")  # --start-method sets it for the process: undone after the test
    out = tmp_path / "perf"
    argv = ["bench", "data", "--data-root", str(tiny_synthetic), "--workers", "0", "1", "--clips", "8",
            "--batch-size", "2", "--segments", "4", "--rounds", "2", "--out-dir", str(out)]  # fmt: skip
    assert _run_cli(argv) == 0
    table = pd.read_csv(out / f"data_{machine_name()}.csv")
    assert set(bench_data.CSV_COLUMNS) <= set(table.columns)
    assert sorted(zip(table["pipeline"], table["workers"])) == sorted(
        (pipeline, workers) for pipeline in bench_data.PIPELINES for workers in (0, 1)
    )
    assert (table["clips_per_s"] > 0).all()
    assert (table.loc[table["pipeline"] == "decoder", "ratio_to_decoder"] == 1.0).all()
    assert set(table["clips"]) == {6}  # 8 clips in batches of 2, the first batch a warm-up
    assert set(table["source"]) == {"synthetic"}
    assert set(table["start_method"]) == {"forkserver"}  # as in runs
    assert (table["first_batch_s"] > 0).all()

    assert _run_cli(argv[:5] + ["0"] + argv[7:]) == 0  # a rerun replaces its rows, keeps the others
    assert len(pd.read_csv(out / f"data_{machine_name()}.csv")) == 6
    assert _run_cli(argv[:5] + ["1", "--start-method", "spawn"] + argv[7:]) == 0  # another start method: rows of its own
    table = pd.read_csv(out / f"data_{machine_name()}.csv")
    assert sorted(table.loc[table["start_method"] == "spawn", "workers"]) == [1, 1, 1]
    assert len(table) == 9


def test_measure_needs_two_batches(tiny_synthetic):
    records = bench_data.dataset_records("synthetic", tiny_synthetic, 3)
    with pytest.raises(ValueError, match="two batches"):
        bench_data.measure(records, "synthetic", "synthetic", tiny_synthetic, [0], 4, 2, (32, 32), log=lambda line: None)


def test_machine_name_is_a_short_slug():
    name = machine_name()
    assert re.fullmatch(r"[a-z0-9_-]+-\d+c", name)
    assert len(name) < 80


def test_upsert_keyed_replaces_rows_with_equal_keys(tmp_path):
    path = tmp_path / "t.csv"
    upsert_keyed(path, [{"a": 1, "b": True, "v": 1.0}, {"a": 2, "b": True, "v": 2.0}], ["a", "b"])
    table = upsert_keyed(path, [{"a": 1, "b": True, "v": 3.0}, {"a": 1, "b": False, "v": 4.0}], ["a", "b"])
    assert sorted(zip(table["a"], table["b"].astype(str), table["v"])) == [
        (1, "False", 4.0), (1, "True", 3.0), (2, "True", 2.0)
    ]  # fmt: skip
    with pytest.raises(ValueError, match="key columns"):
        upsert_keyed(path, [{"a": 1}], ["a", "b"])
