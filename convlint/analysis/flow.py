"""How a catalog layer transforms the tensor it receives, by the layer's kind.

``apply_layer`` returns the output tensor and the checks the input must pass: each check names
the layer argument, the value it expects and the value that arrived. An ``Unfit`` among them is a
size of the input the layer provably cannot take (PyTorch raises on it). The interpreter records
both as facts; rules decide which are provably wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from convlint.analysis.objects import Layer, ListValue, Tensor
from convlint.analysis.values import (
    UNDEFINED,
    UNKNOWN,
    add,
    as_dim,
    describe,
    floor_divide,
    is_unnamed,
    multiply,
    provably_different,
    provably_equal,
    unknown_positive,
)
from convlint.frameworks.catalog import (
    ADAPTIVE_POOL,
    ATTENTION,
    BIDIRECTIONAL,
    PIXEL_SHUFFLE,
    PIXEL_UNSHUFFLE,
    REQUIRED,
    RESAMPLE,
    POOL,
    BATCH_NORM,
    CHANNEL_NORM,
    CONV,
    CONV_RECURRENT,
    BAG_EMBEDDING,
    EMBEDDING,
    FLATTEN,
    GLOBAL_POOL,
    INPUT,
    LAYER_NORM,
    LINEAR,
    MULTI_HEAD_ATTENTION,
    PASS_THROUGH,
    PERMUTE,
    RECURRENT,
    REPEAT_VECTOR,
    RESHAPE,
    SEQUENCE,
    SPATIAL,
    TRANSFORMER,
    TIME_DISTRIBUTED,
)
from convlint.frameworks.keras import RECURRENT_STATES


@dataclass(frozen=True)
class Check:
    parameter: str
    expected: Any
    received: Any
    axis: int  # counted from the end


#: Kinds of ``Unfit``: a sliding window that does not fit its (padded) input, or a size that an
#: operation must split into equal parts and cannot.
WINDOW = "window"
DIVISIBLE = "divisible"
#: A ``-1`` in the batch position of a view that takes part of a sample: PyTorch runs it for
#: some batch sizes, and the batch size changes.
BATCH = "batch"


@dataclass(frozen=True)
class Unfit:
    """An input size the operation provably cannot take (or, ``BATCH``, takes only by changing
    the batch size); ``detail`` carries the arithmetic."""

    requirement: str
    axis: int  # counted from the end
    detail: str


Outcome = Tuple[Tensor, List[Union[Check, Unfit]]]


def _with_axis(tensor: Tensor, index: int, value: Any, origin: Layer) -> Tensor:
    """``tensor`` with one axis replaced (index counted from the end when negative)."""
    if tensor.rank is not None:
        dims = list(tensor.dims)
        dims[index] = value
        return Tensor(tensor.rank, tuple(dims), origin, rank_certain=tensor.rank_certain)
    known = list(tensor.dims)
    position = -index if index < 0 else None
    if position is None:
        return Tensor(None, (), origin)
    while len(known) < position:
        known.insert(0, UNKNOWN)
    known[len(known) - position] = value
    return Tensor(None, tuple(known), origin)


def image_axes(layer: Layer, rank: int) -> Optional[Tuple[int, Tuple[int, ...]]]:
    """The channel axis and the spatial axes (counted from the end) of the images ``layer``
    takes; None when its ``data_format`` cannot be read."""
    first = (-(rank + 1), tuple(range(-rank, 0)))
    if not layer.spec.channels_last:
        return first
    layout = layer.arguments.get("data_format")
    if layout is None or layout == "channels_last":
        return -1, tuple(range(-(rank + 1), -1))
    return first if layout == "channels_first" else None


def spatial_rank(layer: Layer) -> Optional[int]:
    """How many spatial axes the layer's window has: fixed by the layer (``Conv2d``), or the
    length of an argument (Flax's ``kernel_size``)."""
    if layer.spec.rank_from is None:
        return layer.spec.spatial_rank
    value = layer.argument(layer.spec.rank_from)
    if isinstance(value, ListValue) and value.complete:
        value = tuple(value.items)
    return len(value) if isinstance(value, tuple) and value else None


def _conv(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    rank = spatial_rank(layer)
    axes = image_axes(layer, rank) if rank else None
    if axes is None:
        return Tensor(None, ()), []
    channel_axis, spatial_axes = axes
    checks = []
    if layer.spec.in_param:
        checks.append(Check(layer.spec.in_param, layer.argument(layer.spec.in_param), tensor.axis(channel_axis),
                            channel_axis))
    # A convolution's input is batched in model code; its output keeps the input's rank, so with
    # an unknown input rank the batched form (rank + 2) is taken.
    out_rank = tensor.rank if tensor.rank in (rank + 1, rank + 2) else rank + 2
    batch = (tensor.axis(0),) if out_rank == rank + 2 and tensor.rank == out_rank else (UNKNOWN,) * (out_rank - rank - 1)
    if batch == (UNKNOWN,):
        # A batch size of its own, so that ``n = y.size(0)`` then ``y.view(n, -1)`` is a flatten.
        batch = (unknown_positive(),)
    spatial, unfits = _sliding_window(layer, tensor, spatial_axes,
                                      transposed=layer.spec.parameters == "conv_transpose")
    channels = _out_channels(layer, tensor.axis(channel_axis))
    dims = batch + ((channels,) + spatial if channel_axis < spatial_axes[0] else spatial + (channels,))
    certain = tensor.rank_certain and tensor.rank == out_rank
    return Tensor(out_rank, dims, layer, rank_certain=certain), checks + unfits


def _out_channels(layer: Layer, received: Any) -> Any:
    """The channels a conv produces: its ``out_param``, or its input's times a multiplier."""
    if layer.spec.channel_multiplier is None:
        return layer.argument(layer.spec.out_param)
    factor = layer.argument(layer.spec.channel_multiplier)
    if as_dim(received) is None or as_dim(factor) is None:
        return UNKNOWN
    return multiply(received, factor)


def _per_axis(value: Any, rank: int) -> Tuple[Any, ...]:
    values = value if isinstance(value, tuple) else (value,) * rank
    return values if len(values) == rank else (UNKNOWN,) * rank


def _window_size(size: Any, kernel: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool = False) -> Any:
    """PyTorch's output size of a convolution or pooling along one axis (below 1: it raises)."""
    if size is UNDEFINED:
        return UNDEFINED
    if not type(size) is type(kernel) is type(stride) is type(padding) is type(dilation) is int or stride <= 0:
        return UNKNOWN
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def _transposed_size(size: Any, kernel: Any, stride: Any, padding: Any, dilation: Any, extra: Any) -> Any:
    if not type(size) is type(kernel) is type(stride) is type(padding) is type(dilation) is type(extra) is int:
        return UNKNOWN
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + extra + 1


def _same_size(size: Any, stride: Any) -> Any:
    """The output size of ``padding='same'``: the input's, divided by the stride and rounded up."""
    if stride == 1 or size is UNDEFINED:
        return size
    if type(size) is not int or type(stride) is not int or stride <= 0:
        return UNKNOWN
    return -(-size // stride)


def _too_small(axis: int, size: int, padding: int, kernel: int, dilation: int) -> Unfit:
    span = dilation * (kernel - 1) + 1
    spanned = f"{dilation} × ({kernel} - 1) + 1 = {span}" if dilation != 1 else f"{span}"
    padded = f"{size} + 2 × {padding} = {size + 2 * padding}" if padding else f"{size}"
    return Unfit(WINDOW, axis, f"its window of {spanned} is larger than the padded input's {padded}")


def _sliding_window(layer: Layer, tensor: Tensor, axes: Tuple[int, ...],
                    transposed: bool = False) -> Tuple[Tuple[Any, ...], List[Unfit]]:
    """The sizes of the spatial ``axes`` after a convolution or pooling window slides over
    ``tensor``, and the axes where it provably cannot (a PyTorch output size below 1)."""
    rank = len(axes)
    kernel_name, stride_name, padding_name, dilation_name = layer.spec.window
    sizes = tuple(tensor.axis(index) for index in axes)
    kernel = _per_axis(layer.argument(kernel_name), rank)
    stride_argument = layer.argument(stride_name)
    stride = kernel if stride_argument is None else _per_axis(stride_argument, rank)
    padding_argument = layer.argument(padding_name)
    if isinstance(padding_argument, str):
        padding_argument = padding_argument.lower()  # Flax writes 'SAME' and 'VALID'
    if padding_argument == "same":
        return tuple(_same_size(size, step) for size, step in zip(sizes, stride)), []
    padding = _per_axis(0 if padding_argument == "valid" else padding_argument, rank)
    dilation = _per_axis(layer.argument(dilation_name), rank) if dilation_name in layer.arguments else (1,) * rank
    if transposed:
        extra = _per_axis(layer.argument("output_padding"), rank)
        outputs = tuple(_transposed_size(*values) for values in zip(sizes, kernel, stride, padding, dilation, extra))
    else:
        ceil_mode = layer.argument("ceil_mode") is True
        outputs = tuple(_window_size(*values, ceil_mode=ceil_mode)
                        for values in zip(sizes, kernel, stride, padding, dilation))
    unfits = []
    for index, out in enumerate(outputs):
        # PyTorch raises for an output below 1; whether Keras and Flax do is not modelled.
        if type(out) is int and out < 1 and layer.spec.framework == "torch":
            axis = axes[index]
            unfits.append(
                Unfit(WINDOW, axis, f"its output size would be {out}, below 1") if transposed
                else _too_small(axis, sizes[index], padding[index], kernel[index], dilation[index]))
    return tuple(out if type(out) is not int or out >= 1 else UNKNOWN for out in outputs), unfits


def _pool(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    rank = spatial_rank(layer) or 0
    axes = image_axes(layer, rank) if rank else None
    if tensor.rank is None or tensor.rank < rank + 1 or axes is None:
        return _spatial(layer, tensor)
    spatial, unfits = _sliding_window(layer, tensor, axes[1])
    dims = list(tensor.dims)
    for index, size in zip(axes[1], spatial):
        dims[index] = size
    return Tensor(tensor.rank, tuple(dims), tensor.origin, rank_certain=tensor.rank_certain), list(unfits)


def _global_pool(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    """Keras's global pooling: the spatial axes go (or stay as 1 with ``keepdims``)."""
    rank = layer.spec.spatial_rank or 0
    axes, keep = image_axes(layer, rank), layer.argument("keepdims")
    if tensor.rank is None or tensor.rank != rank + 2 or axes is None or keep not in (True, False):
        return Tensor(None, ()), []
    spatial = {tensor.rank + index for index in axes[1]}
    dims = tuple(1 if index in spatial else size for index, size in enumerate(tensor.dims)
                 if keep or index not in spatial)
    return Tensor(len(dims), dims, tensor.origin, rank_certain=tensor.rank_certain), []


def _linear(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    checks = []
    if layer.spec.in_param:
        checks.append(Check(layer.spec.in_param, layer.argument(layer.spec.in_param), tensor.axis(-1), -1))
    return _with_axis(tensor, -1, layer.argument(layer.spec.out_param), layer), checks


def _sequence(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    """PyTorch's recurrent layers: the features on the last axis, and ``hidden_size`` (or
    ``proj_size``) per direction out of it."""
    checks = [Check(layer.spec.in_param or "", layer.argument(layer.spec.in_param), tensor.axis(-1), -1)]
    width = layer.argument(layer.spec.out_param)
    projection = layer.arguments.get("proj_size", 0)
    if type(projection) is not int:
        width = UNKNOWN
    elif projection > 0:
        width = projection
    bidirectional = layer.arguments.get("bidirectional", False)
    note = None
    if bidirectional is True:
        note = (-1, f"2 directions × {width}") if as_dim(width) is not None else None
        width = multiply(width, 2)
    elif bidirectional is not False:
        width = UNKNOWN
    output = _with_axis(tensor, -1, width, layer)
    return (replace(output, note=note) if note else output), checks


def permute(tensor: Tensor, order: Tuple[Any, ...]) -> Tensor:
    """``x.permute(0, 2, 1)``: the axes in that order (negative indices count from the end)."""
    rank = tensor.rank
    if rank is None or len(order) != rank or not all(type(axis) is int and -rank <= axis < rank for axis in order):
        return Tensor(None, ())
    axes = [axis % rank for axis in order]
    if sorted(axes) != list(range(rank)):
        return Tensor(None, ())
    return Tensor(rank, tuple(tensor.dims[axis] for axis in axes), tensor.origin, rank_certain=tensor.rank_certain)


def transpose(tensor: Tensor, first: Any, second: Any) -> Tensor:
    """``x.transpose(1, 2)``: two axes swapped; with an unknown rank, two trailing axes
    (negative indices) can still be."""
    if type(first) is not int or type(second) is not int:
        return Tensor(None, ())
    if tensor.rank is None:
        if not (first < 0 and second < 0):
            return Tensor(None, ())
        # Both axes exist if the transpose runs: the unknown ones between are padded in.
        dims = [UNKNOWN] * max(0, -min(first, second) - len(tensor.dims)) + list(tensor.dims)
        dims[first], dims[second] = dims[second], dims[first]
        return Tensor(None, tuple(dims), tensor.origin)
    if not (-tensor.rank <= first < tensor.rank and -tensor.rank <= second < tensor.rank):
        return Tensor(None, ())
    dims = list(tensor.dims)
    dims[first], dims[second] = dims[second], dims[first]
    return Tensor(tensor.rank, tuple(dims), tensor.origin, rank_certain=tensor.rank_certain)


def unsqueeze(tensor: Tensor, axis: Any) -> Tensor:
    """``x.unsqueeze(1)``: a new axis of size 1 at ``axis`` (of the result)."""
    if tensor.rank is None or type(axis) is not int or not -tensor.rank - 1 <= axis <= tensor.rank:
        return Tensor(None, ())
    position = axis % (tensor.rank + 1)
    dims = tensor.dims[:position] + (1,) + tensor.dims[position:]
    return Tensor(tensor.rank + 1, dims, tensor.origin, rank_certain=tensor.rank_certain)


def index(tensor: Tensor, key: Any) -> Tensor:
    """``x[:, -1]``, ``x[..., 0]``, ``x[None]``: an integer drops its axis, a slice keeps it (its
    size when the slice and the size are known), ``None`` adds an axis of 1."""
    keys = key if isinstance(key, tuple) else (key,)
    if not all(k is None or k is Ellipsis or type(k) is int or isinstance(k, slice) for k in keys) \
            or list(keys).count(Ellipsis) > 1:
        return Tensor(None, ())
    if tensor.rank is None:
        # Leading axes are indexed; whatever the rank, a last key ``:`` keeps the last axis.
        keeps_last = keys[-1] == slice(None) and None not in keys and Ellipsis not in keys
        return Tensor(None, (tensor.axis(-1),) if keeps_last else (), tensor.origin,
                      note=tensor.note if keeps_last and tensor.note and tensor.note[0] == -1 else None)
    consumed = sum(1 for k in keys if type(k) is int or isinstance(k, slice))
    if consumed > tensor.rank:
        return Tensor(None, ())
    dims: List[Any] = []
    axis = 0
    for k in keys:
        if k is None:
            dims.append(1)
        elif k is Ellipsis:
            dims.extend(tensor.dims[axis: axis + tensor.rank - consumed])
            axis += tensor.rank - consumed
        elif isinstance(k, slice):
            size = tensor.dims[axis]
            dims.append(size if k == slice(None) else len(range(size)[k]) if type(size) is int else UNKNOWN)
            axis += 1
        else:
            size = tensor.dims[axis]
            if type(size) is int and not -size <= k < size:
                return Tensor(None, ())
            axis += 1
    dims.extend(tensor.dims[axis:])
    note = tensor.note if tensor.note and keys[-1] == slice(None) and tensor.note[0] == -1 else None
    return Tensor(len(dims), tuple(dims), tensor.origin, note=note, rank_certain=tensor.rank_certain)


def _holds_channel_state(layer: Layer) -> bool:
    """A norm without weights or running stats normalizes any number of channels."""
    return any(layer.argument(flag) is True for flag in layer.spec.sized_by)


def _batch_norm(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    if not _holds_channel_state(layer):
        return tensor, []
    # BatchNorm2d/3d accept only (N, C, *spatial): axis 1 is axis -(rank+1).
    axis = -((layer.spec.spatial_rank or 0) + 1)
    return tensor, [Check(layer.spec.in_param or "", layer.argument(layer.spec.in_param), tensor.axis(axis), axis)]


def _channel_norm(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    if not _holds_channel_state(layer):
        return tensor, []
    if tensor.rank is None:
        return tensor, []
    return tensor, [Check(layer.spec.in_param or "", layer.argument(layer.spec.in_param), tensor.axis(1),
                          1 - tensor.rank)]


def _layer_norm(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    shape = layer.argument("normalized_shape")
    if as_dim(shape) is not None:
        shape = (shape,)
    if isinstance(shape, ListValue) and shape.complete:
        shape = tuple(shape.items)
    if not isinstance(shape, tuple):
        return tensor, []
    checks = [
        Check("normalized_shape", expected, tensor.axis(index - len(shape)), index - len(shape))
        for index, expected in enumerate(shape)
    ]
    return tensor, checks


def _spatial(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    if tensor.rank is None:
        return Tensor(None, ()), []
    if layer.spec.channels_last:
        axes = image_axes(layer, tensor.rank - 2)
        if axes is None or axes[0] != -1:
            return Tensor(tensor.rank, (UNKNOWN,) * tensor.rank, tensor.origin, rank_certain=tensor.rank_certain), []
        return Tensor(tensor.rank, tensor.dims[:1] + (UNKNOWN,) * (tensor.rank - 2) + tensor.dims[-1:],
                      tensor.origin, rank_certain=tensor.rank_certain), []
    keep = 2 if tensor.rank >= 2 else tensor.rank
    return Tensor(tensor.rank, tensor.dims[:keep] + (UNKNOWN,) * (tensor.rank - keep), tensor.origin,
                  rank_certain=tensor.rank_certain), []


def _adaptive_pool(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    rank = layer.spec.spatial_rank or 0
    size = layer.argument("output_size")
    sizes = size if isinstance(size, tuple) else (size,) * rank
    if len(sizes) != rank:
        return _spatial(layer, tensor)
    # None in output_size keeps that input size.
    spatial = tuple(tensor.axis(index - rank) if s is None else s for index, s in enumerate(sizes))
    if tensor.rank is None:
        return Tensor(None, (tensor.axis(-rank - 1),) + spatial, tensor.origin), []
    return Tensor(tensor.rank, tensor.dims[: tensor.rank - rank] + spatial, tensor.origin,
                  rank_certain=tensor.rank_certain), []


def _scaled(size: Any, scale: Any) -> Any:
    """``floor(size * scale)``, as ``F.interpolate`` computes an output size."""
    if type(scale) is float and scale.is_integer():
        scale = int(scale)
    if type(scale) is int:
        return multiply(size, scale) if scale > 0 else UNKNOWN
    if type(scale) is float and type(size) is int and scale > 0:
        return math.floor(size * scale)
    return UNKNOWN


def _resample(layer: Layer, tensor: Tensor) -> Outcome:
    """``nn.Upsample``/``F.interpolate``: ``size`` or ``floor(input size * scale_factor)`` on
    every axis after the channels (PyTorch takes only batched 3-D to 5-D inputs)."""
    size, scale = layer.argument("size"), layer.argument("scale_factor")
    if isinstance(size, ListValue):
        size = tuple(size.items) if size.complete else UNKNOWN
    given = size if scale is None else scale
    if (size is None) == (scale is None) or given is UNKNOWN:
        return _spatial(layer, tensor)
    if tensor.rank is not None:
        rank = tensor.rank - 2
    elif isinstance(given, tuple):
        rank = len(given)
    else:
        return Tensor(None, (), tensor.origin), []
    values = given if isinstance(given, tuple) else (given,) * rank
    if not 1 <= rank <= 3 or len(values) != rank:
        return _spatial(layer, tensor)
    unfits = []
    if scale is None:
        spatial = tuple(value if as_dim(value) is not None else UNKNOWN for value in values)
    else:
        spatial = tuple(_scaled(tensor.axis(index - rank), value) for index, value in enumerate(values))
        unfits = [Unfit(WINDOW, index - rank, f"its output size would be floor({tensor.axis(index - rank)} × "
                                              f"{values[index]}) = {size}, below 1")
                  for index, size in enumerate(spatial) if type(size) is int and size < 1]
        spatial = tuple(UNKNOWN if type(size) is int and size < 1 else size for size in spatial)
    if tensor.rank is None:
        return Tensor(None, (tensor.axis(-rank - 1),) + spatial, tensor.origin), list(unfits)
    return Tensor(tensor.rank, tensor.dims[:2] + spatial, tensor.origin,
                  rank_certain=tensor.rank_certain), list(unfits)


def not_a_multiple(size: Any, factor: int) -> bool:
    """True when ``size`` is provably not a multiple of ``factor``, whatever its symbols are."""
    dim = as_dim(size)
    return dim is not None and all(c % factor == 0 for _, c in dim.terms) and dim.const % factor != 0


def _regroup(tensor: Tensor, sizes: Tuple[Any, Any, Any], note: Optional[str], unfits: List[Unfit]) -> Outcome:
    """``tensor`` with its last three axes (channels, height, width) replaced."""
    if tensor.rank is not None and tensor.rank < 3:
        return Tensor(None, ()), []
    lead = tensor.dims[:-3] if tensor.rank is not None else ()
    return Tensor(tensor.rank, lead + sizes, tensor.origin, note=(-3, note) if note else None,
                  rank_certain=tensor.rank_certain), list(unfits)


def _pixel_shuffle(layer: Layer, tensor: Tensor) -> Outcome:
    """``(*, C·r², H, W) -> (*, C, H·r, W·r)``; a channel count that is not a multiple of r²
    cannot be shuffled."""
    factor = layer.argument("upscale_factor")
    if type(factor) is not int or factor < 1:
        return _regroup(tensor, (UNKNOWN,) * 3, None, [])
    channels, square = tensor.axis(-3), factor * factor
    if not_a_multiple(channels, square):
        unfit = Unfit(DIVISIBLE, -3, f"{channels} channels are not a multiple of {factor}² = {square}")
        return _regroup(tensor, (UNKNOWN,) * 3, None, [unfit])
    shuffled = floor_divide(channels, square)
    note = f"{channels} / {factor}²" if shuffled is not UNKNOWN and factor > 1 else None
    return _regroup(tensor, (shuffled, multiply(tensor.axis(-2), factor), multiply(tensor.axis(-1), factor)),
                    note, [])


def _pixel_unshuffle(layer: Layer, tensor: Tensor) -> Outcome:
    """``(*, C, H·r, W·r) -> (*, C·r², H, W)``; a height or width that is not a multiple of r
    cannot be unshuffled."""
    factor = layer.argument("downscale_factor")
    if type(factor) is not int or factor < 1:
        return _regroup(tensor, (UNKNOWN,) * 3, None, [])
    unfits = [Unfit(DIVISIBLE, axis, f"a {name} of {tensor.axis(axis)} is not a multiple of {factor}")
              for axis, name in ((-2, "height"), (-1, "width")) if not_a_multiple(tensor.axis(axis), factor)]
    channels = multiply(tensor.axis(-3), factor * factor)
    note = f"{tensor.axis(-3)} × {factor}²" if channels is not UNKNOWN and factor > 1 else None
    sizes = (channels, floor_divide(tensor.axis(-2), factor), floor_divide(tensor.axis(-1), factor))
    return _regroup(tensor, sizes, note, unfits)


def reduce(tensor: Tensor, dims: Any, keepdim: Any) -> Tensor:
    """``x.mean(dims, keepdim)``: the reduced axes go, or become 1 with ``keepdim``."""
    axes = dims if isinstance(dims, tuple) else (dims,)
    if not axes or not all(type(axis) is int for axis in axes) or type(keepdim) is not bool:
        return Tensor(None, ())
    if tensor.rank is None:
        if not keepdim or any(axis >= 0 for axis in axes):
            return Tensor(None, ())
        known = (UNKNOWN,) * max(0, max(-axis for axis in axes) - len(tensor.dims)) + tensor.dims
        return Tensor(None, tuple(1 if index - len(known) in axes else size for index, size in enumerate(known)),
                      tensor.origin)
    if not all(-tensor.rank <= axis < tensor.rank for axis in axes):
        return Tensor(None, ())
    reduced = {axis % tensor.rank for axis in axes}
    if len(reduced) != len(axes):
        return Tensor(None, ())
    sizes = tuple(1 if keepdim and index in reduced else size for index, size in enumerate(tensor.dims)
                  if keepdim or index not in reduced)
    note = None
    if tensor.note is not None and tensor.rank + tensor.note[0] not in reduced:
        kept = tensor.rank + tensor.note[0] - (0 if keepdim else sum(index < tensor.rank + tensor.note[0]
                                                                      for index in reduced))
        note = (kept - len(sizes), tensor.note[1])
    return Tensor(len(sizes), sizes, tensor.origin, note=note, rank_certain=tensor.rank_certain)


def product(sizes: Tuple[Any, ...]) -> Any:
    total: Any = 1
    for size in sizes:
        total = multiply(total, size) if total is not UNKNOWN else UNKNOWN
    return total


def arithmetic(sizes: Tuple[Any, ...]) -> str:
    """``512 × 2 × 2 = 2048``, or the one size (1 for none)."""
    shown = " × ".join(describe(size) for size in sizes) or "1"
    return f"{shown} = {describe(product(sizes))}" if len(sizes) > 1 else shown


def _kept_axes(tensor: Tensor, sizes: Tuple[Any, ...]) -> int:
    """How many leading axes a view provably keeps: the same size (one symbol, or one int) at
    the same place, as in ``x.view(x.size(0), …)`` or ``q.view(B, T, heads, -1)``."""
    if tensor.rank is None:
        return 0
    kept = 0
    for old, new in zip(tensor.dims, sizes):
        if as_dim(old) is None or as_dim(new) is None or not provably_equal(old, new):
            break
        kept += 1
    return kept


def _per_sample(tensor: Tensor, sizes: Tuple[Any, ...], kept: int) -> Tuple[Optional[Unfit], Any]:
    """A view that keeps the first ``kept`` axes must regroup what each of their positions
    holds: the ``Unfit`` when it provably cannot, and the size a ``-1`` among the rest takes."""
    rest, wanted = tensor.dims[kept:], sizes[kept:]
    holds, given = product(rest), tuple(size for size in wanted if size != -1)
    needs = product(given)
    unit = "sample" if kept == 1 else f"position of the first {kept} axes"
    if -1 in wanted:
        if type(needs) is int and not_a_multiple(holds, needs):
            return Unfit(DIVISIBLE, 0, f"each {unit} has {arithmetic(rest)} elements, which is no multiple of "
                                       f"{arithmetic(given)}"), UNKNOWN
        return None, floor_divide(holds, needs) if type(needs) is int else UNKNOWN
    if not provably_different(holds, needs):
        return None, UNKNOWN
    if kept > 1 and len(rest) == 1 and len(wanted) > 1:
        return Unfit(DIVISIBLE, 0, f"it splits {arithmetic(wanted)} out of an axis of {describe(holds)}"), UNKNOWN
    return Unfit(DIVISIBLE, 0, f"it needs {arithmetic(wanted)} elements per {unit}, but each {unit} has "
                               f"{arithmetic(rest)}"), UNKNOWN


def _batch_change(tensor: Tensor, sizes: Tuple[Any, ...]) -> Optional[Unfit]:
    """``z.view(-1, 512, 2, 2)`` of a ``(N, 1024)`` tensor whose first axis is the batch of
    unknown size the model runs on (a size no name in the code gives): each row takes 2048
    elements, so the -1 is not N, and the rows mix samples."""
    if tensor.rank is None or tensor.rank < 2 or len(sizes) < 2 or sizes[0] != -1:
        return None
    if not is_unnamed(tensor.dims[0]):
        return None
    holds, needs = product(tensor.dims[1:]), product(sizes[1:])
    if type(needs) is not int or not not_a_multiple(holds, needs):
        return None
    return Unfit(BATCH, 0, f"puts {arithmetic(sizes[1:])} elements in each row, but each sample has "
                           f"{arithmetic(tensor.dims[1:])}")


def reshape(tensor: Tensor, sizes: Tuple[Any, ...]) -> Tuple[Tensor, List[Unfit]]:
    """``x.view(*sizes)``: a tensor of exactly those sizes, a ``-1`` inferred from the element
    count when that is known; a count that cannot be regrouped so is an ``Unfit``. When the view
    keeps leading axes (``x.view(x.size(0), …)``), what each of their positions holds is
    compared, so that a symbolic batch size does not hide the mismatch. A ``-1`` first that
    provably takes part of a sample is a ``BATCH`` unfit: PyTorch runs it for some batches."""
    if sizes.count(-1) > 1 or any(type(size) is int and size < -1 for size in sizes) or 0 in sizes:
        return Tensor(None, ()), []
    kept = _kept_axes(tensor, sizes)
    unfit, per_sample = _per_sample(tensor, sizes, kept) if kept else (None, UNKNOWN)
    if unfit is not None:
        return Tensor(None, ()), [unfit]
    total = product(tensor.dims) if tensor.rank is not None else UNKNOWN
    given = product(tuple(size for size in sizes if size != -1))
    if type(total) is int and type(given) is int and (total % given if -1 in sizes else total != given):
        elements = f"{' × '.join(map(str, tensor.dims))} = {total}" if len(tensor.dims) > 1 else f"{total}"
        wanted = f"are not a multiple of {given}" if -1 in sizes else \
            f"cannot be viewed as {' × '.join(map(str, sizes))} = {given}"
        return Tensor(None, ()), [Unfit(DIVISIBLE, 0, f"{elements} elements {wanted}")]
    changed = _batch_change(tensor, sizes)
    if -1 in sizes:
        inferred = floor_divide(total, given) if type(given) is int else UNKNOWN
        if kept and per_sample is not UNKNOWN:
            inferred = per_sample
        sizes = tuple((UNKNOWN if changed else inferred) if size == -1 else size for size in sizes)
    dims = tuple(size if as_dim(size) is not None else UNKNOWN for size in sizes)
    return Tensor(len(dims), dims, tensor.origin, rank_certain=True), [changed] if changed else []


def sizes_of(value: Any, accept: Callable[[Any], bool] = lambda size: as_dim(size) is not None
             ) -> Optional[Tuple[Any, ...]]:
    """A tuple or complete list whose items ``accept`` takes (by default: sizes), as a tuple."""
    if isinstance(value, ListValue):
        if not value.complete:
            return None
        value = tuple(value.items)
    return value if isinstance(value, tuple) and all(accept(item) for item in value) else None


def flatten(tensor: Tensor, start: Any, end: Any) -> Tensor:
    """``torch.flatten(tensor, start, end)``: the merged axis is the product of its sizes."""
    if not isinstance(start, int) or not isinstance(end, int):
        return Tensor(None, ())
    if tensor.rank is None:
        # flatten(x, 1) of a batched tensor: (N, everything else), whatever the rank.
        # flatten(x, 1) of a tensor of any rank from 2 up gives (N, everything else).
        if (start, end) == (1, -1):
            return Tensor(2, (tensor.axis(0), UNKNOWN), tensor.origin, rank_certain=True)
        return Tensor(None, ())
    first, last = start % max(tensor.rank, 1), end % max(tensor.rank, 1)
    if first > last:
        return Tensor(None, ())
    factors = tensor.dims[first: last + 1]
    merged = product(factors)
    if UNDEFINED in factors:
        merged = UNDEFINED  # Keras: a product with an open size is open
    elif merged is UNKNOWN:
        # Unknown sizes, or a product of symbols: a multiple of the known sizes, at least.
        known = product(tuple(size for size in factors if type(size) is int))
        merged = multiply(known, unknown_positive()) if type(known) is int and known > 1 else UNKNOWN
    dims = tensor.dims[:first] + (merged,) + tensor.dims[last + 1:]
    text = " × ".join(describe(size) for size in factors) if len(factors) > 1 and merged is not UNKNOWN else None
    note = (first - len(dims), text) if text else None
    return Tensor(len(dims), dims, tensor.origin, note=note, rank_certain=tensor.rank_certain)


def _flatten(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    # Keras's Flatten has no range: it keeps the batch axis and merges the rest.
    return flatten(tensor, layer.arguments.get("start_dim", 1), layer.arguments.get("end_dim", -1)), []


def shape_of(value: Any) -> Optional[Tuple[Any, ...]]:
    """A shape written as a tuple or list of sizes, each an int, a symbol or None (left open)."""
    sizes = sizes_of(value, lambda size: size is None or as_dim(size) is not None)
    return None if sizes is None else tuple(UNDEFINED if size is None else size for size in sizes)


def _input(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    """Keras's ``InputLayer(shape=...)``: a batch of that shape, whatever it is given."""
    return placeholder(layer.argument("shape")), []


def placeholder(shape: Any) -> Tensor:
    """``keras.Input(shape=(28, 28, 1))``: a batch of unknown size of that shape."""
    sizes = shape_of(shape)
    if sizes is None:
        return Tensor(None, ())
    return Tensor(len(sizes) + 1, (UNKNOWN,) + sizes, rank_certain=True)


def weights_axis(layer: Layer) -> Optional[int]:
    """The axis whose size a layer built on its first input (Keras, Flax) sizes its weights by:
    the features of a dense, recurrent or attention layer, the channels of a convolution, the
    wrapped layer's for a Keras wrapper."""
    if not layer.spec.built_on_call:
        return None
    if layer.spec.kind in (LINEAR, RECURRENT, MULTI_HEAD_ATTENTION):
        return -1
    if layer.spec.kind in (BIDIRECTIONAL, TIME_DISTRIBUTED):
        inner = layer.argument("layer")
        return weights_axis(inner) if isinstance(inner, Layer) else None
    rank = spatial_rank(layer)
    axes = image_axes(layer, rank) if rank else None
    return axes[0] if axes is not None else None


def _reshape(layer: Layer, tensor: Tensor) -> Outcome:
    """Keras's ``Reshape(target_shape)``: the batch axis is kept, and each sample's elements are
    regrouped as ``x.view`` does (a -1 takes what is left)."""
    sizes = shape_of(layer.argument("target_shape"))
    if sizes is None:
        return Tensor(None, ()), []
    sample = Tensor(tensor.rank - 1, tensor.dims[1:]) if tensor.rank else Tensor(None, ())
    reshaped, unfits = reshape(sample, sizes)
    if reshaped.rank is None:
        return Tensor(None, ()), list(unfits)
    return Tensor(reshaped.rank + 1, (tensor.axis(0),) + reshaped.dims, layer, rank_certain=True), list(unfits)


def _embedding(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    """Indices in, one vector of ``out_param`` values per index out."""
    width = layer.argument(layer.spec.out_param)
    if tensor.rank is None:
        return Tensor(None, (width,), layer), []
    return Tensor(tensor.rank + 1, tensor.dims + (width,), layer, rank_certain=tensor.rank_certain), []


def _bag_embedding(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    """``EmbeddingBag``: one pooled vector per bag: a row of (N, L) indices is a bag; 1-D
    indices are cut into bags by ``offsets``, whose number is not known here."""
    bags = tensor.axis(0) if tensor.rank == 2 else UNKNOWN
    return Tensor(2, (bags, layer.argument(layer.spec.out_param)), layer, rank_certain=tensor.rank_certain), []


def keras_outputs(layer: Layer, tensor: Tensor) -> Optional[List[Tensor]]:
    """What calling a Keras recurrent layer (``LSTM``, ``ConvLSTM2D`` ..., or a ``Bidirectional``
    one) returns, as a list:
    its output, then its states when built with ``return_state=True``; None when not known."""
    if layer.spec.kind == BIDIRECTIONAL:
        return _bidirectional_outputs(layer, tensor)
    sequences, state = layer.arguments.get("return_sequences", False), layer.arguments.get("return_state", False)
    states = RECURRENT_STATES.get(layer.spec.name) if state is True else 0
    if sequences not in (True, False) or states is None:
        return None
    if layer.spec.kind == RECURRENT and tensor.rank == 3:
        last = Tensor(2, (tensor.dims[0], layer.argument(layer.spec.out_param)), layer)
    elif layer.spec.kind == CONV_RECURRENT and tensor.rank == (spatial_rank(layer) or 0) + 3:
        last = _conv(layer, Tensor(tensor.rank - 1, tensor.dims[:1] + tensor.dims[2:]))[0]
    else:
        return None
    if last.rank is None:
        return None
    last = replace(last, rank_certain=tensor.rank_certain)
    every = Tensor(last.rank + 1, last.dims[:1] + tensor.dims[1:2] + last.dims[1:], layer,
                   rank_certain=tensor.rank_certain)
    return [every if sequences else last] + [last] * states


def _bidirectional_outputs(layer: Layer, tensor: Tensor) -> Optional[List[Tensor]]:
    """``Bidirectional(layer, merge_mode, backward_layer=None)``: each direction's outputs,
    merged by ``merge_mode`` (``None``: both returned), then the forward states and the
    backward ones."""
    forward = layer.argument("layer")
    backward = layer.arguments.get("backward_layer")
    ahead = keras_outputs(forward, tensor) if isinstance(forward, Layer) else None
    back = keras_outputs(backward, tensor) if isinstance(backward, Layer) else ahead if backward is None else None
    mode = layer.argument("merge_mode")
    if ahead is None or back is None or len(ahead) != len(back) or mode not in ("concat", "sum", "mul", "ave", None):
        return None
    first, second = replace(ahead[0], origin=layer), replace(back[0], origin=layer)
    width = first.axis(-1)
    if mode is None:
        merged = [first, second]
    elif not provably_equal(width, second.axis(-1)):
        # Keras's symbolic shape is the forward layer's (doubled for "concat"), its real one is not.
        merged = [_with_axis(first, -1, UNKNOWN, layer)]
    elif mode == "concat":
        merged = [replace(_with_axis(first, -1, multiply(width, 2), layer), note=(-1, f"2 directions × {width}"))]
    else:
        merged = [first]
    return merged + [replace(state, origin=layer) for state in ahead[1:] + back[1:]]


def _single_output(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    """Keras's recurrent layers and ``Bidirectional`` as one tensor: (N, T, F) to (N, T, units),
    or (N, units) for the last step (unknown when they return a list)."""
    outputs = keras_outputs(layer, tensor)
    return (outputs[0] if outputs is not None and len(outputs) == 1 else Tensor(None, ())), []


def _time_distributed(layer: Layer, tensor: Tensor) -> Outcome:
    """``TimeDistributed(layer)``: the wrapped layer on each step of axis 1, as on a batch of
    samples without that axis."""
    inner = layer.argument("layer")
    if not isinstance(inner, Layer) or tensor.rank is None or tensor.rank < 3:
        return Tensor(None, ()), []
    step = Tensor(tensor.rank - 1, tensor.dims[:1] + tensor.dims[2:], tensor.origin, rank_certain=tensor.rank_certain)
    output, checks = apply_layer(inner, step)
    if output.rank is None:
        return Tensor(None, ()), list(checks)
    return Tensor(output.rank + 1, output.dims[:1] + tensor.dims[1:2] + output.dims[1:], layer,
                  rank_certain=output.rank_certain), list(checks)


def _repeat_vector(layer: Layer, tensor: Tensor) -> Outcome:
    """Keras's ``RepeatVector(n)``: (N, F) to (N, n, F)."""
    if tensor.rank != 2:
        return Tensor(None, ()), []
    return Tensor(3, (tensor.dims[0], layer.argument("n"), tensor.dims[1]), tensor.origin,
                  rank_certain=tensor.rank_certain), []


def _permute(layer: Layer, tensor: Tensor) -> Outcome:
    """Keras's ``Permute(dims)``: the batch axis stays first, the others follow ``dims``
    (counted from 1)."""
    dims = layer.argument("dims")
    if isinstance(dims, ListValue) and dims.complete:
        dims = tuple(dims.items)
    if not isinstance(dims, tuple) or not all(type(axis) is int and axis > 0 for axis in dims):
        return Tensor(None, ()), []
    return permute(tensor, (0,) + dims), []


def attention_output(layer: Layer, query: Tensor, width: Any = None) -> Tensor:
    """Keras's attention: the query's shape, whose last axis becomes ``width`` (``Attention``:
    the value's), or ``MultiHeadAttention``'s ``output_shape`` when that is given (an int, or a
    tuple of the last axes)."""
    if width is not None:
        return _with_axis(query, -1, width, layer)
    shape = layer.argument("output_shape")
    if isinstance(shape, ListValue) and shape.complete:
        shape = tuple(shape.items)
    if shape is None or shape == 0 or shape == ():
        return _with_axis(query, -1, query.axis(-1), layer)
    if as_dim(shape) is not None:
        return _with_axis(query, -1, shape, layer)
    if not isinstance(shape, tuple) or query.rank is None or not all(as_dim(size) is not None for size in shape):
        return Tensor(None, ())
    return Tensor(query.rank - 1 + len(shape), query.dims[:-1] + shape, layer, rank_certain=query.rank_certain)


def attention_scores(layer: Layer, query: Tensor, value: Tensor) -> Tensor:
    """The scores ``MultiHeadAttention`` returns with ``return_attention_scores=True``: (N,
    heads, T_query, T_value) for 3-D inputs attending over their steps. Keras's symbolic
    tensors claim T_query for the last axis, so it is known only when the two agree."""
    if layer.argument("attention_axes") is not None or query.rank != 3 or value.rank != 3:
        return Tensor(None, ())
    steps = query.axis(1) if provably_equal(query.axis(1), value.axis(1)) else UNKNOWN
    return Tensor(4, (query.axis(0), layer.argument("num_heads"), query.axis(1), steps), layer,
                  rank_certain=query.rank_certain)


def wrapped_build(layer: Layer, name: str = "layer") -> Optional[Layer]:
    """A layer a Keras wrapper holds (its argument ``name``), as built for the wrapper's input:
    a ``Bidirectional``'s copy for one direction, the layer a ``TimeDistributed`` applies to
    each step."""
    inner, built = layer.argument(name), layer.built_with
    if not isinstance(inner, Layer) or built is None or built.rank is None:
        return None
    if layer.spec.kind == TIME_DISTRIBUTED:
        built = Tensor(built.rank - 1, built.dims[:1] + built.dims[2:])
    return replace(inner, built_with=built)


def accepted_ranks(layer: Layer) -> Tuple[int, ...]:
    """The input ranks a layer accepts (empty: any): a Keras wrapper's come from the layer it
    wraps (one more for ``TimeDistributed``'s time axis)."""
    if layer.spec.kind not in (BIDIRECTIONAL, TIME_DISTRIBUTED):
        return layer.spec.ranks
    inner = layer.argument("layer")
    if not isinstance(inner, Layer):
        return ()
    shift = 1 if layer.spec.kind == TIME_DISTRIBUTED else 0
    return tuple(rank + shift for rank in accepted_ranks(inner))


@dataclass(frozen=True)
class Contraction:
    """Two sizes an operation multiplies together, which must be equal: the inner sizes of a
    matmul, or two sizes one einsum subscript names (where a size of 1 broadcasts)."""

    sizes: Tuple[Any, Any]
    operands: Tuple[int, int]  # which operands, by position
    axes: Tuple[int, int]  # counted from the end
    subscript: Optional[str] = None  # the einsum letter; None for a matmul

    @property
    def broadcasts(self) -> bool:
        return self.subscript is not None


def _at_least_matrix(tensor: Tensor) -> bool:
    """The tensor has two axes or more (without a known rank: two trailing axes are known)."""
    return tensor.rank >= 2 if tensor.rank is not None else len(tensor.dims) >= 2


def matmul(left: Tensor, right: Tensor, rank: Optional[int] = None) -> Tuple[Tensor, List[Contraction]]:
    """``left @ right`` by PyTorch's rules (``torch.matmul``; ``bmm`` and ``mm`` take only ranks
    3 and 2): a 1-D operand is a vector, the batch axes broadcast, and the left operand's last
    size meets the right one's second to last (its only one, for a vector)."""
    if rank is not None and (left.rank not in (rank, None) or right.rank not in (rank, None)):
        return Tensor(None, ()), []
    if left.rank == 0 or right.rank == 0:
        return Tensor(None, ()), []
    inner = -1 if right.rank == 1 else -2 if _at_least_matrix(right) or rank is not None else None
    contractions = [Contraction((left.axis(-1), right.axis(inner)), (0, 1), (-1, inner))] if inner else []
    # The last size is the right operand's last: named after its layer only if it left it so.
    origin = right.origin if right.direct else None
    certain = left.rank_certain and right.rank_certain
    if left.rank is None or right.rank is None:
        # The last size is the right matrix's columns, after its rows' sizes when the left
        # operand is a matrix too (a vector on the left has none); a vector on the right drops
        # the left operand's last axis.
        if inner == -2:
            rows = (left.axis(-2),) if _at_least_matrix(left) or rank is not None else ()
            return Tensor(None, rows + (right.axis(-1),), origin), contractions
        if inner == -1:
            return Tensor(None, left.dims[:-1], origin), contractions
        return Tensor(None, ()), contractions
    if left.rank == 1 and right.rank == 1:
        return Tensor(0, (), origin, rank_certain=certain), contractions
    rows = left.dims[-2:-1]  # empty for a vector on the left
    columns = right.dims[-1:] if right.rank >= 2 else ()
    dims = _broadcast_sizes(left.dims[:-2], right.dims[:-2]) + rows + columns
    return Tensor(len(dims), dims, origin, rank_certain=certain), contractions


def _broadcast_sizes(left: Tuple[Any, ...], right: Tuple[Any, ...]) -> Tuple[Any, ...]:
    """Two complete lists of sizes broadcast, the shorter one padded with 1s on the left."""
    width = max(len(left), len(right))
    left, right = (1,) * (width - len(left)) + left, (1,) * (width - len(right)) + right
    return broadcast(Tensor(width, left), Tensor(width, right)).dims


def _einsum_terms(equation: str, count: int) -> Optional[Tuple[List[str], Optional[str]]]:
    """The subscripts of each operand and of the output (None: implicit) of an einsum equation,
    or None when it is not one PyTorch accepts for ``count`` operands."""
    equation = equation.replace(" ", "")
    left, arrow, right = equation.partition("->")
    terms = left.split(",")
    valid = all(term.replace("...", "", 1).isalpha() or term.replace("...", "", 1) == ""
                for term in terms + ([right] if arrow else []))
    if not valid or len(terms) != count:
        return None
    return terms, right if arrow else None


def _einsum_axes(term: str, tensor: Tensor) -> Optional[Tuple[List[Tuple[str, int]], Optional[Tuple[Any, ...]]]]:
    """Each letter of ``term`` with its axis in ``tensor`` (counted from the end; 0 when the
    position is not known), and the sizes ``...`` stands for (None when not known)."""
    before, ellipsis, after = term.partition("...")
    if not ellipsis:
        if tensor.rank is not None and tensor.rank != len(term):
            return None
        return [(letter, index - len(term)) for index, letter in enumerate(term)], ()
    if tensor.rank is None:
        return [(letter, 0) for letter in before] + \
            [(letter, index - len(after)) for index, letter in enumerate(after)], None
    if tensor.rank < len(before) + len(after):
        return None
    letters = [(letter, index - tensor.rank) for index, letter in enumerate(before)]
    letters += [(letter, index - len(after)) for index, letter in enumerate(after)]
    return letters, tensor.dims[len(before): tensor.rank - len(after)]


def einsum(equation: str, operands: List[Tensor]) -> Tuple[Tensor, List[Contraction]]:
    """``torch.einsum("bhqd,bhkd->bhqk", q, k)``: each output letter takes the size its inputs
    give it, ``...`` the broadcast of what it stands for; the sizes one letter names across the
    operands are contractions (equal, or 1)."""
    parsed = _einsum_terms(equation, len(operands))
    if parsed is None:
        return Tensor(None, ()), []
    terms, output = parsed
    sizes: Dict[str, List[Tuple[int, int, Any]]] = {}
    ellipses: List[Optional[Tuple[Any, ...]]] = []
    contractions: List[Contraction] = []
    for position, (term, tensor) in enumerate(zip(terms, operands)):
        axes = _einsum_axes(term, tensor)
        if axes is None:
            return Tensor(None, ()), []
        letters, ellipsis = axes
        if "..." in term:
            ellipses.append(ellipsis)
        for letter, axis in letters:
            size = tensor.axis(axis) if axis else UNKNOWN
            seen = sizes.setdefault(letter, [])
            if seen:
                first_position, first_axis, first_size = seen[0]
                contractions.append(Contraction((first_size, size), (first_position, position),
                                                (first_axis, axis), letter))
            seen.append((position, axis, size))
    if output is None:
        once = sorted(letter for letter, seen in sizes.items() if len(seen) == 1)
        output = ("..." if ellipses else "") + "".join(once)
    if any(letter not in sizes for letter in output.replace("...", "")):
        return Tensor(None, ()), contractions
    size_of = {letter: _agreed_size([size for _, _, size in seen]) for letter, seen in sizes.items()}
    before, ellipsis, after = output.partition("...")
    known = [e for e in ellipses if e is not None]
    if ellipsis and len(known) < len(ellipses):
        dims = tuple(size_of[letter] for letter in after)
        return Tensor(None, dims, _einsum_origin(output, terms, operands)), contractions
    middle: Tuple[Any, ...] = ()
    if ellipsis and known:
        middle = known[0]
        for other in known[1:]:
            middle = _broadcast_sizes(middle, other)
    dims = tuple(size_of[letter] for letter in before) + middle + tuple(size_of[letter] for letter in after)
    certain = all(t.rank_certain for t in operands)
    return Tensor(len(dims), dims, _einsum_origin(output, terms, operands), rank_certain=certain), contractions


def _agreed_size(sizes: List[Any]) -> Any:
    """The size of one einsum letter if the call succeeds: the sizes broadcast."""
    size = sizes[0]
    for other in sizes[1:]:
        size = _broadcast_axis(size, other)
    return size


def _einsum_origin(output: str, terms: List[str], operands: List[Tensor]) -> Optional[Layer]:
    """The layer whose output gives the einsum's last size: an operand as its layer left it,
    whose last letter is the output's."""
    for term, tensor in zip(terms, operands):
        if output[-1:].isalpha() and term.endswith(output[-1]) and tensor.direct:
            return tensor.origin
    return None


def _model_width(layer: Layer) -> Any:
    """The width an attention or transformer layer works at: its own argument, or that of the
    layer it stacks (``TransformerEncoder(encoder_layer, 6)``), when that layer is seen."""
    if layer.spec.in_param:
        return layer.argument(layer.spec.in_param)
    stacked = [value for value in layer.arguments.values() if isinstance(value, Layer) and value.spec.kind == TRANSFORMER]
    if len(stacked) == 1:
        return _model_width(stacked[0])
    return UNKNOWN


def _input_check(tensor: Tensor, parameter: str, expected: Any) -> Check:
    return Check(parameter, expected, tensor.axis(-1), -1)


def _attention(layer: Layer, query: Tensor) -> Outcome:
    """``MultiheadAttention`` on its query: ``embed_dim`` features in, as many out."""
    width = _model_width(layer)
    return _with_axis(query, -1, width, layer), [_input_check(query, "embed_dim", width)]


def _transformer(layer: Layer, tensor: Tensor) -> Outcome:
    """A transformer layer on its one input: ``d_model`` features in, the same shape out."""
    width = _model_width(layer)
    return _with_axis(tensor, -1, width, layer), [_input_check(tensor, "d_model", width)]


def _attention_weights(layer: Layer, query: Tensor, key: Tensor, inputs: Dict[str, Any]) -> Any:
    """The attention weights MultiheadAttention returns: None without ``need_weights``;
    ``(N, L, S)`` averaged over heads (``(L, S)`` unbatched), else ``(N, heads, L, S)``, where
    ``add_bias_kv`` and ``add_zero_attn`` each add a key to the S keys."""
    need, average, first = inputs.get("need_weights"), inputs.get("average_attn_weights"), \
        layer.arguments.get("batch_first")
    added = [layer.arguments.get(name) for name in ("add_bias_kv", "add_zero_attn")]
    if need is False:
        return None
    if need is not True or average not in (True, False) or first not in (True, False) \
            or not all(flag in (True, False) for flag in added) or query.rank not in (2, 3) or key.rank != query.rank:
        return UNKNOWN
    sequence = 1 if first and query.rank == 3 else 0
    keys = add(key.dims[sequence], sum(added)) if as_dim(key.dims[sequence]) is not None else UNKNOWN
    if query.rank == 2:
        dims: Tuple[Any, ...] = (query.dims[0], keys)
        if not average:
            dims = (layer.argument("num_heads"),) + dims
    else:
        dims = (query.dims[1 - sequence], query.dims[sequence], keys)
        if not average:
            dims = dims[:1] + (layer.argument("num_heads"),) + dims[1:]
    dims = tuple(size if as_dim(size) is not None else UNKNOWN for size in dims)
    return Tensor(len(dims), dims, layer, rank_certain=query.rank_certain and key.rank_certain)


def layer_call(layer: Layer, inputs: Dict[str, Any]) -> Tuple[Any, List[Tuple[str, Check]]]:
    """A layer whose ``forward`` takes several tensors, called with ``inputs`` bound to
    ``spec.forward``: its output, and the checks on each input by its name. Attention returns
    ``(output, weights)``; a transformer the shape of its ``tgt`` (or only) input."""
    tensors = {name: value if isinstance(value, Tensor) else Tensor(None, ()) for name, value in inputs.items()
               if dict(layer.spec.forward).get(name) is REQUIRED}
    width = _model_width(layer)
    if layer.spec.kind == ATTENTION:
        output, checks = _attention(layer, tensors["query"])
        named = [("query", check) for check in checks]
        for name, parameter in (("key", "kdim"), ("value", "vdim")):
            expected = layer.arguments.get(parameter)
            named.append((name, _input_check(tensors[name], parameter, width if expected is None else expected)))
        return (output, _attention_weights(layer, tensors["query"], tensors["key"], inputs)), named
    main = tensors.get("tgt", next(iter(tensors.values())))
    output = _with_axis(main, -1, width, layer)
    return output, [(name, _input_check(tensor, "d_model", width)) for name, tensor in tensors.items()]


_BY_KIND = {
    CONV: _conv,
    LINEAR: _linear,
    BATCH_NORM: _batch_norm,
    CHANNEL_NORM: _channel_norm,
    LAYER_NORM: _layer_norm,
    PASS_THROUGH: lambda layer, tensor: (tensor, []),
    SPATIAL: _spatial,
    ADAPTIVE_POOL: _adaptive_pool,
    POOL: _pool,
    FLATTEN: _flatten,
    GLOBAL_POOL: _global_pool,
    SEQUENCE: _sequence,
    INPUT: _input,
    RESHAPE: _reshape,
    EMBEDDING: _embedding,
    BAG_EMBEDDING: _bag_embedding,
    RECURRENT: _single_output,
    CONV_RECURRENT: _single_output,
    BIDIRECTIONAL: _single_output,
    TIME_DISTRIBUTED: _time_distributed,
    REPEAT_VECTOR: _repeat_vector,
    PERMUTE: _permute,
    RESAMPLE: _resample,
    PIXEL_SHUFFLE: _pixel_shuffle,
    PIXEL_UNSHUFFLE: _pixel_unshuffle,
    ATTENTION: _attention,
    TRANSFORMER: _transformer,
}


def apply_layer(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    handler = _BY_KIND.get(layer.spec.kind)
    if handler is None or any(layer.arguments.get(name, default) != default for name, default in layer.spec.unmodelled):
        return Tensor(None, ()), []
    output, checks = handler(layer, tensor)
    direct = output.origin is layer
    return (output if output.direct == direct else replace(output, direct=direct)), checks


def learned(layer: Layer, tensor: Tensor) -> Tensor:
    """``tensor`` with the sizes ``layer`` checks filled in where they were unknown: what the
    input must have been, once the layer has run on it."""
    known = tensor
    for check in apply_layer(layer, tensor)[1]:
        if not isinstance(check, Check) or known.rank is not None and not -known.rank <= check.axis < known.rank:
            continue  # a size it cannot take, or an axis the tensor lacks: PyTorch raises
        if known.axis(check.axis) is UNKNOWN and as_dim(check.expected) is not None:
            known = _with_axis(known, check.axis, check.expected, tensor.origin)
    return known if known is tensor else replace(known, direct=tensor.direct, note=tensor.note)


def touched(tensor: Tensor) -> Tensor:
    """``tensor`` after an operation that keeps its shape but not its values."""
    return replace(tensor, direct=False) if tensor.direct else tensor


def _broadcast_axis(a: Any, b: Any) -> Any:
    """One axis of ``a + b``: what it must be if the operation succeeds. A size that may be 1
    (unknown or symbolic) yields to the other side only when that side is a known size."""
    if provably_equal(a, b):
        return a
    if a == 1:
        return b
    if b == 1:
        return a
    if isinstance(a, int) and not isinstance(b, int):
        return a
    if isinstance(b, int) and not isinstance(a, int):
        return b
    return UNKNOWN


def broadcast(left: Tensor, right: Tensor) -> Tensor:
    """The shape of an elementwise operation on two tensors (PyTorch's broadcasting)."""
    width = max(len(left.dims), len(right.dims))
    if left.rank is not None and right.rank is not None:
        width = max(left.rank, right.rank)
    dims = tuple(_broadcast_axis(left.axis(index - width), right.axis(index - width)) for index in range(width))
    rank = width if left.rank is not None and right.rank is not None else None
    origin = left.origin if left.origin is not None else right.origin
    return Tensor(rank, dims, origin)
