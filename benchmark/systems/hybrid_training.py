"""Training the hybrid framework's learned parts: the per-stream LSTMs and the fusion networks,
with λ2, λ3 chosen on the held-out part (never the test set)."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor

from benchmark.run.optim import make_optimizer
from benchmark.systems.hybrid_features import Part
from benchmark.systems.hybrid_settings import HybridSettings
from benchmark.systems.score_fusion import fusion_metric
from heads.fusion import RegularizedFusionNet, StreamLSTM, train_fusion_net
from heads.fusion.feature_fusion import FusionNet, class_scores, classification_loss


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
