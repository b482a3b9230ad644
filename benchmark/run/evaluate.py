"""Test a saved checkpoint again, on any number of processes, counting every test video once."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

from benchmark.results.confusion import save_confusion
from benchmark.results.predictions import Predictions, make_predictions
from benchmark.run.checkpoint import CheckpointError, allowed_globals, checkpoint_config, read_checkpoint
from benchmark.run.config import RunConfig
from benchmark.run.kinds import run_kind
from benchmark.run.options import RunOptions
from benchmark.run.setting_rules import check_cell
from benchmark.run.trainer import build_trainer


def evaluate_checkpoint(checkpoint: str | Path, options: RunOptions, out: str | Path | None = None) -> torch.Tensor | None:
    """The test confusion matrix of ``checkpoint`` (global rank 0; None elsewhere), saved to ``out`` if given.

    The checkpoint is vetted first (:func:`benchmark.run.checkpoint.read_checkpoint`: refused when it
    needs a type outside the allow-list, unless ``options.trust_checkpoint``). Frozen-backbone runs
    are tested on decoded clips (their backbone runs here)."""
    trainer, model, datamodule = tested_checkpoint(checkpoint, replace(options, feature_cache=False))
    if not trainer.is_global_zero:
        return None
    confusion = model.test_confusion
    assert confusion is not None and datamodule.splits is not None
    if out is not None:
        save_confusion(confusion, datamodule.splits.class_names, out)
    return confusion


def checkpoint_predictions(checkpoint: str | Path, options: RunOptions, global_seed: int | None = None) -> Predictions | None:
    """The per-video test outputs of ``checkpoint`` (global rank 0; None elsewhere).

    ``global_seed`` reseeds Python's, NumPy's and torch's global generators first (a correct
    evaluation does not depend on them). Frozen-backbone runs read the feature cache when
    ``options.feature_cache`` is set, as their training run did."""
    if global_seed is not None:
        pl.seed_everything(global_seed, verbose=False)
    trainer, model, datamodule = tested_checkpoint(checkpoint, options)
    outputs = model.gathered_test_outputs
    if not trainer.is_global_zero or outputs is None:
        return None
    assert datamodule.splits is not None
    video_ids = [record.video_id for record in datamodule.splits.test]
    return make_predictions(*outputs, video_ids, model.multi_label)


def tested_checkpoint(checkpoint: str | Path, options: RunOptions) -> tuple[pl.Trainer, Any, Any]:
    """Load ``checkpoint`` (vetted) and run the test loop: (trainer, model, datamodule)."""
    trust = options.trust_checkpoint
    settings = checkpoint_config(read_checkpoint(checkpoint, trust), checkpoint)
    try:
        config = RunConfig.from_dict(settings)
        check_cell(config)
    except (TypeError, ValueError) as error:  # settings out of range, or names no table knows
        raise CheckpointError(checkpoint, f"holds a run configuration no run can take ({error})") from None
    kind = run_kind(config)
    with allowed_globals():
        model = kind.model_class.load_from_checkpoint(
            checkpoint, map_location="cpu", weights_only=not trust, config=config
        )
    datamodule = kind.datamodule(config, options, model)
    trainer = build_trainer(config, options, callbacks=[], logger=False)
    trainer.test(model, datamodule=datamodule, verbose=False)
    return trainer, model, datamodule
