"""The hybrid framework: per-stream LSTMs + a regularised feature fusion network, fused by their scores
(docs/protocols.md, section C).

Two single-stream runs (an RGB spatial CNN and a flow motion CNN of one experiment, both with a
``holdout_fraction``) give per-frame backbone features (global-average-pooled maps, one per
segment) of the training part, the held-out part and the test set. On those:

* one :class:`~heads.fusion.StreamLSTM` per stream is trained on the frame sequences;
* the regularised fusion network is trained on the time-averaged features; λ2 and λ3 are chosen
  from ``lambda_grid`` by the held-out metric (:func:`select_lambdas` never sees the test set);
  the same net with λ2 = λ3 = 0, NN early fusion and NN late fusion are the baselines;
* the hybrid prediction is the weighted sum of the regularised net's and the two LSTMs' scores,
  the weights fitted on the held-out scores (:func:`benchmark.systems.score_fusion.fit_score_fusion`);
* the baselines of the paper's tables: χ²-kernel SVMs on the video-level features (spatial, motion,
  early and late fusion, ℓp-norm MKL) and the plain averages of the CNNs' and LSTMs' scores
  (:mod:`benchmark.systems.hybrid_baselines`).

Every component (and each CNN's own test scores) becomes one leaderboard row with
``system = "hybrid"`` and ``head`` = the component's name. Features are standardised per
dimension with the training part's statistics (the published lr 0.7 assumes inputs of unit scale;
pooled maps of an arbitrary backbone are not).

The published frame features are the 4096-d output of each CNN's first fully-connected layer. A
VGG-16 stream loaded from ImageNet weights gives exactly that (fc6 of the weight file over the
stream's fine-tuned maps); a backbone without a fully-connected layer (``smallcnn``, ResNets, …)
gives its global-average-pooled maps. Every feature-based row says which in ``detail``.

λ units: the regularised net's λ2, λ3 are those of the objective (λ2/2)·‖W^E‖_{2,1} + λ3·‖W^E‖_{1,1}
with the exact proximal step at step size lr, whose thresholds are lr·λ3 (element-wise) and lr·λ2/2
(row-wise); the paper writes its update with the thresholds themselves, so its λ3 = lr·λ3 and its
λ2 = lr·λ2/2 here. λ1 is SGD weight decay on the mini-batch mean of the loss (the gradient of
(λ1/2)·Σ‖W‖_F²). Rows state both.

Distributed training: the streams' :func:`benchmark.run.runner.run` may use DDP options; every
process takes part in both stream trainings, then only the global rank 0 (the process that gets
a row back) extracts features, fits the LSTMs and fusion nets in one process and writes rows.
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmark.results.leaderboard import finished_run_ids, upsert_rows
from benchmark.results.kept_outputs import keep_scored_outputs
from benchmark.results.metrics import score_metrics
from benchmark.run.config import RunConfig
from benchmark.run.options import RunOptions
from benchmark.run.rows import elapsed, finished_row, identity_columns, video_counts
from benchmark.run.runner import run
from benchmark.systems.hybrid_baselines import ComponentResult, average_results, svm_results
from benchmark.systems.hybrid_features import (
    Part,
    cached_outputs,
    frame_feature_source,
    lazy_stream_model,
    load_parts,
    standardize,
)
from benchmark.systems.hybrid_settings import HybridSettings
from benchmark.systems.hybrid_training import (
    LambdaChoice,
    fit_fusion_net,
    lstm_scores,
    net_scores,
    select_lambdas,
    train_stream_lstm,
)
from benchmark.systems.score_fusion import fit_score_fusion
from benchmark.systems.streams import checkpoint_of
from benchmark.systems.two_stream import check_streams, fusion_run_id, stream_backbones
from datamodules.datasets import get_dataset
from datamodules.modality import Modality
from heads.fusion import EarlyFusionNet, LateFusionNet, RegularizedFusionNet

SYSTEM = "hybrid"
COMPONENTS: tuple[str, ...] = (
    "spatial_cnn", "motion_cnn", "spatial_lstm", "motion_lstm",
    "cnn_lstm_spatial", "cnn_lstm_motion", "cnn_lstm_all",
    "svm_spatial", "svm_motion", "svm_ef", "svm_lf", "svm_mkl",
    "nn_early_fusion", "nn_late_fusion", "cnn_average",
    "fusion_nonregularized", "fusion_regularized", "hybrid",
)  # fmt: skip  (the order of the paper's tables)
MODALITY = {
    "spatial_cnn": Modality.RGB,
    "motion_cnn": Modality.FLOW,
    "spatial_lstm": Modality.RGB,
    "motion_lstm": Modality.FLOW,
    "cnn_lstm_spatial": Modality.RGB,
    "cnn_lstm_motion": Modality.FLOW,
    "svm_spatial": Modality.RGB,
    "svm_motion": Modality.FLOW,
}
HYBRID_MEMBERS = ("fusion_regularized", "spatial_lstm", "motion_lstm")  # the final score fusion's inputs


# -- the system --------------------------------------------------------------------------------
def train_streams(configs: Sequence[RunConfig], options: RunOptions) -> bool:
    """Train every stream without a finished leaderboard row or without its checkpoint (the features
    are extracted from it); False on a non-zero DDP rank.

    Every process runs every stream's training (DDP processes re-execute the caller), so the
    finished runs and checkpoints are looked up once, before any training."""
    done = finished_run_ids(Path(options.results_dir) / "leaderboard.csv")
    todo = [config for config in configs if config.run_id not in done or not _has_checkpoint(config, options)]
    rank_zero = True
    for config in todo:
        rank_zero = run(config, options) is not None and rank_zero
    return rank_zero


def _has_checkpoint(config: RunConfig, options: RunOptions) -> bool:
    try:
        return checkpoint_of(config, options).is_file()
    except FileNotFoundError:
        return False


def hybrid_run_id(spatial: RunConfig, temporal: RunConfig, settings: HybridSettings, component: str) -> str:
    """Stable hash of (both streams' run ids, the settings, the component)."""
    return fusion_run_id([spatial, temporal], SYSTEM, component, {"settings": settings.identity()})


def _cnn_results(
    spatial: RunConfig, temporal: RunConfig, options: RunOptions, test: Part
) -> list[ComponentResult]:
    """Each stream's own test scores (its test views averaged), as its run computed them, for the
    test videos both streams read (those of ``test``, in its order)."""
    results = []
    for name, config in (("spatial_cnn", spatial), ("motion_cnn", temporal)):
        scored = cached_outputs(config, options, "test", "scores", lazy_stream_model(config, options))
        position = {video: i for i, video in enumerate(scored.video_ids)}
        rows = [position[video] for video in test.video_ids]
        columns = {key: identity_columns(config)[key] for key in ("epochs", "batch_size", "lr", "test_views")}
        results.append(ComponentResult(name, scored.values[rows], scored.labels[rows], columns))
    return results


def _lstm_results(
    parts: dict[str, Part], k: int, multi: bool, settings: HybridSettings, features: list[str]
) -> list[ComponentResult]:
    train, held_out, test = parts["train"], parts["val"], parts["test"]
    columns = _training_columns(settings.lstm_epochs, settings.lstm_batch_size, settings.lstm_lr)
    results = []
    for index, name in enumerate(("spatial_lstm", "motion_lstm")):
        model = train_stream_lstm(train.frames()[index], train.targets(), k, multi, settings)
        test_scores, held_out_scores = (lstm_scores(model, p.frames()[index], multi) for p in (test, held_out))
        detail = {"detail": f"frame features: {features[index]}"}
        results.append(ComponentResult(name, test_scores, test.labels, {**columns, **detail}, held_out_scores))
    return results


def lambda_detail(settings: HybridSettings, lambda2: float, lambda3: float) -> str:
    """The λ's of a fusion row in the harness's units and in the paper's (see the module doc)."""
    lr = settings.fusion_lr
    return (
        f"lambda1={settings.lambda1:g} (SGD weight decay, batch-mean loss) lambda2={lambda2:g} lambda3={lambda3:g} "
        f"(objective (l2/2)|W|_2,1 + l3|W|_1,1; in the paper's units, its prox thresholds at lr={lr:g}: "
        f"lambda2'=lr*lambda2/2={lr * lambda2 / 2:.3g}, lambda3'=lr*lambda3={lr * lambda3:.3g})"
    )


def _fusion_results(
    parts: dict[str, Part], k: int, multi: bool, settings: HybridSettings, features: str
) -> list[ComponentResult]:
    """NN early and late fusion, the non-regularised net, and the regularised net with λ2, λ3 chosen."""
    train, held_out, test = parts["train"], parts["val"], parts["test"]
    columns = _training_columns(settings.fusion_epochs, settings.fusion_batch_size, settings.fusion_lr)
    results = []
    for name, model_class in (("nn_early_fusion", EarlyFusionNet), ("nn_late_fusion", LateFusionNet)):
        model = fit_fusion_net(model_class, train, k, multi, settings)
        detail = {"detail": f"video-level features: {features}"}
        results.append(ComponentResult(name, net_scores(model, test, multi), test.labels, {**columns, **detail}))
    plain = fit_fusion_net(RegularizedFusionNet, train, k, multi, settings)
    detail = f"{lambda_detail(settings, 0.0, 0.0)}; video-level features: {features}"
    extra = {"zero_row_fraction": plain.zero_row_fraction(), "detail": detail}
    plain_scores = net_scores(plain, test, multi)
    results.append(ComponentResult("fusion_nonregularized", plain_scores, test.labels, {**columns, **extra}))
    choice = select_lambdas(train, held_out, k, multi, settings)
    metric = "mAP" if multi else "top-1"
    detail = (
        f"{lambda_detail(settings, choice.lambda2, choice.lambda3)}, chosen on the held-out part "
        f"({metric} {choice.held_out_metric:.4f}); video-level features: {features}"
    )
    extra = {"zero_row_fraction": choice.model.zero_row_fraction(), "detail": detail}
    scores = net_scores(choice.model, test, multi)
    held_out_scores = net_scores(choice.model, held_out, multi)
    columns = {**columns, **extra}
    results.append(ComponentResult("fusion_regularized", scores, test.labels, columns, held_out_scores, choice))
    return results


def run_hybrid(
    spatial: RunConfig, temporal: RunConfig, options: RunOptions, settings: HybridSettings = HybridSettings()
) -> list[dict[str, Any]]:
    """Train (or reuse) both streams, then every hybrid component; upsert one row per component.

    Returns the rows (in :data:`COMPONENTS` order) on the global rank 0, [] elsewhere. A summary
    (chosen λ, the λ grid, the hybrid's weights) goes to ``<results>/runs/<hybrid row id>/hybrid.json``.
    """
    for config in (spatial, temporal):
        if not config.holdout_fraction > 0:
            raise ValueError(
                f"hybrid: stream {config.run_id} ({config.modality}) has no held-out part; λ2, λ3 and the score "
                "weights are chosen on held-out training videos: set holdout_fraction > 0"
            )
    check_streams(spatial, temporal)
    started = time.time()
    if not train_streams([spatial, temporal], options):
        return []
    spec = get_dataset(spatial.dataset)
    multi, k = spec.multi_label, spec.num_classes
    extracted = load_parts(spatial, temporal, options)
    parts = standardize(extracted) if settings.standardize else extracted
    held_out, test = parts["val"], parts["test"]
    features = _feature_names(spatial, temporal, extracted["train"])
    video_level = f"spatial {features[0]}, motion {features[1]}, time-averaged"
    results = [
        *_cnn_results(spatial, temporal, options, test),
        *_lstm_results(parts, k, multi, settings, features),
        *svm_results(extracted, k, multi, settings, features),
        *_fusion_results(parts, k, multi, settings, video_level),
    ]
    by_name = {result.name: result for result in results}
    results += average_results(by_name)
    members = [by_name[name] for name in HYBRID_MEMBERS]
    fitted = fit_score_fusion(
        "weighted_average", [m.held_out for m in members], held_out.labels, multi, weight_steps=settings.weight_steps
    )
    fused = fitted.predict_scores([m.scores for m in members])
    detail = ", ".join(HYBRID_MEMBERS) + ": " + fitted.describe()
    results.append(ComponentResult("hybrid", fused, test.labels, {"detail": detail}))

    results.sort(key=lambda result: COMPONENTS.index(result.name))
    expected = len(spec.load(options.data_root, spatial.split, False).test)
    rows = [
        _row(spatial, temporal, settings, result, k, multi, expected, started, options, test.video_ids) for result in results
    ]
    upsert_rows(options.leaderboard, rows)
    choice = by_name["fusion_regularized"].choice
    _write_summary(spatial, temporal, settings, choice, fitted.weights, rows, options, parts)
    return rows


def _feature_names(spatial: RunConfig, temporal: RunConfig, train: Part) -> list[str]:
    """Per stream where its frame features come from and their width, e.g. "pooled maps (128-d)"."""
    widths = (train.spatial.shape[-1], train.motion.shape[-1])
    return [f"{frame_feature_source(config)} ({width}-d)" for config, width in zip((spatial, temporal), widths)]


def _training_columns(epochs: int, batch_size: int, lr: float) -> dict[str, Any]:
    return {"epochs": epochs, "batch_size": batch_size, "lr": lr, "test_views": 1}


def _row(
    spatial: RunConfig,
    temporal: RunConfig,
    settings: HybridSettings,
    result: ComponentResult,
    num_classes: int,
    multi_label: bool,
    expected: int,
    started: float,
    options: RunOptions,
    test_ids: Sequence[str],
) -> dict[str, Any]:
    stream = temporal if MODALITY.get(result.name) is Modality.FLOW else spatial
    run_id = hybrid_run_id(spatial, temporal, settings, result.name)
    kept = keep_scored_outputs(options.run_dir(run_id), test_ids, result.scores, result.labels, multi_label)
    return finished_row(
        replace(stream, head=result.name),
        run_id=run_id,
        **kept,
        system=SYSTEM,
        modality=str(MODALITY.get(result.name, Modality.RGB_FLOW)),
        backbone=stream_backbones(spatial, temporal),
        **{"epochs": None, "batch_size": None, "lr": None, "world_size": 1, **result.columns},
        **score_metrics(result.scores, result.labels, num_classes, multi_label),
        **video_counts(expected, len(result.scores)),
        wall_s=elapsed(started),
    )


def _write_summary(
    spatial: RunConfig,
    temporal: RunConfig,
    settings: HybridSettings,
    choice: LambdaChoice,
    weights: tuple[float, ...] | None,
    rows: list[dict[str, Any]],
    options: RunOptions,
    parts: dict[str, Part],
) -> Path:
    hybrid_id = hybrid_run_id(spatial, temporal, settings, "hybrid")
    path = Path(options.results_dir) / "runs" / hybrid_id / "hybrid.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "streams": {"spatial": spatial.run_id, "temporal": temporal.run_id},
        "settings": settings.to_dict(),
        "videos": {name: len(part.video_ids) for name, part in parts.items()},
        "lambda2": choice.lambda2,
        "lambda3": choice.lambda3,
        "lambda_grid": list(choice.grid),
        "hybrid_weights": dict(zip(HYBRID_MEMBERS, weights or ())),
        "components": {
            row["head"]: {key: row.get(key) for key in ("run_id", "top1", "map", "n_test", "zero_row_fraction")}
            for row in rows
        },
    }
    path.write_text(json.dumps(summary, indent=2, default=float) + "\n")
    return path
