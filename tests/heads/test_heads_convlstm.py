from __future__ import annotations

import torch

from heads.convlstm import ConvLSTMHead


def manual_step(weight, bias, x, h, c):
    """One ConvLSTM step written out: 3×3 conv over [x, h] as unfold + matmul, gates i, f, g, o."""
    n, _, height, width = x.shape
    columns = torch.nn.functional.unfold(torch.cat([x, h], dim=1), kernel_size=3, padding=1)
    gates = (weight.flatten(1) @ columns + bias[:, None]).view(n, -1, height, width)
    hidden = h.shape[1]
    i = torch.sigmoid(gates[:, :hidden])
    f = torch.sigmoid(gates[:, hidden : 2 * hidden])
    g = torch.tanh(gates[:, 2 * hidden : 3 * hidden])
    o = torch.sigmoid(gates[:, 3 * hidden :])
    c = f * c + i * g
    return o * torch.tanh(c), c


def test_cell_step_matches_manual_computation():
    torch.manual_seed(0)
    head = ConvLSTMHead(3, 5)
    cell = head.cell
    assert cell.conv.kernel_size == (3, 3) and cell.conv.padding == (1, 1) and cell.conv.bias is not None
    assert cell.conv.in_channels == 512 and cell.conv.out_channels == 1024
    x = torch.randn(2, 256, 4, 4)
    h = torch.randn(2, 256, 4, 4)
    c = torch.randn(2, 256, 4, 4)
    with torch.no_grad():
        got_h, got_c = cell(x, (h, c))
        want_h, want_c = manual_step(cell.conv.weight, cell.conv.bias, x, h, c)
    torch.testing.assert_close(got_h, want_h, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(got_c, want_c, rtol=1e-4, atol=1e-5)


def test_head_unrolls_from_zero_state_and_pools_last_hidden():
    torch.manual_seed(0)
    head = ConvLSTMHead(3, 5)
    maps = torch.randn(2, 3, 256, 3, 3)
    with torch.no_grad():
        h = c = torch.zeros(2, 256, 3, 3)
        for t in range(3):
            h, c = manual_step(head.cell.conv.weight, head.cell.conv.bias, maps[:, t], h, c)
        expected = head.fc(h.mean(dim=(2, 3)))
        torch.testing.assert_close(head(maps), expected, rtol=1e-4, atol=1e-5)
