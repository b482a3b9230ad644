"""Parameters and multiply-accumulates (MACs) of a VideoNet, split into backbone, transform and head.

Counting is fvcore's ``FlopCountAnalysis``: it traces the model and calls one handle per aten op,
then splits the counts by submodule (``by_module()``). fvcore's "flops" for convolutions and
matrix products are multiply-accumulates (its own docstring: "We count one fused multiply-add as
one flop"; the tests check that a convolution counts k·k·C_in·C_out per output position and a
linear layer C_in·C_out per output row). fvcore's default handle table does not follow a single
rule for everything else (bias additions ignored, non-affine BatchNorm 1 per element, norms a
rough 5, several ops skipped or unsupported), so it is replaced by the table below.

Convention, the same for every op and every head (unit: 1 MAC; FLOPs ≈ 2 × MACs):

1. Dot products (convolution, linear, matmul, the weights of recurrent layers): one MAC per
   multiply-add, i.e. a dot product of length n costs n.
2. Every other elementwise add, subtract, multiply or divide costs 1 per output element: bias
   additions, the sum of a recurrent layer's input and hidden projections, gate products, residual
   sums. BatchNorm in eval mode is a per-channel scale and shift: 2 per element.
3. Reductions: a mean (or an average pool) of n values costs n per output value (n − 1 adds and
   one scaling); a sum of n values costs n − 1 per output value.
4. Nonlinearities and comparisons cost 0: relu, sigmoid, tanh, hardtanh / clamp, max, max pooling.
5. Ops without arithmetic cost 0: views, copies, concatenation, indexing, tensor constructors and
   dropout (the identity in eval mode). They are listed in ``ZERO_COST_OPS``.
6. LayerNorm over groups of n elements computes its statistics at run time (unlike eval-mode
   BatchNorm), so per element it costs the mean (rule 3: 1), the centring (1), the square (1), the
   variance's mean (1) and the scaling by 1/σ (1), i.e. 5; plus 1 per group for adding ε (the
   inverse square root is a nonlinearity: 0), and 1 per element each for the gain and the shift
   when the layer has them: 7n + 1 per group for an affine LayerNorm, 6n + 1 with a gain only.

An op that is neither handled nor in ``ZERO_COST_OPS`` (including ops fvcore itself would skip
silently) is reported by name: ``UncountedOpsError`` under ``strict``, a warning otherwise.

Recurrent layers, per token (one time step of one sequence), layer and direction, with hidden
size H over an input of width I (a zero initial state is multiplied like any other state):

* RNN:  H(I + H) + 2H biases + H (input + hidden projection)                       = H(I + H) + 3H
* LSTM: 4H(I + H) + 8H biases + 4H (input + hidden) + 4H cell (c = f⊙c + i⊙g: 3, h = o⊙tanh c: 1)
                                                                                     = 4H(I + H) + 16H
* GRU:  3H(I + H) + 6H biases + 2H (r, z: input + hidden) + 2H (n: r ⊙ hidden part, + input part)
        + 3H (h' = n + z ⊙ (h − n))                                                 = 3H(I + H) + 13H

An LSTM with projections adds P·H for h = W_hr(o ⊙ tanh c). The batch-first layout does not
change the count: every layer and direction processes every token of the input once.

Counts are per clip of T frames at ``input_size`` × ``input_size``, model in eval mode (fixed TRN
tuples, no dropout), batch of one clip.
"""
from __future__ import annotations

import copy
import math
import warnings
from collections import Counter
from typing import Any, Callable

import torch
from fvcore.nn import FlopCountAnalysis, parameter_count
from fvcore.nn import jit_handles
from fvcore.nn.jit_analysis import _IGNORED_OPS as FVCORE_SKIPPED_OPS  # ops fvcore skips without a report
from torch import nn

from backbones import build_backbone
from benchmark.run.network import VideoNet
from heads.fusion.deep_fusion import DeepFusionNet

Handle = Callable[[list[Any], list[Any]], "Counter[str] | int"]

PARTS = ("head", "transform", "backbone")

ZERO_COST_OPS: frozenset[str] = frozenset(
    {
        # views, reshapes and layout
        "aten::view", "aten::reshape", "aten::flatten", "aten::permute", "aten::transpose", "aten::t",
        "aten::squeeze", "aten::unsqueeze", "aten::unsqueeze_", "aten::expand", "aten::contiguous",
        # concatenation, splitting, indexing, copies
        "aten::cat", "aten::stack", "aten::chunk", "aten::split", "aten::split_with_sizes", "aten::unbind",
        "aten::select", "aten::slice", "aten::narrow", "aten::index", "aten::gather", "aten::index_put_",
        "aten::masked_fill", "aten::roll", "aten::constant_pad_nd", "aten::copy_", "aten::clone",
        "aten::detach", "aten::to", "aten::type_as",
        # tensor constructors and scalar / shape bookkeeping
        "aten::zeros", "aten::zeros_like", "aten::ones", "aten::empty", "aten::full", "aten::full_like",
        "aten::new_zeros", "aten::new_empty", "aten::new_full", "aten::arange", "aten::size", "aten::Int",
        "aten::ScalarImplicit",
        # dropout: the identity in eval mode
        "aten::dropout", "aten::dropout_", "aten::feature_dropout",
        # nonlinearities and comparisons (rule 4)
        "aten::relu", "aten::relu_", "aten::sigmoid", "aten::sigmoid_", "aten::tanh", "aten::tanh_",
        "aten::hardtanh", "aten::hardtanh_", "aten::clamp", "aten::clamp_", "aten::max", "aten::max_pool1d",
        "aten::max_pool2d", "aten::max_pool3d", "aten::eq", "aten::ge", "aten::gt", "aten::__and__",
        "aten::bitwise_not", "aten::nonzero",
    }
)  # fmt: skip

DEEP_FUSION_STREAMS = ("spatial", "temporal")  # the deep fusion network's backbones


class UncountedOpsError(RuntimeError):
    """The model runs ops that the counting convention has no rule for."""


def _is_tensor(value: Any) -> bool:
    return isinstance(value.type(), torch._C.TensorType)


def _numel(value: Any) -> int:
    """Elements of a traced tensor value (0 for a non-tensor, e.g. an int from shape arithmetic)."""
    if not _is_tensor(value):
        return 0
    shape = jit_handles.get_shape(value)
    if shape is None:
        raise UncountedOpsError(f"traced tensor without a known shape: {value}")
    return math.prod(shape)


def _int_list(value: Any) -> list[int]:
    """A traced int[] argument: a constant, or a list built from constants."""
    constant = value.toIValue()
    if constant is None and value.node().kind() == "prim::ListConstruct":
        constant = [v.toIValue() for v in value.node().inputs()]
    if isinstance(constant, int):
        constant = [constant]
    if constant is None or any(not isinstance(v, int) for v in constant):
        raise UncountedOpsError(f"cannot read an int list argument from the trace: {value}")
    return list(constant)


def _per_output_element(inputs: list[Any], outputs: list[Any]) -> int:
    """Rule 2: one per output element."""
    return _numel(outputs[0])


def _linear(inputs: list[Any], outputs: list[Any]) -> Counter[str]:
    counts = Counter({"linear": int(jit_handles.linear_flop_jit(inputs, outputs))})
    if _is_tensor(inputs[2]):
        counts["bias"] = _numel(outputs[0])
    return counts


def _addmm(inputs: list[Any], outputs: list[Any]) -> Counter[str]:
    return Counter({"addmm": int(jit_handles.addmm_flop_jit(inputs, outputs)), "bias": _numel(outputs[0])})


def _convolution(inputs: list[Any], outputs: list[Any]) -> Counter[str]:
    counts = Counter({name: int(n) for name, n in jit_handles.conv_flop_jit(inputs, outputs).items()})
    if _is_tensor(inputs[2]):
        counts["bias"] = _numel(outputs[0])
    return counts


def _batch_norm(inputs: list[Any], outputs: list[Any]) -> int:
    if inputs[5].toIValue():
        raise UncountedOpsError("aten::batch_norm with batch statistics: count the model in eval mode")
    return 2 * _numel(inputs[0])


def _layer_norm(inputs: list[Any], outputs: list[Any]) -> int:
    """Rule 6: (5 + gain + shift) per element and 1 per normalised group."""
    elements = _numel(inputs[0])
    group = math.prod(_int_list(inputs[1]))
    affine = int(_is_tensor(inputs[2])) + int(_is_tensor(inputs[3]))
    return (5 + affine) * elements + elements // group


def _mean(inputs: list[Any], outputs: list[Any]) -> int:
    """Rule 3: n per output for a mean of n values, i.e. one per input element."""
    return _numel(inputs[0])


def _sum(inputs: list[Any], outputs: list[Any]) -> int:
    """Rule 3: n − 1 per output for a sum of n values."""
    return _numel(inputs[0]) - _numel(outputs[0])


def _avg_pool(dims: int) -> Handle:
    """Rule 3: kernel volume per output element (padding positions included)."""

    def handle(inputs: list[Any], outputs: list[Any]) -> int:
        kernel = _int_list(inputs[1])
        if len(kernel) == 1:
            kernel = kernel * dims
        return _numel(outputs[0]) * math.prod(kernel)

    return handle


# Elementwise work per hidden unit, per token, besides weights and biases (see the module docstring).
RECURRENT_ELEMENTWISE = {"aten::rnn_tanh": 1, "aten::rnn_relu": 1, "aten::lstm": 8, "aten::gru": 7}
RECURRENT_GATES = {"aten::rnn_tanh": 1, "aten::rnn_relu": 1, "aten::lstm": 4, "aten::gru": 3}


def _recurrent(kind: str) -> Handle:
    """Handle for aten::lstm / gru / rnn_tanh / rnn_relu, padded or packed input, any number of
    layers and directions; sizes come from the weight shapes in the op's parameter list."""
    gates = RECURRENT_GATES[kind]
    elementwise = RECURRENT_ELEMENTWISE[kind]

    def handle(inputs: list[Any], outputs: list[Any]) -> Counter[str]:
        # padded: (input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
        # packed: (data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional)
        at = max(i for i in range(1, 4) if inputs[i].type().kind() == "ListType")
        if inputs[at].node().kind() != "prim::ListConstruct":
            raise UncountedOpsError(f"{kind}: parameter list is not a traced list construction")
        shapes = [jit_handles.get_shape(v) for v in inputs[at].node().inputs()]
        has_biases = bool(inputs[at + 1].toIValue())
        num_layers = int(inputs[at + 2].toIValue())
        directions = 2 if inputs[at + 5].toIValue() else 1
        groups = num_layers * directions
        if not shapes or len(shapes) % groups:
            raise UncountedOpsError(f"{kind}: {len(shapes)} parameters for {groups} layer-directions")
        per_group = len(shapes) // groups
        plain = 4 if has_biases else 2  # w_ih, w_hh[, b_ih, b_hh]; an LSTM projection adds w_hr
        if per_group not in (plain, plain + 1):
            raise UncountedOpsError(f"{kind}: unexpected {per_group} parameters per layer-direction")
        data_shape = jit_handles.get_shape(inputs[0])
        tokens = math.prod(data_shape[:-1])
        per_token = 0
        for g in range(groups):
            group = shapes[g * per_group : (g + 1) * per_group]
            w_ih, w_hh = group[0], group[1]
            hidden = w_ih[0] // gates
            per_token += math.prod(w_ih) + math.prod(w_hh) + elementwise * hidden
            if has_biases:
                per_token += group[2][0] + group[3][0]
            if per_group == plain + 1:
                per_token += math.prod(group[-1])
        return Counter({kind.split("::")[1]: tokens * per_token})

    return handle


ELEMENTWISE_OPS = ("add", "add_", "sub", "sub_", "rsub", "mul", "mul_", "div", "div_")

MAC_HANDLES: dict[str, Handle] = {
    "aten::_convolution": _convolution,
    "aten::linear": _linear,
    "aten::addmm": _addmm,
    "aten::matmul": jit_handles.matmul_flop_jit,
    "aten::mm": jit_handles.matmul_flop_jit,
    "aten::bmm": jit_handles.bmm_flop_jit,
    "aten::einsum": jit_handles.einsum_flop_jit,
    "aten::batch_norm": _batch_norm,
    "aten::layer_norm": _layer_norm,
    **{f"aten::{op}": _per_output_element for op in ELEMENTWISE_OPS},
    "aten::mean": _mean,
    "aten::adaptive_avg_pool1d": _mean,  # global pooling: every input element falls in one window
    "aten::adaptive_avg_pool2d": _mean,
    "aten::adaptive_avg_pool3d": _mean,
    "aten::avg_pool1d": _avg_pool(1),
    "aten::avg_pool2d": _avg_pool(2),
    "aten::avg_pool3d": _avg_pool(3),
    "aten::sum": _sum,
    **{kind: _recurrent(kind) for kind in RECURRENT_GATES},
}  # fmt: skip


def _tripwire(name: str, seen: Counter[str]) -> Handle:
    """Handle for an op fvcore would skip silently but this convention has no rule for."""

    def handle(inputs: list[Any], outputs: list[Any]) -> int:
        if any(_is_tensor(v) for v in outputs):
            seen[name] += 1
        return 0

    return handle


def mac_analysis(model: nn.Module, inputs: tuple[torch.Tensor, ...], strict: bool = True) -> FlopCountAnalysis:
    """fvcore's analysis of ``model(*inputs)`` counting MACs with ``MAC_HANDLES`` (already run).

    Ops with no rule are named in an ``UncountedOpsError`` when ``strict``, in a warning otherwise.
    """
    skipped: Counter[str] = Counter()
    analysis = FlopCountAnalysis(model, inputs).clear_op_handles()
    analysis.set_op_handle(**{name: None for name in ZERO_COST_OPS})
    analysis.set_op_handle(**{name: _tripwire(name, skipped) for name in FVCORE_SKIPPED_OPS - ZERO_COST_OPS})
    analysis.set_op_handle(**MAC_HANDLES)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    with torch.no_grad():
        analysis.total()
    uncounted = analysis.unsupported_ops() + skipped
    if uncounted:
        listed = ", ".join(f"{name} (×{n})" for name, n in sorted(uncounted.items()))
        message = f"ops with no counting rule: {listed}; add a handle or list them in ZERO_COST_OPS"
        if strict:
            raise UncountedOpsError(message)
        warnings.warn(message, stacklevel=2)
    return analysis


def count_complexity(
    backbone: str,
    head: str,
    segments: int,
    num_classes: int,
    input_size: int = 224,
    strict: bool = True,
) -> dict[str, int]:
    """Parameters and MACs per clip of ``segments`` frames of the head, the backbone-to-head
    transform, the backbone and the whole network (eval mode, one clip, D = 256)."""
    return count_network(VideoNet(backbone, head, segments, num_classes), segments, input_size, strict)


def count_network(model: VideoNet, segments: int, input_size: int, strict: bool = True) -> dict[str, int]:
    """Like :func:`count_complexity`, for an existing network (e.g. a trained one); it is left unchanged."""
    model = copy.deepcopy(model).eval()
    clip = torch.zeros(1, segments, model.backbone.in_channels, input_size, input_size)
    macs = mac_analysis(model, (clip,), strict).by_module()
    params = parameter_count(model)
    row = {f"{part}_params": int(params.get(part, 0)) for part in PARTS}
    row["total_params"] = int(params.get("", 0))
    row.update({f"{part}_macs": int(macs.get(part, 0)) for part in PARTS})
    row["total_macs"] = int(macs.get("", 0))
    return row


def backbone_map(backbone: str, input_size: int = 224) -> tuple[int, int, int]:
    """(C, h, w) of the backbone's feature map for a square ``input_size`` input."""
    net = build_backbone(backbone)
    side = net.map_size(input_size)
    return net.out_channels, side, side


def count_deep_fusion(net: DeepFusionNet, segments: int, strict: bool = True) -> dict[str, int]:
    """Parameters and MACs of one clip of ``segments`` steps, in the leaderboard's columns:
    backbone = both streams, head = fusion conv + FC6 + LSTMs + classifier, transform = 0
    (eval mode, one clip; the network is left unchanged)."""
    net = copy.deepcopy(net).eval()
    size = net.input_size
    rgb = torch.zeros(1, segments, net.spatial.in_channels, size, size)
    flow = torch.zeros(1, segments, net.temporal.in_channels, size, size)
    macs = mac_analysis(net, (rgb, flow), strict).by_module()
    params = parameter_count(net)
    row: dict[str, int] = {}
    for kind, counts in (("params", params), ("macs", macs)):
        total = int(counts.get("", 0))
        backbone = sum(int(counts.get(stream, 0)) for stream in DEEP_FUSION_STREAMS)
        parts = {"backbone": backbone, "transform": 0, "head": total - backbone}
        row.update({f"{part}_{kind}": parts[part] for part in PARTS})
        row[f"total_{kind}"] = total
    return row
