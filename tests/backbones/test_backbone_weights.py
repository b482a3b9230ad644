from __future__ import annotations

import re

import pytest
import torch

from backbone_specs import CLASSIFIER_KEYS, FIRST_CONV, SPECS, with_classifier
from backbones import build_backbone


def _assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def _randomised_state(name: str) -> dict[str, torch.Tensor]:
    """A state dict whose BN statistics differ from a fresh model's, so loading is observable."""
    torch.manual_seed(1)
    state = build_backbone(name).state_dict()
    for key, value in state.items():
        if value.is_floating_point():
            state[key] = torch.randn_like(value) * 0.1 + (1.0 if key.endswith("running_var") else 0.0)
            state[key] = state[key].abs() if key.endswith("running_var") else state[key]
    return state


@pytest.mark.parametrize("name", list(SPECS))
def test_round_trip_with_classifier(name: str, save_checkpoint) -> None:
    source = _randomised_state(name)
    path = save_checkpoint(with_classifier(name, source))
    loaded = build_backbone(name, weights=path)
    _assert_same_state(loaded.state_dict(), source)
    assert not set(CLASSIFIER_KEYS[name]) & set(loaded.state_dict())


@pytest.mark.parametrize("wrapper", ["state_dict", "model"])
def test_wrapped_checkpoint_with_module_prefix(wrapper: str, save_checkpoint) -> None:
    source = _randomised_state("resnet18")
    prefixed = {f"module.{k}": v for k, v in with_classifier("resnet18", source).items()}
    path = save_checkpoint({wrapper: prefixed, "epoch": 3})
    _assert_same_state(build_backbone("resnet18", weights=path).state_dict(), source)


def test_checkpoint_without_num_batches_tracked_loads(save_checkpoint) -> None:
    source = {k: v for k, v in _randomised_state("smallcnn").items() if not k.endswith("num_batches_tracked")}
    loaded = build_backbone("smallcnn", weights=save_checkpoint(source)).state_dict()
    for key, value in source.items():
        assert torch.equal(loaded[key], value)


def test_bninception_tsn_release_format(save_checkpoint) -> None:
    """The TSN release stores BN vectors as (1, C), has no num_batches_tracked and an "fc" classifier."""
    source = _randomised_state("bninception")
    tsn_style = {
        k: (v.unsqueeze(0) if "_bn." in k else v) for k, v in source.items() if not k.endswith("num_batches_tracked")
    }
    tsn_style |= {"fc.weight": torch.zeros(1000, 1024), "fc.bias": torch.zeros(1000)}
    loaded = build_backbone("bninception", weights=save_checkpoint(tsn_style)).state_dict()
    for key, value in source.items():
        if not key.endswith("num_batches_tracked"):
            assert torch.equal(loaded[key], value), key


def test_bninception_cadene_classifier_name_is_dropped(save_checkpoint) -> None:
    source = _randomised_state("bninception")
    path = save_checkpoint(source | {"last_linear.weight": torch.zeros(3, 1024), "last_linear.bias": torch.zeros(3)})
    _assert_same_state(build_backbone("bninception", weights=path).state_dict(), source)


def _load_error(state: dict[str, torch.Tensor], save_checkpoint) -> str:
    path = save_checkpoint(state, "broken.pth")
    with pytest.raises(ValueError) as info:
        build_backbone("smallcnn", weights=path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_missing_key_is_reported(save_checkpoint) -> None:
    state = build_backbone("smallcnn").state_dict()
    del state["features.3.1.running_var"]
    message = _load_error(state, save_checkpoint)
    assert "missing keys (1)" in message
    assert "features.3.1.running_var (64,)" in message


def test_unexpected_key_is_reported(save_checkpoint) -> None:
    state = build_backbone("smallcnn").state_dict() | {"features.9.weight": torch.zeros(4, 2)}
    message = _load_error(state, save_checkpoint)
    assert "unexpected keys (1)" in message
    assert "features.9.weight (4, 2)" in message


def test_mis_shaped_key_is_reported(save_checkpoint) -> None:
    state = build_backbone("smallcnn").state_dict()
    state["features.2.0.weight"] = torch.zeros(32, 32, 1, 1)
    message = _load_error(state, save_checkpoint)
    assert "shape mismatches (1)" in message
    assert "features.2.0.weight: file (32, 32, 1, 1) vs model (32, 32, 3, 3)" in message


def test_all_problems_are_listed_together(save_checkpoint) -> None:
    state = build_backbone("smallcnn").state_dict()
    del state["features.0.1.weight"], state["features.5.0.weight"]
    state["features.1.1.bias"] = torch.zeros(7)
    state["extra.a"] = torch.zeros(1)
    state["extra.b"] = torch.zeros(2)
    message = _load_error(state, save_checkpoint)
    assert re.search(r"missing keys \(2\).*features\.0\.1\.weight.*features\.5\.0\.weight", message, re.S)
    assert re.search(r"unexpected keys \(2\).*extra\.a \(1,\).*extra\.b \(2,\)", message, re.S)
    assert "features.1.1.bias: file (7,) vs model (32,)" in message


def test_classifier_keys_are_only_dropped_under_their_own_prefix(save_checkpoint) -> None:
    state = build_backbone("resnet18").state_dict() | {"classifier.1.weight": torch.zeros(3, 2)}
    with pytest.raises(ValueError, match=r"unexpected keys \(1\)"):
        build_backbone("resnet18", weights=save_checkpoint(state))


def test_missing_file_raises(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        build_backbone("smallcnn", weights=tmp_path / "absent.pth")


@pytest.mark.parametrize("name", list(SPECS))
def test_cross_modality_init_for_ten_channels(name: str, save_checkpoint) -> None:
    source = _randomised_state(name)
    path = save_checkpoint(with_classifier(name, source))
    backbone = build_backbone(name, in_channels=10, weights=path)
    key = FIRST_CONV[name]
    rgb = source[key]
    loaded = backbone.state_dict()
    weight = loaded[key]
    assert weight.shape == (rgb.shape[0], 10, *rgb.shape[2:])
    expected = rgb.mean(dim=1, keepdim=True).expand_as(weight)
    assert torch.allclose(weight, expected)
    for other, value in source.items():
        if other != key:
            assert torch.equal(loaded[other], value), other
    out = backbone.eval()(torch.randn(1, 10, 64, 64))
    assert out.shape[1] == SPECS[name][0]


def test_flow_checkpoint_with_matching_channels_loads_as_is(save_checkpoint) -> None:
    source = build_backbone("smallcnn", in_channels=10).state_dict()
    backbone = build_backbone("smallcnn", in_channels=10, weights=save_checkpoint(source))
    _assert_same_state(backbone.state_dict(), source)


def test_ten_channels_without_weights_uses_normal_init() -> None:
    backbone = build_backbone("resnet18", in_channels=10)
    weight = backbone.conv1.weight
    assert weight.shape == (64, 10, 7, 7)
    assert not torch.allclose(weight[:, 0], weight[:, 1])
