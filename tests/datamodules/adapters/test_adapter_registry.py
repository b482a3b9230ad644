import pytest

from datamodules.datasets import get_dataset

REAL = ["ucf101", "hmdb51", "jester", "ssv2", "kinetics400", "ccv", "ucf11", "ucfsports"]
NUM_CLASSES = {"ucf101": 101, "hmdb51": 51, "jester": 27, "ssv2": 174, "kinetics400": 400, "ccv": 20, "ucf11": 11,
               "ucfsports": 10}  # fmt: skip


@pytest.mark.parametrize("name", REAL)
def test_every_real_dataset_is_registered_consistently(name):
    spec = get_dataset(name)
    assert spec.name == name and spec.num_classes == NUM_CLASSES[name]
    assert spec.protocol.input_size == 224 and spec.protocol.segments == 8
    assert spec.protocol.optimizer == "sgd" and spec.protocol.lr == 1e-3
    assert spec.decode_size[0] == 256
    with pytest.raises(ValueError, match=f"--data-root is required for {name}"):
        spec.load(None, spec.default_split, False)


def test_dataset_policies():
    assert not get_dataset("jester").flip
    assert all(get_dataset(n).flip for n in ("ucf101", "hmdb51", "kinetics400", "ccv", "ucf11", "ucfsports"))
    ccv = get_dataset("ccv")
    assert ccv.multi_label and ccv.metric == "map"
    for name in ("jester", "ssv2"):
        assert get_dataset(name).protocol.lr_steps == (15, 25) and get_dataset(name).protocol.epochs == 30


def test_spec_load_reads_the_official_files_and_checks_the_class_count(official, tmp_path):
    root = tmp_path / "hmdb51"
    official("hmdb51", root / "annotations")
    splits = get_dataset("hmdb51").load(root, "2", False)
    assert (len(splits.train), len(splits.test)) == (3570, 1530)
    (root / "annotations" / "testTrainMulti_7030_splits" / "wave_test_split2.txt").unlink()
    (root / "annotations" / "class_list.txt").unlink()
    with pytest.raises(ValueError, match="found 50 classes, expected 51"):
        get_dataset("hmdb51").load(root, "2", False)
