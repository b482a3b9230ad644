from __future__ import annotations

import pytest
import torch

from benchmark.run.complexity import mac_analysis
from heads.fusion.hybrid_lstm import StreamLSTM


def lstm_token_macs(n_in: int, hidden: int) -> int:
    """benchmark/run/complexity.py's LSTM convention per token: 4H(I + H) + 16H."""
    return 4 * hidden * (n_in + hidden) + 16 * hidden


def test_published_layer_sizes():
    net = StreamLSTM(4096, 101)
    assert [(l.input_size, l.hidden_size, l.num_layers) for l in net.lstms] == [(4096, 1024, 1), (1024, 512, 1)]
    assert all(l.batch_first for l in net.lstms)
    assert tuple(net.fc.weight.shape) == (101, 512)


def test_prediction_is_the_classifier_on_the_last_step():
    torch.manual_seed(0)
    net = StreamLSTM(12, 5, hidden=(16, 8)).eval()
    x = torch.randn(3, 6, 12)
    with torch.no_grad():
        first, _ = net.lstms[0](x)
        second, _ = net.lstms[1](first)
        torch.testing.assert_close(net(x), net.fc(second[:, -1]))
    assert net(x).shape == (3, 5)


def test_prediction_depends_on_the_last_step_and_on_order():
    torch.manual_seed(0)
    net = StreamLSTM(12, 5, hidden=(16, 8)).eval()
    x = torch.randn(2, 6, 12)
    with torch.no_grad():
        out = net(x)
        changed_last = x.clone()
        changed_last[:, -1] += 1.0
        assert not torch.allclose(net(changed_last), out)
        assert not torch.allclose(net(x.flip(1)), out)
        # Steps after t only change the prediction, never the state at t (causality).
        torch.testing.assert_close(net(x[:, :4]), net.fc(net.lstms[1](net.lstms[0](x)[0])[0][:, 3]))


def test_gradients_reach_every_layer_and_bad_shape_is_rejected():
    net = StreamLSTM(12, 5, hidden=(16, 8), dropout=0.5)
    net(torch.randn(2, 4, 12)).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
    with pytest.raises(ValueError, match="B, T, 12"):
        net(torch.randn(2, 4, 11))


def test_countable_with_the_lstm_convention():
    net = StreamLSTM(12, 5, hidden=(16, 8)).eval()
    steps = 4
    macs = mac_analysis(net, (torch.zeros(1, steps, 12),)).total()
    expected = steps * (lstm_token_macs(12, 16) + lstm_token_macs(16, 8)) + 8 * 5 + 5
    assert macs == expected
