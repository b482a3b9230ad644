"""State-dict key names and shapes must equal those of the published checkpoints (minus classifier),
so torchvision .pth files and the Caffe-ported BN-Inception file load as they are."""

from __future__ import annotations

import pytest

from backbones import build_backbone
from backbones.bninception import INCEPTION_BLOCKS

Shapes = dict[str, tuple[int, ...]]


def conv(key: str, cout: int, cin: int, k: int, bias: bool) -> Shapes:
    out = {f"{key}.weight": (cout, cin, k, k)}
    if bias:
        out[f"{key}.bias"] = (cout,)
    return out


def bn(key: str, c: int) -> Shapes:
    out = {f"{key}.{p}": (c,) for p in ("weight", "bias", "running_mean", "running_var")}
    out[f"{key}.num_batches_tracked"] = ()
    return out


def squeezenet1_1_keys() -> Shapes:
    fires = {
        3: (64, 16, 64, 64), 4: (128, 16, 64, 64), 6: (128, 32, 128, 128), 7: (256, 32, 128, 128),
        9: (256, 48, 192, 192), 10: (384, 48, 192, 192), 11: (384, 64, 256, 256), 12: (512, 64, 256, 256),
    }
    keys = conv("features.0", 64, 3, 3, bias=True)
    for i, (cin, squeeze, e1, e3) in fires.items():
        keys |= conv(f"features.{i}.squeeze", squeeze, cin, 1, bias=True)
        keys |= conv(f"features.{i}.expand1x1", e1, squeeze, 1, bias=True)
        keys |= conv(f"features.{i}.expand3x3", e3, squeeze, 3, bias=True)
    return keys


def resnet_keys(bottleneck: bool, blocks: tuple[int, ...]) -> Shapes:
    expansion = 4 if bottleneck else 1
    keys = conv("conv1", 64, 3, 7, bias=False) | bn("bn1", 64)
    inplanes = 64
    for layer, (planes, n) in enumerate(zip((64, 128, 256, 512), blocks), start=1):
        for b in range(n):
            p = f"layer{layer}.{b}"
            if bottleneck:
                keys |= conv(f"{p}.conv1", planes, inplanes, 1, False) | bn(f"{p}.bn1", planes)
                keys |= conv(f"{p}.conv2", planes, planes, 3, False) | bn(f"{p}.bn2", planes)
                keys |= conv(f"{p}.conv3", planes * 4, planes, 1, False) | bn(f"{p}.bn3", planes * 4)
            else:
                keys |= conv(f"{p}.conv1", planes, inplanes, 3, False) | bn(f"{p}.bn1", planes)
                keys |= conv(f"{p}.conv2", planes, planes, 3, False) | bn(f"{p}.bn2", planes)
            if b == 0 and (layer > 1 or inplanes != planes * expansion):
                keys |= conv(f"{p}.downsample.0", planes * expansion, inplanes, 1, False)
                keys |= bn(f"{p}.downsample.1", planes * expansion)
            inplanes = planes * expansion
    return keys


def vgg16_keys() -> Shapes:
    convs = {
        0: (64, 3), 2: (64, 64), 5: (128, 64), 7: (128, 128), 10: (256, 128), 12: (256, 256),
        14: (256, 256), 17: (512, 256), 19: (512, 512), 21: (512, 512), 24: (512, 512),
        26: (512, 512), 28: (512, 512),
    }
    keys: Shapes = {}
    for i, (cout, cin) in convs.items():
        keys |= conv(f"features.{i}", cout, cin, 3, bias=True)
    return keys


def mobilenet_v2_keys() -> Shapes:
    blocks = {
        2: (16, 24), 3: (24, 24), 4: (24, 32), 5: (32, 32), 6: (32, 32), 7: (32, 64), 8: (64, 64),
        9: (64, 64), 10: (64, 64), 11: (64, 96), 12: (96, 96), 13: (96, 96), 14: (96, 160),
        15: (160, 160), 16: (160, 160), 17: (160, 320),
    }
    keys = conv("features.0.0", 32, 3, 3, False) | bn("features.0.1", 32)
    keys |= conv("features.1.conv.0.0", 32, 1, 3, False) | bn("features.1.conv.0.1", 32)
    keys |= conv("features.1.conv.1", 16, 32, 1, False) | bn("features.1.conv.2", 16)
    for i, (cin, cout) in blocks.items():
        hidden = cin * 6
        p = f"features.{i}.conv"
        keys |= conv(f"{p}.0.0", hidden, cin, 1, False) | bn(f"{p}.0.1", hidden)
        keys |= conv(f"{p}.1.0", hidden, 1, 3, False) | bn(f"{p}.1.1", hidden)
        keys |= conv(f"{p}.2", cout, hidden, 1, False) | bn(f"{p}.3", cout)
    keys |= conv("features.18.0", 1280, 320, 1, False) | bn("features.18.1", 1280)
    return keys


# (name, out, in, kernel) of every conv of the Caffe-ported BN-Inception; each has a "<name>_bn".
BNINCEPTION_CONVS = [
    ("conv1_7x7_s2", 64, 3, 7), ("conv2_3x3_reduce", 64, 64, 1), ("conv2_3x3", 192, 64, 3),
    ("inception_3a_1x1", 64, 192, 1), ("inception_3a_3x3_reduce", 64, 192, 1), ("inception_3a_3x3", 64, 64, 3),
    ("inception_3a_double_3x3_reduce", 64, 192, 1), ("inception_3a_double_3x3_1", 96, 64, 3),
    ("inception_3a_double_3x3_2", 96, 96, 3), ("inception_3a_pool_proj", 32, 192, 1),
    ("inception_3b_1x1", 64, 256, 1), ("inception_3b_3x3_reduce", 64, 256, 1), ("inception_3b_3x3", 96, 64, 3),
    ("inception_3b_double_3x3_reduce", 64, 256, 1), ("inception_3b_double_3x3_1", 96, 64, 3),
    ("inception_3b_double_3x3_2", 96, 96, 3), ("inception_3b_pool_proj", 64, 256, 1),
    ("inception_3c_3x3_reduce", 128, 320, 1), ("inception_3c_3x3", 160, 128, 3),
    ("inception_3c_double_3x3_reduce", 64, 320, 1), ("inception_3c_double_3x3_1", 96, 64, 3),
    ("inception_3c_double_3x3_2", 96, 96, 3),
    ("inception_4a_1x1", 224, 576, 1), ("inception_4a_3x3_reduce", 64, 576, 1), ("inception_4a_3x3", 96, 64, 3),
    ("inception_4a_double_3x3_reduce", 96, 576, 1), ("inception_4a_double_3x3_1", 128, 96, 3),
    ("inception_4a_double_3x3_2", 128, 128, 3), ("inception_4a_pool_proj", 128, 576, 1),
    ("inception_4b_1x1", 192, 576, 1), ("inception_4b_3x3_reduce", 96, 576, 1), ("inception_4b_3x3", 128, 96, 3),
    ("inception_4b_double_3x3_reduce", 96, 576, 1), ("inception_4b_double_3x3_1", 128, 96, 3),
    ("inception_4b_double_3x3_2", 128, 128, 3), ("inception_4b_pool_proj", 128, 576, 1),
    ("inception_4c_1x1", 160, 576, 1), ("inception_4c_3x3_reduce", 128, 576, 1), ("inception_4c_3x3", 160, 128, 3),
    ("inception_4c_double_3x3_reduce", 128, 576, 1), ("inception_4c_double_3x3_1", 160, 128, 3),
    ("inception_4c_double_3x3_2", 160, 160, 3), ("inception_4c_pool_proj", 128, 576, 1),
    ("inception_4d_1x1", 96, 608, 1), ("inception_4d_3x3_reduce", 128, 608, 1), ("inception_4d_3x3", 192, 128, 3),
    ("inception_4d_double_3x3_reduce", 160, 608, 1), ("inception_4d_double_3x3_1", 192, 160, 3),
    ("inception_4d_double_3x3_2", 192, 192, 3), ("inception_4d_pool_proj", 128, 608, 1),
    ("inception_4e_3x3_reduce", 128, 608, 1), ("inception_4e_3x3", 192, 128, 3),
    ("inception_4e_double_3x3_reduce", 192, 608, 1), ("inception_4e_double_3x3_1", 256, 192, 3),
    ("inception_4e_double_3x3_2", 256, 256, 3),
    ("inception_5a_1x1", 352, 1056, 1), ("inception_5a_3x3_reduce", 192, 1056, 1), ("inception_5a_3x3", 320, 192, 3),
    ("inception_5a_double_3x3_reduce", 160, 1056, 1), ("inception_5a_double_3x3_1", 224, 160, 3),
    ("inception_5a_double_3x3_2", 224, 224, 3), ("inception_5a_pool_proj", 128, 1056, 1),
    ("inception_5b_1x1", 352, 1024, 1), ("inception_5b_3x3_reduce", 192, 1024, 1), ("inception_5b_3x3", 320, 192, 3),
    ("inception_5b_double_3x3_reduce", 192, 1024, 1), ("inception_5b_double_3x3_1", 224, 192, 3),
    ("inception_5b_double_3x3_2", 224, 224, 3), ("inception_5b_pool_proj", 128, 1024, 1),
]


def bninception_keys() -> Shapes:
    keys: Shapes = {}
    for name, cout, cin, k in BNINCEPTION_CONVS:
        keys |= conv(name, cout, cin, k, bias=True) | bn(f"{name}_bn", cout)
    return keys


EXPECTED = {
    "squeezenet1_1": squeezenet1_1_keys,
    "resnet18": lambda: resnet_keys(False, (2, 2, 2, 2)),
    "resnet50": lambda: resnet_keys(True, (3, 4, 6, 3)),
    "vgg16": vgg16_keys,
    "mobilenet_v2": mobilenet_v2_keys,
    "bninception": bninception_keys,
}

# torchvision's published parameter counts minus the classifier's.
TORCHVISION_PARAMS = {
    "squeezenet1_1": 1_235_496 - (512 * 1000 + 1000),
    "resnet18": 11_689_512 - (512 * 1000 + 1000),
    "resnet50": 25_557_032 - (2048 * 1000 + 1000),
    "vgg16": 138_357_544 - (25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000),
    "mobilenet_v2": 3_504_872 - (1280 * 1000 + 1000),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_state_dict_keys_and_shapes(name: str) -> None:
    actual = {k: tuple(v.shape) for k, v in build_backbone(name).state_dict().items()}
    expected = EXPECTED[name]()
    assert sorted(set(expected) - set(actual)) == []
    assert sorted(set(actual) - set(expected)) == []
    assert {k: v for k, v in actual.items() if expected[k] != v} == {}


def test_expected_key_counts() -> None:
    counts = {name: len(keys()) for name, keys in EXPECTED.items()}
    # torchvision state dicts have 52 / 122 / 320 / 32 / 314 entries including the classifier.
    assert counts == {
        "squeezenet1_1": 50, "resnet18": 120, "resnet50": 318, "vgg16": 26, "mobilenet_v2": 312,
        "bninception": 69 * 7,
    }


@pytest.mark.parametrize("name", list(TORCHVISION_PARAMS))
def test_parameter_count_matches_torchvision(name: str) -> None:
    backbone = build_backbone(name)
    assert sum(p.numel() for p in backbone.parameters()) == TORCHVISION_PARAMS[name]


def test_bninception_block_widths_chain() -> None:
    widths = [192] + [spec.out_channels for spec in INCEPTION_BLOCKS]
    assert [spec.in_channels for spec in INCEPTION_BLOCKS] == widths[:-1]
    assert widths[-1] == 1024
