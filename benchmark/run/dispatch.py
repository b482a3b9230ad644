"""Sweeps on a scheduler, through submitit: ``stbench sweep FILE --launcher slurm …``.

Each submitted job runs the sweep's claim loop (:mod:`benchmark.run.claim_loop`) on the shared
results folder, so any number of jobs (an array of ``jobs`` tasks) split the cells between them,
each cell trained once. A SLURM job has ``nodes`` × ``gpus_per_node`` tasks, one per GPU: every
task is one DDP process (Lightning reads its rank from SLURM), global rank 0 claims the cells and
the others train the cell it announces. ``--launcher local`` runs the jobs as processes of this
machine (submitit's local executor), one device each.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmark.run.claim_loop import ClaimLoopSettings, run_claimed_sweep
from benchmark.run.options import RunOptions
from benchmark.run.sweep import load_sweep

LAUNCHERS = ("slurm", "local")


@dataclass(frozen=True)
class LaunchSettings:
    launcher: str  # slurm or local
    folder: str  # submitit's job scripts, pickles and logs
    jobs: int = 1  # jobs running the claim loop at the same time (a job array)
    nodes: int = 1
    gpus_per_node: int = 0  # 0: CPU jobs
    partition: str | None = None
    cpus_per_task: int | None = None
    mem_gb: float | None = None
    timeout_min: int = 24 * 60
    slurm_options: dict[str, str] = field(default_factory=dict)  # further sbatch options (account, qos, …)

    @property
    def tasks_per_node(self) -> int:
        return max(1, self.gpus_per_node)


def absolute(path: str | None) -> str | None:
    return None if path is None else str(Path(path).expanduser().resolve())


def job_options(options: RunOptions, launch: LaunchSettings) -> RunOptions:
    """The options of every job: absolute paths (jobs start elsewhere), its devices, nodes and strategy."""
    processes = launch.nodes * launch.tasks_per_node
    return replace(
        options,
        data_root=absolute(options.data_root),
        flow_root=absolute(options.flow_root),
        results_dir=str(absolute(options.results_dir)),
        work_dir=str(absolute(options.work_dir)),
        accelerator="gpu" if launch.gpus_per_node else options.accelerator,
        devices=launch.tasks_per_node,
        num_nodes=launch.nodes,
        strategy="ddp" if processes > 1 else options.strategy,
        progress=False,
    )


def sweep_job(sweep_file: str, options: RunOptions, settings: ClaimLoopSettings) -> dict[str, Any]:
    """What each task of a submitted job runs: the claim loop over the sweep file."""
    outcome = run_claimed_sweep(load_sweep(sweep_file), options, settings)
    return {"trained": outcome.trained, "failed": outcome.failed, "retried": outcome.retried}


def executor_for(launch: LaunchSettings, name: str) -> Any:
    import submitit

    if launch.launcher not in LAUNCHERS:
        raise ValueError(f"unknown launcher {launch.launcher!r}; known: {', '.join(LAUNCHERS)}")
    if launch.launcher == "local" and (launch.nodes > 1 or launch.gpus_per_node > 1):
        raise ValueError("--launcher local runs one process per job: one node, at most one GPU")
    executor = submitit.AutoExecutor(folder=launch.folder, cluster=launch.launcher)
    parameters: dict[str, Any] = {
        "name": f"stbench-{name}",
        "timeout_min": launch.timeout_min,
        "nodes": launch.nodes,
        "tasks_per_node": launch.tasks_per_node,
        "gpus_per_node": launch.gpus_per_node,
    }
    if launch.cpus_per_task is not None:
        parameters["cpus_per_task"] = launch.cpus_per_task
    if launch.mem_gb is not None:
        parameters["mem_gb"] = launch.mem_gb
    if launch.launcher == "slurm":
        parameters["slurm_array_parallelism"] = launch.jobs
        if launch.partition:
            parameters["slurm_partition"] = launch.partition
        if launch.slurm_options:
            parameters["slurm_additional_parameters"] = dict(launch.slurm_options)
    executor.update_parameters(**parameters)
    return executor


def submit_sweep(
    sweep_file: str, options: RunOptions, settings: ClaimLoopSettings, launch: LaunchSettings
) -> list[Any]:
    """Submit ``launch.jobs`` jobs that each run the sweep's claim loop; returns submitit's jobs."""
    sweep_path = str(absolute(sweep_file))
    sweep = load_sweep(sweep_path)  # a broken sweep file fails here, not in every job
    executor = executor_for(launch, sweep.name)
    per_job = job_options(options, launch)
    count = launch.jobs
    return executor.map_array(sweep_job, [sweep_path] * count, [per_job] * count, [settings] * count)
