"""A network is counted before it trains: a head with an op that has no counting rule fails at once."""
import pandas as pd
import pytest
import torch
from torch import nn

import heads
from benchmark.run.complexity import UncountedOpsError
from benchmark.run.config import resolve_config
from benchmark.run.runner import RunOptions, run
from heads.base import FEATURE_DIM, Head


class CumulativeHead(Head):
    """Classifies the running sum of the features over time: ``cumsum`` has no MAC rule."""

    consumes = "vector"

    def __init__(self, num_segments: int, num_classes: int, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__(num_segments, num_classes, feature_dim)
        self.classifier = nn.Linear(feature_dim, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.cumsum(features, dim=1)[:, -1])


def test_an_uncountable_head_fails_before_training_with_a_failed_row(tiny_synthetic, tmp_path, monkeypatch):
    monkeypatch.setitem(heads.HEADS, "cumulative", CumulativeHead)
    config = resolve_config("synthetic", head="cumulative", epochs=1, batch_size=4, segments=4)
    options = RunOptions(
        data_root=str(tiny_synthetic),
        results_dir=str(tmp_path / "results"),
        work_dir=str(tmp_path / "runs"),
        accelerator="cpu",
        num_workers=0,
        progress=False,
    )
    with pytest.raises(UncountedOpsError, match="cumsum"):
        run(config, options)
    rows = pd.read_csv(tmp_path / "results" / "leaderboard.csv", dtype={"run_id": str})
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["run_id"] == config.run_id and row["status"] == "failed"
    assert "UncountedOpsError" in row["error"] and "cumsum" in row["error"]
    assert not (tmp_path / "runs" / config.run_id).exists()  # no checkpoint, no log: nothing trained
