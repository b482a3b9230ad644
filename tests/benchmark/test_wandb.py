"""--wandb logs offline by default, and a missing or failing wandb never stops a run."""
import pytest

from benchmark.config import resolve_config
from benchmark.runner import RunOptions, run, wandb_configured


def options(tiny, tmp_path, wandb=True):
    return RunOptions(
        data_root=str(tiny),
        results_dir=str(tmp_path / "results"),
        work_dir=str(tmp_path / "runs"),
        accelerator="cpu",
        num_workers=0,
        progress=False,
        wandb=wandb,
    )


def test_unconfigured_wandb_is_offline(monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
    monkeypatch.delenv("NETRC", raising=False)
    assert not wandb_configured()
    monkeypatch.setenv("WANDB_MODE", "online")
    assert wandb_configured()


def test_failing_wandb_warns_and_the_run_finishes(tiny_synthetic, tmp_path, monkeypatch):
    import pytorch_lightning.loggers as loggers

    class Broken:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("wandb exploded")

    monkeypatch.setattr(loggers, "WandbLogger", Broken)
    config = resolve_config("synthetic", head="tsn", epochs=1, batch_size=4, segments=2)
    with pytest.warns(UserWarning, match="wandb logging disabled: wandb exploded"):
        row = run(config, options(tiny_synthetic, tmp_path))
    assert row is not None and row["status"] == "finished"


@pytest.mark.slow
def test_offline_wandb_run_writes_a_local_run(tiny_synthetic, tmp_path, monkeypatch):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    config = resolve_config("synthetic", head="tsn", epochs=1, batch_size=4, segments=2)
    row = run(config, options(tiny_synthetic, tmp_path))
    assert row is not None
    offline_runs = list((tmp_path / "runs" / "wandb").glob("offline-run-*"))
    assert len(offline_runs) == 1
