"""What a stream sees: RGB frames, stacks of optical flow, or both (the deep fusion network)."""
from __future__ import annotations

from enum import Enum


class Modality(str, Enum):
    """A run's input. Its value is the string written in configs, run ids and the leaderboard."""

    RGB = "rgb"
    FLOW = "flow"
    RGB_FLOW = "rgb+flow"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    def input_channels(self, flow_length: int) -> int:
        """Channels of one time step's input: 3 for RGB, 2L for a stack of L flow pairs (x, y each)."""
        return 2 * flow_length if self is Modality.FLOW else 3

    def frames_per_segment(self, flow_length: int) -> int:
        """Frames read per segment: one RGB frame, or L consecutive flow pairs."""
        return flow_length if self is Modality.FLOW else 1
