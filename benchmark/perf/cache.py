"""``stbench bench cache``: a frozen-backbone sweep trained through the feature cache vs without it.

Both modes train the same cells (the sweep's heads with ``frozen_backbone=True``, the same epochs)
one after the other in one invocation on one machine, each into its own folder under a temporary
work directory (never the real leaderboard):

* ``cached``: the first cell builds the feature cache (decode + backbone once per video and view;
  its time is part of that cell's and of the total wall time), every cell then trains from it;
* ``uncached``: every step decodes its clips and recomputes the frozen backbone.

Protocol of the cache: ``min(cached_views, epochs)`` training views per video, view ``v`` being the
training draw of epoch ``v``; epoch ``e`` trains on view ``e mod views``; val/test use their one test view.
The cached mode runs first, so any warming of the file cache favours the uncached baseline.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import torch

from benchmark.run.config import RunConfig
from benchmark.perf.machine import machine_name, upsert_keyed
from datamodules.cached_features import FeatureCache
from benchmark.project import CONFIGS_DIR

DEFAULT_SWEEP = CONFIGS_DIR / "synthetic_main.yaml"
TOTAL = "(all heads)"
CSV_KEYS: tuple[str, ...] = ("machine", "sweep", "train_videos", "epochs", "cached_views", "head")
CSV_COLUMNS: list[str] = [
    "machine", "sweep", "train_videos", "epochs", "cached_views", "views_built", "protocol", "head",
    "cached_wall_s", "uncached_wall_s", "speedup", "cached_top1", "uncached_top1",
    "cache_build_s", "cache_mb", "workers", "threads", "load_avg_start", "load_avg_end", "timestamp",
]  # fmt: skip
PROTOCOL = (
    "train: min(cached_views, epochs) views per video, view v = the training draw of epoch v, "
    "epoch e trains on view e mod views; val/test: their one test view"
)


def bench_cells(
    sweep: str | Path, heads: Sequence[str] | None = None, epochs: int | None = None, cached_views: int | None = None
) -> list[RunConfig]:
    """The sweep's cells (optionally only ``heads``) as frozen-backbone runs."""
    from benchmark.run.sweep import load_sweep

    cells = list(load_sweep(sweep).cells)
    if heads:
        unknown = set(heads) - {cell.head for cell in cells}
        if unknown:
            raise ValueError(f"{sweep}: no cell has head(s) {sorted(unknown)}")
        cells = [cell for cell in cells if cell.head in heads]
    changes: dict[str, Any] = {"frozen_backbone": True}
    if epochs is not None:
        changes["epochs"] = epochs
    if cached_views is not None:
        changes["cached_views"] = cached_views
    return [replace(cell, **changes) for cell in cells]


def run_mode(cells: Sequence[RunConfig], options: Any, feature_cache: bool) -> list[dict[str, Any]]:
    """Train and test every cell afresh in one mode; per cell: head, wall seconds, top-1."""
    from benchmark.run.runner import run

    mode_options = replace(options, feature_cache=feature_cache, resume=False)
    measured = []
    for number, config in enumerate(cells, start=1):
        label = "cached" if feature_cache else "uncached"
        print(f"[bench cache] {label} {number}/{len(cells)}: {config.head}", flush=True)
        started = time.perf_counter()
        row = run(config, mode_options, fresh=True)
        assert row is not None, "the cache benchmark runs in one process"
        measured.append({"head": config.head, "wall_s": time.perf_counter() - started, "top1": row["top1"]})
    return measured


def summarise(
    cached: Sequence[dict[str, Any]],
    uncached: Sequence[dict[str, Any]],
    cache: FeatureCache,
    context: dict[str, Any],
) -> pd.DataFrame:
    """One row per head and a total row: wall times of both modes, speed-up, top-1, cache build and size."""
    uncached_by_head = {entry["head"]: entry for entry in uncached}
    rows = []
    for entry in cached:
        other = uncached_by_head[entry["head"]]
        rows.append({
            "head": entry["head"], "cached_wall_s": entry["wall_s"], "uncached_wall_s": other["wall_s"],
            "cached_top1": entry["top1"], "uncached_top1": other["top1"],
        })  # fmt: skip
    table = pd.DataFrame(rows)
    total = {
        "head": TOTAL,
        "cached_wall_s": table["cached_wall_s"].sum(),
        "uncached_wall_s": table["uncached_wall_s"].sum(),
        "cached_top1": table["cached_top1"].mean(),
        "uncached_top1": table["uncached_top1"].mean(),
    }
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    table["speedup"] = table["uncached_wall_s"] / table["cached_wall_s"]
    table["cache_build_s"] = float(cache.meta["build_seconds"])
    table["cache_mb"] = cache.size_bytes() / 2**20
    table["train_videos"] = int(cache.features["train"].shape[1])
    table["views_built"] = int(cache.features["train"].shape[0])
    for key, value in context.items():
        table[key] = value
    table["protocol"] = PROTOCOL
    for column in ("cached_wall_s", "uncached_wall_s", "cache_build_s", "cache_mb"):
        table[column] = table[column].round(1)
    table["speedup"] = table["speedup"].round(2)
    return table.reindex(columns=CSV_COLUMNS)


def measure(cells: Sequence[RunConfig], options: Any, sweep: str) -> pd.DataFrame:
    """Both modes of ``cells`` under ``options`` (its folders are replaced by ones per mode under its work_dir)."""
    if len({(c.cached_views, c.epochs) for c in cells}) != 1:
        raise ValueError("the cells of one cache benchmark must share epochs and cached_views")
    scratch = Path(options.work_dir)
    modes = {name: replace(options, results_dir=str(scratch / name / "results"), work_dir=str(scratch / name / "work"))
             for name in ("cached", "uncached")}  # fmt: skip
    load_start = os.getloadavg()[0]
    cached = run_mode(cells, modes["cached"], feature_cache=True)
    uncached = run_mode(cells, modes["uncached"], feature_cache=False)
    caches = sorted((Path(modes["cached"].work_dir) / "feature_cache").glob("*/meta.json"))
    if len(caches) != 1:
        raise RuntimeError(f"expected one feature cache under {scratch / 'cached'}, found {len(caches)}")
    context = {
        "machine": machine_name(),
        "sweep": Path(sweep).stem,
        "epochs": cells[0].epochs,
        "cached_views": cells[0].cached_views,
        "workers": options.num_workers,
        "threads": torch.get_num_threads(),
        "load_avg_start": round(load_start, 2),
        "load_avg_end": round(os.getloadavg()[0], 2),
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return summarise(cached, uncached, FeatureCache.open(caches[0].parent), context)


def write_results(table: pd.DataFrame, out_dir: str | Path) -> Path:
    """Upsert the rows into ``<out_dir>/cache_<machine>.csv`` (one row per setting and head)."""
    path = Path(out_dir) / f"cache_{machine_name()}.csv"
    upsert_keyed(path, table.to_dict("records"), CSV_KEYS)
    return path


def add_cache_parser(bench_subparsers: argparse._SubParsersAction) -> None:
    """Register ``cache`` on the ``stbench bench`` sub-parsers."""
    parser = bench_subparsers.add_parser(
        "cache", help="frozen-backbone sweep: wall time through the feature cache vs recomputing the backbone"
    )
    parser.add_argument("--sweep", default=str(DEFAULT_SWEEP), help="sweep file (default: %(default)s)")
    parser.add_argument("--heads", nargs="+", default=None, help="only these heads of the sweep")
    parser.add_argument("--epochs", type=int, default=None, help="default: the sweep's")
    parser.add_argument("--cached-views", type=int, default=None, help="training views per video (default: the sweep's)")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--workers", type=int, default=2, help="data loader processes (decoding, both modes)")
    parser.add_argument("--accelerator", default="auto")
    parser.add_argument("--work-dir", default=None, help="scratch folder, kept (default: a temporary one, removed)")
    parser.add_argument("--out-dir", default="results/perf", help="cache_<machine>.csv is written here")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(handler=command_bench_cache)


def command_bench_cache(args: argparse.Namespace) -> int:
    from benchmark.run.runner import RunOptions

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    cells = bench_cells(args.sweep, args.heads, args.epochs, args.cached_views)
    scratch = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="stbench-bench-cache-"))
    options = RunOptions(
        data_root=args.data_root,
        work_dir=str(scratch),
        accelerator=args.accelerator,
        num_workers=args.workers,
        progress=not args.no_progress,
    )
    try:
        table = measure(cells, options, args.sweep)
    finally:
        if not args.work_dir:
            shutil.rmtree(scratch, ignore_errors=True)
    path = write_results(table, args.out_dir)
    print()
    print(table.drop(columns=["protocol", "timestamp", "sweep"]).to_string(index=False))
    print(f"\n{PROTOCOL}\nwritten to {path}")
    return 0


if __name__ == "__main__":
    import sys

    parser = argparse.ArgumentParser(prog="python -m benchmark.perf.cache")
    add_cache_parser(parser.add_subparsers(dest="command", required=True))
    arguments = parser.parse_args(["cache", *sys.argv[1:]])
    sys.exit(arguments.handler(arguments))
