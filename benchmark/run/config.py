"""One run is fully described by a RunConfig; its hash is the run id."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from benchmark.run.setting_rules import check_run_settings
from datamodules.datasets import get_dataset
from datamodules.modality import Modality
from datamodules.storage import canonical_json, short_hash
from heads import FEATURE_DIM, STUDY_INIT_STD, TRANSFORM_DROPOUT


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides a run's result. Execution details (devices, workers, paths of
    outputs) are not part of it, so the same experiment keeps its id on any machine."""

    dataset: str = "synthetic"
    split: str = "default"
    modality: Modality = Modality.RGB  # given as a Modality or its string ("rgb", "flow", "rgb+flow")
    backbone: str = "smallcnn"
    backbone_weights: str | None = None
    partial_bn: bool = False
    head: str = "lstm"
    segments: int = 8
    input_size: int = 64
    seed: int = 0
    epochs: int = 4
    batch_size: int = 16
    optimizer: str = "adam"
    lr: float = 1e-3
    lr_steps: tuple[int, ...] = (3,)
    momentum: float = 0.9
    weight_decay: float = 1e-4
    clip_grad_norm: float = 20.0
    dropout: float = TRANSFORM_DROPOUT
    feature_dim: int = FEATURE_DIM
    transform_init_std: float = STUDY_INIT_STD
    # Settings added after the first results were published: at their defaults they are left out
    # of the run id, so that earlier runs keep their ids (see LATER_FIELDS).
    frozen_backbone: bool = False  # train only transform + head on cached backbone features
    cached_views: int = 4  # sampled training views per video kept in the feature cache
    test_clips: int = 1  # temporal views per test video (scores averaged)
    test_crops: int = 1  # spatial views per test clip: 1 (centre), 3 or 10 (corners + centre, and flips)
    flow_length: int = 5  # L: consecutive flow pairs stacked per segment (flow modality)
    holdout_fraction: float = 0.0  # share of each training class held out (fusion weights are fitted on it)
    # deep fusion (head "deep_fusion", modality "rgb+flow"): the temporal stream's first conv is
    # "random" (published) or "cross_modality" (mean of the loaded RGB filters); the X_conv LSTM
    # gets each step's map spatially averaged ("pool") or whole ("flatten", as published)
    temporal_first_conv: str = "random"
    fusion_conv_summary: str = "pool"
    # learning-rate schedule: "steps" (lr × 0.1 at lr_steps) or "two_stage" (lr until the validation
    # loss stops improving for stage_patience epochs, then lr × 0.1 from the weights reached;
    # benchmark.run.schedule)
    lr_schedule: str = "steps"
    stage_patience: int = 2

    @property
    def run_id(self) -> str:
        """A short stable hash of every field: same config, same id."""
        return short_hash(canonical_json(self._identity()), length=12)

    @property
    def setting_id(self) -> str:
        """A short stable hash of every field but the seed: the runs of one experiment under several
        seeds share it, and only they (reports pool seeds by it)."""
        data = self._identity()
        del data["seed"]
        return short_hash(canonical_json(data), length=12)

    def _identity(self) -> dict[str, Any]:
        data = self.to_dict()
        for name, default in LATER_FIELDS.items():
            if data.get(name) == default:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown run settings: {', '.join(sorted(unknown))}")
        values = dict(data)
        if "lr_steps" in values:
            values["lr_steps"] = tuple(int(step) for step in values["lr_steps"])
        return cls(**values)

    def __post_init__(self) -> None:
        check_run_settings({f.name: getattr(self, f.name) for f in fields(self)})  # a SettingError naming it
        object.__setattr__(self, "modality", Modality(self.modality))
        if self.lr_schedule == "two_stage" and self.lr_steps:
            raise ValueError(
                f"lr_schedule two_stage places its lr step itself: set lr_steps to [] (got {list(self.lr_steps)})"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (strings, numbers, lists): what config.json and checkpoints hold."""
        data = asdict(self)
        data["lr_steps"] = list(self.lr_steps)
        data["modality"] = str(self.modality)
        return data


LATER_FIELDS: dict[str, Any] = {
    "frozen_backbone": False,
    "cached_views": 4,
    "test_clips": 1,
    "test_crops": 1,
    "flow_length": 5,
    "holdout_fraction": 0.0,
    "temporal_first_conv": "random",
    "fusion_conv_summary": "pool",
    "lr_schedule": "steps",
    "stage_patience": 2,
}


def resolve_config(dataset: str = "synthetic", **overrides: Any) -> RunConfig:
    """A RunConfig for ``dataset`` with its protocol's defaults and its default split, then ``overrides``
    (None = default). A split the dataset does not have is an :class:`~datamodules.dataset_spec.UnknownSplitError`."""
    spec = get_dataset(dataset)
    protocol = spec.protocol
    known = {f.name for f in fields(RunConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"unknown run settings: {', '.join(sorted(unknown))}")
    base = RunConfig(
        dataset=dataset,
        split=spec.default_split,
        segments=protocol.segments,
        input_size=protocol.input_size,
        epochs=protocol.epochs,
        batch_size=protocol.batch_size,
        optimizer=protocol.optimizer,
        lr=protocol.lr,
        lr_steps=tuple(protocol.lr_steps),
        momentum=protocol.momentum,
        weight_decay=protocol.weight_decay,
        clip_grad_norm=protocol.clip_grad_norm,
        transform_init_std=protocol.transform_init_std,
    )
    given = {key: value for key, value in overrides.items() if value is not None}
    if "lr_steps" in given:
        given["lr_steps"] = tuple(int(step) for step in given["lr_steps"])
    config = replace(base, **given)
    spec.check_split(config.split)
    return config
