"""Spatiotemporal-modeling heads, looked up by short name in one explicit table."""
from __future__ import annotations

from heads.base import FEATURE_DIM, Head, HeadInput
from heads.convlstm import ConvLSTMHead
from heads.fcn import FCN2DHead, FCN3DHead
from heads.mlp import MLPHead
from heads.recurrent import BLSTMHead, GRUHead, LSTMHead, RNNReLUHead, RNNTanhHead
from heads.transform import STUDY_INIT_STD, TRANSFORM_DROPOUT, build_transform
from heads.trn import TRNMultiscaleHead
from heads.tsn import TSNHead

HEADS: dict[str, type[Head]] = {
    "mlp": MLPHead,
    "tsn": TSNHead,
    "trn_multiscale": TRNMultiscaleHead,
    "rnn_tanh": RNNTanhHead,
    "rnn_relu": RNNReLUHead,
    "lstm": LSTMHead,
    "gru": GRUHead,
    "blstm": BLSTMHead,
    "convlstm": ConvLSTMHead,
    "fcn2d": FCN2DHead,
    "fcn3d": FCN3DHead,
}


def head_class(name: str) -> type[Head]:
    if name not in HEADS:
        raise KeyError(f"unknown head {name!r}; known: {', '.join(HEADS)}")
    return HEADS[name]


def build_head(name: str, num_segments: int, num_classes: int, feature_dim: int = FEATURE_DIM) -> Head:
    return head_class(name)(num_segments, num_classes, feature_dim)


__all__ = [
    "FEATURE_DIM", "HEADS", "Head", "HeadInput", "STUDY_INIT_STD", "TRANSFORM_DROPOUT", "build_head", "build_transform",
    "head_class",
]  # fmt: skip
