"""``stbench export-backbone CHECKPOINT --out FILE``: a run's trained backbone as a plain weights file.

``--backbone-weights FILE`` (or ``backbone_weights:`` in a sweep) then starts another run from it: e.g.
the deep fusion preset's streams start from a backbone trained on the built-in set's RGB frames, as
the published streams start from ImageNet weights (:mod:`benchmark.run.backbone_export`). The output
is written only where ``--out`` says.
"""
from __future__ import annotations

import argparse


def command_export_backbone(args: argparse.Namespace) -> int:
    from benchmark.cli.preflight import check_output_file
    from benchmark.run.backbone_export import export_backbone
    from datamodules.storage import file_sha256

    check_output_file("--out", args.out)
    count = export_backbone(args.checkpoint, args.out, args.stream, args.trust_checkpoint)
    print(f"{args.out}: {count} tensors of the {args.stream} (sha256 {file_sha256(args.out)[:12]})")
    return 0


def add_export_backbone_parser(subparsers: argparse._SubParsersAction) -> None:
    from benchmark.run.backbone_export import STREAM_PREFIXES

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
