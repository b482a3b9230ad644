"""Weights & Biases logging: offline unless the user configured wandb, and never fatal to a run."""
from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import Logger

from benchmark.run.config import RunConfig
from benchmark.run.options import RunOptions


def wandb_configured() -> bool:
    """Whether the user set wandb up: WANDB_MODE or WANDB_API_KEY set, or a `wandb login` entry in ~/.netrc."""
    if os.environ.get("WANDB_MODE") or os.environ.get("WANDB_API_KEY"):
        return True
    try:
        import netrc

        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (OSError, netrc.NetrcParseError):
        return False


def wandb_logger(config: RunConfig, options: RunOptions) -> Logger | None:
    """Offline unless the user configured wandb; a missing or failing wandb only warns."""
    try:
        from pytorch_lightning.loggers import WandbLogger

        configured = wandb_configured()
        return WandbLogger(
            project=os.environ.get("WANDB_PROJECT", "stbench"),
            name=f"{config.head}-{config.backbone}-{config.dataset}-{config.run_id}",
            save_dir=options.work_dir,
            offline=not configured,
            config=config.to_dict(),
        )
    except Exception as error:  # wandb missing or failing must not stop a benchmark
        warnings.warn(f"wandb logging disabled: {error}")
        return None


def log_run_to_wandb(trainer: pl.Trainer, row: dict[str, Any], confusion: torch.Tensor | None, names: list[str]) -> None:
    """Send the run's leaderboard row and test confusion matrix to wandb, if it is logging; never fatal."""
    from pytorch_lightning.loggers import WandbLogger

    for logger in trainer.loggers:
        if not isinstance(logger, WandbLogger):
            continue
        try:
            logger.log_table("results/leaderboard_row", columns=list(row), data=[[str(v) for v in row.values()]])
            if confusion is None:
                continue
            matrix = [[name, *map(int, counts)] for name, counts in zip(names, confusion.tolist())]
            logger.log_table("results/confusion", columns=["true_class", *names], data=matrix)
        except Exception as error:  # a failing wandb must not lose the run's results
            warnings.warn(f"wandb logging of the results failed: {error}")


def log_report_to_wandb(report: Path, figures: Sequence[Path], options: RunOptions) -> None:
    """Log a sweep report (its Markdown and plots) as a wandb run of its own; never fatal."""
    try:
        import wandb

        run = wandb.init(
            project=os.environ.get("WANDB_PROJECT", "stbench"),
            name=f"report-{report.stem}",
            job_type="report",
            dir=options.work_dir,
            mode=None if wandb_configured() else "offline",
        )
        run.log({f"report/{figure.stem}": wandb.Image(str(figure)) for figure in figures})
        run.log({"report/markdown": wandb.Html(f"<pre>{report.read_text()}</pre>")})
        run.finish()
    except Exception as error:
        warnings.warn(f"wandb logging of the report failed: {error}")
