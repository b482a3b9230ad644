"""Random-generator state in checkpoints: read without drawing, restored exactly, loadable as weights."""
import io
import random
import types

import numpy as np
import torch
from torch.utils.data import DataLoader

from benchmark.run.rng_state import (
    RandomStateCheckpoint, capture_random_state, makes_iterator_every_epoch, restore_random_state,
)  # fmt: skip
from datamodules.clip_dataset import next_fit_epoch


def draws() -> tuple[float, float, float]:
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_a_restored_state_draws_the_same_numbers_also_after_a_weights_only_load():
    state = capture_random_state()
    expected = draws()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    restore_random_state(torch.load(buffer, weights_only=True))
    assert draws() == expected


def test_writing_the_state_into_a_checkpoint_draws_nothing():
    before = capture_random_state()
    callback = RandomStateCheckpoint()
    saved = callback.state_dict()
    after_saving = draws()
    restore_random_state(before)
    assert draws() == after_saving
    assert set(saved) >= {"python", "numpy", "torch"}


def test_a_resumed_epoch_starts_from_the_saved_state_and_the_sampler_epoch():
    class Sampler:
        epoch = 0

        def set_epoch(self, epoch: int) -> None:
            self.epoch = epoch

    loader = types.SimpleNamespace(sampler=Sampler(), persistent_workers=True, num_workers=2)
    trainer = types.SimpleNamespace(train_dataloader=loader, val_dataloaders=None)
    callback = RandomStateCheckpoint()
    state = {**capture_random_state(), "sampler_epoch": 3}
    expected = draws()
    callback.load_state_dict(state)
    callback.on_train_epoch_start(trainer, None)
    assert draws() == expected
    assert loader.sampler.epoch == 3
    callback.on_train_epoch_start(trainer, None)  # later epochs are left alone
    assert draws() != expected


def test_which_loaders_build_an_iterator_every_epoch():
    data = list(range(4))
    assert makes_iterator_every_epoch(DataLoader(data, num_workers=0))
    assert not makes_iterator_every_epoch(DataLoader(data, num_workers=2, persistent_workers=True))
    assert makes_iterator_every_epoch(DataLoader(data, num_workers=2, persistent_workers=False))


def test_the_next_fit_epoch_is_the_restored_epoch_count():
    assert next_fit_epoch(None) == 0
    progress = types.SimpleNamespace(current=types.SimpleNamespace(processed=2))
    trainer = types.SimpleNamespace(fit_loop=types.SimpleNamespace(epoch_progress=progress))
    assert next_fit_epoch(trainer) == 2
