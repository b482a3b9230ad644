"""A run's trained backbone, taken out of its checkpoint as a plain weights file.

The file holds only the backbone's tensors under the backbone's own (torchvision) key names, so that
``build_backbone(..., weights=FILE)`` (``--backbone-weights``) starts another run from them. The
checkpoint is read with :func:`benchmark.run.checkpoint.read_checkpoint` (weights only, allow-listed
types) and the file is written atomically.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from benchmark.run.checkpoint import CheckpointError, read_checkpoint
from datamodules.storage import write_atomically

# The state-dict prefixes of the backbones inside a run's checkpoint, by stream.
STREAM_PREFIXES = {"backbone": "net.backbone.", "spatial": "net.spatial.", "temporal": "net.temporal."}


def backbone_state(state_dict: dict[str, Any], stream: str, source: str | Path) -> dict[str, Any]:
    """The tensors under ``stream``'s prefix, with the prefix removed; a CheckpointError when there are none."""
    prefix = STREAM_PREFIXES[stream]
    tensors = {key[len(prefix) :]: value for key, value in state_dict.items() if key.startswith(prefix)}
    if not tensors:
        present = sorted(name for name, known in STREAM_PREFIXES.items() if any(k.startswith(known) for k in state_dict))
        hint = f"; this checkpoint has: {', '.join(present)} (use --stream)" if present else ""
        raise CheckpointError(source, f"no {stream!r} weights ({prefix}*) in the checkpoint{hint}")
    return tensors


def export_backbone(checkpoint: str | Path, out: str | Path, stream: str = "backbone", trust: bool = False) -> int:
    """Write ``stream``'s backbone of ``checkpoint`` to ``out``; returns the number of tensors written."""
    import torch

    state_dict = read_checkpoint(checkpoint, trust=trust).get("state_dict")
    if not isinstance(state_dict, dict):
        raise CheckpointError(checkpoint, "no state_dict in the checkpoint")
    tensors = backbone_state(state_dict, stream, checkpoint)
    buffer = io.BytesIO()
    torch.save({key: value.detach().clone() for key, value in tensors.items()}, buffer)
    write_atomically(out, buffer.getvalue())
    return len(tensors)
