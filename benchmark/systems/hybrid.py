"""The hybrid framework: per-stream LSTMs + a regularised feature fusion network, fused by their scores.

Two single-stream runs (an RGB spatial CNN and a flow motion CNN of one experiment, both with a
``holdout_fraction``) give per-frame backbone features (global-average-pooled maps, one per
segment) of the training part, the held-out part and the test set. On those:

* one :class:`~heads.fusion.StreamLSTM` per stream is trained on the frame sequences;
* the regularised fusion network is trained on the time-averaged features; λ2 and λ3 are chosen
  from ``lambda_grid`` by the held-out metric (:func:`select_lambdas` never sees the test set);
  the same net with λ2 = λ3 = 0, NN early fusion and NN late fusion are the baselines;
* the hybrid prediction is the weighted sum of the regularised net's and the two LSTMs' scores,
  the weights fitted on the held-out scores (:func:`benchmark.systems.score_fusion.fit_score_fusion`).

Every component (and each CNN's own test scores) becomes one leaderboard row with
``system = "hybrid"`` and ``head`` = the component's name. Features are standardised per
dimension with the training part's statistics (the published lr 0.7 assumes inputs of unit scale;
pooled maps of an arbitrary backbone are not).

The published features are the 4096-d first FC layer of each CNN; here they are the backbone's
pooled maps (C = 128 for ``smallcnn``, 512 for ``vgg16``), which the harness's backbones expose
for every architecture.

Distributed training: the streams' :func:`benchmark.run.runner.run` may use DDP options; every
process takes part in both stream trainings, then only the global rank 0 (the process that gets
a row back) extracts features, fits the LSTMs and fusion nets in one process and writes rows.
"""
from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from benchmark.run.config import RunConfig
from benchmark.results.leaderboard import finished_run_ids, upsert_rows
from benchmark.run.optim import OPTIMIZERS, make_optimizer
from benchmark.run.options import RunOptions
from benchmark.run.rows import elapsed, finished_row, identity_columns, video_counts
from benchmark.run.runner import run
from benchmark.systems.score_fusion import fit_score_fusion, fusion_metric
from benchmark.systems.metrics import score_metrics
from benchmark.systems.streams import (
    StreamOutputs,
    checkpoint_of,
    load_stream,
    stream_outputs,
)
from benchmark.systems.two_stream import align, check_streams, fusion_run_id, stream_backbones
from datamodules.datasets import get_dataset
from datamodules.modality import Modality
from heads.fusion import (
    EarlyFusionNet,
    LateFusionNet,
    RegularizedFusionNet,
    StreamLSTM,
    train_fusion_net,
)
from heads.fusion.feature_fusion import FusionNet, class_scores, classification_loss

SYSTEM = "hybrid"
COMPONENTS: tuple[str, ...] = (
    "spatial_cnn", "motion_cnn", "spatial_lstm", "motion_lstm",
    "nn_early_fusion", "nn_late_fusion", "fusion_nonregularized", "fusion_regularized", "hybrid",
)  # fmt: skip
MODALITY = {
    "spatial_cnn": Modality.RGB,
    "motion_cnn": Modality.FLOW,
    "spatial_lstm": Modality.RGB,
    "motion_lstm": Modality.FLOW,
}
HYBRID_MEMBERS = ("fusion_regularized", "spatial_lstm", "motion_lstm")  # the final score fusion's inputs
OUTPUTS_FOLDER = "stream_outputs"


@dataclass(frozen=True)
class HybridSettings:
    """Training of the hybrid's own models. The defaults are the published values for real runs
    (LSTM: SGD lr 1e-4, momentum 0.9, mini-batch 10; fusion: lr 0.7, λ1 = 3e-5, λ2 and λ3 tuned in
    the range of λ1); figures the paper does not give (epochs, fusion batch size) are marked.
    ``PRESETS["synthetic"]`` converges on CPU in about a minute on the built-in dataset."""

    lstm_hidden: tuple[int, ...] = (1024, 512)
    lstm_optimizer: str = "sgd"  # "sgd" (with lstm_momentum) or "adam"
    lstm_lr: float = 1e-4
    lstm_momentum: float = 0.9
    lstm_batch_size: int = 10
    lstm_epochs: int = 30  # not published
    lstm_dropout: float = 0.0  # not published
    fusion_lr: float = 0.7
    fusion_epochs: int = 100  # not published
    fusion_batch_size: int = 64  # not published
    lambda1: float = 3e-5
    lambda_grid: tuple[float, ...] = (1e-5, 3e-5, 1e-4)  # λ2 and λ3 each take every value
    standardize: bool = True
    weight_steps: int = 20  # grid step 1/20 of the hybrid's score weights
    seed: int = 0

    def __post_init__(self) -> None:
        if self.lstm_optimizer not in OPTIMIZERS:
            raise ValueError(f"lstm_optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.lstm_optimizer!r}")
        if not self.lambda_grid or min(self.lambda_grid) < 0:
            raise ValueError(f"lambda_grid must be a non-empty list of values >= 0, got {list(self.lambda_grid)}")
        for name in ("lstm_batch_size", "lstm_epochs", "fusion_epochs", "fusion_batch_size", "weight_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HybridSettings:
        """Fields of ``data`` over a ``preset`` ("paper", the default, or "synthetic")."""
        values = dict(data)
        preset_name = values.pop("preset", "paper")
        if preset_name not in PRESETS:
            raise ValueError(f"unknown hybrid preset {preset_name!r}; known: {', '.join(PRESETS)}")
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown hybrid settings {sorted(unknown)}; known: {sorted(known)}")
        for name in ("lstm_hidden", "lambda_grid"):
            if name in values:
                values[name] = tuple(values[name])
        return replace(PRESETS[preset_name], **values)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {key: list(value) if isinstance(value, tuple) else value for key, value in data.items()}


PRESETS: dict[str, HybridSettings] = {
    "paper": HybridSettings(),
    # CPU-sized: narrower LSTMs trained with Adam, fewer fusion epochs. On the built-in dataset's
    # standardised 128-d features, fusion lr 0.7 makes some nets diverge to chance level (held-out
    # top-1 0.1) while 0.1 trains all of them; the λ grid reaches up to where W^E loses most rows.
    "synthetic": HybridSettings(
        lstm_hidden=(256, 128),
        lstm_optimizer="adam",
        lstm_lr=1e-3,
        lstm_batch_size=32,
        lstm_epochs=15,
        fusion_lr=0.1,
        fusion_epochs=30,
        lambda_grid=(1e-4, 1e-3, 1e-2),
    ),
}


# -- features of the two streams ---------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """One part's videos seen by both streams: (N, T, C_s) frame features each, and labels."""

    name: str
    video_ids: list[str]
    spatial: np.ndarray
    motion: np.ndarray
    labels: np.ndarray

    def frames(self) -> list[Tensor]:
        return [torch.from_numpy(self.spatial).float(), torch.from_numpy(self.motion).float()]

    def video_level(self) -> list[Tensor]:
        """Per stream the time-averaged feature (N, C_s) of every video."""
        return [x.mean(dim=1) for x in self.frames()]

    def targets(self) -> Tensor:
        return torch.from_numpy(self.labels)


def cached_outputs(
    config: RunConfig,
    options: RunOptions,
    part: Literal["train", "val", "test"],
    kind: Literal["scores", "features"],
    model: Callable[[], Any],
) -> StreamOutputs:
    """:func:`stream_outputs` kept in ``<work_dir>/<run_id>/stream_outputs/``, keyed by the
    checkpoint's size and modification time (a retrained stream is extracted again).
    ``model`` loads the stream's model only when the outputs are not cached yet."""
    checkpoint = checkpoint_of(config, options)
    stat = checkpoint.stat()
    name = f"{part}-{kind}-{stat.st_size}-{stat.st_mtime_ns}.npz"
    path = Path(options.work_dir) / config.run_id / OUTPUTS_FOLDER / name
    if path.is_file():
        with np.load(path) as stored:
            return StreamOutputs([str(v) for v in stored["video_ids"]], stored["values"], stored["labels"])
    outputs = stream_outputs(config, options, part, kind, model=model())
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.npz")
    np.savez(temporary, video_ids=np.array(outputs.video_ids), values=outputs.values, labels=outputs.labels)
    temporary.replace(path)
    return outputs


def _lazy_model(config: RunConfig, options: RunOptions) -> Callable[[], Any]:
    """A loader of the stream's model that loads it on its first call only."""
    return functools.cache(functools.partial(load_stream, config, options))


def load_parts(spatial: RunConfig, temporal: RunConfig, options: RunOptions) -> dict[str, Part]:
    """Train, held-out ("val") and test parts with both streams' frame features, aligned by video."""
    models = [_lazy_model(spatial, options), _lazy_model(temporal, options)]
    parts = {}
    for name in ("train", "val", "test"):
        outputs = [cached_outputs(c, options, name, "features", m) for c, m in zip((spatial, temporal), models)]
        ids, (rgb, flow), labels = align(outputs)
        parts[name] = Part(name, ids, rgb.astype(np.float32), flow.astype(np.float32), labels)
    return parts


def standardize(parts: dict[str, Part]) -> dict[str, Part]:
    """Per stream and dimension, subtract the training part's mean and divide by its std."""
    train = parts["train"]
    stats = [(x.mean(axis=(0, 1)), x.std(axis=(0, 1)).clip(min=1e-6)) for x in (train.spatial, train.motion)]

    def scaled(part: Part) -> Part:
        (m0, s0), (m1, s1) = stats
        spatial = ((part.spatial - m0) / s0).astype(np.float32)
        return replace(part, spatial=spatial, motion=((part.motion - m1) / s1).astype(np.float32))

    return {name: scaled(part) for name, part in parts.items()}


# -- the per-stream LSTMs ----------------------------------------------------------------------
def train_stream_lstm(
    features: Tensor, labels: Tensor, num_classes: int, multi_label: bool, settings: HybridSettings
) -> StreamLSTM:
    """A StreamLSTM trained on (N, T, C) frame features with the settings' optimiser; left in eval mode."""
    torch.manual_seed(settings.seed)
    model = StreamLSTM(features.shape[-1], num_classes, settings.lstm_hidden, settings.lstm_dropout)
    optimizer = make_optimizer(settings.lstm_optimizer, model.parameters(), settings.lstm_lr, settings.lstm_momentum)
    targets = labels.float() if multi_label else labels.long()
    generator = torch.Generator().manual_seed(settings.seed)
    for _ in range(settings.lstm_epochs):
        model.train()
        order = torch.randperm(len(features), generator=generator)
        for start in range(0, len(features), settings.lstm_batch_size):
            batch = order[start : start + settings.lstm_batch_size]
            loss = classification_loss(model(features[batch]), targets[batch], multi_label)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.inference_mode()
def lstm_scores(model: StreamLSTM, features: Tensor, multi_label: bool, chunk: int = 256) -> np.ndarray:
    """(N, K) softmax (or sigmoid) scores of (N, T, C) features."""
    logits = torch.cat([model(features[i : i + chunk]) for i in range(0, len(features), chunk)])
    return class_scores(logits, multi_label).numpy()


# -- the fusion networks -----------------------------------------------------------------------
@torch.inference_mode()
def net_scores(model: FusionNet, part: Part, multi_label: bool) -> np.ndarray:
    model.eval()
    return model.scores(*part.video_level(), multi_label=multi_label).numpy()


def fit_fusion_net(
    model_class: type[FusionNet],
    train: Part,
    num_classes: int,
    multi_label: bool,
    settings: HybridSettings,
    lambda2: float = 0.0,
    lambda3: float = 0.0,
) -> FusionNet:
    """A fusion net on the time-averaged features, trained by proximal gradient descent."""
    torch.manual_seed(settings.seed)  # same initial weights for every λ: runs differ only by λ
    model = model_class([train.spatial.shape[-1], train.motion.shape[-1]], num_classes)
    train_fusion_net(
        model,
        train.video_level(),
        train.targets(),
        lr=settings.fusion_lr,
        epochs=settings.fusion_epochs,
        lambda1=settings.lambda1,
        lambda2=lambda2,
        lambda3=lambda3,
        multi_label=multi_label,
        batch_size=settings.fusion_batch_size,
        seed=settings.seed,
    )
    return model


@dataclass(frozen=True)
class LambdaChoice:
    """The chosen (λ2, λ3), its trained net, and every grid point's held-out metric and sparsity."""

    lambda2: float
    lambda3: float
    model: RegularizedFusionNet
    held_out_metric: float
    grid: tuple[dict[str, float], ...]


def select_lambdas(
    train: Part, held_out: Part, num_classes: int, multi_label: bool, settings: HybridSettings
) -> LambdaChoice:
    """Train the regularised net for every (λ2, λ3) of ``lambda_grid`` × ``lambda_grid`` on
    ``train``; keep the best held-out metric (ties: more zero rows of W^E, then grid order).
    Takes the training and held-out parts only: the test set cannot influence the choice."""
    best: tuple[tuple[float, float], LambdaChoice] | None = None
    grid = []
    for lambda2 in settings.lambda_grid:
        for lambda3 in settings.lambda_grid:
            model = fit_fusion_net(RegularizedFusionNet, train, num_classes, multi_label, settings, lambda2, lambda3)
            metric = fusion_metric(net_scores(model, held_out, multi_label), held_out.labels, multi_label)
            zero = model.zero_row_fraction()
            grid.append({"lambda2": lambda2, "lambda3": lambda3, "held_out_metric": metric, "zero_row_fraction": zero})
            key = (metric, zero)
            if best is None or key > best[0]:
                best = (key, LambdaChoice(lambda2, lambda3, model, metric, ()))
    assert best is not None
    return replace(best[1], grid=tuple(grid))


# -- the system --------------------------------------------------------------------------------
def train_streams(configs: Sequence[RunConfig], options: RunOptions) -> bool:
    """Train every stream without a finished leaderboard row; False on a non-zero DDP rank.

    Every process runs every stream's training (DDP processes re-execute the caller), so the
    finished runs are read once, before any training."""
    done = finished_run_ids(Path(options.results_dir) / "leaderboard.csv")
    rank_zero = True
    for config in configs:
        if config.run_id not in done:
            rank_zero = run(config, options) is not None and rank_zero
    return rank_zero


def hybrid_run_id(spatial: RunConfig, temporal: RunConfig, settings: HybridSettings, component: str) -> str:
    """Stable hash of (both streams' run ids, the settings, the component)."""
    return fusion_run_id([spatial, temporal], SYSTEM, component, {"settings": settings.to_dict()})


@dataclass(frozen=True)
class ComponentResult:
    name: str
    scores: np.ndarray  # (N, K) test scores
    labels: np.ndarray
    columns: dict[str, Any]  # extra row columns (training settings, detail, zero_row_fraction)
    held_out: np.ndarray | None = None  # (N_val, K) held-out scores of the hybrid's members
    choice: LambdaChoice | None = None  # the regularised net's λ selection


def _cnn_results(spatial: RunConfig, temporal: RunConfig, options: RunOptions) -> list[ComponentResult]:
    """Each stream's own test scores (its test views averaged), as its run computed them."""
    results = []
    for name, config in (("spatial_cnn", spatial), ("motion_cnn", temporal)):
        scored = cached_outputs(config, options, "test", "scores", _lazy_model(config, options))
        columns = {key: identity_columns(config)[key] for key in ("epochs", "batch_size", "lr", "test_views")}
        results.append(ComponentResult(name, scored.values, scored.labels, columns))
    return results


def _lstm_results(parts: dict[str, Part], k: int, multi: bool, settings: HybridSettings) -> list[ComponentResult]:
    train, held_out, test = parts["train"], parts["val"], parts["test"]
    columns = _training_columns(settings.lstm_epochs, settings.lstm_batch_size, settings.lstm_lr)
    results = []
    for index, name in enumerate(("spatial_lstm", "motion_lstm")):
        model = train_stream_lstm(train.frames()[index], train.targets(), k, multi, settings)
        test_scores, held_out_scores = (lstm_scores(model, p.frames()[index], multi) for p in (test, held_out))
        results.append(ComponentResult(name, test_scores, test.labels, columns, held_out_scores))
    return results


def _fusion_results(parts: dict[str, Part], k: int, multi: bool, settings: HybridSettings) -> list[ComponentResult]:
    """NN early and late fusion, the non-regularised net, and the regularised net with λ2, λ3 chosen."""
    train, held_out, test = parts["train"], parts["val"], parts["test"]
    columns = _training_columns(settings.fusion_epochs, settings.fusion_batch_size, settings.fusion_lr)
    results = []
    for name, model_class in (("nn_early_fusion", EarlyFusionNet), ("nn_late_fusion", LateFusionNet)):
        model = fit_fusion_net(model_class, train, k, multi, settings)
        results.append(ComponentResult(name, net_scores(model, test, multi), test.labels, columns))
    plain = fit_fusion_net(RegularizedFusionNet, train, k, multi, settings)
    extra = {"zero_row_fraction": plain.zero_row_fraction(), "detail": f"lambda1={settings.lambda1:g}"}
    plain_scores = net_scores(plain, test, multi)
    results.append(ComponentResult("fusion_nonregularized", plain_scores, test.labels, {**columns, **extra}))
    choice = select_lambdas(train, held_out, k, multi, settings)
    detail = (
        f"lambda1={settings.lambda1:g} lambda2={choice.lambda2:g} lambda3={choice.lambda3:g} "
        f"(held-out {choice.held_out_metric:.4f})"
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
    parts = load_parts(spatial, temporal, options)
    if settings.standardize:
        parts = standardize(parts)
    held_out, test = parts["val"], parts["test"]
    results = [
        *_cnn_results(spatial, temporal, options),
        *_lstm_results(parts, k, multi, settings),
        *_fusion_results(parts, k, multi, settings),
    ]
    by_name = {result.name: result for result in results}
    members = [by_name[name] for name in HYBRID_MEMBERS]
    fitted = fit_score_fusion(
        "weighted_average", [m.held_out for m in members], held_out.labels, multi, weight_steps=settings.weight_steps
    )
    fused = fitted.predict_scores([m.scores for m in members])
    detail = ", ".join(HYBRID_MEMBERS) + ": " + fitted.describe()
    results.append(ComponentResult("hybrid", fused, test.labels, {"detail": detail}))

    expected = len(spec.load(options.data_root, spatial.split, False).test)
    rows = [_row(spatial, temporal, settings, result, k, multi, expected, started) for result in results]
    upsert_rows(options.leaderboard, rows)
    choice = by_name["fusion_regularized"].choice
    _write_summary(spatial, temporal, settings, choice, fitted.weights, rows, options, parts)
    return rows


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
) -> dict[str, Any]:
    stream = temporal if MODALITY.get(result.name) is Modality.FLOW else spatial
    return finished_row(
        replace(stream, head=result.name),
        run_id=hybrid_run_id(spatial, temporal, settings, result.name),
        system=SYSTEM,
        modality=str(MODALITY.get(result.name, Modality.RGB_FLOW)),
        backbone=stream_backbones(spatial, temporal),
        epochs=None,
        batch_size=None,
        lr=None,
        world_size=1,
        **result.columns,
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
