"""Reliability: every fault planted by tests/faults.py gets its documented behaviour.

* unreadable videos (zero bytes, cut in half, a text file named .mp4, missing): under
  ``on_bad_video="fail"`` the run stops with an error naming the file and its annotation line and
  leaves a ``failed`` leaderboard row; under ``"skip"`` they are counted and listed in
  ``bad_videos.csv`` and every other test video is evaluated exactly once — also when the error
  happens inside a DataLoader worker;
* unusual but valid videos are read: a 1-frame video gives T copies of its frame (the sampler
  repeats indices of short videos), other resolutions and frame rates come out at the dataset's
  decode size, and a path with spaces and non-ASCII characters works end to end;
* malformed annotation lines raise AnnotationError naming file and line; blank lines and CRLF
  line ends are accepted;
* a non-finite training loss stops the run with NonFiniteLossError and a ``failed`` row;
* a writer SIGKILLed during a leaderboard write leaves whole rows only (that a killed run is
  resumed by a re-run is tests/benchmark/run/test_sweep.py's SIGKILL test);
* under DDP a failure on one process ends the whole run promptly.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from benchmark.run.config import RunConfig, resolve_config
from benchmark.run.module import NonFiniteLossError, VideoClassifier
from benchmark.results.leaderboard import read_leaderboard, upsert_rows
from benchmark.run.runner import RunOptions, run
from datamodules.clip_dataset import ClipDataset
from datamodules.datasets import get_dataset
from datamodules.decoding.video import VideoReadError, read_record
from datamodules.records import AnnotationError
from datamodules.sampling.segments import segment_indices
from tests import faults

ROOT = Path(__file__).resolve().parents[1]
SPEC = get_dataset("synthetic")
BATCH = 4


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    return faults.make_tiny_dataset(tmp_path_factory.mktemp("faults-synthetic"))


@pytest.fixture
def dataset(tiny_dataset, tmp_path) -> Path:
    """A private copy of the tiny dataset, for a test to damage."""
    return faults.copy_dataset(tiny_dataset, tmp_path / "data")


def load(folder: Path):
    return SPEC.load(folder, "default", False)


def tiny_config(**overrides) -> RunConfig:
    return resolve_config("synthetic", **{"head": "tsn", "epochs": 1, "batch_size": BATCH, "segments": 4, **overrides})


def options(folder: Path, tmp_path: Path, **overrides) -> RunOptions:
    settings = {
        "data_root": str(folder), "results_dir": str(tmp_path / "results"), "work_dir": str(tmp_path / "runs"),
        "accelerator": "cpu", "num_workers": 0, "progress": False,
    }  # fmt: skip
    return RunOptions(**{**settings, **overrides})


def leaderboard(tmp_path: Path) -> pd.DataFrame:
    return read_leaderboard(tmp_path / "results" / "leaderboard.csv")


def assert_one_failed_row(tmp_path: Path, config: RunConfig, *mentions: str) -> None:
    board = leaderboard(tmp_path)
    assert list(board["run_id"]) == [config.run_id]
    row = board.iloc[0]
    assert row["status"] == "failed"
    for text in mentions:
        assert text in row["error"]


def clip_dataset(records, mode: str = "train", segments: int = 8, **settings) -> ClipDataset:
    return ClipDataset(records, segments, mode, SPEC.decode_size, seed=0, **settings)


# -- unreadable videos -----------------------------------------------------------------------------
@pytest.mark.parametrize("fault", faults.UNREADABLE)
def test_an_unreadable_video_raises_a_read_error_naming_file_and_line_or_is_skipped(dataset, fault):
    planted = faults.UNREADABLE[fault](dataset, "train", 2)
    records = load(dataset).train
    with pytest.raises(VideoReadError) as raised:
        clip_dataset(records)[2]
    assert str(planted.path) in str(raised.value) and planted.source in str(raised.value)
    item = clip_dataset(records, on_bad_video="skip")[2]
    assert item["index"] == 2 and planted.source in item["failed"] and "frames" not in item


# (fault, split it is planted in): a training fault sits in the first training batch; the others
# are reached after one training batch.
FAIL_CASES = [("zero_byte", "train"), ("truncated", "test"), ("text_as_mp4", "val"), ("missing", "train")]


@pytest.mark.slow
@pytest.mark.parametrize("fault, split", FAIL_CASES)
def test_fail_policy_stops_the_run_naming_the_video_and_leaves_a_failed_row(dataset, tmp_path, fault, split):
    config = tiny_config()
    position = faults.first_training_batch(dataset, config.seed, BATCH)[1] if split == "train" else 0
    planted = faults.UNREADABLE[fault](dataset, split, position)
    with pytest.raises(VideoReadError) as raised:
        run(config, options(dataset, tmp_path, on_bad_video="fail", limit_train_batches=1))
    assert str(planted.path) in str(raised.value) and planted.source in str(raised.value)
    assert_one_failed_row(tmp_path, config, "VideoReadError", str(planted.path), planted.source)


def assert_skipped_and_listed(tmp_path: Path, config: RunConfig, row: dict, train: list, test: list) -> None:
    """Counts in the row, one bad_videos.csv line per planted video, each pointing at its annotation line."""
    assert row["status"] == "finished"
    assert row["n_train_skipped"] == len(train)
    assert row["n_test_failed"] == len(test)
    assert row["n_test_evaluated"] == row["n_test_expected"] - row["n_test_failed"]
    assert row["n_test"] == row["n_test_evaluated"]
    saved = leaderboard(tmp_path).set_index("run_id").loc[config.run_id]
    assert saved["n_train_skipped"] == len(train) and saved["n_test_failed"] == len(test)
    bad = pd.read_csv(tmp_path / "results" / "runs" / config.run_id / "bad_videos.csv", dtype={"video_id": str})
    listed = {(entry.stage, entry.video_id, entry.source) for entry in bad.itertuples()}
    assert listed == {(p.split, p.video_id, p.source) for p in train + test}
    for entry in bad.itertuples():
        assert entry.path in entry.reason


def assert_other_test_videos_evaluated_once(dataset: Path, tmp_path: Path, config: RunConfig, bad: list) -> None:
    """The confusion matrix's per-class support is exactly that of the readable test videos."""
    labels = faults.labels_by_id(dataset, "test")
    for planted in bad:
        del labels[planted.video_id]
    expected = pd.Series(list(labels.values())).value_counts()
    confusion = pd.read_csv(tmp_path / "results" / "runs" / config.run_id / "confusion.csv", index_col=0)
    support = confusion["support"][confusion["support"] > 0]
    assert support.sort_index().to_dict() == expected.sort_index().to_dict()


@pytest.mark.slow
def test_skip_policy_counts_and_lists_bad_training_and_test_videos(dataset, tmp_path):
    config = tiny_config()
    # every clip of the first training batch is unreadable (that step has nothing to train on)
    first = faults.first_training_batch(dataset, config.seed, BATCH)
    train = [plant(dataset, "train", position) for plant, position in zip(faults.UNREADABLE.values(), first)]
    test = [faults.plant_text_file(dataset, "test", 0), faults.plant_truncated(dataset, "test", 3)]
    row = run(config, options(dataset, tmp_path, on_bad_video="skip", limit_train_batches=2))
    assert_skipped_and_listed(tmp_path, config, row, train, test)
    assert_other_test_videos_evaluated_once(dataset, tmp_path, config, test)


@pytest.mark.slow
def test_a_decode_error_inside_a_loader_worker_does_not_kill_a_skip_run(dataset, tmp_path):
    config = tiny_config()
    train = [faults.plant_truncated(dataset, "train", faults.first_training_batch(dataset, config.seed, BATCH)[0])]
    test = [faults.plant_zero_byte(dataset, "test", 1)]
    row = run(config, options(dataset, tmp_path, on_bad_video="skip", num_workers=2, limit_train_batches=2))
    assert_skipped_and_listed(tmp_path, config, row, train, test)
    assert_other_test_videos_evaluated_once(dataset, tmp_path, config, test)


# -- unusual but valid videos -----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["train", "test"])
def test_a_one_frame_video_with_8_segments_repeats_its_frame(dataset, mode):
    faults.plant_one_frame(dataset, "train", 0)
    item = clip_dataset(load(dataset).train, mode, segments=8)[0]
    frames = item["frames"]
    assert frames.shape == (8, *SPEC.decode_size, 3)
    assert all(torch.equal(frame, frames[0]) for frame in frames)


def test_other_resolutions_and_frame_rates_are_read_at_the_decode_size(dataset):
    original_counts = [faults.video_info(faults.pick(dataset, "train", position).path)[0] for position in (0, 1)]
    planted = [
        faults.plant_other_format(dataset, "train", 0, size=(120, 160), fps=30),
        faults.plant_other_format(dataset, "train", 1, size=(48, 96), fps=5),
    ]
    records = load(dataset).train
    for position, video in enumerate(planted):
        frame_count, height, width, fps = faults.video_info(video.path)
        assert (height, width) != SPEC.decode_size and fps != faults.TINY.fps
        assert frame_count == original_counts[position]
        frames, read_count = read_record(records[position], lambda n: segment_indices(n, 8, "test"), SPEC.decode_size)
        assert read_count == frame_count and frames.shape == (8, *SPEC.decode_size, 3)


def test_a_path_with_spaces_and_non_ascii_characters_is_read(dataset):
    planted = faults.plant_unusual_name(dataset, "test", 0)
    record = load(dataset).test[0]
    assert record.video_id == planted.video_id and record.path == planted.path and " " in record.path.name
    assert clip_dataset([record], "test")[0]["frames"].shape == (8, *SPEC.decode_size, 3)


@pytest.mark.slow
def test_unusual_videos_train_and_test_end_to_end_under_the_fail_policy(dataset, tmp_path):
    config = tiny_config(segments=8)
    first = faults.first_training_batch(dataset, config.seed, BATCH)
    faults.plant_one_frame(dataset, "train", first[0])
    faults.plant_other_format(dataset, "train", first[1], size=(120, 160), fps=30)
    faults.plant_unusual_name(dataset, "train", first[2], name="train clip ü 名")
    faults.plant_one_frame(dataset, "test", 0)
    faults.plant_other_format(dataset, "test", 1, size=(48, 96), fps=5)
    faults.plant_unusual_name(dataset, "test", 2)
    row = run(config, options(dataset, tmp_path, on_bad_video="fail", limit_train_batches=1))
    assert row["status"] == "finished" and row["n_test_failed"] == 0 and row["n_train_skipped"] == 0
    assert row["n_test_evaluated"] == row["n_test_expected"] == len(faults.labels_by_id(dataset, "test"))


# -- annotation files -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", faults.BAD_LINES)
@pytest.mark.parametrize("split", ["train", "test"])
def test_a_malformed_annotation_line_raises_naming_file_and_line(dataset, kind, split):
    planted = faults.plant_bad_line(dataset, split, kind, position=3)
    with pytest.raises(AnnotationError) as raised:
        load(dataset)
    assert raised.value.path == str(planted.annotation) and raised.value.line_number == planted.line == 4
    assert f"{planted.annotation}:{planted.line}:" in str(raised.value)


def test_a_duplicate_class_name_raises_naming_file_and_line(dataset):
    planted = faults.plant_duplicate_class(dataset)
    with pytest.raises(AnnotationError, match=f"{planted.annotation}:{planted.line}: class .* already listed on line 1"):
        load(dataset)


def test_blank_lines_and_crlf_line_ends_are_accepted(dataset, tiny_dataset):
    for split in faults.SPLIT_FILES:
        faults.add_blank_lines(dataset, split)
    faults.use_crlf(dataset)
    assert b"\r\n\r\n" in faults.split_file(dataset, "train").read_bytes()
    original, edited = load(tiny_dataset), load(dataset)
    assert edited.class_names == original.class_names
    for split in ("train", "val", "test"):
        before, after = getattr(original, split), getattr(edited, split)
        assert [(r.video_id, r.label, r.path.name) for r in after] == [(r.video_id, r.label, r.path.name) for r in before]
        for record in after:  # each record still points at the line that lists it
            file, line = record.source.rsplit(":", 1)
            assert faults.read_lines(Path(file))[int(line) - 1].startswith(f"{record.video_id};")


@pytest.mark.slow
def test_a_run_on_a_malformed_annotation_fails_with_a_row_naming_file_and_line(dataset, tmp_path):
    planted = faults.plant_bad_line(dataset, "val", "unknown_label")
    config = tiny_config()
    with pytest.raises(AnnotationError):
        run(config, options(dataset, tmp_path))
    assert_one_failed_row(tmp_path, config, "AnnotationError", f"{planted.annotation}:{planted.line}")


@pytest.mark.slow
def test_an_empty_test_split_is_refused_before_training(dataset, tmp_path):
    faults.empty_split(dataset, "test")
    config = tiny_config()
    with pytest.raises(ValueError, match="empty") as raised:
        run(config, options(dataset, tmp_path, limit_train_batches=1))
    assert str(dataset) in str(raised.value) and "test" in str(raised.value)  # names the data and the split
    assert not (tmp_path / "runs" / config.run_id / "checkpoints" / "last.ckpt").exists()


# -- training ---------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_nan_loss_stops_the_run_with_a_failed_row(dataset, tmp_path, monkeypatch):
    real_loss = VideoClassifier._loss

    def nan_loss(self, scores, targets):
        return real_loss(self, scores, targets) * float("nan")

    monkeypatch.setattr(VideoClassifier, "_loss", nan_loss)
    config = tiny_config()
    with pytest.raises(NonFiniteLossError, match="training loss is nan at epoch 0"):
        run(config, options(dataset, tmp_path, limit_train_batches=2))
    assert_one_failed_row(tmp_path, config, "NonFiniteLossError", "training loss is nan")


# -- a writer killed mid-write ---------------------------------------------------------------------
WRITER = textwrap.dedent(
    """
    import os, sys, time
    from benchmark.results import leaderboard as results

    board, pause_at = sys.argv[1], int(sys.argv[2])
    real_fsync, writes = os.fsync, []

    def announcing_fsync(fd):
        # the temporary file is written, not yet renamed into place: the moment to be killed in
        writes.append(1)
        if len(writes) == pause_at:
            print("writing", flush=True)
            time.sleep(60)
        real_fsync(fd)

    os.fsync = announcing_fsync
    for i in range(100000):
        results.upsert_rows(board, [{"run_id": f"run{i:05d}", "status": "finished", "head": f"h{i}",
                                     "top1": i / 100000, "error": "x" * 200}])
    """
)


def sigkill_writer(board: Path, pause_at: int, delay: float | None) -> None:
    """Start a process upserting rows one at a time; SIGKILL it while it writes its ``pause_at``-th
    table (``delay`` None), or ``delay`` seconds after its first write."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(board), str(pause_at)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        if delay is None:
            assert process.stdout.readline().strip() == "writing"
        else:
            deadline = time.time() + 60
            while not board.exists() and time.time() < deadline:
                time.sleep(0.01)
            time.sleep(delay)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def assert_whole_rows(board: Path) -> int:
    table = pd.read_csv(board, dtype={"run_id": str})
    numbers = table["run_id"].str.removeprefix("run").astype(int)
    assert list(numbers) == list(range(len(table)))  # every upsert before the kill, none torn
    assert (table["status"] == "finished").all()
    assert list(table["head"]) == [f"h{i}" for i in numbers]
    assert list(table["top1"]) == [i / 100000 for i in numbers]
    assert (table["error"] == "x" * 200).all()
    return len(table)


@pytest.mark.slow
def test_a_sigkill_during_leaderboard_writes_leaves_whole_rows_only(tmp_path):
    board = tmp_path / "leaderboard.csv"
    sigkill_writer(board, pause_at=40, delay=None)
    assert assert_whole_rows(board) == 39  # the 40th table was written aside, never renamed in
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1  # the killed writer's temporary file stays behind, outside the table
    board.unlink()
    sigkill_writer(board, pause_at=0, delay=0.5)  # a kill at an arbitrary moment
    count = assert_whole_rows(board)
    upsert_rows(board, [{"run_id": f"run{count:05d}", "status": "finished", "head": f"h{count}",
                         "top1": count / 100000, "error": "x" * 200}])  # the lock was released  # fmt: skip
    assert assert_whole_rows(board) == count + 1
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # the next writer cleared them


# -- DDP --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_bad_video_read_by_one_ddp_process_ends_the_whole_run_promptly(dataset, tmp_path):
    # the test loader gives process r the videos r, r + 2, ...: the second one is read by rank 1 only
    planted = faults.plant_truncated(dataset, "test", 1)
    command = [
        sys.executable, "-m", "benchmark", "run", "--head", "tsn", "--epochs", "1", "--batch-size", "2",
        "--segments", "2", "--data-root", str(dataset), "--results-dir", str(tmp_path / "results"),
        "--work-dir", str(tmp_path / "runs"), "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp",
        "--workers", "0", "--no-progress", "--limit-train-batches", "1",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.time()
    # a session of its own: a hung run is ended with every process it started
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        _, stderr = process.communicate()
        pytest.fail(f"the run was still going after 120 s; its stderr ends with:\n{stderr[-3000:]}")
    elapsed = time.time() - started
    assert process.returncode != 0, stderr[-3000:]
    assert elapsed < 100, f"the failed run took {elapsed:.0f} s to end"
    assert "VideoReadError" in stderr and f"{planted.path}: cannot open video" in stderr
    assert planted.source in stderr
    board = leaderboard(tmp_path)
    assert list(board["status"]) == ["failed"]
    assert "VideoReadError" in board["error"].iloc[0] and planted.source in board["error"].iloc[0]  # the cause, not a peer's
