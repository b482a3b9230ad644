"""MAC and parameter counts against closed forms written from the convention in benchmark/run/complexity.py:
a dot product of length n = n; any other add / multiply = 1 per output element (biases included);
eval BatchNorm = 2 per element; mean of n = n per output, sum of n = n − 1; nonlinearities = 0."""
from __future__ import annotations

import csv
import math
from functools import lru_cache

import pytest
import torch
from torch import nn

from backbones import BACKBONES
from benchmark.run.complexity import UncountedOpsError, backbone_map, count_complexity, mac_analysis
from benchmark.report.published import STUDY_HEAD_ORDER
from heads import HEADS

T, K, D = 8, 27, 256
BACKBONE = "smallcnn"
INPUT = 4 * (64 // backbone_map(BACKBONE, 64)[1])  # 4 × the backbone's stride: a 4×4 map
C, SIDE, _ = backbone_map(BACKBONE, INPUT)
HW = SIDE * SIDE


@lru_cache(maxsize=None)
def counted(head: str) -> dict[str, int]:
    return count_complexity(BACKBONE, head, T, K, INPUT)


def linear_macs(n_in: int, n_out: int, rows: int = 1) -> int:
    return rows * (n_in * n_out + n_out)


def linear_params(n_in: int, n_out: int, bias: bool = True) -> int:
    return n_in * n_out + (n_out if bias else 0)


def rnn_step(n_in: int, hidden: int) -> int:
    return hidden * (n_in + hidden) + 2 * hidden + hidden


def lstm_step(n_in: int, hidden: int) -> int:
    return 4 * hidden * (n_in + hidden) + 8 * hidden + 4 * hidden + 4 * hidden


def gru_step(n_in: int, hidden: int) -> int:
    return 3 * hidden * (n_in + hidden) + 6 * hidden + 2 * hidden + 2 * hidden + 3 * hidden


def strided(size: int) -> int:
    """Output length of a kernel-3, padding-1, stride-2 axis."""
    return (size + 2 - 3) // 2 + 1


def trn_tuples(scale: int) -> int:
    return 1 if scale == T else min(3, math.comb(T, scale))


def trn_macs() -> int:
    total = 0
    for s in range(T, 1, -1):
        n = trn_tuples(s)
        total += n * (s * D * 256 + 256 + 256 * K + K) + (n - 1) * K  # two linears, then the sum over tuples
    return total + (T - 2) * K  # sum of the T − 1 scale scores


def fcn2d_macs() -> int:
    total, channels, width = 0, 1, D
    for out in (64, 64, 128, 128, 256):
        width = strided(width)
        total += (channels * 9 * out + out + 2 * out) * T * width  # conv, its bias, BatchNorm
        channels = out
    positions = T * width
    return total + (256 * K + K) * positions + K * positions  # 1×1 classifier, then the mean


def fcn3d_macs() -> int:
    total, channels, time = 0, D, T
    for out in (64, 128, 256):
        time = strided(time)
        total += (channels * 27 * out + out + 2 * out) * time * HW  # conv, its bias, BatchNorm
        channels = out
    positions = time * HW
    return total + (256 * K + K) * positions + K * positions


def convlstm_macs() -> int:
    hidden = 256
    step = HW * (9 * (D + hidden) * 4 * hidden + 4 * hidden + 4 * hidden)  # gate conv, its bias, the cell
    return T * step + hidden * HW + linear_macs(hidden, K)  # pooled last h → classifier


HEAD_MACS = {
    "mlp": linear_macs(T * D, 512) + linear_macs(512, K),
    "tsn": T * K,
    "trn_multiscale": trn_macs(),
    "rnn_tanh": T * rnn_step(D, 256) + linear_macs(256, K),
    "rnn_relu": T * rnn_step(D, 256) + linear_macs(256, K),
    "lstm": T * lstm_step(D, 256) + linear_macs(256, K),
    "gru": T * gru_step(D, 256) + linear_macs(256, K),
    "blstm": 2 * T * lstm_step(D, 128) + linear_macs(256, K),
    "convlstm": convlstm_macs(),
    "fcn2d": fcn2d_macs(),
    "fcn3d": fcn3d_macs(),
}


def conv_bn_params(n_in: int, widths: tuple[int, ...], kernel_volume: int) -> int:
    total = 0
    for width in widths:
        total += n_in * width * kernel_volume + width + 2 * width  # conv weight and bias, BatchNorm
        n_in = width
    return total


HEAD_PARAMS = {
    "mlp": linear_params(T * D, 512) + linear_params(512, K),
    "tsn": 0,
    "trn_multiscale": sum(linear_params(s * D, 256) + linear_params(256, K) for s in range(2, T + 1)),
    "rnn_tanh": linear_params(D, 256) + linear_params(256, 256) + linear_params(256, K),
    "rnn_relu": linear_params(D, 256) + linear_params(256, 256) + linear_params(256, K),
    "lstm": 4 * (linear_params(D, 256) + linear_params(256, 256)) + linear_params(256, K),
    "gru": 3 * (linear_params(D, 256) + linear_params(256, 256)) + linear_params(256, K),
    "blstm": 2 * 4 * (linear_params(D, 128) + linear_params(128, 128)) + linear_params(256, K),
    "convlstm": (D + 256) * 4 * 256 * 9 + 4 * 256 + linear_params(256, K),
    "fcn2d": conv_bn_params(1, (64, 64, 128, 128, 256), 9) + linear_params(256, K),
    "fcn3d": conv_bn_params(D, (64, 128, 256), 27) + linear_params(256, K),
}

TRANSFORM_MACS = {
    "vector": T * (C * HW + C * D + D),  # global mean, then Linear(C → D)
    "scores": T * (C * HW + C * K + K),  # global mean, then Linear(C → K)
    "map": T * HW * (C * D + D),  # 1×1 conv with bias
}


def test_closed_forms_cover_the_study_heads():
    assert set(HEAD_MACS) == set(STUDY_HEAD_ORDER) == set(HEAD_PARAMS)
    assert SIDE == 4


@pytest.mark.parametrize("head", sorted(HEAD_MACS))
def test_head_macs_match_closed_form(head):
    assert counted(head)["head_macs"] == HEAD_MACS[head]


@pytest.mark.parametrize("head", sorted(HEAD_PARAMS))
def test_head_params_match_closed_form(head):
    assert counted(head)["head_params"] == HEAD_PARAMS[head]


@pytest.mark.parametrize("head", sorted(HEADS))
def test_transform_macs_match_closed_form(head):
    assert counted(head)["transform_macs"] == TRANSFORM_MACS[HEADS[head].consumes]


@pytest.mark.parametrize("head", sorted(HEADS))
def test_total_is_the_sum_of_parts(head):
    row = counted(head)
    for unit in ("params", "macs"):
        assert row[f"total_{unit}"] == sum(row[f"{part}_{unit}"] for part in ("head", "transform", "backbone"))
    assert row["backbone_macs"] == counted("tsn")["backbone_macs"]  # the backbone does not depend on the head


def test_fvcore_conv_and_linear_counts_are_multiply_accumulates():
    conv = nn.Conv2d(3, 8, kernel_size=3, padding=1, bias=False)
    counts = mac_analysis(conv, (torch.zeros(1, 3, 5, 5),)).by_operator()
    assert counts == {"conv": 3 * 9 * 8 * 25}
    fc = nn.Linear(12, 7, bias=False)
    assert mac_analysis(fc, (torch.zeros(4, 12),)).by_operator() == {"linear": 4 * 12 * 7}


def test_bias_batchnorm_and_pooling_follow_the_convention():
    model = nn.Sequential(
        nn.Conv2d(3, 8, kernel_size=1, bias=True),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AvgPool2d(3, stride=1, padding=1),
        nn.MaxPool2d(2),
    ).eval()
    counts = mac_analysis(model, (torch.zeros(1, 3, 6, 6),)).by_operator()
    elements = 8 * 36
    assert counts == {"conv": 3 * 8 * 36, "bias": elements, "batch_norm": 2 * elements, "avg_pool2d": 9 * elements}


@pytest.mark.parametrize(
    "layer, per_token",
    [
        (nn.LSTM(6, 5, num_layers=2, bidirectional=True), 2 * lstm_step(6, 5) + 2 * lstm_step(10, 5)),
        (nn.GRU(6, 5, bias=False), gru_step(6, 5) - 6 * 5),
        (nn.RNN(6, 5, nonlinearity="relu", num_layers=3), rnn_step(6, 5) + 2 * rnn_step(5, 5)),
        (nn.LSTM(6, 5, proj_size=3), 4 * 5 * (6 + 3) + 16 * 5 + 3 * 5),
    ],
    ids=["lstm-2layer-bidirectional", "gru-no-bias", "rnn-relu-3layer", "lstm-projection"],
)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.filterwarnings("ignore:LSTM with projections")
def test_recurrent_handles_read_layers_directions_and_sizes(layer, per_token, batch_first):
    layer.batch_first = batch_first
    steps, batch = 4, 3
    shape = (batch, steps, 6) if batch_first else (steps, batch, 6)
    assert mac_analysis(layer.eval(), (torch.zeros(shape),)).total() == steps * batch * per_token


class Exp(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(x)


class Remainder(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.remainder(x, 3.0)


def test_strict_raises_on_an_op_without_a_handle():
    with pytest.raises(UncountedOpsError, match="aten::exp"):
        mac_analysis(Exp(), (torch.zeros(2, 3),))
    with pytest.warns(UserWarning, match="aten::exp"):
        mac_analysis(Exp(), (torch.zeros(2, 3),), strict=False)


def test_ops_fvcore_would_skip_silently_are_reported():
    with pytest.raises(UncountedOpsError, match="aten::remainder"):
        mac_analysis(Remainder(), (torch.zeros(2, 3),))


@pytest.mark.parametrize("backbone", sorted(BACKBONES))
def test_every_backbone_is_counted_strictly(backbone):
    row = count_complexity(backbone, "lstm", 2, 10, input_size=64)
    assert row["backbone_macs"] > 0 and row["total_macs"] > row["backbone_macs"]


def test_map_sizes_of_the_study_backbones_at_224():
    assert backbone_map("squeezenet1_1", 224) == (512, 13, 13)
    assert backbone_map("bninception", 224) == (1024, 7, 7)


def test_cli_writes_the_csv(tmp_path, capsys):
    from benchmark.cli.main import main

    out = tmp_path / "c.csv"
    args = ["complexity", "--dataset", "synthetic", "--segments", "3", "--backbone", BACKBONE]
    assert main([*args, "--head", "tsn", "lstm", "--input-size", str(INPUT), "--out", str(out)]) == 0
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "head", "backbone", "segments", "num_classes", "input_size", "head_params", "transform_params",
        "backbone_params", "total_params", "head_macs", "transform_macs", "backbone_macs", "total_macs",
    ]  # fmt: skip
    assert [r["head"] for r in rows] == ["tsn", "lstm"]
    assert rows[0]["num_classes"] == "10" and rows[0]["head_macs"] == str(3 * 10)
    assert "FLOPs ≈ 2 × MACs" in capsys.readouterr().out
