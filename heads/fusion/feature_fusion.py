"""Video-level feature fusion networks over several streams (spatial CNN, motion CNN, ...).

Every net here takes one video-level feature per stream: ``forward(*streams)`` with stream ``s`` of
shape (B, D_s). A stream given as (B, T, D_s) frame features is averaged over time first (the
video-level feature of the hybrid framework is the temporal mean of the frame features); callers
whose videos have different T average themselves and pass (B, D_s).

* :class:`RegularizedFusionNet`: per stream an abstraction layer, a fusion layer over all
  abstractions whose weight W^E is penalised by the sparse-group lasso (see ``proximal.py``), then
  a logistic-regression output layer. With λ2 = λ3 = 0 in :func:`train_fusion_net` it is the
  non-regularised ablation.
* :class:`EarlyFusionNet`: NN early fusion, the concatenated features through one MLP.
* :class:`LateFusionNet`: NN late fusion, one MLP per stream, class scores averaged.

Hidden layers are Linear + ReLU. ``forward`` returns logits; :meth:`FusionNet.scores` turns them
into class scores: softmax for single-label data, per-class sigmoid for multi-label data (CCV),
where the loss is BCE-with-logits instead of cross-entropy.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torchmetrics.classification import MulticlassAccuracy, MultilabelAveragePrecision

from heads.fusion.proximal import proximal_step_, zero_row_fraction

ABSTRACTION = 200
FUSION = 200
HIDDEN = (200, 200)


def class_scores(logits: Tensor, multi_label: bool) -> Tensor:
    """Softmax over the last dim, or an element-wise sigmoid for multi-label data."""
    return torch.sigmoid(logits) if multi_label else torch.softmax(logits, dim=-1)


def classification_loss(logits: Tensor, targets: Tensor, multi_label: bool) -> Tensor:
    """Cross-entropy on class indices, or BCE-with-logits on a (B, K) 0/1 target matrix."""
    if multi_label:
        return F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype))
    return F.cross_entropy(logits, targets)


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int) -> nn.Sequential:
    """Linear + ReLU for every width in ``hidden``, then a plain Linear to ``out_dim``."""
    layers: list[nn.Module] = []
    prev = in_dim
    for width in hidden:
        layers += [nn.Linear(prev, width), nn.ReLU()]
        prev = width
    layers.append(nn.Linear(prev, out_dim))
    return nn.Sequential(*layers)


class FusionNet(nn.Module):
    """What every fusion net shares: input checks, temporal averaging, loss and class scores."""

    def __init__(self, stream_dims: Sequence[int], num_classes: int) -> None:
        super().__init__()
        if not stream_dims or any(d < 1 for d in stream_dims):
            raise ValueError(f"stream_dims must be a non-empty list of positive widths, got {list(stream_dims)}")
        if num_classes < 1:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        self.stream_dims = tuple(int(d) for d in stream_dims)
        self.num_classes = num_classes

    def video_level(self, streams: Sequence[Tensor]) -> list[Tensor]:
        """Check the streams against ``stream_dims``; average (B, T, D_s) ones over time."""
        if len(streams) != len(self.stream_dims):
            raise ValueError(f"{type(self).__name__} expects {len(self.stream_dims)} streams, got {len(streams)}")
        out = []
        for s, (x, width) in enumerate(zip(streams, self.stream_dims)):
            if x.dim() not in (2, 3) or x.shape[-1] != width:
                raise ValueError(f"stream {s}: expected (B, {width}) or (B, T, {width}), got {tuple(x.shape)}")
            out.append(x.mean(dim=1) if x.dim() == 3 else x)
        sizes = [int(x.shape[0]) for x in out]
        if len(set(sizes)) != 1:
            raise ValueError(f"streams disagree on the batch size: {sizes}")
        return out

    def loss(self, outputs: Tensor, targets: Tensor, multi_label: bool = False) -> Tensor:
        """Training loss of ``forward``'s outputs."""
        return classification_loss(outputs, targets, multi_label)

    def scores(self, *streams: Tensor, multi_label: bool = False) -> Tensor:
        """(B, K) class scores: softmax (or sigmoid) of the logits."""
        return class_scores(self(*streams), multi_label)


class RegularizedFusionNet(FusionNet):
    """Per stream Linear(D_s → abstraction) + ReLU; Linear(S·abstraction → fusion) + ReLU, whose
    weight is W^E (P × D = fusion × S·abstraction, 200 × 400 for two streams); Linear(fusion → K)."""

    def __init__(
        self,
        stream_dims: Sequence[int],
        num_classes: int,
        abstraction: int = ABSTRACTION,
        fusion: int = FUSION,
    ) -> None:
        super().__init__(stream_dims, num_classes)
        self.abstraction = nn.ModuleList(
            nn.Sequential(nn.Linear(d, abstraction), nn.ReLU()) for d in self.stream_dims
        )
        self.fusion = nn.Sequential(nn.Linear(len(self.stream_dims) * abstraction, fusion), nn.ReLU())
        self.classifier = nn.Linear(fusion, num_classes)

    @property
    def fusion_weight(self) -> nn.Parameter:
        """W^E: the fusion layer's (P × D) weight, one row per fusion unit."""
        return self.fusion[0].weight

    def zero_row_fraction(self) -> float:
        """Fraction of fusion units whose row of W^E is exactly zero (they read no input)."""
        return zero_row_fraction(self.fusion_weight.detach())

    def forward(self, *streams: Tensor) -> Tensor:
        features = self.video_level(streams)
        abstract = torch.cat([layer(x) for layer, x in zip(self.abstraction, features)], dim=1)
        return self.classifier(self.fusion(abstract))


class EarlyFusionNet(FusionNet):
    """Concatenated stream features → MLP (Linear + ReLU per hidden width) → Linear(→ K).

    The default hidden widths (200, 200) give it the depth and width of the regularised net.
    """

    def __init__(self, stream_dims: Sequence[int], num_classes: int, hidden: Sequence[int] = HIDDEN) -> None:
        super().__init__(stream_dims, num_classes)
        self.mlp = mlp(sum(self.stream_dims), hidden, num_classes)

    def forward(self, *streams: Tensor) -> Tensor:
        return self.mlp(torch.cat(self.video_level(streams), dim=1))


class LateFusionNet(FusionNet):
    """One MLP per stream; class scores are the mean of the streams' softmax (or sigmoid) scores.

    ``forward`` returns the per-stream logits (B, S, K); the loss is the sum of the streams' own
    losses, so each MLP is trained on its own feature exactly as if trained alone.
    """

    def __init__(self, stream_dims: Sequence[int], num_classes: int, hidden: Sequence[int] = HIDDEN) -> None:
        super().__init__(stream_dims, num_classes)
        self.nets = nn.ModuleList(mlp(d, hidden, num_classes) for d in self.stream_dims)

    def forward(self, *streams: Tensor) -> Tensor:
        features = self.video_level(streams)
        return torch.stack([net(x) for net, x in zip(self.nets, features)], dim=1)

    def loss(self, outputs: Tensor, targets: Tensor, multi_label: bool = False) -> Tensor:
        return sum(classification_loss(outputs[:, s], targets, multi_label) for s in range(outputs.shape[1]))

    def scores(self, *streams: Tensor, multi_label: bool = False) -> Tensor:
        return class_scores(self(*streams), multi_label).mean(dim=1)


@dataclass
class FusionHistory:
    """Per-epoch record of :func:`train_fusion_net`."""

    metric_name: str
    train_loss: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    zero_row_fraction: list[float] = field(default_factory=list)


def _check_labels(labels: Tensor, num_items: int, num_classes: int, multi_label: bool, what: str) -> Tensor:
    if labels.shape[0] != num_items:
        raise ValueError(f"{what}: {labels.shape[0]} labels for {num_items} feature rows")
    if multi_label:
        if labels.dim() != 2 or labels.shape[1] != num_classes:
            raise ValueError(f"{what}: multi-label targets must be (N, {num_classes}), got {tuple(labels.shape)}")
        return labels.float()
    if labels.dim() != 1 or labels.dtype.is_floating_point:
        raise ValueError(f"{what}: single-label targets must be (N,) class indices, got {labels.dtype} {tuple(labels.shape)}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{what}: class indices must lie in [0, {num_classes}), got {int(labels.min())}..{int(labels.max())}")
    return labels.long()


@torch.no_grad()
def evaluate_fusion_net(
    model: FusionNet, features: Sequence[Tensor], labels: Tensor, multi_label: bool = False
) -> float:
    """Top-1 accuracy, or mAP over classes (macro average precision) for multi-label data."""
    was_training = model.training
    model.eval()
    try:
        labels = _check_labels(labels, features[0].shape[0], model.num_classes, multi_label, "evaluation")
        scores = model.scores(*features, multi_label=multi_label)
    finally:
        model.train(was_training)
    if multi_label:
        metric = MultilabelAveragePrecision(model.num_classes, average="macro")
        return float(metric(scores, labels.long()))
    return float(MulticlassAccuracy(model.num_classes, top_k=1, average="micro")(scores, labels))


def train_fusion_net(
    model: FusionNet,
    train_features: Sequence[Tensor],
    labels: Tensor,
    val_features: Sequence[Tensor] | None = None,
    val_labels: Tensor | None = None,
    *,
    lr: float = 0.7,
    epochs: int = 100,
    lambda1: float = 3e-5,
    lambda2: float = 0.0,
    lambda3: float = 0.0,
    multi_label: bool = False,
    batch_size: int = 64,
    momentum: float = 0.0,
    seed: int = 0,
) -> FusionHistory:
    """Train ``model`` with mini-batch proximal gradient descent; return the per-epoch history.

    Each step is a plain SGD step on the smooth part (the loss plus λ1·Φ(W) with
    Φ(W) = ½·Σ_layers ‖W‖_F², i.e. SGD weight decay λ1 on every weight matrix, biases excluded),
    followed, when λ2 or λ3 is positive, by the exact proximal step of the sparse-group lasso
    (λ2/2)‖W^E‖_{2,1} + λ3‖W^E‖_{1,1} on the fusion weight with the same step size. λ2 = λ3 = 0 is
    the non-regularised variant. Defaults lr = 0.7 and λ1 = 3e-5 are the published ones; the
    batch size is not published. ``val_*`` (optional) is scored after every epoch (top-1, or mAP
    for multi-label data). The model is left in eval mode.
    """
    regularised = lambda2 > 0 or lambda3 > 0
    if regularised and not hasattr(model, "fusion_weight"):
        raise ValueError(f"lambda2/lambda3 need a model with a fusion_weight; {type(model).__name__} has none")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got epochs={epochs}, batch_size={batch_size}")
    num_items = train_features[0].shape[0]
    labels = _check_labels(labels, num_items, model.num_classes, multi_label, "training")
    if (val_features is None) != (val_labels is None):
        raise ValueError("pass both val_features and val_labels, or neither")

    decayed = [p for p in model.parameters() if p.dim() >= 2]
    plain = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.SGD(
        [{"params": decayed, "weight_decay": lambda1}, {"params": plain, "weight_decay": 0.0}],
        lr=lr,
        momentum=momentum,
    )
    generator = torch.Generator().manual_seed(seed)
    history = FusionHistory(metric_name="mAP" if multi_label else "top1")
    for _ in range(epochs):
        model.train()
        order = torch.randperm(num_items, generator=generator)
        total = 0.0
        for start in range(0, num_items, batch_size):
            batch = order[start : start + batch_size]
            outputs = model(*(x[batch] for x in train_features))
            loss = model.loss(outputs, labels[batch], multi_label)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if regularised:
                proximal_step_(model.fusion_weight, optimizer.param_groups[0]["lr"], lambda2, lambda3)
            total += loss.item() * len(batch)
        history.train_loss.append(total / num_items)
        if hasattr(model, "zero_row_fraction"):
            history.zero_row_fraction.append(model.zero_row_fraction())
        if val_features is not None:
            history.val_metric.append(evaluate_fusion_net(model, val_features, val_labels, multi_label))
    model.eval()
    return history
