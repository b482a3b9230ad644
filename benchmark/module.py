"""The LightningModule: trains a VideoNet with cross-entropy and reports top-1 / top-5."""
from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassAccuracy, MulticlassAveragePrecision, MulticlassConfusionMatrix

from benchmark.config import RunConfig
from benchmark.network import VideoNet
from benchmark.optim import parameter_groups


class VideoClassifier(pl.LightningModule):
    """Backbone → transform → head, SGD with the study's parameter groups and a step schedule.

    Test metrics are torchmetrics states synchronised across processes; the test confusion matrix
    (rows = true class) is kept in ``test_confusion`` after ``trainer.test``.
    """

    def __init__(self, config: RunConfig, num_classes: int) -> None:
        super().__init__()
        self.save_hyperparameters({"config": config.to_dict(), "num_classes": num_classes})
        self.config = config
        self.num_classes = num_classes
        self.net = VideoNet(
            config.backbone,
            config.head,
            config.segments,
            num_classes,
            feature_dim=config.feature_dim,
            dropout=config.dropout,
            transform_init_std=config.transform_init_std,
            backbone_weights=config.backbone_weights,
            partial_bn=config.partial_bn,
        )
        top5 = min(5, num_classes)
        self.train_top1 = MulticlassAccuracy(num_classes, top_k=1, average="micro")
        self.val_top1 = MulticlassAccuracy(num_classes, top_k=1, average="micro")
        self.test_top1 = MulticlassAccuracy(num_classes, top_k=1, average="micro")
        self.test_top5 = MulticlassAccuracy(num_classes, top_k=top5, average="micro")
        self.test_confusion_metric = MulticlassConfusionMatrix(num_classes)
        # mean over classes of the average precision of each class's scores (one-vs-rest)
        self.test_map = MulticlassAveragePrecision(num_classes, average="macro")
        self.test_confusion: torch.Tensor | None = None

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.net(clips)

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        scores = self(batch["frames"])
        loss = F.cross_entropy(scores, batch["label"])
        self.train_top1(scores, batch["label"])
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(scores))
        self.log("train/top1", self.train_top1, prog_bar=True, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        scores = self(batch["frames"])
        loss = F.cross_entropy(scores, batch["label"])
        self.val_top1(scores, batch["label"])
        self.log("val/loss", loss, prog_bar=True, sync_dist=True, batch_size=len(scores))
        self.log("val/top1", self.val_top1, prog_bar=True)

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        scores = self(batch["frames"])
        labels = batch["label"]
        self.test_top1.update(scores, labels)
        self.test_top5.update(scores, labels)
        self.test_confusion_metric.update(scores, labels)
        self.test_map.update(scores, labels)

    def on_test_epoch_end(self) -> None:
        # compute() synchronises the states of all processes: each test video counts once.
        self.log("test/top1", self.test_top1.compute())
        self.log("test/top5", self.test_top5.compute())
        self.log("test/map", self.test_map.compute())
        self.test_confusion = self.test_confusion_metric.compute().cpu()
        for metric in (self.test_top1, self.test_top5, self.test_confusion_metric, self.test_map):
            metric.reset()

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
