"""Multi-task training: one shared backbone, a classifier per dataset, the losses summed."""
import pandas as pd
import pytest
import torch

from benchmark.run.config import resolve_config
from benchmark.run.runner import RunOptions
from benchmark.systems import multitask
from benchmark.systems.multitask import MultiTaskClassifier, check_tasks, run_multitask

SHARED = dict(backbone="smallcnn", head="tsn", segments=2, input_size=32, epochs=1, batch_size=8,
              optimizer="adam", lr=1e-3, lr_steps=[], weight_decay=1e-4, seed=0)  # fmt: skip


def _tasks():
    return [resolve_config("ucf101", split="1", **SHARED), resolve_config("synthetic", **SHARED)]


def test_tasks_must_be_distinct_datasets_sharing_the_training_settings():
    check_tasks(_tasks())
    with pytest.raises(ValueError, match="different dataset"):
        check_tasks([_tasks()[1], _tasks()[1]])
    with pytest.raises(ValueError, match="share lr"):
        check_tasks([_tasks()[0], resolve_config("synthetic", **{**SHARED, "lr": 0.1})])


def test_the_backbone_is_shared_and_each_dataset_has_its_own_classifier():
    model = MultiTaskClassifier(_tasks(), datamodules={})
    ucf, synthetic = model.nets["ucf101"], model.nets["synthetic"]
    assert ucf.backbone is synthetic.backbone
    assert ucf.transform.linear.out_features == 101 and synthetic.transform.linear.out_features == 10
    shared = sum(p.numel() for p in ucf.backbone.parameters())
    total = sum(p.numel() for p in model.parameters())
    assert total == shared + sum(p.numel() for n in (ucf, synthetic) for p in [*n.transform.parameters(), *n.head.parameters()])


def test_each_loss_sees_only_its_own_dataset_and_the_total_is_their_sum(monkeypatch):
    model = MultiTaskClassifier(_tasks(), datamodules={})
    monkeypatch.setattr(model, "log", lambda *args, **kwargs: None)
    batch = {
        "ucf101": {"frames": torch.randn(3, 2, 3, 32, 32), "label": torch.tensor([0, 5, 100])},
        "synthetic": {"frames": torch.randn(2, 2, 3, 32, 32), "label": torch.tensor([1, 9])},
    }
    model.eval()  # no dropout: the same forward twice
    total = model.training_step(batch, 0)
    ucf = torch.nn.functional.cross_entropy(model.nets["ucf101"](batch["ucf101"]["frames"]), batch["ucf101"]["label"])
    syn = torch.nn.functional.cross_entropy(model.nets["synthetic"](batch["synthetic"]["frames"]), batch["synthetic"]["label"])
    assert torch.allclose(total, ucf + syn)


@pytest.mark.slow
def test_joint_training_then_one_row_per_dataset(ucf101_tiny_root, tiny_synthetic, tmp_path):
    options = RunOptions(results_dir=str(tmp_path / "results"), work_dir=str(tmp_path / "runs"), accelerator="cpu",
                         num_workers=0, progress=False)  # fmt: skip
    rows = run_multitask(_tasks(), {"ucf101": str(ucf101_tiny_root), "synthetic": str(tiny_synthetic)}, options)
    table = pd.read_csv(tmp_path / "results" / "leaderboard.csv")
    assert sorted(table["dataset"]) == ["synthetic", "ucf101"] and set(table["system"]) == {"multitask"}
    by_dataset = {row["dataset"]: row for row in rows}
    assert by_dataset["ucf101"]["n_test_evaluated"] == by_dataset["ucf101"]["n_test_expected"] == 101
    assert by_dataset["synthetic"]["n_test_evaluated"] == 9
    assert multitask.multitask_id(_tasks()) in by_dataset["ucf101"]["run_id"]
    assert by_dataset["ucf101"]["train_clips_per_s"] > 0 and by_dataset["synthetic"]["test_clips_per_s"] > 0


def test_cli_names_each_task_as_dataset_split_and_root():
    from benchmark.cli.main import build_parser

    args = build_parser().parse_args(["multitask", "--task", "ucf101:1:/data/ucf", "--task", "hmdb51:2", "--head", "tsn"])
    assert args.task == [("ucf101", "1", "/data/ucf"), ("hmdb51", "2", None)]
    assert not hasattr(args, "dataset")  # the tasks name the datasets
    default = build_parser().parse_args(["multitask", "--task", "ucf101", "--task", "hmdb51::/data/hmdb"])
    assert default.task == [("ucf101", "1", None), ("hmdb51", "1", "/data/hmdb")]  # the dataset's default split
    for task in ("ucf101:9", "nosuch:1", ":1"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["multitask", "--task", task])
