from __future__ import annotations

import pytest
import torch

from benchmark.run.complexity import mac_analysis
from heads.fusion import feature_fusion
from heads.fusion.feature_fusion import (
    EarlyFusionNet,
    LateFusionNet,
    RegularizedFusionNet,
    evaluate_fusion_net,
    train_fusion_net,
)

K = 4
DIMS = (16, 12)


def two_stream_problem(n: int, seed: int, multi_label: bool = False):
    """Each stream is a noisy view of the class: class centroids per stream plus Gaussian noise.

    Multi-label: each video has a random label set and its features are the sum of its labels'
    centroids, so every class is linearly detectable.
    """
    g = torch.Generator().manual_seed(100)  # the same centroids for every split
    centroids = [torch.randn(K, d, generator=g) for d in DIMS]
    g = torch.Generator().manual_seed(seed)
    if multi_label:
        labels = (torch.rand(n, K, generator=g) < 0.4).float()
        mix = labels
    else:
        labels = torch.randint(K, (n,), generator=g)
        mix = torch.nn.functional.one_hot(labels, K).float()
    features = [mix @ c + torch.randn(n, c.shape[1], generator=g) for c in centroids]
    return features, labels


def test_fusion_layer_shape_is_units_by_concatenated_abstractions():
    net = RegularizedFusionNet([4096, 4096], 101)
    assert tuple(net.fusion_weight.shape) == (200, 400)
    assert tuple(net.classifier.weight.shape) == (101, 200)
    assert [tuple(a[0].weight.shape) for a in net.abstraction] == [(200, 4096), (200, 4096)]


@pytest.mark.parametrize("cls", [RegularizedFusionNet, EarlyFusionNet, LateFusionNet])
def test_nets_learn_a_separable_problem(cls):
    torch.manual_seed(0)
    train, labels = two_stream_problem(200, seed=1)
    val, val_labels = two_stream_problem(100, seed=2)
    net = cls(DIMS, K)
    assert evaluate_fusion_net(net, val, val_labels) < 0.6
    history = train_fusion_net(net, train, labels, val, val_labels, lr=0.1, epochs=8, batch_size=50)
    assert history.metric_name == "top1" and len(history.val_metric) == 8
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_metric[-1] >= 0.95
    assert evaluate_fusion_net(net, val, val_labels) == history.val_metric[-1]


def test_multi_label_training_uses_sigmoid_scores_and_map():
    torch.manual_seed(0)
    train, labels = two_stream_problem(200, seed=1, multi_label=True)
    val, val_labels = two_stream_problem(100, seed=2, multi_label=True)
    net = RegularizedFusionNet(DIMS, K)
    before = evaluate_fusion_net(net, val, val_labels, multi_label=True)
    history = train_fusion_net(net, train, labels, val, val_labels, lr=0.1, epochs=8, batch_size=50, multi_label=True)
    assert history.metric_name == "mAP" and history.val_metric[-1] >= 0.95 > before
    scores = net.scores(*val, multi_label=True)
    assert scores.shape == (100, K) and bool(((scores > 0) & (scores < 1)).all())
    assert not torch.allclose(scores.sum(dim=1), torch.ones(100))  # not a softmax


def train_with_lambda2(lambda2: float) -> RegularizedFusionNet:
    torch.manual_seed(0)
    train, labels = two_stream_problem(200, seed=1)
    net = RegularizedFusionNet(DIMS, K, abstraction=20, fusion=30)
    train_fusion_net(net, train, labels, lr=0.05, epochs=4, batch_size=50, lambda2=lambda2, lambda3=1e-3)
    return net


def test_large_lambda2_zeroes_more_fusion_rows():
    small, large = train_with_lambda2(1e-3), train_with_lambda2(2.0)
    assert large.zero_row_fraction() > 0
    assert large.zero_row_fraction() > small.zero_row_fraction()
    zero_rows = (large.fusion_weight == 0).all(dim=1)
    assert int(zero_rows.sum()) == round(large.zero_row_fraction() * 30)


def test_proximal_step_follows_every_optimizer_step(monkeypatch):
    calls = []
    real = feature_fusion.proximal_step_

    def recording(weight, lr, lambda2, lambda3):
        calls.append((weight, lr, lambda2, lambda3))
        out = real(weight, lr, lambda2, lambda3)
        assert (weight == 0).all(dim=1).any()  # the weight the next step sees has exact zero rows
        return out

    monkeypatch.setattr(feature_fusion, "proximal_step_", recording)
    train, labels = two_stream_problem(100, seed=1)
    net = RegularizedFusionNet(DIMS, K, abstraction=20, fusion=30)
    train_fusion_net(net, train, labels, lr=0.05, epochs=3, batch_size=32, lambda2=50.0, lambda3=0.0)
    assert len(calls) == 3 * 4  # ceil(100 / 32) steps per epoch
    assert all(w is net.fusion_weight and lr == 0.05 for w, lr, _, _ in calls)
    calls.clear()
    train_fusion_net(net, train, labels, lr=0.05, epochs=1, lambda2=0.0, lambda3=0.0)
    assert calls == []  # the non-regularised ablation takes plain SGD steps


def test_weight_decay_skips_biases_and_prox_needs_a_fusion_layer():
    train, labels = two_stream_problem(32, seed=1)
    net = EarlyFusionNet(DIMS, K)
    with pytest.raises(ValueError, match="fusion_weight"):
        train_fusion_net(net, train, labels, lambda2=1.0)
    # With zero gradient (lr on the loss is irrelevant), λ1 decay shrinks weights, never biases.
    net = RegularizedFusionNet(DIMS, K)
    bias = net.classifier.bias.detach().clone()
    weight = net.classifier.weight.detach().clone()
    for p in net.parameters():
        p.register_hook(lambda g: torch.zeros_like(g))
    train_fusion_net(net, train, labels, lr=0.5, epochs=1, batch_size=32, lambda1=0.1)
    torch.testing.assert_close(net.classifier.bias.detach(), bias)
    torch.testing.assert_close(net.classifier.weight.detach(), weight * (1 - 0.5 * 0.1))


def test_frame_features_are_averaged_over_time():
    net = RegularizedFusionNet(DIMS, K).eval()
    frames = [torch.randn(3, 5, d) for d in DIMS]
    torch.testing.assert_close(net(*frames), net(*(x.mean(dim=1) for x in frames)))


def test_late_fusion_averages_stream_scores_and_sums_losses():
    net = LateFusionNet(DIMS, K).eval()
    x = [torch.randn(3, d) for d in DIMS]
    per_stream = [torch.softmax(n(f), dim=1) for n, f in zip(net.nets, x)]
    torch.testing.assert_close(net.scores(*x), (per_stream[0] + per_stream[1]) / 2)
    y = torch.tensor([0, 1, 2])
    expected = sum(torch.nn.functional.cross_entropy(n(f), y) for n, f in zip(net.nets, x))
    torch.testing.assert_close(net.loss(net(*x), y), expected)


def test_bad_inputs_name_the_problem():
    net = RegularizedFusionNet(DIMS, K)
    with pytest.raises(ValueError, match="expects 2 streams"):
        net(torch.randn(2, 16))
    with pytest.raises(ValueError, match="stream 1"):
        net(torch.randn(2, 16), torch.randn(2, 13))
    with pytest.raises(ValueError, match="class indices"):
        train_fusion_net(net, [torch.randn(4, 16), torch.randn(4, 12)], torch.tensor([0, 1, 2, 9]))


@pytest.mark.parametrize("cls", [RegularizedFusionNet, EarlyFusionNet, LateFusionNet])
def test_fusion_nets_are_countable(cls):
    net = cls(DIMS, K).eval()
    macs = mac_analysis(net, tuple(torch.zeros(1, d) for d in DIMS)).total()
    if cls is RegularizedFusionNet:
        linear = [(16, 200), (12, 200), (400, 200), (200, K)]
    elif cls is EarlyFusionNet:
        linear = [(28, 200), (200, 200), (200, K)]
    else:
        linear = [(16, 200), (200, 200), (200, K), (12, 200), (200, 200), (200, K)]
    assert macs == sum(i * o + o for i, o in linear)  # weights and bias additions
    assert sum(p.numel() for p in net.parameters()) == sum(i * o + o for i, o in linear)
