from __future__ import annotations

import pytest
import torch

from benchmark.report.published import STUDY_HEAD_ORDER
from benchmark.run.network import VideoNet
from heads import FEATURE_DIM, HEADS, build_head

K = 7


@pytest.mark.parametrize("steps", [3, 8, 16])
@pytest.mark.parametrize("name", sorted(HEADS))
@pytest.mark.parametrize("training", [True, False])
def test_head_output_is_batch_by_classes(name, steps, training, head_input):
    torch.manual_seed(0)
    width = K if HEADS[name].consumes == "scores" else FEATURE_DIM
    head = build_head(name, steps, K, width).train(training)
    with torch.no_grad():
        out = head(head_input(head, steps))
    assert out.shape == (2, K)
    assert torch.isfinite(out).all()


def test_table_opens_with_the_study_heads_in_the_study_order():
    assert tuple(HEADS)[: len(STUDY_HEAD_ORDER)] == STUDY_HEAD_ORDER


def test_study_heads_consume_what_the_study_feeds_them():
    kinds = {kind: {name for name in STUDY_HEAD_ORDER if HEADS[name].consumes == kind} for kind in ("scores", "map")}
    assert kinds == {"scores": {"tsn"}, "map": {"convlstm", "fcn3d"}}  # every other study head: vectors
    assert {HEADS[name].consumes for name in HEADS} <= {"vector", "scores", "map"}


@pytest.mark.parametrize("name", sorted(HEADS))
def test_videonet_feeds_each_head_what_it_consumes(name):
    torch.manual_seed(0)
    net = VideoNet("smallcnn", name, num_segments=3, num_classes=K).eval()
    seen = []
    net.head.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape))
    with torch.no_grad():
        out = net(torch.randn(2, 3, 3, 128, 128))
    D = FEATURE_DIM
    expected = {"vector": (2, 3, D), "scores": (2, 3, K), "map": (2, 3, D, 4, 4)}[HEADS[name].consumes]
    assert seen == [expected]
    assert out.shape == (2, K)
