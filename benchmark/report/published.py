"""Published top-1 accuracies (%) of the comparative study of spatiotemporal modeling heads.

Source: the study's table in docs/protocols.md, section A ("Published top-1 (%)"): 224×224
input, ImageNet-pretrained backbones, the validation set as test set. These are reference numbers
copied from the paper, not results of this harness. A head the study did not have simply has no
published figure: adding a head to ``heads.HEADS`` needs no edit here.
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
