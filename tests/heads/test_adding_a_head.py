"""Adding a head is one new module (``tests/heads/toy_head.py``) and one line in ``heads.HEADS``:
the network, the parameter and MAC counts, the sweeps (``head: all``), the command line, the
report and a whole run then take the new head as they take the study's."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

import heads
from benchmark.cli.main import build_parser
from benchmark.report.aggregate import head_rank
from benchmark.report.published import STUDY_HEAD_ORDER, published_top1
from benchmark.run.complexity import count_complexity, count_network
from benchmark.run.config import resolve_config
from benchmark.run.network import VideoNet
from benchmark.run.runner import RunOptions, run
from benchmark.run.sweep import load_sweep
from datamodules.synthetic.config import SyntheticConfig
from datamodules.synthetic.generate import ensure_synthetic
from tests.heads.toy_head import ToyHead

T, K, D, SIDE = 4, 10, heads.FEATURE_DIM, 64
TINY = SyntheticConfig(seed=5, clips_per_class=5, min_frames=16, max_frames=20, sizes=(SIDE,))


@pytest.fixture
def toy(monkeypatch) -> str:
    monkeypatch.setitem(heads.HEADS, "toy", ToyHead)  # the table line
    return "toy"


def test_the_network_builds_and_runs_it(toy):
    net = VideoNet("smallcnn", toy, num_segments=T, num_classes=K).eval()
    assert isinstance(net.head, ToyHead) and net.head.feature_dim == D
    with torch.no_grad():
        assert net(torch.randn(2, T, 3, SIDE, SIDE)).shape == (2, K)


def test_its_parameters_and_macs_are_counted(toy):
    torch.manual_seed(0)
    counted = count_network(VideoNet("smallcnn", toy, num_segments=T, num_classes=K), T, SIDE)
    assert counted["head_params"] == (T + 1) + (D * K + K)
    assert counted["head_macs"] == D * (T + 1) + (D * K + K)  # one dot product of length T (+ bias) per feature
    for unit in ("params", "macs"):
        assert counted[f"total_{unit}"] == sum(counted[f"{part}_{unit}"] for part in ("head", "transform", "backbone"))
    assert count_complexity("smallcnn", toy, T, K, input_size=SIDE) == counted


def test_sweeps_the_command_line_and_the_report_take_it(toy, tmp_path):
    sweep = tmp_path / "all.yaml"
    sweep.write_text("grid:\n  head: all\n")
    assert [cell.head for cell in load_sweep(sweep).cells] == list(heads.HEADS)
    assert list(heads.HEADS)[-1] == toy
    args = build_parser().parse_args(["run", "--head", toy])
    assert args.head == toy
    assert published_top1("jester", "squeezenet1_1", 8, toy) is None  # not in the study: no published figure
    assert head_rank(toy) == len(STUDY_HEAD_ORDER)  # reported after the study's heads


@pytest.mark.slow
def test_a_tiny_run_trains_and_tests_it_end_to_end(toy, tmp_path_factory, tmp_path):
    data = ensure_synthetic(tmp_path_factory.mktemp("synthetic"), TINY, workers=2, progress=False)
    config = resolve_config("synthetic", head=toy, segments=T, epochs=1, batch_size=4)
    options = RunOptions(
        data_root=str(data), results_dir=str(tmp_path / "results"), work_dir=str(tmp_path / "runs"),
        accelerator="cpu", num_workers=0, progress=False,
    )  # fmt: skip
    row = run(config, options)
    assert row is not None and row["status"] == "finished" and row["head"] == toy
    board = pd.read_csv(tmp_path / "results" / "leaderboard.csv", dtype={"run_id": str})
    assert list(board["run_id"]) == [config.run_id]
    assert board.loc[0, "n_test_evaluated"] == board.loc[0, "n_test_expected"] > 0
    assert board.loc[0, "head_params"] == (T + 1) + (D * K + K)
