"""The LightningModule: trains a VideoNet and reports top-1 / top-5 / mAP on the test set.

Single-label datasets train with cross-entropy; multi-label ones (CCV) with BCE-with-logits, and
their headline metric is the mean over classes of the average precision. With several test views
(``test_clips`` × ``test_crops``) the softmax (sigmoid) scores of the views are averaged, one view
at a time so that memory stays that of a one-view batch. Unreadable clips that the data pipeline
skipped (``on_bad_video="skip"``) arrive in each batch's ``failed`` list and are kept in
``bad_videos``; a non-finite loss stops the run.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torchmetrics import SumMetric
from torchmetrics.classification import (
    MulticlassAccuracy,
    MulticlassAveragePrecision,
    MulticlassConfusionMatrix,
    MultilabelAveragePrecision,
)

from benchmark.run.config import RunConfig
from benchmark.run.network import build_network
from benchmark.run.optim import build_optimizer
from datamodules.clip_transform import ClipViews


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; the message says where."""


class VideoClassifier(pl.LightningModule):
    """Backbone → transform → head, SGD with the study's parameter groups and a step schedule.

    Test metrics are torchmetrics states synchronised across processes; the test confusion matrix
    (rows = true class; single-label datasets only) is kept in ``test_confusion`` and the number of
    evaluated test videos in ``test_count`` after ``trainer.test``.
    """

    def __init__(self, config: RunConfig, num_classes: int, multi_label: bool = False) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config.to_dict(), "num_classes": num_classes, "multi_label": multi_label})
        self.config = config
        self.num_classes = num_classes
        self.multi_label = multi_label
        self.net = build_network(config, num_classes)
        top5 = min(5, num_classes)
        self.train_top1 = MulticlassAccuracy(num_classes, top_k=1, average="micro")
        self.val_top1 = MulticlassAccuracy(num_classes, top_k=1, average="micro")
        self.test_top1 = MulticlassAccuracy(num_classes, top_k=1, average="micro")
        self.test_top5 = MulticlassAccuracy(num_classes, top_k=top5, average="micro")
        self.test_confusion_metric = MulticlassConfusionMatrix(num_classes)
        # mean over classes of the average precision of each class's scores (one-vs-rest)
        self.test_map = (
            MultilabelAveragePrecision(num_classes, average="macro")
            if multi_label
            else MulticlassAveragePrecision(num_classes, average="macro")
        )
        self.val_map = MultilabelAveragePrecision(num_classes, average="macro") if multi_label else None
        self.test_videos = SumMetric()
        self.test_confusion: torch.Tensor | None = None
        self.test_count = 0
        # per-video test outputs of this process: (indices, probabilities, targets) per batch
        self.test_outputs: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        self.gathered_test_outputs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.bad_videos: list[dict[str, Any]] = []  # this process's skipped clips

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.net(clips)

    # -- losses and bad clips -------------------------------------------------------------------
    def _loss(self, scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.multi_label:
            return F.binary_cross_entropy_with_logits(scores, targets.float())
        return F.cross_entropy(scores, targets)

    def _note_failed(self, batch: dict[str, Any], stage: str) -> None:
        for index, reason in batch.get("failed", ()):
            self.bad_videos.append({"stage": stage, "epoch": self.current_epoch, "index": index, "reason": reason})

    def _empty_step_loss(self) -> torch.Tensor | None:
        """Loss of a batch whose clips were all skipped: none on one process; under DDP a zero
        that touches every trainable parameter, so that every process still joins the gradient
        all-reduce."""
        if self.trainer.world_size == 1:
            return None
        return sum(p.sum() for p in self.parameters() if p.requires_grad) * 0.0

    # -- steps ----------------------------------------------------------------------------------
    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor | None:
        self._note_failed(batch, "train")
        if "frames" not in batch:
            return self._empty_step_loss()
        scores = self(batch["frames"])
        loss = self._loss(scores, batch["label"])
        if not torch.isfinite(loss):
            raise NonFiniteLossError(
                f"training loss is {loss.item()} at epoch {self.current_epoch}, step {self.global_step} "
                f"(batch {batch_idx}); lower the learning rate or check the inputs"
            )
        if not self.multi_label:
            self.train_top1(scores, batch["label"])
            self.log("train/top1", self.train_top1, prog_bar=True, on_step=False, on_epoch=True)
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(scores))
        return loss

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._note_failed(batch, "val")
        if "frames" not in batch:
            return
        scores = self(batch["frames"])
        loss = self._loss(scores, batch["label"])
        self.log("val/loss", loss, prog_bar=True, sync_dist=True, batch_size=len(scores))
        if self.multi_label:
            self.val_map.update(scores, batch["label"].long())
            self.log("val/map", self.val_map, prog_bar=True)
        else:
            self.val_top1(scores, batch["label"])
            self.log("val/top1", self.val_top1, prog_bar=True)

    def probabilities(self, scores: torch.Tensor) -> torch.Tensor:
        """Softmax of the class scores (per-class sigmoid for multi-label datasets)."""
        return torch.sigmoid(scores) if self.multi_label else torch.softmax(scores, dim=1)

    def view_scores(self, views: ClipViews) -> torch.Tensor:
        """Mean probabilities over the test views of a batch, one view's forward at a time."""
        summed: torch.Tensor | None = None
        for inputs in views.inputs():
            probabilities = self.probabilities(self(inputs))
            summed = probabilities if summed is None else summed + probabilities
        assert summed is not None, "a multi-view batch has at least one view"
        return summed / views.count

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._note_failed(batch, "test")
        if "frames" not in batch:
            return
        multi_view = "views" in batch
        scores = self.view_scores(batch["views"]) if multi_view else self(batch["frames"])
        labels = batch["label"]
        probabilities = scores if multi_view else self.probabilities(scores)
        self.test_outputs.append((batch["index"].detach().cpu(), probabilities.detach().float().cpu(), labels.cpu()))
        self.test_videos.update(torch.tensor(float(len(scores)), device=scores.device))
        if self.multi_label:
            self.test_map.update(scores, labels.long())
            return
        self.test_top1.update(scores, labels)
        self.test_top5.update(scores, labels)
        self.test_confusion_metric.update(scores, labels)
        self.test_map.update(scores, labels)

    def on_test_epoch_start(self) -> None:
        self.test_outputs = []
        self.gathered_test_outputs = None

    def on_test_epoch_end(self) -> None:
        # compute() synchronises the states of all processes: each test video counts once.
        self.test_count = int(self.test_videos.compute())
        self.gathered_test_outputs = self.gather_test_outputs()
        self.log("test/map", self.test_map.compute())
        metrics = [self.test_map, self.test_videos]
        if not self.multi_label:
            self.log("test/top1", self.test_top1.compute())
            self.log("test/top5", self.test_top5.compute())
            self.test_confusion = self.test_confusion_metric.compute().cpu()
            metrics += [self.test_top1, self.test_top5, self.test_confusion_metric]
        for metric in metrics:
            metric.reset()

    def gather_test_outputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every process's per-video test outputs as (indices, probabilities, targets) arrays
        (call on all processes: a collective under DDP)."""
        if self.test_outputs:
            mine = tuple(torch.cat([part[k] for part in self.test_outputs]).numpy() for k in range(3))
        else:
            empty_targets = np.zeros((0, self.num_classes) if self.multi_label else 0, np.int64)
            mine = (np.zeros(0, np.int64), np.zeros((0, self.num_classes), np.float32), empty_targets)
        parts = _from_every_process(mine)
        return tuple(np.concatenate([part[k] for part in parts]) for k in range(3))  # type: ignore[return-value]

    def gathered_bad_videos(self) -> list[dict[str, Any]]:
        """Every process's skipped clips (call on all processes; identical result on each)."""
        return [entry for part in _from_every_process(list(self.bad_videos)) for entry in part]

    def configure_optimizers(self) -> dict[str, Any]:
        return build_optimizer(self.config, self.net)


def _from_every_process(mine: Any) -> list[Any]:
    """``mine`` from every process, in rank order (a collective under DDP; ``[mine]`` without it)."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return [mine]
    parts: list[Any] = [None] * torch.distributed.get_world_size()
    torch.distributed.all_gather_object(parts, mine)
    return parts
