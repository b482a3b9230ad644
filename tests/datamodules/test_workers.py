"""Data workers: they inherit no decoder state, and a stuck one becomes an error naming its video."""
from __future__ import annotations

import os
import time

import psutil
import pytest
import torch

from datamodules.clip_dataset import ClipDataset, collate_clips, epoch_keyed_loader
from datamodules.decoding.video import read_clip, read_record
from datamodules.records import VideoRecord
from datamodules.sampling.segments import segment_indices
from datamodules.workers import DATA_TIMEOUT_ENV, DataWorkerStalled, WatchedDataLoader, data_timeout_s, worker_context
from tests.datamodules.decoding.codec_clips import CLIPS, encode, frame_index

SEGMENTS = 4
DECODE_SIZE = (24, 32)


@pytest.fixture(scope="module")
def mpg_records(tmp_path_factory) -> list[VideoRecord]:
    """Six MPEG-1/MPEG-2 program streams: the files the harness decodes in order with PyAV."""
    folder = tmp_path_factory.mktemp("mpg")
    clips = [c for c in CLIPS if c.suffix == ".mpg"]
    paths = [encode(clip, folder) for clip in clips]
    return [
        VideoRecord(f"v{i}", path, i % 2, f"list.txt:{i + 1}") for i, path in enumerate(paths + paths[:2])
    ]


def expected_indices(record: VideoRecord) -> list[int]:
    frames = next(c.frames for c in CLIPS if c.file_name == record.path.name)
    return segment_indices(frames, SEGMENTS, "test")


def test_workers_decode_in_order_after_the_parent_converted_with_a_size(mpg_records, monkeypatch):
    # the parent converts a frame with a decode size first (the pattern that hung PyAV 18.1.1's children)
    frames, count = read_clip(mpg_records[0].path, lambda n: [0, n - 1], DECODE_SIZE)
    assert frames.shape == (2, *DECODE_SIZE, 3) and frame_index(frames[-1].numpy()) == count - 1
    monkeypatch.setenv(DATA_TIMEOUT_ENV, "60")
    earlier = {process.pid for process in worker_processes()}
    dataset = ClipDataset(mpg_records, SEGMENTS, "test", DECODE_SIZE, seed=0)
    loaders = {
        "project loader": epoch_keyed_loader(dataset, 2, False, 0, (1, 0), 2, collate_clips),
        # a loader that forks its workers from this very process: safe too, since conversions keep no threads
        "plain fork": WatchedDataLoader(
            dataset, batch_size=2, num_workers=2, collate_fn=collate_clips, multiprocessing_context="fork",
            sampler=[(0, i) for i in range(len(mpg_records))],
        ),
    }
    for name, loader in loaders.items():
        seen = {}
        for batch in loader:
            assert batch["failed"] == []
            if name == "project loader":  # its workers are the fork server's, not this process's children
                assert any(process.pid not in earlier for process in worker_processes())
            for index, clip in zip(batch["index"].tolist(), batch["frames"]):
                seen[index] = [frame_index(frame.numpy()) for frame in clip]
        assert seen == {i: expected_indices(r) for i, r in enumerate(mpg_records)}, name


def hang_on_the_third_video(record: VideoRecord, sample, size):
    """A reader whose third video never finishes decoding (as a decoder stuck on a lock would)."""
    if record.video_id == "v2":
        time.sleep(3600)
    return read_record(record, sample, size)


def test_a_stuck_worker_is_an_error_naming_its_video_within_the_limit(mpg_records, monkeypatch):
    monkeypatch.setenv(DATA_TIMEOUT_ENV, "4")
    dataset = ClipDataset(mpg_records, SEGMENTS, "test", DECODE_SIZE, seed=0, reader=hang_on_the_third_video)
    loader = epoch_keyed_loader(dataset, 1, False, 0, (1, 0), 2, collate_clips)
    earlier = {process.pid for process in worker_processes()}  # e.g. a fork server of an earlier test
    started = time.monotonic()
    with pytest.raises(DataWorkerStalled) as raised:
        for _ in loader:
            pass
    waited = time.monotonic() - started
    message = str(raised.value)
    assert f"{mpg_records[2].path} (listed at list.txt:3)" in message
    assert "within 4 s" in message
    assert sum(str(record.path) in message for record in mpg_records if record.video_id != "v2") <= 1
    assert waited < 4 + 30  # the limit, plus the workers' start-up and the shutdown of the stuck one
    # the stuck worker was stopped, not left behind (workers are the fork server's children)
    def left_behind() -> list[psutil.Process]:
        return [process for process in worker_processes() if process.pid not in earlier]

    deadline = time.monotonic() + 15
    while left_behind() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left_behind()


def worker_processes() -> list[psutil.Process]:
    """Live processes forked by this process's children (DataLoader workers from the fork server)."""
    me = os.getpid()
    found = []
    for process in psutil.Process(me).children(recursive=True):
        try:
            if process.ppid() != me and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except psutil.NoSuchProcess:
            pass
    return found


def test_worker_processes_start_from_a_fork_server_not_a_fork():
    assert worker_context().get_start_method() in ("forkserver", "spawn")
    loader = epoch_keyed_loader(ClipDataset([], 1, "test", None, 0), 1, False, 0, (1, 0), 2, collate_clips)
    assert loader.multiprocessing_context.get_start_method() == worker_context().get_start_method()


def test_data_timeout_setting(monkeypatch):
    monkeypatch.delenv(DATA_TIMEOUT_ENV, raising=False)
    assert data_timeout_s() == 300.0
    monkeypatch.setenv(DATA_TIMEOUT_ENV, "0")
    assert data_timeout_s() == 0.0
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv(DATA_TIMEOUT_ENV, bad)
        with pytest.raises(ValueError, match=DATA_TIMEOUT_ENV):
            data_timeout_s()


def test_a_loader_without_workers_reads_in_this_process(mpg_records):
    dataset = ClipDataset(mpg_records[:2], SEGMENTS, "test", DECODE_SIZE, seed=0)
    batches = list(epoch_keyed_loader(dataset, 2, False, 0, (1, 0), 0, collate_clips))
    assert batches[0]["frames"].shape == (2, SEGMENTS, *DECODE_SIZE, 3)
    assert batches[0]["frames"].dtype == torch.uint8
