"""--wandb logs offline by default, and a missing or failing wandb never stops a run."""
import pytest

from benchmark.run.config import resolve_config
from benchmark.run.runner import RunOptions, run
from benchmark.run.wandb_logging import wandb_configured


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


def test_final_row_and_confusion_go_to_wandb(tiny_synthetic, tmp_path, monkeypatch):
    import pytorch_lightning.loggers as loggers
    from pytorch_lightning.loggers import CSVLogger

    tables = {}

    class RecordingWandb(CSVLogger):  # a stand-in that records what the runner sends to wandb
        def __init__(self, *args, save_dir, **kwargs):
            super().__init__(save_dir, name="wandb-stand-in")

        def log_table(self, key, columns, data):
            tables[key] = (columns, data)

    monkeypatch.setattr(loggers, "WandbLogger", RecordingWandb)
    config = resolve_config("synthetic", head="tsn", epochs=1, batch_size=4, segments=2)
    row = run(config, options(tiny_synthetic, tmp_path))
    columns, data = tables["results/leaderboard_row"]
    assert columns == list(row) and data[0][columns.index("run_id")] == config.run_id
    columns, matrix = tables["results/confusion"]
    assert columns[0] == "true_class" and len(matrix) == 10
    assert sum(sum(r[1:]) for r in matrix) == row["n_test_evaluated"]


def test_report_plots_go_to_wandb_and_a_failure_only_warns(tmp_path, monkeypatch):
    import wandb

    from benchmark.run.wandb_logging import log_report_to_wandb

    logged, finished = {}, []

    class FakeRun:
        def log(self, data):
            logged.update(data)

        def finish(self):
            finished.append(True)

    monkeypatch.setattr(wandb, "init", lambda **kwargs: FakeRun())
    report = tmp_path / "main.md"
    report.write_text("# report\n")
    figure = tmp_path / "plot.png"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.plot([0, 1]); plt.savefig(figure); plt.close()
    log_report_to_wandb(report, [figure], options(tmp_path, tmp_path))
    assert set(logged) == {"report/plot", "report/markdown"} and finished == [True]

    monkeypatch.setattr(wandb, "init", lambda **kwargs: (_ for _ in ()).throw(RuntimeError("no service")))
    with pytest.warns(UserWarning, match="wandb logging of the report failed: no service"):
        log_report_to_wandb(report, [figure], options(tmp_path, tmp_path))
