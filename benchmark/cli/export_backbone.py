"""``stbench export-backbone CHECKPOINT --out FILE``: a run's trained backbone as a plain weights file.

The file holds only the backbone's tensors under the backbone's own (torchvision) key names, so that
``--backbone-weights FILE`` (or ``backbone_weights:`` in a sweep) starts another run from them: e.g.
the deep fusion preset's streams start from a backbone trained on the built-in set's RGB frames, as
the published streams start from ImageNet weights. The checkpoint is read like every other (weights
only, allow-listed types); the output is written atomically and only where ``--out`` says.
"""
from __future__ import annotations

import argparse
import io
from pathlib import Path

# The state-dict prefixes of the backbones inside a run's checkpoint, by --stream.
STREAM_PREFIXES = {"backbone": "net.backbone.", "spatial": "net.spatial.", "temporal": "net.temporal."}


def backbone_state(state_dict: dict, stream: str, source: str) -> dict:
    """The tensors under ``stream``'s prefix, with the prefix removed; a CheckpointError when there are none."""
    from benchmark.run.checkpoint import CheckpointError

    prefix = STREAM_PREFIXES[stream]
    tensors = {key[len(prefix) :]: value for key, value in state_dict.items() if key.startswith(prefix)}
    if not tensors:
        present = sorted(name for name, known in STREAM_PREFIXES.items() if any(k.startswith(known) for k in state_dict))
        hint = f"; this checkpoint has: {', '.join(present)} (use --stream)" if present else ""
        raise CheckpointError(source, f"no {stream!r} weights ({prefix}*) in the checkpoint{hint}")
    return tensors


def command_export_backbone(args: argparse.Namespace) -> int:
    import torch

    from benchmark.run.checkpoint import CheckpointError, read_checkpoint
    from datamodules.storage import file_sha256, write_atomically

    content = read_checkpoint(args.checkpoint, trust=args.trust_checkpoint)
    state_dict = content.get("state_dict")
    if not isinstance(state_dict, dict):
        raise CheckpointError(args.checkpoint, "no state_dict in the checkpoint")
    tensors = backbone_state(state_dict, args.stream, str(args.checkpoint))
    buffer = io.BytesIO()
    torch.save({key: value.detach().clone() for key, value in tensors.items()}, buffer)
    out = Path(args.out)
    write_atomically(out, buffer.getvalue())
    print(f"{out}: {len(tensors)} tensors of the {args.stream} (sha256 {file_sha256(out)[:12]})")
    return 0


def add_export_backbone_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export-backbone", help="write a run's trained backbone as a weights file for --backbone-weights"
    )
    parser.add_argument("checkpoint", help="a checkpoint written by a run (runs/<run_id>/checkpoints/last.ckpt)")
    parser.add_argument("--out", required=True, help="the weights file to write (.pt)")
    parser.add_argument(
        "--stream", choices=list(STREAM_PREFIXES), default="backbone",
        help="which backbone: a run's (default), or a deep fusion run's spatial or temporal stream",
    )  # fmt: skip
    parser.add_argument(
        "--trust-checkpoint", action="store_true",
        help="load a checkpoint that needs types outside the allow-list (this can run code stored in the file)",
    )  # fmt: skip
    parser.set_defaults(handler=command_export_backbone)
