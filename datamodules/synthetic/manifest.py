"""``manifest.json``: written last, it marks a generated folder as complete and lists every video."""
from __future__ import annotations

import json
from pathlib import Path

from datamodules.synthetic.config import SyntheticConfig
from datamodules.synthetic.layout import DATASET_VERSION, LABELS_FILE, MANIFEST_NAME, SPLITS, split_file


def read_manifest(directory: Path) -> dict | None:
    """The manifest of ``directory``, or None when it is absent or unreadable."""
    try:
        with open(directory / MANIFEST_NAME, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_manifest(directory: Path) -> dict:
    manifest = read_manifest(Path(directory))
    if manifest is None:
        raise FileNotFoundError(f"no readable {MANIFEST_NAME} in {directory}")
    return manifest


def is_complete(directory: Path, config: SyntheticConfig) -> bool:
    """Whether ``directory`` holds a finished dataset for ``config`` (manifest present and matching, files there)."""
    manifest = read_manifest(directory)
    if not manifest or manifest.get("version") != DATASET_VERSION or manifest.get("config") != config.to_dict():
        return False
    for name in [LABELS_FILE] + [split_file(s) for s in SPLITS]:
        if not (directory / name).is_file():
            return False
    try:
        return all((directory / e["path"]).stat().st_size == e["bytes"] for e in manifest["files"])
    except (OSError, KeyError, TypeError):
        return False


def format_manifest(manifest: dict) -> str:
    """JSON with one line per video entry (readable, and small enough to diff)."""
    head = {k: v for k, v in manifest.items() if k != "files"}
    text = json.dumps(head, indent=1)[:-2]
    rows = ",\n  ".join(json.dumps(e, separators=(",", ":")) for e in manifest["files"])
    return text + ',\n "files": [\n  ' + rows + "\n ]\n}\n"
