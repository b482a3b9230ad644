"""The dataset table: every adapter declares its facts in one ``SPEC``, and a new dataset is one
adapter module plus one table line (the toy adapter of ``tests/datamodules/toy_adapter.py``)."""
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import datamodules.adapters
from backbones.base import TORCHVISION_NORM
from benchmark.run.config import resolve_config
from datamodules import datasets
from datamodules.datamodule import VideoDataModule
from datamodules.dataset_spec import DatasetSpec, TrainingProtocol
from datamodules.datasets import DATASETS, get_dataset, table
from datamodules.synthetic.generate import clip_rng, encode_mp4, render_clip
from tests.datamodules import toy_adapter

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = sorted(module.name for module in pkgutil.iter_modules(datamodules.adapters.__path__))


@pytest.mark.parametrize("module", ADAPTERS)
def test_every_adapter_declares_its_facts_and_is_in_the_table(module):
    spec = importlib.import_module(f"datamodules.adapters.{module}").SPEC
    assert isinstance(spec, DatasetSpec) and isinstance(spec.protocol, TrainingProtocol)
    assert DATASETS[spec.name] is spec
    assert spec.num_classes > 1 and len(spec.decode_size) == 2 and spec.metric in ("top1", "map")
    assert callable(spec.read)


def test_table_names_are_the_specs_names():
    assert all(name == spec.name for name, spec in DATASETS.items())
    assert len(DATASETS) == len(ADAPTERS)
    with pytest.raises(ValueError, match="'toy' is listed twice"):
        table(toy_adapter.SPEC, toy_adapter.SPEC)
    with pytest.raises(KeyError, match="unknown dataset 'nope'; known: ccv, hmdb51"):
        get_dataset("nope")


def test_facts_need_no_data_and_no_heavy_module():
    code = (
        "import sys\n"
        "from datamodules.datasets import DATASETS, get_dataset\n"
        "print({name: get_dataset(name).num_classes for name in DATASETS})\n"
        "heavy = {'torch', 'numpy', 'cv2', 'decord', 'av', 'pandas', 'sklearn', 'pytorch_lightning', 'filelock'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    counts, heavy = out.splitlines()
    assert heavy == "[]"
    assert "'synthetic': 10" in counts and "'ssv2': 174" in counts and "'kinetics400': 400" in counts


def test_only_the_built_in_dataset_is_generated():
    assert [name for name, spec in DATASETS.items() if spec.generated] == ["synthetic"]
    assert get_dataset("ssv2").flip_labels is not None and get_dataset("ssv2").flip_label_map is None


# -- a new dataset: one adapter module, one line ----------------------------------------------------
@pytest.fixture(scope="module")
def toy_root(tmp_path_factory) -> Path:
    """Two classes of three tiny clips: two train clips and one test clip each."""
    root = tmp_path_factory.mktemp("toy")
    for label, name in enumerate(("Growing", "Shrinking")):
        (root / name).mkdir()
        for clip in range(3):
            frames = render_clip(name, clip_rng(label, clip), 8, 32)
            encode_mp4(frames, root / name / f"clip{clip}.mp4", fps=12)
    return root


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(datasets.DATASETS, toy_adapter.SPEC.name, toy_adapter.SPEC)


def test_a_registered_adapter_loads_through_get_dataset(registered, toy_root):
    spec = get_dataset("toy")
    assert spec is toy_adapter.SPEC and not spec.generated
    splits = spec.load(toy_root, "default", False)
    assert splits.class_names == ["Growing", "Shrinking"]
    assert [r.video_id for r in splits.test] == ["Growing/clip2", "Shrinking/clip2"]
    assert len(splits.train) == 4 and splits.val == splits.test
    with pytest.raises(ValueError, match="--data-root is required for toy"):
        spec.load(None, "default", False)


def test_the_declared_class_count_is_checked(registered, toy_root, tmp_path):
    root = tmp_path / "three"
    for name in ("a", "b", "c"):
        (root / name).mkdir(parents=True)
        (root / name / "clip0.mp4").write_bytes((toy_root / "Growing" / "clip0.mp4").read_bytes())
    with pytest.raises(ValueError, match="found 3 classes, expected 2"):
        get_dataset("toy").load(root, "default", False)


def test_a_registered_adapter_gets_its_protocol_in_run_configs(registered):
    config = resolve_config("toy", head="tsn")
    assert (config.dataset, config.segments, config.input_size, config.epochs) == ("toy", 3, 32, 2)
    assert (config.batch_size, config.lr, config.lr_steps, config.optimizer) == (2, 0.01, (1,), "adam")
    assert resolve_config("toy", segments=5).segments == 5


def test_a_registered_adapter_feeds_the_datamodule(registered, toy_root):
    data = VideoDataModule("toy", 3, 2, 32, TORCHVISION_NORM, root=toy_root, num_workers=0, progress=False)
    data.setup()
    assert data.class_names == ["Growing", "Shrinking"]
    batches = list(data.test_dataloader())
    assert sum(len(b["label"]) for b in batches) == 2
    raw = data.test_dataloader().dataset[0]
    assert tuple(raw["frames"].shape) == (3, 40, 40, 3)  # T frames at the declared decode size
    train = next(iter(data.train_dataloader()))
    assert train["frames"].shape[:2] == (2, 3) and np.isin(train["label"].numpy(), [0, 1]).all()


def test_the_protocols_init_std_is_the_heads_own():
    from datamodules.dataset_spec import TrainingProtocol
    from heads.transform import STUDY_INIT_STD

    assert TrainingProtocol(8, 224, 30, 16, 1e-3, (15, 25)).transform_init_std == STUDY_INIT_STD
