"""Random-generator state in checkpoints, so that a resumed run continues every random stream where
the interrupted one was.

A run is seeded once, at its start; what it draws later (dropout masks, the loader's worker seeds)
comes from the global Python, NumPy and torch generators. Without their state in the checkpoint, a
resumed run would draw its remaining epochs from freshly seeded generators and end elsewhere than
the uninterrupted run. Clip sampling needs no state: it is a function of (seed, epoch, video).

:class:`RandomStateCheckpoint` only reads the generators when a checkpoint is written, so an
uninterrupted run draws exactly what it would without it; only a run resumed from a checkpoint that
holds a state has its generators set, when its first epoch starts.
"""
from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch


def capture_random_state() -> dict[str, Any]:
    """The Python, NumPy, torch CPU and (when initialised) every CUDA device's generator state."""
    name, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    state: dict[str, Any] = {
        "python": random.getstate(),
        # plain types and tensors only, so that a checkpoint loads with torch.load(weights_only=True)
        "numpy": (name, torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss), float(cached_gaussian)),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_random_state(state: dict[str, Any]) -> None:
    """Set the generators to a :func:`capture_random_state` result (CUDA states where devices match)."""
    random.setstate(state["python"])
    name, keys, position, has_gauss, cached_gaussian = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), position, has_gauss, cached_gaussian))
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda")
    if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def makes_iterator_every_epoch(loader: Any) -> bool:
    """Whether ``iter(loader)`` builds a new iterator each epoch (one draw from the global torch
    generator for its base seed) rather than resetting its persistent workers' one (no draw)."""
    return not (getattr(loader, "persistent_workers", False) and getattr(loader, "num_workers", 0) > 0)


def draw_like_a_new_iterator() -> None:
    """The one draw a new DataLoader iterator makes from the global torch generator (its base seed)."""
    torch.empty((), dtype=torch.int64).random_()


class RandomStateCheckpoint(pl.Callback):
    """Saves the generators' state and the training sampler's epoch with every checkpoint and puts
    them back when a run resumes.

    The state is read when the checkpoint is written (the end of an epoch); the resumed run takes
    it up where the uninterrupted run would next draw, at the start of the next epoch. A resumed
    run builds its loaders' iterators afresh while the uninterrupted one may reuse persistent
    ones, so the iterator draws are evened out: the training loader's draw is replayed when the
    uninterrupted run would build a new iterator at that epoch, and the first validation
    iterator's draw is undone when the uninterrupted run would reuse its persistent one.

    Checkpoints are written by global rank 0; DDP processes are seeded alike and draw in step, so
    that state stands for every process.
    """

    def __init__(self) -> None:
        self._pending: dict[str, Any] | None = None
        self._before_validation: torch.Tensor | None = None
        self._undo_validation_draw = False
        self._trainer: pl.Trainer | None = None

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._trainer = trainer

    def state_dict(self) -> dict[str, Any]:
        state = capture_random_state()
        if self._trainer is not None:
            state["sampler_epoch"] = self._trainer.fit_loop.epoch_progress.current.processed
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._pending = dict(state_dict)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        restore_random_state(state)
        loader = trainer.train_dataloader
        if makes_iterator_every_epoch(loader):
            draw_like_a_new_iterator()
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch") and "sampler_epoch" in state:
            sampler.set_epoch(int(state["sampler_epoch"]))
        validation = trainer.val_dataloaders
        self._undo_validation_draw = validation is not None and not makes_iterator_every_epoch(validation)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        if self._undo_validation_draw:
            self._before_validation = torch.get_rng_state()

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._undo_validation_draw and self._before_validation is not None:
            torch.set_rng_state(self._before_validation)
        self._undo_validation_draw, self._before_validation = False, None
