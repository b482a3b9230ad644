from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from benchmark.run.complexity import mac_analysis
from heads.fusion.layernorm_lstm import LayerNormLSTM, LayerNormLSTMCell

I, H = 5, 4


def copied(lstm: nn.LSTM, layer_norm: bool) -> LayerNormLSTM:
    ln = LayerNormLSTM(lstm.input_size, lstm.hidden_size, layer_norm=layer_norm)
    with torch.no_grad():
        ln.cell.weight_ih.copy_(lstm.weight_ih_l0)
        ln.cell.weight_hh.copy_(lstm.weight_hh_l0)
        ln.cell.bias.copy_(lstm.bias_ih_l0 + lstm.bias_hh_l0)
    return ln


def test_without_layer_norm_it_is_nn_lstm():
    torch.manual_seed(0)
    reference = nn.LSTM(I, H, batch_first=True)
    ln = copied(reference, layer_norm=False)
    x = torch.randn(3, 7, I)
    h0, c0 = torch.randn(3, H), torch.randn(3, H)
    with torch.no_grad():
        expected, (h_n, c_n) = reference(x, (h0[None], c0[None]))
        outputs, (h, c) = ln(x, (h0, c0))
        torch.testing.assert_close(outputs, expected)
        torch.testing.assert_close((h, c), (h_n[0], c_n[0]))
        # Zero initial state by default, like nn.LSTM.
        torch.testing.assert_close(ln(x)[0], reference(x)[0])


def rescaled_output_change(ln: LayerNormLSTM, x: torch.Tensor) -> float:
    """Largest output change when W_ih is scaled by 10 and W_hh by 3."""
    with torch.no_grad():
        before, _ = ln(x)
        ln.cell.weight_ih.mul_(10.0)
        ln.cell.weight_hh.mul_(3.0)
        return float((ln(x)[0] - before).abs().max())


def test_layer_norm_changes_the_output_and_makes_it_scale_invariant():
    torch.manual_seed(0)
    reference = nn.LSTM(I, H, batch_first=True)
    x = torch.randn(3, 7, I)
    with torch.no_grad():
        assert not torch.allclose(copied(reference, True)(x)[0], reference(x)[0], atol=1e-3)
    # LN of W x is invariant to rescaling W (up to LN's epsilon): a property the plain LSTM lacks.
    assert rescaled_output_change(copied(reference, True), x) < 1e-3
    assert rescaled_output_change(copied(reference, False), x) > 0.1


def test_cell_normalises_full_gate_vector_and_cell_before_tanh():
    torch.manual_seed(0)
    cell = LayerNormLSTMCell(I, H)
    with torch.no_grad():
        for m in (cell.ln_ih, cell.ln_hh, cell.ln_cell):
            m.weight.uniform_(0.5, 1.5)
        cell.ln_cell.bias.normal_()
        x, h, c = torch.randn(2, I), torch.randn(2, H), torch.randn(2, H)

        def ln(v, gain, shift=None):
            v = (v - v.mean(1, keepdim=True)) / torch.sqrt(v.var(1, unbiased=False, keepdim=True) + 1e-5)
            return v * gain + (0 if shift is None else shift)

        gates = ln(x @ cell.weight_ih.T, cell.ln_ih.weight) + ln(h @ cell.weight_hh.T, cell.ln_hh.weight) + cell.bias
        i, f, g, o = gates.split(H, dim=1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h_new = torch.sigmoid(o) * torch.tanh(ln(c_new, cell.ln_cell.weight, cell.ln_cell.bias))
        torch.testing.assert_close(cell(x, (h, c)), (h_new, c_new))


def test_sequence_to_one_is_the_last_output_and_shapes():
    ln = LayerNormLSTM(I, H)
    outputs, (h, c) = ln(torch.randn(2, 6, I))
    assert outputs.shape == (2, 6, H) and h.shape == c.shape == (2, H)
    torch.testing.assert_close(outputs[:, -1], h)
    with pytest.raises(ValueError, match="B, T, 5"):
        ln(torch.randn(2, 6, I + 1))


def test_gradients_are_correct_and_reach_every_parameter():
    torch.manual_seed(0)
    ln = LayerNormLSTM(3, 2).double()
    x = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda inp: ln(inp)[0], (x,))
    ln(x)[0].pow(2).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in ln.parameters())


def test_mac_count_with_and_without_layer_norm():
    steps = 3
    plain = LayerNormLSTM(I, H, layer_norm=False).eval()
    macs = mac_analysis(plain, (torch.zeros(1, steps, I),)).total()
    # per token: W_ih, W_hh dot products; ih + hh and + b (4H each); c = f⊙c + i⊙g (3H); o ⊙ tanh c (H)
    assert macs == steps * (4 * H * (I + H) + 4 * H + 4 * H + 3 * H + H)
    # each step adds two gate normalisations over 4H with a gain (6·4H + 1) and the cell's over H
    # with gain and shift (7H + 1): the convention of benchmark/run/complexity.py
    counted = mac_analysis(LayerNormLSTM(I, H).eval(), (torch.zeros(1, steps, I),)).total()
    assert counted == macs + steps * (2 * (6 * 4 * H + 1) + 7 * H + 1)


def test_initialisation_fan_in_input_weights_and_forget_bias_one():
    torch.manual_seed(0)
    cell = LayerNormLSTMCell(4096, 10)
    assert cell.weight_ih.abs().max() <= 1 / math.sqrt(4096)  # fan-in: LN_ih makes its scale a step size only
    assert cell.weight_hh.abs().max() <= 1 / math.sqrt(10) and cell.weight_hh.abs().max() > 1 / math.sqrt(4096)
    assert torch.equal(cell.bias[10:20], torch.ones(10))  # (i, f, g, o): the forget gate
    plain = LayerNormLSTMCell(4096, 10, layer_norm=False)  # without LN: nn.LSTM's init
    assert plain.weight_ih.abs().max() > 1 / math.sqrt(4096) and not torch.equal(plain.bias[10:20], torch.ones(10))
