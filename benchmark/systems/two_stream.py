"""The two-stream ConvNet (spatial RGB + temporal flow streams), fused by their class scores
(docs/protocols.md, section B).

The two streams are ordinary single-stream runs (same dataset, split and seed, a
``holdout_fraction`` of each training class held out). Each scores the held-out videos and the
test videos; a fusion (average, weighted average, linear SVM; :mod:`benchmark.systems.score_fusion`) is
fitted on the held-out scores only and applied to the test scores. A test video that either
stream could not read is counted in ``n_test_failed`` and left out of the fused figures.
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from benchmark.run.config import RunConfig
from benchmark.results.leaderboard import finished_run_ids, upsert_rows
from benchmark.run.options import RunOptions
from benchmark.results.kept_outputs import keep_scored_outputs
from benchmark.run.rows import finished_row, video_counts
from benchmark.run.runner import run
from benchmark.systems.score_fusion import fit_score_fusion
from benchmark.results.metrics import score_metrics
from benchmark.systems.streams import StreamOutputs, stream_outputs
from datamodules.datasets import get_dataset
from datamodules.modality import Modality
from datamodules.storage import short_hash


SYSTEM = "two_stream"


def stream_backbones(spatial: RunConfig, temporal: RunConfig) -> str:
    """The backbone column of a row fusing two streams: their backbone, or both names when they differ."""
    return spatial.backbone if spatial.backbone == temporal.backbone else f"{spatial.backbone}+{temporal.backbone}"


def check_streams(spatial: RunConfig, temporal: RunConfig) -> None:
    """The two streams must be one experiment's RGB and flow halves, with a held-out part."""
    if spatial.modality != Modality.RGB or temporal.modality != Modality.FLOW:
        raise ValueError("two-stream needs an rgb spatial stream and a flow temporal stream")
    for name in ("dataset", "split", "seed", "holdout_fraction"):
        if getattr(spatial, name) != getattr(temporal, name):
            raise ValueError(f"the streams differ in {name}: {getattr(spatial, name)!r} vs {getattr(temporal, name)!r}")
    if not spatial.holdout_fraction > 0:
        raise ValueError("two-stream fusion is fitted on a held-out part of the training set: set holdout_fraction > 0")


def train_streams(configs: Sequence[RunConfig], options: RunOptions) -> None:
    """Train each stream unless it already has a finished leaderboard row."""
    done = finished_run_ids(options.leaderboard)
    for config in configs:
        if config.run_id not in done:
            run(config, options)


def align(outputs: Sequence[StreamOutputs]) -> tuple[list[str], list[np.ndarray], np.ndarray]:
    """The videos every stream scored, in the first stream's order, with each stream's rows."""
    common = set(outputs[0].video_ids).intersection(*(o.video_ids for o in outputs[1:]))
    ids = [video for video in outputs[0].video_ids if video in common]
    rows = []
    for output in outputs:
        position = {video: i for i, video in enumerate(output.video_ids)}
        rows.append(output.values[[position[video] for video in ids]])
    position = {video: i for i, video in enumerate(outputs[0].video_ids)}
    return ids, rows, outputs[0].labels[[position[video] for video in ids]]


def fusion_run_id(streams: Sequence[RunConfig], system: str, component: str, extra: dict[str, Any] | None = None) -> str:
    payload = json.dumps(
        {"streams": [c.run_id for c in streams], "system": system, "component": component, **(extra or {})},
        sort_keys=True,
    )
    return short_hash(payload)


def run_two_stream(
    spatial: RunConfig,
    temporal: RunConfig,
    options: RunOptions,
    methods: Sequence[str] = ("average", "weighted_average", "linear_svm"),
) -> list[dict[str, Any]]:
    """Train (or reuse) both streams, fit every fusion method on held-out scores, upsert one row each."""
    check_streams(spatial, temporal)
    train_streams([spatial, temporal], options)
    spec = get_dataset(spatial.dataset)
    scored = {"val": [stream_outputs(config, options, "val") for config in (spatial, temporal)]}
    test_started = time.perf_counter()
    scored["test"] = [stream_outputs(config, options, "test") for config in (spatial, temporal)]
    test_seconds = time.perf_counter() - test_started  # both streams' decoding and scoring
    _, held_out, held_labels = align(scored["val"])
    test_ids, test_scores, test_labels = align(scored["test"])
    expected = len(spec.load(options.data_root, spatial.split, False).test)
    base = finished_row(
        replace(spatial, head=SYSTEM),
        system=SYSTEM,
        modality=str(Modality.RGB_FLOW),
        backbone=stream_backbones(spatial, temporal),
        **video_counts(expected, len(test_ids)),
    )
    rows = []
    for method in methods:
        fitted = fit_score_fusion(method, held_out, held_labels, multi_label=spec.multi_label)
        fusion_started = time.perf_counter()
        fused = fitted.predict_scores(test_scores)
        seconds = test_seconds + time.perf_counter() - fusion_started
        run_id = fusion_run_id([spatial, temporal], SYSTEM, method)
        rows.append(
            {
                **base,
                "run_id": run_id,
                **keep_scored_outputs(options.run_dir(run_id), test_ids, fused, test_labels, spec.multi_label),
                "head": f"fusion_{method}",
                **score_metrics(fused, test_labels, spec.num_classes, spec.multi_label),
                "test_clips_per_s": len(test_ids) / seconds if seconds > 0 else float("nan"),
                "detail": fitted.describe(),
            }
        )
    upsert_rows(options.leaderboard, rows)
    return rows
