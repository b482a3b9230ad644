"""Test a saved checkpoint again, on any number of processes, counting every test video once."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from benchmark.results.confusion import save_confusion
from benchmark.run.checkpoint import allowed_globals, checkpoint_config, read_checkpoint
from benchmark.run.config import RunConfig
from benchmark.run.kinds import run_kind
from benchmark.run.options import RunOptions
from benchmark.run.trainer import build_trainer


def evaluate_checkpoint(checkpoint: str | Path, options: RunOptions, out: str | Path | None = None) -> torch.Tensor | None:
    """The test confusion matrix of ``checkpoint`` (global rank 0; None elsewhere), saved to ``out`` if given.

    The checkpoint is vetted first (:func:`benchmark.run.checkpoint.read_checkpoint`: refused when it
    needs a type outside the allow-list, unless ``options.trust_checkpoint``)."""
    trust = options.trust_checkpoint
    config = RunConfig.from_dict(checkpoint_config(read_checkpoint(checkpoint, trust), checkpoint))
    kind = run_kind(config)
    with allowed_globals():
        model = kind.model_class.load_from_checkpoint(
            checkpoint, map_location="cpu", weights_only=not trust, config=config
        )
    datamodule = kind.datamodule(config, replace(options, feature_cache=False), model)  # decoded test clips
    trainer = build_trainer(config, options, callbacks=[], logger=False)
    trainer.test(model, datamodule=datamodule, verbose=False)
    if not trainer.is_global_zero:
        return None
    confusion = model.test_confusion
    assert confusion is not None and datamodule.splits is not None
    if out is not None:
        save_confusion(confusion, datamodule.splits.class_names, out)
    return confusion
