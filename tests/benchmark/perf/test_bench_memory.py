"""The decoder memory benchmark: RSS samples, leak detection, and the CSV it writes."""
import argparse
import mmap
from pathlib import Path

import pandas as pd
import pytest

from benchmark.perf import memory as bench_memory
from benchmark.perf.memory import (
    add_memory_parser,
    decode_loop,
    growth_between,
    measure_memory,
)
from datamodules.datasets import get_dataset


def train_records(folder: Path):
    return get_dataset("synthetic").load(folder, "default", False).train


def test_samples_at_start_every_n_clips_and_at_the_end(tiny_synthetic):
    readings = iter(range(100))
    samples = decode_loop(train_records(tiny_synthetic), 25, 4, (80, 80), every=10, memory=lambda: float(next(readings)))
    assert [clips for clips, _, _ in samples] == [0, 10, 20, 25]  # more clips than videos: the list is cycled
    assert [rss for _, rss, _ in samples] == [0.0, 1.0, 2.0, 3.0]
    seconds = [elapsed for _, _, elapsed in samples]
    assert seconds == sorted(seconds)


def test_a_leaking_reader_shows_as_growth_and_the_real_reader_does_not(tiny_synthetic, monkeypatch):
    records = train_records(tiny_synthetic)
    sound = measure_memory(records, "sound", 60, 4, (80, 80), every=20)
    assert abs(growth_between(sound, 20, 60)) < 8.0

    kept = []
    real_read = bench_memory.read_record

    def leaking_read(record, sample, size):
        # 1 MiB never released per clip, in fresh pages (memory the allocator freed earlier in
        # this process could otherwise absorb a heap allocation without any RSS growth)
        block = mmap.mmap(-1, 2**20)
        block.write(b"\x01" * 2**20)
        kept.append(block)
        return real_read(record, sample, size)

    monkeypatch.setattr(bench_memory, "read_record", leaking_read)
    leaking = measure_memory(records, "leaking", 60, 4, (80, 80), every=20)
    assert growth_between(leaking, 20, 60) > 30.0


def test_bad_arguments_are_refused(tiny_synthetic):
    with pytest.raises(ValueError, match="no videos"):
        decode_loop([], 10, 4, (80, 80))
    with pytest.raises(ValueError, match=">= 1"):
        decode_loop(train_records(tiny_synthetic), 0, 4, (80, 80))


def test_command_prints_a_table_and_writes_the_machine_csv(tiny_synthetic, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_memory_parser(parser.add_subparsers(dest="bench_command"))
    args = parser.parse_args(
        ["memory", "--clips", "20", "--every", "10", "--data-root", str(tiny_synthetic), "--out-dir", str(tmp_path)]
    )
    assert args.handler(args) == 0
    written = list(tmp_path.glob("memory_*.csv"))
    assert len(written) == 1
    table = pd.read_csv(written[0])
    assert list(table.columns) == bench_memory.CSV_COLUMNS
    assert list(table["clips"]) == [0, 10, 20] and set(table["source"]) == {"synthetic"}
    assert (table["decode_size"] == "80x80").all() and (table["segments"] == 8).all()
    assert "synthetic: " in capsys.readouterr().out
