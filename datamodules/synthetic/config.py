"""What to generate (:class:`SyntheticConfig`) and where: one folder per dataset version and config."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from datamodules.storage import canonical_json, short_hash
from datamodules.synthetic.layout import DATASET_VERSION


@dataclass(frozen=True)
class SyntheticConfig:
    seed: int = 0
    clips_per_class: int = 250
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    min_frames: int = 16
    max_frames: int = 48
    sizes: tuple[int, ...] = (64, 80, 96)
    fps: int = 12

    def __post_init__(self) -> None:
        # Lists (e.g. from YAML) are normalised to tuples so that equal configs hash equally.
        object.__setattr__(self, "split_fractions", tuple(float(f) for f in self.split_fractions))
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))
        if self.clips_per_class < 1:
            raise ValueError("clips_per_class must be >= 1")
        if len(self.split_fractions) != 3 or any(f < 0 for f in self.split_fractions):
            raise ValueError("split_fractions must be three non-negative numbers (train, validation, test)")
        if not math.isclose(sum(self.split_fractions), 1.0, abs_tol=1e-6):
            raise ValueError(f"split_fractions must sum to 1, got {self.split_fractions}")
        if not 1 <= self.min_frames <= self.max_frames:
            raise ValueError("need 1 <= min_frames <= max_frames")
        if not self.sizes or any(s < 16 or s % 2 for s in self.sizes):
            raise ValueError("sizes must be even numbers >= 16")
        if self.fps < 1:
            raise ValueError("fps must be >= 1")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["split_fractions"] = list(self.split_fractions)
        d["sizes"] = list(self.sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SyntheticConfig":
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()})


def default_root() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_path("stbench")) / "synthetic"


def config_hash(config: SyntheticConfig) -> str:
    return short_hash(canonical_json({"version": DATASET_VERSION, **config.to_dict()}), length=10)


def dataset_dir(root: Path, config: SyntheticConfig) -> Path:
    return Path(root) / f"v{DATASET_VERSION}-seed{config.seed}-{config_hash(config)}"
