"""Per-stream long-term model of the hybrid framework: a 2-layer LSTM over frame features."""
from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

HIDDEN = (1024, 512)


class StreamLSTM(nn.Module):
    """(B, T, input_dim) frame features → stacked LSTMs (1024 then 512 hidden) → Linear(512 → K)
    on the last time step (published as better than pooling the outputs of all steps).

    The layers have different widths, so they are separate ``nn.LSTM`` modules (batch first, zero
    initial state). ``dropout`` is applied to each LSTM layer's outputs (between the layers and in
    front of the classifier); it is not a published figure.
    """

    def __init__(
        self,
        input_dim: int,
        num_classes: int,
        hidden: Sequence[int] = HIDDEN,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not hidden:
            raise ValueError("StreamLSTM needs at least one hidden size")
        self.input_dim = input_dim
        self.num_classes = num_classes
        widths = [input_dim, *hidden]
        self.lstms = nn.ModuleList(nn.LSTM(i, o, batch_first=True) for i, o in zip(widths, widths[1:]))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(widths[-1], num_classes)

    def forward(self, features: Tensor) -> Tensor:
        if features.dim() != 3 or features.shape[-1] != self.input_dim:
            raise ValueError(f"StreamLSTM expects (B, T, {self.input_dim}) features, got {tuple(features.shape)}")
        x = features
        for lstm in self.lstms:
            x, _ = lstm(x)
            x = self.dropout(x)
        return self.fc(x[:, -1])
