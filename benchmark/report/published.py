"""Published figures the reports print next to ours.

* The comparative study of spatiotemporal modeling heads: its top-1 (%) table in
  docs/protocols.md, section A ("Published top-1 (%)"): 224×224 input, ImageNet-pretrained
  backbones, the validation set as test set. A head the study did not have simply has no
  published figure: adding a head to ``heads.HEADS`` needs no edit here.
* The hybrid framework: its UCF-101 accuracy and CCV mAP (%) per method, docs/protocols.md,
  section C ("Published"), with the harness component that reproduces each method.

These are reference numbers copied from the papers, not results of this harness.
"""
from __future__ import annotations

_SETTINGS: tuple[tuple[str, int], ...] = (("jester", 8), ("ssv2", 8), ("ssv2", 16))
_BACKBONES: tuple[str, ...] = ("squeezenet1_1", "bninception")

# head -> one (SqueezeNet, BN-Inception) pair per setting of _SETTINGS, in that order; the heads
# in the order of the study's tables.
_TABLE: dict[str, tuple[tuple[float, float], ...]] = {
    "mlp": ((87.28, 92.80), (31.89, 46.35), (33.96, 47.01)),
    "tsn": ((72.84, 82.74), (20.91, 37.28), (22.15, 36.22)),
    "trn_multiscale": ((88.39, 93.20), (33.73, 46.91), (34.38, 47.73)),
    "rnn_tanh": ((70.51, 79.53), (16.12, 25.17), (14.48, 21.64)),
    "rnn_relu": ((78.33, 88.15), (21.40, 36.01), (15.84, 24.88)),
    "lstm": ((84.28, 90.80), (25.24, 39.04), (28.25, 42.83)),
    "gru": ((83.10, 90.86), (25.40, 40.69), (30.24, 43.31)),
    "blstm": ((84.87, 91.12), (25.04, 39.35), (27.88, 42.41)),
    "convlstm": ((89.57, 93.38), (31.31, 46.40), (32.86, 46.64)),
    "fcn2d": ((88.11, 93.64), (27.72, 39.17), (29.95, 40.56)),
    "fcn3d": ((90.19, 94.07), (37.10, 46.66), (37.59, 47.37)),
}

# The order of the heads in the study's tables (reports list these heads first, in this order).
STUDY_HEAD_ORDER: tuple[str, ...] = tuple(_TABLE)

PUBLISHED_TOP1: dict[tuple[str, str, int, str], float] = {
    (dataset, backbone, segments, head): pair[b]
    for head, pairs in _TABLE.items()
    for (dataset, segments), pair in zip(_SETTINGS, pairs)
    for b, backbone in enumerate(_BACKBONES)
}


def published_top1(dataset: str, backbone: str, segments: int, head: str) -> float | None:
    """The published top-1 (%) for this setting, or None where the study reports none."""
    return PUBLISHED_TOP1.get((str(dataset), str(backbone), int(segments), str(head)))


# docs/protocols.md, section C: (method as the paper names it, the hybrid component that reproduces
# it or None for other authors' methods quoted by the paper, UCF-101 accuracy %, CCV mAP %), in the
# order of the paper's tables.
HYBRID_PUBLISHED: tuple[tuple[str, str | None, float, float], ...] = (
    ("spatial CNN", "spatial_cnn", 80.1, 75.0),
    ("motion CNN", "motion_cnn", 77.5, 58.9),
    ("spatial LSTM", "spatial_lstm", 83.3, 43.3),
    ("motion LSTM", "motion_lstm", 76.6, 54.7),
    ("CNN + LSTM (spatial)", "cnn_lstm_spatial", 84.0, 77.9),
    ("CNN + LSTM (motion)", "cnn_lstm_motion", 81.4, 70.9),
    ("CNN + LSTM, all averaged", "cnn_lstm_all", 90.1, 81.7),
    ("spatial SVM", "svm_spatial", 78.6, 74.4),
    ("motion SVM", "svm_motion", 78.2, 57.9),
    ("SVM-EF", "svm_ef", 86.6, 75.3),
    ("SVM-LF", "svm_lf", 85.3, 74.9),
    ("SVM-MKL", "svm_mkl", 86.8, 75.4),
    ("NN-EF", "nn_early_fusion", 86.5, 75.6),
    ("NN-LF", "nn_late_fusion", 85.1, 75.2),
    ("M-DBM", None, 86.9, 75.3),
    ("two-stream CNN", "cnn_average", 86.2, 75.8),
    ("RDNN", None, 88.1, 75.9),
    ("non-regularized fusion", "fusion_nonregularized", 87.0, 75.4),
    ("regularized fusion", "fusion_regularized", 88.4, 76.2),
    ("hybrid", "hybrid", 91.3, 83.5),
)
