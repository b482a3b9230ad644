"""Sweep files, and a sweep killed with SIGKILL then re-run: no cell redone, no duplicate or partial row."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from benchmark.run.config import resolve_config
from benchmark.run.sweep import SweepProgress, load_sweep, pending_cells

ROOT = Path(__file__).resolve().parents[3]


def write_sweep(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return path


def test_grid_expands_in_order_with_shared_settings(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, """
name: demo
grid:
  head: [tsn, lstm]
  segments: [2, 3]
  seed: [0, 1]
settings:
  epochs: 1
  batch_size: 4
"""))
    assert sweep.name == "demo"
    assert [(c.head, c.segments, c.seed) for c in sweep.cells] == [
        (h, t, s) for h in ("tsn", "lstm") for t in (2, 3) for s in (0, 1)
    ]
    assert all(c.epochs == 1 and c.batch_size == 4 and c.dataset == "synthetic" for c in sweep.cells)
    assert sweep.cells[0] == resolve_config("synthetic", head="tsn", segments=2, seed=0, epochs=1, batch_size=4)


def test_head_all_is_every_head_of_the_table_in_its_order(tmp_path, monkeypatch):
    import heads

    sweep = load_sweep(write_sweep(tmp_path, "grid:\n  head: all\n  seed: [0, 1]\n"))
    assert [(c.head, c.seed) for c in sweep.cells] == [(h, s) for h in heads.HEADS for s in (0, 1)]
    monkeypatch.setitem(heads.HEADS, "tsn_again", heads.HEADS["tsn"])  # a head added to the table
    assert [c.head for c in load_sweep(write_sweep(tmp_path, "grid:\n  head: all\n")).cells] == list(heads.HEADS)


@pytest.mark.parametrize("name", ["ci_regression", "synthetic_main", "synthetic_heads"])
def test_shipped_head_all_sweeps_expand_to_the_written_out_list(tmp_path, name):
    from heads import HEADS

    shipped = ROOT / "configs" / f"{name}.yaml"
    text = shipped.read_text()
    assert "\n  head: all" in text
    written_out = write_sweep(tmp_path, text.replace("\n  head: all", f"\n  head: [{', '.join(HEADS)}]"))
    expanded, listed = load_sweep(shipped).cells, load_sweep(written_out).cells
    assert expanded == listed
    assert [c.run_id for c in expanded] == [c.run_id for c in listed]
    assert [c.head for c in expanded] == list(HEADS)


def test_shipped_head_all_sweeps_keep_the_committed_run_ids():
    """The heads that have committed results keep their run ids (a head added later has none yet)."""
    baseline = pd.read_csv(ROOT / "results" / "baselines" / "ci.csv")
    committed = list(baseline.loc[baseline["stage"] == "frozen backbone", "head"])
    committed = [head for head in committed if head != "all heads (mean)"]
    board = pd.read_csv(ROOT / "results" / "leaderboard.csv", dtype={"run_id": str}).set_index("run_id")
    for name in ("synthetic_main", "synthetic_heads"):
        cells = [c for c in load_sweep(ROOT / "configs" / f"{name}.yaml").cells if c.head in committed]
        assert len(cells) == len(committed)
        assert [board.loc[c.run_id, "head"] if c.run_id in board.index else None for c in cells] == committed, name


@pytest.mark.parametrize(
    "text, message",
    [
        ("grid:\n  head: [tsn]\n  colour: [red]\n", "unknown run settings"),
        ("grid:\n  head: [tsn]\nsettings:\n  head: lstm\n", "both in 'grid' and in 'settings'"),
        ("grid:\n  head: [tsn, tsn]\n", "repeats a configuration"),
        ("name: nothing\n", "needs a 'grid'"),
    ],
)
def test_bad_sweep_files_are_rejected(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_sweep(write_sweep(tmp_path, text))


def test_pending_cells_skip_finished_rows(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, "grid:\n  head: [tsn, lstm, mlp]\n"))
    board = tmp_path / "leaderboard.csv"
    pd.DataFrame(
        {"run_id": [sweep.cells[0].run_id, sweep.cells[2].run_id], "status": ["finished", "failed"]}
    ).to_csv(board, index=False)
    assert [c.head for c in pending_cells(sweep, board)] == ["lstm", "mlp"]


def test_progress_line_counts_and_estimates():
    progress = SweepProgress(total=4, already_done=1)
    config = resolve_config("synthetic", head="lstm")
    assert "cell 2/4 (1 done, 3 left, ETA after the first cell)" in progress.line(config)
    progress.start_cell()
    progress.run_seconds.append(60.0)
    progress.done += 1
    assert "cell 3/4 (2 done, 2 left, ETA 2m00s)" in progress.line(config)


@pytest.mark.slow
def test_sigkill_mid_sweep_then_rerun_finishes_without_redoing_or_duplicating(tiny_synthetic, tmp_path):
    sweep_file = write_sweep(tmp_path, """
name: killed
grid:
  head: [tsn, lstm, gru]
  segments: [2]
settings:
  epochs: 2
  batch_size: 4
""")
    sweep = load_sweep(sweep_file)
    command = [
        sys.executable, "-m", "benchmark", "sweep", str(sweep_file), "--data-root", str(tiny_synthetic),
        "--results-dir", str(tmp_path / "results"), "--work-dir", str(tmp_path / "runs"),
        "--accelerator", "cpu", "--workers", "0", "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    board = tmp_path / "results" / "leaderboard.csv"
    second_checkpoint = tmp_path / "runs" / sweep.cells[1].run_id / "checkpoints" / "last.ckpt"

    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not second_checkpoint.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert second_checkpoint.exists(), "the second cell never wrote its first checkpoint"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    first = pd.read_csv(board, dtype={"run_id": str})
    assert list(first["run_id"]) == [sweep.cells[0].run_id]  # one complete row, nothing partial

    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "1 already finished" in done.stdout
    final = pd.read_csv(board, dtype={"run_id": str})
    assert sorted(final["run_id"]) == sorted(cell.run_id for cell in sweep.cells)
    assert final["run_id"].is_unique and (final["status"] == "finished").all()
    kept = final.set_index("run_id").loc[sweep.cells[0].run_id]
    assert kept["timestamp"] == first.iloc[0]["timestamp"]  # the finished cell was not run again
    resumed = final.set_index("run_id").loc[sweep.cells[1].run_id]
    assert resumed["resumed_epoch"] >= 1  # the killed cell continued from its checkpoint
    assert final.set_index("run_id").loc[sweep.cells[2].run_id]["resumed_epoch"] == 0


def test_study_sweep_files_pick_one_weight_file_per_backbone():
    from benchmark.run.sweep import load_sweep

    root = Path(__file__).resolve().parents[3] / "configs"
    jester = load_sweep(root / "stmodeling_jester.yaml")
    assert len(jester.cells) == 2 * 11
    weights = {cell.backbone: cell.backbone_weights for cell in jester.cells}
    assert weights == {
        "squeezenet1_1": "weights/squeezenet1_1-imagenet.pth",
        "bninception": "weights/bninception-imagenet.pth",
    }
    assert all(cell.partial_bn and cell.optimizer == "sgd" and cell.lr_steps == (15, 25) for cell in jester.cells)
    ssv2 = load_sweep(root / "stmodeling_ssv2.yaml")
    assert {cell.segments for cell in ssv2.cells} == {8, 16} and len(ssv2.cells) == 44


def test_a_weight_mapping_without_the_cells_backbone_is_refused(tmp_path):
    from benchmark.run.sweep import load_sweep

    sweep = tmp_path / "s.yaml"
    sweep.write_text("grid:\n  backbone: [smallcnn]\nsettings:\n  backbone_weights: {resnet18: r.pth}\n")
    with pytest.raises(ValueError, match="no file for backbone 'smallcnn'"):
        load_sweep(sweep)


# Loaded by every process of the sweep below (its main process, the fork server, the data workers): while the
# marker file exists, decoding the named video never returns, as a decoder waiting on a lost lock would.
HANG_SITE = """
import os, time
import datamodules.decoding.video as video

_read_clip = video.read_clip


def read_clip(path, *args, **kwargs):
    while os.path.basename(str(path)) == os.environ["HANG_VIDEO"] and os.path.exists(os.environ["HANG_MARKER"]):
        time.sleep(0.2)
    return _read_clip(path, *args, **kwargs)


video.read_clip = read_clip
"""


@pytest.mark.slow
def test_a_stuck_data_worker_fails_its_cell_naming_the_video_and_the_sweep_goes_on(tiny_synthetic, tmp_path):
    """A training video whose decoding never returns: the first cell fails within --data-timeout naming it;
    then the video decodes again and the second cell finishes."""
    first_train_video = (tiny_synthetic / "synthetic-train.csv").read_text().splitlines()[0].split(";")[0]
    video = tiny_synthetic / "videos" / f"{first_train_video}.mp4"
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HANG_SITE)
    marker = tmp_path / "hang"
    marker.touch()
    sweep_file = write_sweep(tmp_path, """
name: stuck
grid:
  head: [tsn, mlp]
  segments: [2]
settings:
  epochs: 1
  batch_size: 4
""")
    sweep = load_sweep(sweep_file)
    command = [
        sys.executable, "-m", "benchmark", "sweep", str(sweep_file), "--data-root", str(tiny_synthetic),
        "--results-dir", str(tmp_path / "results"), "--work-dir", str(tmp_path / "runs"),
        "--accelerator", "cpu", "--workers", "1", "--no-progress", "--data-timeout", "5",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": f"{site}{os.pathsep}{ROOT}", "HANG_VIDEO": video.name, "HANG_MARKER": str(marker)}
    board = tmp_path / "results" / "leaderboard.csv"
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = started + 240
        while not board.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        failed_after = time.monotonic() - started
        assert board.exists(), "the first cell never wrote its row"
        marker.unlink()  # the video decodes again for the next cell
        output, _ = process.communicate(timeout=300)
    finally:
        process.kill()
    rows = pd.read_csv(board, dtype={"run_id": str}).set_index("run_id")
    first, second = (rows.loc[cell.run_id] for cell in sweep.cells)
    assert first["status"] == "failed" and second["status"] == "finished", output[-3000:]
    assert first["error"].startswith("DataWorkerStalled") and f"{video} (listed at" in first["error"]
    assert "within 5 s" in first["error"]
    assert f"run {sweep.cells[0].run_id} failed: DataWorkerStalled" in output
    assert failed_after < 120, failed_after  # the 5 s limit, plus start-up and the set-up of one run
