"""Consistency probes of the regression check: defects that accuracy alone may not show.

* :func:`training_coverage` — every parameter that the run's configuration does not freeze is in
  the optimizer, requires a gradient, gets a non-zero one from a training batch, and changes after
  one optimizer step. Catches a parameter group left out of training (e.g. recurrent
  hidden-to-hidden weights, or BatchNorm layers after the first), which a short CPU protocol may
  not turn into a visible accuracy drop.
* :func:`same_evaluation` — the same checkpoint tested twice, the second time after the global
  random generators were reseeded, gives identical per-video outputs. Catches evaluation that
  draws at random (e.g. TRN's frame tuples redrawn at test time) or depends on earlier state.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from benchmark.results.predictions import Predictions, load_predictions, same_outputs
from benchmark.run.config import RunConfig
from benchmark.run.evaluate import checkpoint_predictions
from benchmark.run.kinds import run_kind
from benchmark.run.options import RunOptions

PROBE_BATCH = 4
RESEED = 12345  # the global seed of the second evaluation: anything but the run's own


@dataclass(frozen=True)
class ProbeResult:
    probe: str
    subject: str  # the head (or run) probed
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def declared_frozen(config: RunConfig, model: torch.nn.Module) -> set[int]:
    """Ids of the parameters the configuration itself freezes (frozen backbone; partial BN's BatchNorms)."""
    backbone = model.net.backbone  # type: ignore[union-attr]
    if config.frozen_backbone:
        return {id(p) for p in backbone.parameters()}
    if config.partial_bn:
        return {id(p) for bn in backbone.batchnorms()[1:] for p in bn.parameters(recurse=False)}
    return set()


def training_coverage(config: RunConfig, num_classes: int, seed: int = 0) -> ProbeResult:
    """One optimizer step of ``config``'s model on a random batch; the parameters that do not train."""
    torch.manual_seed(seed)
    model = run_kind(config).build_model(config, num_classes, False)
    model.train()
    optimizers = model.configure_optimizers()
    optimizer = optimizers["optimizer"] if isinstance(optimizers, dict) else optimizers
    in_optimizer = {id(p) for group in optimizer.param_groups for p in group["params"]}
    frozen = declared_frozen(config, model)
    trainable = [(name, p) for name, p in model.named_parameters() if id(p) not in frozen]
    problems = [f"{name}: not in the optimizer" for name, p in trainable if id(p) not in in_optimizer]
    problems += [f"{name}: requires_grad is off" for name, p in trainable if not p.requires_grad]
    clips = torch.randn(PROBE_BATCH, config.segments, 3, config.input_size, config.input_size)
    labels = torch.arange(PROBE_BATCH) % num_classes
    before = {name: p.detach().clone() for name, p in trainable}
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(clips), labels).backward()
    for name, p in trainable:
        if p.requires_grad and (p.grad is None or not bool(p.grad.abs().sum() > 0)):
            problems.append(f"{name}: gets no gradient")
    optimizer.step()
    for name, p in trainable:
        if torch.equal(before[name], p.detach()):
            problems.append(f"{name}: unchanged after an optimizer step")
    return ProbeResult("training coverage", config.head, tuple(dict.fromkeys(problems)))


def same_evaluation(config: RunConfig, options: RunOptions, run_dir: Path, checkpoint: Path) -> ProbeResult:
    """Test ``checkpoint`` again with reseeded global generators; compare with the run's predictions."""
    kept = load_predictions(run_dir / "predictions.npz")
    again = checkpoint_predictions(checkpoint, replace(options, progress=False), global_seed=RESEED)
    problems: list[str] = []
    if again is not None and not same_outputs(kept, again):
        changed = differing_videos(kept, again)
        problems.append(f"a second evaluation of the same checkpoint changed the outputs of {changed} test videos")
    return ProbeResult("same evaluation", config.head, tuple(problems))


def differing_videos(first: Predictions, second: Predictions) -> int:
    if len(first) != len(second):
        return max(len(first), len(second))
    return int(((first.scores != second.scores).any(axis=1) | (first.predicted != second.predicted)).sum())
