"""Recurrent heads: one recurrent layer over the T frame features, a classifier on the last step.

All of them start from a zero state (no initial state is passed to the layer) and share one
forward pass; they differ only in the layer they build and in which outputs feed the classifier.
"""
from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from heads.base import FEATURE_DIM, Head

HIDDEN = 256


class RecurrentHead(Head):
    """One recurrent layer (batch first, zero initial state) → Linear(directions · hidden → K)."""

    consumes = "vector"
    rnn_type: ClassVar[type[nn.RNNBase]]
    rnn_options: ClassVar[tuple[tuple[str, object], ...]] = ()
    hidden_size: ClassVar[int] = HIDDEN
    bidirectional: ClassVar[bool] = False

    def __init__(self, num_segments: int, num_classes: int, feature_dim: int = FEATURE_DIM) -> None:
        super().__init__(num_segments, num_classes, feature_dim)
        self.rnn = self.rnn_type(
            feature_dim,
            self.hidden_size,
            num_layers=1,
            batch_first=True,
            bidirectional=self.bidirectional,
            **dict(self.rnn_options),
        )
        directions = 2 if self.bidirectional else 1
        self.fc = nn.Linear(directions * self.hidden_size, num_classes)

    def summarize(self, outputs: torch.Tensor) -> torch.Tensor:
        """(B, T, directions · hidden) layer outputs → (B, directions · hidden) classifier input."""
        return outputs[:, -1]

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.rnn(features)
        return self.fc(self.summarize(outputs))


class RNNTanhHead(RecurrentHead):
    """Elman RNN with tanh, hidden 256."""

    rnn_type = nn.RNN
    rnn_options = (("nonlinearity", "tanh"),)


class RNNReLUHead(RecurrentHead):
    """Elman RNN with ReLU, hidden 256."""

    rnn_type = nn.RNN
    rnn_options = (("nonlinearity", "relu"),)


class LSTMHead(RecurrentHead):
    """LSTM, hidden 256."""

    rnn_type = nn.LSTM


class GRUHead(RecurrentHead):
    """GRU, hidden 256."""

    rnn_type = nn.GRU


class BLSTMHead(RecurrentHead):
    """Bidirectional LSTM, hidden 128 per direction.

    The classifier sees each direction's output after it has read the whole clip: the forward
    direction at the last step and the backward direction at t = 0.
    """

    rnn_type = nn.LSTM
    hidden_size = HIDDEN // 2
    bidirectional = True

    def summarize(self, outputs: torch.Tensor) -> torch.Tensor:
        forward_last = outputs[:, -1, : self.hidden_size]
        backward_first = outputs[:, 0, self.hidden_size :]
        return torch.cat([forward_last, backward_first], dim=1)
