from __future__ import annotations

import pytest
import torch

from benchmark.run.network import VideoNet
from heads import HEADS, build_head

K = 7


@pytest.mark.parametrize("steps", [3, 8, 16])
@pytest.mark.parametrize("name", sorted(HEADS))
@pytest.mark.parametrize("training", [True, False])
def test_head_output_is_batch_by_classes(name, steps, training, head_input):
    torch.manual_seed(0)
    width = K if HEADS[name].consumes == "scores" else 256
    head = build_head(name, steps, K, width).train(training)
    with torch.no_grad():
        out = head(head_input(head, steps))
    assert out.shape == (2, K)
    assert torch.isfinite(out).all()


def test_table_lists_every_head_of_the_study():
    assert list(HEADS) == [
        "mlp", "tsn", "trn_multiscale", "rnn_tanh", "rnn_relu", "lstm", "gru", "blstm", "convlstm", "fcn2d", "fcn3d",
    ]  # fmt: skip


EXPECTED_CONSUMES = {
    "mlp": "vector", "tsn": "scores", "trn_multiscale": "vector", "rnn_tanh": "vector", "rnn_relu": "vector",
    "lstm": "vector", "gru": "vector", "blstm": "vector", "convlstm": "map", "fcn2d": "vector", "fcn3d": "map",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(HEADS))
def test_videonet_feeds_each_head_what_it_consumes(name):
    assert HEADS[name].consumes == EXPECTED_CONSUMES[name]
    torch.manual_seed(0)
    net = VideoNet("smallcnn", name, num_segments=3, num_classes=K).eval()
    seen = []
    net.head.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape))
    with torch.no_grad():
        out = net(torch.randn(2, 3, 3, 128, 128))
    expected = {"vector": (2, 3, 256), "scores": (2, 3, K), "map": (2, 3, 256, 4, 4)}[EXPECTED_CONSUMES[name]]
    assert seen == [expected]
    assert out.shape == (2, K)
