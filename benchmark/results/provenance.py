"""Where a result came from: the code's git revision, the environment and the data."""
from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from benchmark.project import PROJECT_ROOT
from datamodules.dataset_spec import DatasetSplits

_ROOT = PROJECT_ROOT


def git_sha() -> str:
    """Short commit of the code that ran, with '+dirty' when tracked files differ; 'unknown' outside git."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=_ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=_ROOT, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + ("+dirty" if dirty.returncode == 1 else "")


def environment() -> str:
    """The software and hardware that produced a number: library versions, CPU (its kernels'
    instruction set and thread count) and GPU. Same-seed CPU training differs across any of them."""
    import platform

    import torch

    parts = [f"python {platform.python_version()}", f"torch {torch.__version__}"]
    for module in ("numpy", "decord", "av", "pytorch_lightning"):
        parts.append(f"{module} {_version(module)}")
    parts.append(f"cpu {_cpu_model()} ({torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} threads)")
    if torch.cuda.is_available():
        parts.append(f"gpu {torch.cuda.get_device_name(0)} (cuda {torch.version.cuda})")
    else:
        parts.append("gpu none")
    return "; ".join(parts)


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version({"pytorch_lightning": "pytorch-lightning"}.get(module, module))
    except PackageNotFoundError:
        return "absent"


def _cpu_model() -> str:
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def data_fingerprint(splits: DatasetSplits, root: str | Path | None) -> str:
    """A short digest of the data a run read: for a generated dataset, the content hashes of its
    videos (its manifest); otherwise each record's id, label(s) and file size. No path enters it,
    so the same data on two machines has the same fingerprint."""
    digest = hashlib.sha256()
    manifest = Path(root) / "manifest.json" if root is not None else None
    if manifest is not None and manifest.is_file():
        entries = json.loads(manifest.read_text(encoding="utf-8")).get("files", [])
        for entry in sorted(entries, key=lambda e: str(e.get("path"))):
            digest.update(f"{entry.get('path')}\t{entry.get('sha256')}\n".encode())
    for split in (splits.train, splits.val, splits.test):
        for record in split:
            try:
                size = record.path.stat().st_size if not record.is_frame_folder else -1
            except OSError:
                size = -2
            digest.update(f"{record.video_id}\t{record.label}\t{record.labels}\t{size}\n".encode())
        digest.update(b"--\n")
    return digest.hexdigest()[:12]
