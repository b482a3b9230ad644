"""The deep fusion network as a run: module, weights of the temporal stream, counting, configs, end to end.

(Named apart from tests/heads/fusion/test_deep_fusion.py: test module names must be unique.)
"""
import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

from backbones import build_backbone
from benchmark.run.complexity import mac_analysis
from benchmark.run.config import RunConfig, resolve_config
from benchmark.run.module import VideoClassifier
from benchmark.results.leaderboard import LEADERBOARD_COLUMNS
from benchmark.run.runner import RunOptions, run
from benchmark.run.sweep import load_sweep
from benchmark.run.complexity import count_deep_fusion
from benchmark.run.deep_fusion import DeepFusionClassifier
from benchmark.run.deep_fusion_net import build_deep_fusion_net, check_config
from datamodules.datasets import get_dataset
from heads.fusion.layernorm_lstm import LayerNormLSTM

ROOT = Path(__file__).resolve().parents[3]


def config(**overrides) -> RunConfig:
    settings = dict(head="deep_fusion", modality="rgb+flow", flow_length=2, segments=3, input_size=64)
    return resolve_config("synthetic", **{**settings, **overrides})


# -- the LayerNorm rule of benchmark.run.complexity ------------------------------------------------------
@pytest.mark.parametrize(
    "layer, per_element, groups",
    [
        (nn.LayerNorm(8), 7, 12),
        (nn.LayerNorm(8, bias=False), 6, 12),
        (nn.LayerNorm(8, elementwise_affine=False), 5, 12),
        (nn.LayerNorm([4, 8]), 7, 3),
    ],
)
def test_layer_norm_counts_statistics_gain_and_shift(layer, per_element, groups):
    x = torch.zeros(3, 4, 8)
    assert mac_analysis(layer, (x,)).total() == per_element * x.numel() + groups


def test_layer_normalised_lstm_is_countable():
    steps, inputs, hidden = 3, 6, 5
    macs = mac_analysis(LayerNormLSTM(inputs, hidden).eval(), (torch.zeros(1, steps, inputs),)).total()
    # plain LSTM step 4H(I + H) + 12H; LN_ih, LN_hh (gain only) 6·4H + 1 each; LN_c 7H + 1
    per_step = 4 * hidden * (inputs + hidden) + 12 * hidden + 2 * (6 * 4 * hidden + 1) + 7 * hidden + 1
    assert macs == steps * per_step


# -- module ---------------------------------------------------------------------------------------
def test_module_state_matches_video_classifier():
    """Only the network differs from the parent: the same attributes and submodules."""
    torch.manual_seed(0)
    fusion = DeepFusionClassifier(config(), 10)
    parent = VideoClassifier(resolve_config("synthetic", head="lstm"), 10)
    assert set(vars(fusion)) == set(vars(parent))
    assert {name for name, _ in fusion.named_children()} == {name for name, _ in parent.named_children()}
    assert fusion.hparams["config"]["head"] == "deep_fusion"
    scores = fusion({"rgb": torch.randn(2, 3, 3, 64, 64), "flow": torch.randn(2, 3, 4, 64, 64)})
    assert scores.shape == (2, 10)
    restored = DeepFusionClassifier(fusion.hparams["config"], 10)  # as load_from_checkpoint rebuilds it
    assert restored.config == fusion.config


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(modality="flow"), "modality"),
        (dict(test_clips=2), "one test view"),
        (dict(temporal_first_conv="imagenet"), "temporal_first_conv"),
        (dict(frozen_backbone=True), "frozen_backbone"),
    ],
)
def test_config_checks(overrides, message):
    with pytest.raises(ValueError, match=message):
        check_config(config(**overrides))


@pytest.mark.parametrize("first_conv", ["random", "cross_modality"])
def test_temporal_first_conv_initialisation(tmp_path, first_conv):
    weights = tmp_path / "rgb.pth"
    torch.manual_seed(1)
    reference = build_backbone("smallcnn").state_dict()
    torch.save(reference, weights)
    torch.manual_seed(2)
    net = build_deep_fusion_net(config(backbone_weights=str(weights), temporal_first_conv=first_conv), 10)
    spatial, temporal = net.spatial.state_dict(), net.temporal.state_dict()
    key = net.temporal.first_conv_key
    for name, value in reference.items():
        torch.testing.assert_close(spatial[name], value)
        if name != key:
            torch.testing.assert_close(temporal[name], value)
    mean = reference[key].mean(dim=1, keepdim=True).expand(-1, 4, -1, -1)
    assert temporal[key].shape == (16, 4, 3, 3)
    assert torch.allclose(temporal[key], mean) == (first_conv == "cross_modality")


def test_counts_split_streams_from_fusion():
    net = build_deep_fusion_net(config(), 10)
    row = count_deep_fusion(net, 3)
    streams = sum(p.numel() for p in [*net.spatial.parameters(), *net.temporal.parameters()])
    assert row["backbone_params"] == streams and row["transform_params"] == 0
    assert row["total_params"] == sum(p.numel() for p in net.parameters())
    assert row["head_params"] == row["total_params"] - streams
    total = mac_analysis(net.eval(), (torch.zeros(1, 3, 3, 64, 64), torch.zeros(1, 3, 4, 64, 64))).total()
    assert row["total_macs"] == total == row["backbone_macs"] + row["head_macs"]
    assert row["transform_macs"] == 0 and row["backbone_macs"] > row["head_macs"] > 0


# -- configs -------------------------------------------------------------------------------------
def test_sweep_configs_are_valid_deep_fusion_runs():
    (paper,) = load_sweep(ROOT / "configs" / "deep_fusion_ucf101.yaml").cells
    (synthetic,) = load_sweep(ROOT / "configs" / "deep_fusion_synthetic.yaml").cells
    for cell in (paper, synthetic):
        check_config(cell)
    assert (paper.backbone, paper.segments, paper.flow_length, paper.input_size) == ("vgg16", 17, 4, 224)
    assert paper.backbone_weights and paper.temporal_first_conv == "random"
    assert paper.lr == pytest.approx(1e-5) and paper.lr_schedule == "two_stage" and paper.lr_steps == ()
    assert paper.holdout_fraction > 0  # convergence judged on held-out training videos, not on the test split
    assert (synthetic.backbone, synthetic.input_size, synthetic.segments, synthetic.flow_length) == ("smallcnn", 32, 8, 4)
    assert synthetic.lr_schedule == "two_stage" and synthetic.fusion_conv_summary == "flatten"
    assert synthetic.backbone_weights == "runs/backbones/smallcnn_synthetic_tsn32.pt"


def test_the_streams_sweep_is_the_run_whose_backbone_the_preset_starts_from():
    """The preset's recipe (README, config comments) exports the one cell of the streams sweep: an RGB
    smallcnn at the fusion net's input size; its run id is the one the README names."""
    (streams,) = load_sweep(ROOT / "configs" / "deep_fusion_synthetic_streams.yaml").cells
    (synthetic,) = load_sweep(ROOT / "configs" / "deep_fusion_synthetic.yaml").cells
    assert (streams.backbone, str(streams.modality), streams.input_size) == ("smallcnn", "rgb", synthetic.input_size)
    export = f"stbench export-backbone runs/{streams.run_id}/checkpoints/last.ckpt --out {synthetic.backbone_weights}"
    assert export in (ROOT / "README.md").read_text(encoding="utf-8")


# -- end to end ----------------------------------------------------------------------------------
def test_missing_flow_root_fails_the_run_naming_it(tiny_synthetic, tmp_path):
    options = RunOptions(
        data_root=str(tiny_synthetic),
        flow_root=str(tmp_path / "no_flow"),
        results_dir=str(tmp_path / "results"),
        work_dir=str(tmp_path / "runs"),
        accelerator="cpu",
        num_workers=0,
        progress=False,
    )
    with pytest.raises(FileNotFoundError, match="no optical flow at .*no_flow.*stbench flow"):
        run(config(epochs=1), options)
    (saved,) = pd.read_csv(tmp_path / "results" / "leaderboard.csv").to_dict("records")
    assert saved["status"] == "failed" and "no optical flow" in saved["error"]


@pytest.mark.slow
def test_run_lands_a_finished_deep_fusion_row(tiny_synthetic_flow, tmp_path):
    """One epoch on the tiny dataset; one test video's flow is missing and is skipped and counted."""
    flow_root = tmp_path / "flow"
    shutil.copytree(tiny_synthetic_flow / "flow", flow_root)
    splits = get_dataset("synthetic").load(tiny_synthetic_flow, "default", False)
    missing = splits.test[0].video_id
    shutil.rmtree(flow_root / missing)
    cell = config(epochs=1, batch_size=4, segments=3)
    options = RunOptions(
        data_root=str(tiny_synthetic_flow),
        flow_root=str(flow_root),
        results_dir=str(tmp_path / "results"),
        work_dir=str(tmp_path / "runs"),
        accelerator="cpu",
        num_workers=0,
        progress=False,
        on_bad_video="skip",
    )
    row = run(cell, options)
    table = pd.read_csv(tmp_path / "results" / "leaderboard.csv", dtype={"run_id": str})
    assert list(table.columns) == list(LEADERBOARD_COLUMNS)
    (saved,) = table.to_dict("records")
    assert saved["run_id"] == cell.run_id == row["run_id"]
    assert saved["status"] == "finished" and saved["system"] == "deep_fusion" and saved["modality"] == "rgb+flow"
    assert saved["n_test_expected"] == len(splits.test) and saved["n_test_failed"] == 1
    assert saved["n_test_evaluated"] == len(splits.test) - 1
    assert 0.0 <= saved["top1"] <= saved["top5"] <= 1.0
    assert saved["test_clips_per_s"] > 0 and saved["train_clips_per_s"] > 0
    model = DeepFusionClassifier(cell, get_dataset("synthetic").num_classes)
    assert {k: saved[k] for k in ("total_params", "backbone_params", "total_macs")} == {
        k: v for k, v in count_deep_fusion(model.net, cell.segments).items() if k in ("total_params", "backbone_params", "total_macs")
    }
    bad = pd.read_csv(tmp_path / "results" / "runs" / cell.run_id / "bad_videos.csv")
    assert missing in " ".join(map(str, bad.astype(str).values.ravel()))
