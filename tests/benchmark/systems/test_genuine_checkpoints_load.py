"""A checkpoint the harness wrote passes the weights-only vetting in every place one is read: a
single-stream run (resumed and re-tested), a frozen-backbone run, the deep fusion network, and the
streams the two-stream and hybrid systems load."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from benchmark.run.checkpoint import read_checkpoint
from benchmark.run.config import resolve_config
from benchmark.run.evaluate import evaluate_checkpoint
from benchmark.run.options import RunOptions
from benchmark.run.runner import run
from benchmark.systems.streams import checkpoint_of, load_stream

SYSTEMS = {
    "single_stream": dict(head="tsn", segments=2),
    "frozen_backbone": dict(head="lstm", segments=3, frozen_backbone=True, cached_views=1),
    "deep_fusion": dict(head="deep_fusion", modality="rgb+flow", flow_length=2, segments=3),
}


@pytest.mark.slow
@pytest.mark.parametrize("system", list(SYSTEMS))
def test_a_genuine_checkpoint_of_every_system_still_loads(tiny_synthetic_flow, tmp_path, system):
    config = resolve_config("synthetic", epochs=1, batch_size=4, **SYSTEMS[system])
    options = RunOptions(
        data_root=str(tiny_synthetic_flow), results_dir=str(tmp_path / "results"), work_dir=str(tmp_path / "runs"),
        accelerator="cpu", num_workers=0, progress=False,
    )  # fmt: skip
    row = run(config, options)
    checkpoint = checkpoint_of(config, options)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(str(checkpoint)) == []
    assert read_checkpoint(checkpoint)["hyper_parameters"]["config"]["head"] == config.head

    confusion = evaluate_checkpoint(checkpoint, options)  # `stbench test`
    assert confusion is not None and int(confusion.sum()) == row["n_test_evaluated"]

    # an interrupted run (no finished row) resumes from its last.ckpt through Lightning's vetted load
    resumed = run(config, RunOptions(**{**options.__dict__, "results_dir": str(tmp_path / "again")}))
    assert resumed is not None and resumed["resumed_epoch"] == 1
    assert pd.read_csv(tmp_path / "again" / "leaderboard.csv")["resumed_epoch"].tolist() == [1]

    if system == "single_stream":  # the two-stream and hybrid systems load their streams this way
        stream = load_stream(config, options)
        assert not stream.training
