from __future__ import annotations

import pytest
import torch

from heads import build_head
from heads.recurrent import BLSTMHead, GRUHead, LSTMHead, RNNReLUHead, RNNTanhHead


def test_blstm_classifies_forward_last_and_backward_first():
    torch.manual_seed(0)
    head = BLSTMHead(5, 6)
    x = torch.randn(3, 5, 256)
    rnn = head.rnn
    hidden = 128
    with torch.no_grad():
        outputs, (h_n, _) = rnn(x)
        # The backward direction alone: an LSTM with the reverse weights run over the reversed clip.
        backward = torch.nn.LSTM(256, hidden, batch_first=True)
        backward.weight_ih_l0.copy_(rnn.weight_ih_l0_reverse)
        backward.weight_hh_l0.copy_(rnn.weight_hh_l0_reverse)
        backward.bias_ih_l0.copy_(rnn.bias_ih_l0_reverse)
        backward.bias_hh_l0.copy_(rnn.bias_hh_l0_reverse)
        backward_out, _ = backward(x.flip(1))
        forward = torch.nn.LSTM(256, hidden, batch_first=True)
        forward.weight_ih_l0.copy_(rnn.weight_ih_l0)
        forward.weight_hh_l0.copy_(rnn.weight_hh_l0)
        forward.bias_ih_l0.copy_(rnn.bias_ih_l0)
        forward.bias_hh_l0.copy_(rnn.bias_hh_l0)
        forward_out, _ = forward(x)
        expected_summary = torch.cat([forward_out[:, -1], backward_out[:, -1]], dim=1)
        torch.testing.assert_close(head.summarize(outputs), expected_summary)
        # Both halves are each direction's final hidden state.
        torch.testing.assert_close(expected_summary, torch.cat([h_n[0], h_n[1]], dim=1))
        torch.testing.assert_close(head(x), head.fc(expected_summary))


@pytest.mark.parametrize("cls", [RNNTanhHead, RNNReLUHead, LSTMHead, GRUHead])
def test_unidirectional_heads_classify_the_last_step_from_zero_state(cls):
    torch.manual_seed(0)
    head = cls(4, 5)
    x = torch.randn(2, 4, 256)
    zeros = torch.zeros(1, 2, 256)
    with torch.no_grad():
        state = (zeros, zeros) if cls is LSTMHead else zeros
        outputs, _ = head.rnn(x, state)
        torch.testing.assert_close(head(x), head.fc(outputs[:, -1]))
    assert head.rnn.hidden_size == 256 and head.rnn.num_layers == 1 and head.rnn.batch_first
    assert not head.rnn.bidirectional


def test_rnn_nonlinearities():
    assert build_head("rnn_tanh", 4, 5).rnn.nonlinearity == "tanh"
    assert build_head("rnn_relu", 4, 5).rnn.nonlinearity == "relu"


def test_blstm_layer_shape():
    rnn = build_head("blstm", 4, 5).rnn
    assert rnn.bidirectional and rnn.hidden_size == 128 and rnn.batch_first
