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
from benchmark.run.network import VideoNet
from benchmark.run.optim import parameter_groups
from datamodules.augment import crop_resize_normalise, eval_view_boxes
from datamodules.flow.extract import DEFAULT_BOUND
from datamodules.flow.augment import flow_to_input


def input_channels(config: RunConfig) -> int:
    """3 for RGB frames; 2L for a stack of L flow pairs (x, y per pair)."""
    return 2 * config.flow_length if config.modality == "flow" else 3


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
        self.net = self.build_net(config, num_classes)
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
        self.bad_videos: list[dict[str, Any]] = []  # this process's skipped clips
        self.flow_bound = DEFAULT_BOUND  # flow modality: set from the flow read (see _flow_bound)

    def build_net(self, config: RunConfig, num_classes: int) -> torch.nn.Module:
        """The network trained; systems with other inputs (e.g. the deep fusion network) override it."""
        return VideoNet(
            config.backbone,
            config.head,
            config.segments,
            num_classes,
            feature_dim=config.feature_dim,
            dropout=config.dropout,
            transform_init_std=config.transform_init_std,
            in_channels=input_channels(config),
            backbone_weights=config.backbone_weights,
            partial_bn=config.partial_bn,
        )

    @property
    def multi_view(self) -> bool:
        return self.config.test_clips * self.config.test_crops > 1

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

    def _probabilities(self, scores: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(scores) if self.multi_label else torch.softmax(scores, dim=1)

    def _multi_view_scores(self, frames: torch.Tensor) -> torch.Tensor:
        """Mean probabilities over test_clips × test_crops views of uint8 clips (B, V*T*L, H, W, C)."""
        batch, total, height, width, _ = frames.shape
        clips = self.config.test_clips
        per_clip = total // clips
        boxes, flips = eval_view_boxes(height, width, self.config.input_size, self.config.test_crops)
        summed = torch.zeros(batch, self.num_classes, device=frames.device)
        for clip in range(clips):
            clip_frames = frames[:, clip * per_clip : (clip + 1) * per_clip]
            for box, flip in zip(boxes, flips):
                view = self._view_input(clip_frames, box.expand(batch, 4), flip.expand(batch))
                summed += self._probabilities(self(view))
        return summed / (clips * len(boxes))

    def _view_input(self, frames: torch.Tensor, boxes: torch.Tensor, flips: torch.Tensor) -> torch.Tensor:
        """One test view of uint8 clips: RGB frames normalised; flow stacks dequantised, x negated
        on mirrored views, zero-centred."""
        size = self.config.input_size
        if self.config.modality != "flow":
            return crop_resize_normalise(frames, boxes, flips, size, self.net.backbone.input_norm)
        batch, pairs = frames.shape[:2]
        cropped = crop_resize_normalise(frames, boxes, flips, size, None)
        stacks = cropped.reshape(batch, self.config.segments, pairs // self.config.segments * 2, size, size)
        return flow_to_input(stacks, self._flow_bound(), flips.bool())

    def _flow_bound(self) -> float:
        """The quantisation bound of the flow being read (the attached datamodule's, else ``flow_bound``)."""
        trainer = self._trainer
        datamodule = getattr(trainer, "datamodule", None) if trainer is not None else None
        return float(getattr(datamodule, "flow_bound", self.flow_bound))

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._note_failed(batch, "test")
        if "frames" not in batch:
            return
        if self.multi_view:
            scores = self._multi_view_scores(batch["frames"])
        else:
            scores = self(batch["frames"])
        labels = batch["label"]
        self.test_videos.update(torch.tensor(float(len(scores)), device=scores.device))
        if self.multi_label:
            self.test_map.update(scores, labels.long())
            return
        self.test_top1.update(scores, labels)
        self.test_top5.update(scores, labels)
        self.test_confusion_metric.update(scores, labels)
        self.test_map.update(scores, labels)

    def on_test_epoch_end(self) -> None:
        # compute() synchronises the states of all processes: each test video counts once.
        self.test_count = int(self.test_videos.compute())
        self.log("test/map", self.test_map.compute())
        metrics = [self.test_map, self.test_videos]
        if not self.multi_label:
            self.log("test/top1", self.test_top1.compute())
            self.log("test/top5", self.test_top5.compute())
            self.test_confusion = self.test_confusion_metric.compute().cpu()
            metrics += [self.test_top1, self.test_top5, self.test_confusion_metric]
        for metric in metrics:
            metric.reset()

    def gathered_bad_videos(self) -> list[dict[str, Any]]:
        """Every process's skipped clips (call on all processes; identical result on each)."""
        if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
            return list(self.bad_videos)
        parts: list[list[dict[str, Any]] | None] = [None] * torch.distributed.get_world_size()
        torch.distributed.all_gather_object(parts, self.bad_videos)
        return [entry for part in parts for entry in (part or [])]

    def configure_optimizers(self) -> dict[str, Any]:
        config = self.config
        groups = parameter_groups(self.net, config.lr, config.weight_decay)
        if config.optimizer == "sgd":
            optimizer = torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)
        elif config.optimizer == "adam":
            optimizer = torch.optim.Adam(groups, lr=config.lr)
        else:
            raise ValueError(f"unknown optimizer {config.optimizer!r}; known: sgd, adam")
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(config.lr_steps), gamma=0.1)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}
