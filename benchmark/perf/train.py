"""Training throughput: clips/s of forward + backward + optimiser step, and the share spent waiting for data.

The network, optimiser, data module and device-side augmentation are built as :func:`benchmark.run.runner.run`
builds them (VideoClassifier with the dataset's protocol, ``build_datamodule``, the module's own
``configure_optimizers``, gradient-norm clipping); the loop is written out here instead of going
through a Lightning Trainer so that the time blocked on ``next(loader)`` can be read on its own.
Lightning's per-step bookkeeping (logging, metrics, callbacks) is therefore not part of the figure.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
import torch
import torch.nn.functional as F

from benchmark.run.config import resolve_config
from benchmark.perf.machine import cpu_model, machine_name, upsert_keyed
from benchmark.run.module import VideoClassifier
from benchmark.run.data import build_datamodule
from benchmark.run.options import RunOptions
from datamodules.augment import draw_train_params
from datamodules.datamodule import VideoDataModule
from datamodules.datasets import get_dataset


@dataclass(frozen=True)
class TrainBenchSettings:
    """One measurement; ``None`` sizes take the dataset's protocol defaults."""

    backbone: str = "smallcnn"
    head: str = "lstm"
    dataset: str = "synthetic"
    segments: int | None = None
    input_size: int | None = None
    batch_size: int | None = None
    steps: int = 20
    warmup: int = 3
    workers: int = 2
    channels_last: bool = False
    bf16: bool = False
    compile: bool = False
    device: str = "cpu"
    synthetic_input: bool = False
    seed: int = 0


# Every option names the measurement: a rerun with the same options replaces its row.
KEY_COLUMNS: tuple[str, ...] = ("machine", "device_name", *TrainBenchSettings.__dataclass_fields__)
RESULT_COLUMNS: tuple[str, ...] = ("clips_per_s", "step_ms", "data_wait_share", "compile_s", "torch", "timestamp")
TABLE_COLUMNS: list[str] = ["backbone", "head", "segments", "input_size", "batch_size", "device", "workers",
                            "channels_last", "bf16", "compile", "synthetic_input",
                            "clips_per_s", "step_ms", "data_wait_share", "compile_s"]  # fmt: skip


def channels_last_clips(frames: torch.Tensor) -> torch.Tensor:
    """(B, T, C, H, W) with strides such that the backbone's ``flatten(0, 1)`` view is channels-last."""
    return frames.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)


def training_loss(scores: torch.Tensor, targets: torch.Tensor, multi_label: bool) -> torch.Tensor:
    """The loss VideoClassifier trains with: BCE-with-logits for multi-label datasets, else cross-entropy."""
    if multi_label:
        return F.binary_cross_entropy_with_logits(scores, targets.float())
    return F.cross_entropy(scores, targets)


def _to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {key: value.to(device, non_blocking=True) if torch.is_tensor(value) else value for key, value in batch.items()}


def _loader_batches(datamodule: VideoDataModule) -> Iterator[dict[str, Any]]:
    """Training batches epoch after epoch (the next epoch's draw when one runs out, as in training)."""
    loader = datamodule.train_dataloader()
    epoch = 0
    while True:
        yield from loader
        epoch += 1
        loader.sampler.set_epoch(epoch)


def random_batch(batch_size: int, segments: int, decode_size: tuple[int, int], num_classes: int, seed: int,
                 allow_flip: bool, multi_label: bool = False) -> dict[str, Any]:  # fmt: skip
    """A batch shaped like the loader's (uint8 frames at the decode size, labels, crop draws)."""
    generator = torch.Generator().manual_seed(seed)
    height, width = decode_size
    if multi_label:
        labels = (torch.rand((batch_size, num_classes), generator=generator) < 0.2).float()
    else:
        labels = torch.randint(0, num_classes, (batch_size,), generator=generator)
    return {
        "frames": torch.randint(0, 256, (batch_size, segments, height, width, 3), dtype=torch.uint8, generator=generator),
        "label": labels,
        "index": torch.arange(batch_size),
        "augment": torch.stack([draw_train_params(generator, allow_flip) for _ in range(batch_size)]),
    }


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_training(settings: TrainBenchSettings, data_root: str | Path | None = None) -> dict[str, Any]:
    """Run ``warmup`` untimed then ``steps`` timed training steps; returns the measurement row."""
    if settings.steps < 1 or settings.warmup < 1:
        raise ValueError(f"need at least one warm-up and one timed step, got warmup={settings.warmup} steps={settings.steps}")
    if settings.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda: no CUDA device is available")
    device = torch.device(settings.device)
    spec = get_dataset(settings.dataset)
    config = resolve_config(
        settings.dataset, backbone=settings.backbone, head=settings.head, segments=settings.segments,
        input_size=settings.input_size, batch_size=settings.batch_size, seed=settings.seed,
    )  # fmt: skip
    torch.manual_seed(config.seed)
    model = VideoClassifier(config, spec.num_classes, multi_label=spec.multi_label).to(device)
    if settings.channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    optimizer = model.configure_optimizers()["optimizer"]
    net = torch.compile(model.net) if settings.compile else model.net
    options = RunOptions(data_root=None if data_root is None else str(data_root), num_workers=settings.workers, progress=False)
    datamodule = build_datamodule(config, options, model.net.backbone.input_norm)
    datamodule.prepare_data()
    datamodule.setup("fit")
    if settings.synthetic_input:
        fixed = random_batch(
            config.batch_size, config.segments, spec.decode_size, spec.num_classes, config.seed, spec.flip, spec.multi_label
        )
        fixed = _to_device(fixed, device)
        batches: Iterator[dict[str, Any]] = itertools.repeat(fixed)
    else:
        batches = _loader_batches(datamodule)

    def step(batch: dict[str, Any]) -> None:
        batch = datamodule.on_after_batch_transfer(_to_device(batch, device), 0)
        frames = channels_last_clips(batch["frames"]) if settings.channels_last else batch["frames"]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=settings.bf16):
            scores = net(frames)
        loss = training_loss(scores.float(), batch["label"], spec.multi_label)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad_norm)
        optimizer.step()

    first_step_s = 0.0
    for number in range(settings.warmup):
        started = time.perf_counter()
        step(next(batches))
        _synchronise(device)
        if number == 0:
            first_step_s = time.perf_counter() - started
    waited = 0.0
    clips = 0
    started = time.perf_counter()
    for _ in range(settings.steps):
        asked = time.perf_counter()
        batch = next(batches)
        waited += time.perf_counter() - asked
        clips += len(batch["label"])
        step(batch)
        _synchronise(device)
    seconds = time.perf_counter() - started
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model()
    return {
        "machine": machine_name(),
        "device_name": device_name,
        **asdict(settings),
        "segments": config.segments,
        "input_size": config.input_size,
        "batch_size": config.batch_size,
        "clips_per_s": clips / seconds,
        "step_ms": 1000 * seconds / settings.steps,
        "data_wait_share": waited / seconds,
        "compile_s": first_step_s if settings.compile else float("nan"),
        "torch": torch.__version__,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def write_results(row: dict[str, Any], out_dir: str | Path) -> Path:
    """Upsert the row into ``<out_dir>/train_<machine>.csv``, replacing a row with the same options."""
    path = Path(out_dir) / f"train_{row['machine']}.csv"
    upsert_keyed(path, [row], KEY_COLUMNS)
    return path


def format_row(row: dict[str, Any]) -> str:
    table = pd.DataFrame([row])[TABLE_COLUMNS]
    text = table.to_string(index=False, float_format=lambda value: f"{value:.3f}")
    if row["compile"]:
        text += f"\ncompile time (first warm-up step): {row['compile_s']:.1f} s"
    return text
