"""Layer-normalised LSTM (Ba, Kiros & Hinton 2016, "Layer Normalization", section 3.1 / appendix).

One step, with gates in PyTorch's order (i, f, g, o) so that ``nn.LSTM`` weights copy over:

    (i, f, g, o) = LN_ih(W_ih x_t) + LN_hh(W_hh h_{t-1}) + b        (LN over all 4H pre-activations)
    c_t = σ(f) ⊙ c_{t-1} + σ(i) ⊙ tanh(g)
    h_t = σ(o) ⊙ tanh(LN_c(c_t))                                      (the un-normalised c_t is carried)

LN_ih and LN_hh have a gain and no shift of their own (the shared bias b is the shift; two more
shifts would be redundant with it); LN_c has a gain and a shift. With ``layer_norm=False`` the
three normalisations are the identity and the cell computes exactly ``nn.LSTM`` with
b = b_ih + b_hh.

A plain module with a Python loop over time steps (no TorchScript, no fused kernel): it runs
sequence to sequence (``outputs``, one h_t per step) and sequence to one (``outputs[:, -1]``,
which equals the returned final h).

MAC counting (``benchmark.run.complexity``): with ``layer_norm=False`` a step counts 4H(I + H) + 12H
(one bias vector, unlike ``nn.LSTM``'s two: 16H); layer normalisation adds, per step,
2·(6·4H + 1) for the gate normalisations (gain only) and 7H + 1 for the cell's (gain and shift).
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

State = tuple[Tensor, Tensor]


class LayerNormLSTMCell(nn.Module):
    """One layer-normalised LSTM step: (x_t, (h, c)) → (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, layer_norm: bool = True) -> None:
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"input_size and hidden_size must be positive, got {input_size}, {hidden_size}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.layer_norm = layer_norm
        gates = 4 * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(gates, input_size))
        self.weight_hh = nn.Parameter(torch.empty(gates, hidden_size))
        self.bias = nn.Parameter(torch.empty(gates))
        if layer_norm:
            self.ln_ih: nn.Module = nn.LayerNorm(gates, bias=False)
            self.ln_hh: nn.Module = nn.LayerNorm(gates, bias=False)
            self.ln_cell: nn.Module = nn.LayerNorm(hidden_size)
        else:
            self.ln_ih = self.ln_hh = self.ln_cell = nn.Identity()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weights and bias uniform in ±1/√H as ``nn.LSTM`` does, except two choices for training speed
        (the published description gives no initialisation): with layer normalisation, W_ih is uniform in
        ±1/√input_size (fan-in), and the forget gate's bias starts at 1 (Gers, Schmidhuber & Cummins 2000).

        LN_ih makes the gates independent of W_ih's scale, so that scale only sets how fast W_ih moves: an
        input much wider than H (the deep fusion net's 4,096-d X_fc into K hidden units) would otherwise get
        weights 1/√H, about 20 times the fan-in scale, and steps about 20 times smaller relative to them.
        LN gains 1, shifts 0."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in (self.weight_ih, self.weight_hh, self.bias):
            nn.init.uniform_(p, -bound, bound)
        if self.layer_norm:
            fan_in = 1.0 / math.sqrt(self.input_size)
            nn.init.uniform_(self.weight_ih, -fan_in, fan_in)
            with torch.no_grad():
                self.bias[self.hidden_size : 2 * self.hidden_size] = 1.0  # gates (i, f, g, o): f
        for m in (self.ln_ih, self.ln_hh, self.ln_cell):
            if isinstance(m, nn.LayerNorm):
                m.reset_parameters()

    def forward(self, x: Tensor, state: State) -> State:
        h, c = state
        gates = self.ln_ih(F.linear(x, self.weight_ih)) + self.ln_hh(F.linear(h, self.weight_hh)) + self.bias
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(self.ln_cell(c))
        return h, c


class LayerNormLSTM(nn.Module):
    """One layer-normalised LSTM layer over a batch-first sequence, zero initial state by default.

    ``forward(x (B, T, input_size), state=None)`` → ``(outputs (B, T, H), (h_T, c_T))``, the
    same layout as a one-layer, batch-first ``nn.LSTM`` (without its leading layer dimension).
    """

    def __init__(self, input_size: int, hidden_size: int, layer_norm: bool = True) -> None:
        super().__init__()
        self.cell = LayerNormLSTMCell(input_size, hidden_size, layer_norm)
        self.input_size = input_size
        self.hidden_size = hidden_size

    def forward(self, x: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"LayerNormLSTM expects (B, T, {self.input_size}) input, got {tuple(x.shape)}")
        if x.shape[1] < 1:
            raise ValueError("LayerNormLSTM needs at least one time step")
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        outputs = []
        for x_t in x.unbind(dim=1):
            state = self.cell(x_t, state)
            outputs.append(state[0])
        return torch.stack(outputs, dim=1), state
