"""How and where a run executes: devices, workers, output folders. None of it is part of the run id."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunOptions:
    """How and where a run executes; none of this changes the run id."""

    data_root: str | None = None
    results_dir: str = "results"
    work_dir: str = "runs"
    accelerator: str = "auto"
    devices: int | str = 1
    strategy: str = "auto"
    num_nodes: int = 1
    num_workers: int = 2
    progress: bool = True
    wandb: bool = False
    limit_train_batches: int | float | None = None
    limit_eval_batches: int | float | None = None
    resume: bool = True  # continue an interrupted run from its last checkpoint
    # Unreadable videos: "fail" stops the run naming the video; "skip" leaves them out, counts them
    # (n_train_skipped, n_test_failed) and lists them in results/runs/<id>/bad_videos.csv.
    on_bad_video: str = "fail"
    flow_root: str | None = None  # the temporal stream's flow (default <data root>/flow)
    # Frozen-backbone runs: train from backbone maps cached once in <work_dir>/feature_cache/ (True),
    # or recompute the frozen backbone on decoded clips every step (False).
    feature_cache: bool = True
    # Checkpoints are read with the weights-only unpickler (benchmark.run.checkpoint); True loads
    # one that needs other types with the full unpickler, which can run code: trusted files only.
    trust_checkpoint: bool = False

    @property
    def leaderboard(self) -> Path:
        return Path(self.results_dir) / "leaderboard.csv"

    def run_dir(self, run_id: str) -> Path:
        """``<results>/runs/<run id>``: the run's config, confusion matrix and bad-video list."""
        return Path(self.results_dir) / "runs" / run_id

    def checkpoint_dir(self, run_id: str) -> Path:
        """``<work>/<run id>/checkpoints``: Lightning's checkpoints of the run (``last.ckpt``)."""
        return Path(self.work_dir) / run_id / "checkpoints"
