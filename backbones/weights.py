"""Strict loading of local ImageNet checkpoints into a Backbone.

Weight files are read with torch's weights-only unpickler (tensors and plain containers; nothing
in the file is run); a file that is not a state dict of tensors is a :class:`WeightsFileError`
naming it.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from .base import Backbone

_WRAPPER_KEYS = ("state_dict", "model")
_OPTIONAL_SUFFIX = ".num_batches_tracked"


class WeightsFileError(ValueError):
    """A ``--backbone-weights`` file that is not a readable state dict of tensors; names the file."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """Read a checkpoint file: a raw state dict or one wrapped under "state_dict"/"model",
    with any DataParallel "module." prefix removed."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises many types for a file that is not a checkpoint
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        shown = next((line for line in lines if "weights only load failed" not in line.lower()), type(error).__name__)
        raise WeightsFileError(path, f"not a readable weights file ({type(error).__name__}: {shown[:300]})") from None
    for key in _WRAPPER_KEYS:
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items()):
        raise WeightsFileError(path, "does not hold a state dict of tensors (names mapped to tensors)")
    return {_strip_module_prefix(k): v for k, v in obj.items()}


def _strip_module_prefix(key: str) -> str:
    return key[len("module."):] if key.startswith("module.") else key


def drop_classifier(state_dict: dict[str, Tensor], prefixes: tuple[str, ...]) -> dict[str, Tensor]:
    """Remove the ImageNet classifier entries (keys starting with one of ``prefixes``)."""
    return {k: v for k, v in state_dict.items() if not k.startswith(prefixes)}


def cross_modality_init(weight: Tensor, in_channels: int) -> Tensor:
    """Average RGB filters over their input channels and replicate the mean ``in_channels`` times."""
    mean = weight.mean(dim=1, keepdim=True)
    return mean.expand(-1, in_channels, *weight.shape[2:]).contiguous()


def _adapt_first_conv(backbone: Backbone, state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    key = backbone.first_conv_key
    weight = state_dict.get(key)
    if weight is None or weight.dim() != 4 or weight.shape[1] != 3 or backbone.in_channels == 3:
        return state_dict
    return {**state_dict, key: cross_modality_init(weight, backbone.in_channels)}


def _shape(t: Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


def check_compatible(backbone: Backbone, state_dict: dict[str, Tensor], source: str) -> None:
    """Raise a :class:`WeightsFileError` listing every missing, unexpected and mis-shaped key."""
    expected = backbone.state_dict()
    missing = [k for k in expected if k not in state_dict and not k.endswith(_OPTIONAL_SUFFIX)]
    unexpected = [k for k in state_dict if k not in expected]
    mismatched = [
        k for k in state_dict if k in expected and _shape(state_dict[k]) != _shape(expected[k])
    ]
    if not (missing or unexpected or mismatched):
        return
    lines = [f"does not match backbone {type(backbone).__name__}:"]
    if missing:
        lines.append(f"  missing keys ({len(missing)}):")
        lines += [f"    {k} {_shape(expected[k])}" for k in missing]
    if unexpected:
        lines.append(f"  unexpected keys ({len(unexpected)}):")
        lines += [f"    {k} {_shape(state_dict[k])}" for k in unexpected]
    if mismatched:
        lines.append(f"  shape mismatches ({len(mismatched)}):")
        lines += [
            f"    {k}: file {_shape(state_dict[k])} vs model {_shape(expected[k])}" for k in mismatched
        ]
    raise WeightsFileError(source, "\n".join(lines))


def load_weights(backbone: Backbone, path: str | Path) -> None:
    """Load a local checkpoint strictly; the classifier keys are the only ones allowed to be extra.

    ``num_batches_tracked`` buffers may be absent (older checkpoints predate them).
    """
    state_dict = read_state_dict(path)
    state_dict = backbone.adapt_checkpoint(state_dict)
    state_dict = drop_classifier(state_dict, backbone.classifier_prefixes)
    state_dict = _adapt_first_conv(backbone, state_dict)
    check_compatible(backbone, state_dict, str(path))
    backbone.load_state_dict(state_dict, strict=True)
