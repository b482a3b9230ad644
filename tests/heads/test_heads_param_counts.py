"""Parameter counts of the study's heads against closed forms (D = 256, T = 8, K = 27), and the
committed `stbench complexity` tables against the same closed forms at their own T and K."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from benchmark.report.published import STUDY_HEAD_ORDER
from heads import FEATURE_DIM, HEADS, build_head

D, T, K = 256, 8, 27


def linear(n_in: int, n_out: int, bias: bool = True) -> int:
    return n_in * n_out + (n_out if bias else 0)


def conv(n_in: int, n_out: int, kernel_volume: int, bias: bool = True) -> int:
    return n_in * n_out * kernel_volume + (n_out if bias else 0)


def conv_bn_stack(n_in: int, widths: tuple[int, ...], kernel_volume: int) -> int:
    """Conv (with its bias, as in the study) + BatchNorm (weight and bias) per width."""
    total = 0
    for width in widths:
        total += conv(n_in, width, kernel_volume) + 2 * width
        n_in = width
    return total


def recurrent(gates: int, n_in: int, hidden: int) -> int:
    return gates * (hidden * n_in + hidden * hidden + hidden + hidden)


def study_head_params(T: int, K: int) -> dict[str, int]:
    """Each head's parameters as docs/protocols.md, section A, specifies it (every conv with its bias)."""
    return {
        "mlp": linear(T * D, 512) + linear(512, K),
        "tsn": 0,
        "trn_multiscale": sum(linear(s * D, 256) + linear(256, K) for s in range(2, T + 1)),
        "rnn_tanh": recurrent(1, D, 256) + linear(256, K),
        "rnn_relu": recurrent(1, D, 256) + linear(256, K),
        "lstm": 4 * (256 * 256 + 256 * 256 + 256 + 256) + 256 * K + K,
        "gru": recurrent(3, D, 256) + linear(256, K),
        "blstm": 2 * recurrent(4, D, 128) + linear(256, K),
        "convlstm": conv(D + 256, 4 * 256, 9) + linear(256, K),
        "fcn2d": conv_bn_stack(1, (64, 64, 128, 128, 256), 9) + conv(256, K, 1),
        "fcn3d": conv_bn_stack(D, (64, 128, 256), 27) + conv(256, K, 1),
    }


EXPECTED = study_head_params(T, K)


def test_closed_forms_cover_the_study_heads():
    assert D == FEATURE_DIM
    assert set(EXPECTED) == set(STUDY_HEAD_ORDER)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_parameter_count_matches_closed_form(name):
    width = K if HEADS[name].consumes == "scores" else D
    head = build_head(name, T, K, width)
    assert sum(p.numel() for p in head.parameters()) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(HEADS))
def test_every_parameter_of_a_head_is_trainable(name):
    assert all(p.requires_grad for p in build_head(name, T, K).parameters())


COMPLEXITY_TABLES = sorted((Path(__file__).resolve().parents[2] / "results" / "complexity").glob("*.csv"))


@pytest.mark.parametrize("table", COMPLEXITY_TABLES, ids=lambda path: path.name)
def test_committed_complexity_tables_have_the_study_head_sizes(table):
    """`stbench complexity`'s committed tables: every head of the study, head_params as specified."""
    rows = list(csv.DictReader(table.open()))
    assert {row["head"] for row in rows} >= set(STUDY_HEAD_ORDER)
    for row in rows:
        expected = study_head_params(int(row["segments"]), int(row["num_classes"]))
        if row["head"] in expected:
            assert int(row["head_params"]) == expected[row["head"]], (table.name, row["head"])
