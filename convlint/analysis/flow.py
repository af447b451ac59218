"""How a catalog layer transforms the tensor it receives, by the layer's kind.

``apply_layer`` returns the output tensor and the checks the input must pass: each check names
the layer argument, the value it expects and the value that arrived. An ``Unfit`` among them is a
size of the input the layer provably cannot take (PyTorch raises on it). The interpreter records
both as facts; rules decide which are provably wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, List, Optional, Tuple, Union

from convlint.analysis.objects import Layer, ListValue, Tensor
from convlint.analysis.values import (
    UNDEFINED,
    UNKNOWN,
    as_dim,
    describe,
    floor_divide,
    multiply,
    provably_equal,
    unknown_positive,
)
from convlint.frameworks.catalog import (
    ADAPTIVE_POOL,
    BIDIRECTIONAL,
    PIXEL_SHUFFLE,
    PIXEL_UNSHUFFLE,
    RESAMPLE,
    POOL,
    BATCH_NORM,
    CHANNEL_NORM,
    CONV,
    CONV_RECURRENT,
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


@dataclass(frozen=True)
class Unfit:
    """An input size the operation provably cannot take; ``detail`` carries the arithmetic."""

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
    if not all(type(v) is int for v in (size, kernel, stride, padding, dilation)) or stride <= 0:
        return UNKNOWN
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def _transposed_size(size: Any, kernel: Any, stride: Any, padding: Any, dilation: Any, extra: Any) -> Any:
    if not all(type(v) is int for v in (size, kernel, stride, padding, dilation, extra)):
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
    """``x.transpose(1, 2)``: two axes swapped; with an unknown rank, two of the known trailing
    axes (negative indices) can still be."""
    if type(first) is not int or type(second) is not int:
        return Tensor(None, ())
    if tensor.rank is None:
        known = len(tensor.dims)
        if not (first < 0 and second < 0 and -known <= min(first, second)):
            return Tensor(None, ())
        dims = list(tensor.dims)
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


def _not_a_multiple(size: Any, factor: int) -> bool:
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
    if _not_a_multiple(channels, square):
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
              for axis, name in ((-2, "height"), (-1, "width")) if _not_a_multiple(tensor.axis(axis), factor)]
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


def _product(sizes: Tuple[Any, ...]) -> Any:
    total: Any = 1
    for size in sizes:
        total = multiply(total, size) if total is not UNKNOWN else UNKNOWN
    return total


def reshape(tensor: Tensor, sizes: Tuple[Any, ...]) -> Tuple[Tensor, List[Unfit]]:
    """``x.view(*sizes)``: a tensor of exactly those sizes, a ``-1`` inferred from the element
    count when that is known; a count that cannot be regrouped so is an ``Unfit``."""
    if sizes.count(-1) > 1 or any(type(size) is int and size < -1 for size in sizes) or 0 in sizes:
        return Tensor(None, ()), []
    total = _product(tensor.dims) if tensor.rank is not None else UNKNOWN
    given = _product(tuple(size for size in sizes if size != -1))
    if type(total) is int and type(given) is int and (total % given if -1 in sizes else total != given):
        elements = f"{' × '.join(map(str, tensor.dims))} = {total}" if len(tensor.dims) > 1 else f"{total}"
        wanted = f"are not a multiple of {given}" if -1 in sizes else \
            f"cannot be viewed as {' × '.join(map(str, sizes))} = {given}"
        return Tensor(None, ()), [Unfit(DIVISIBLE, 0, f"{elements} elements {wanted}")]
    if -1 in sizes:
        inferred = floor_divide(total, given) if type(given) is int else UNKNOWN
        sizes = tuple(inferred if size == -1 else size for size in sizes)
    dims = tuple(size if as_dim(size) is not None else UNKNOWN for size in sizes)
    return Tensor(len(dims), dims, tensor.origin, rank_certain=True), []


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
    merged = _product(tuple(size for size in factors if size is not UNKNOWN and size is not UNDEFINED))
    if UNDEFINED in factors:
        merged = UNDEFINED  # Keras: a product with an open size is open
    elif UNKNOWN in factors and type(merged) is int and merged > 1:
        merged = multiply(merged, unknown_positive())  # a multiple of the sizes that are known
    elif UNKNOWN in factors:
        merged = UNKNOWN
    dims = tensor.dims[:first] + (merged,) + tensor.dims[last + 1:]
    text = " × ".join(describe(size) for size in factors) if len(factors) > 1 and merged is not UNKNOWN else None
    note = (first - len(dims), text) if text else None
    return Tensor(len(dims), dims, tensor.origin, note=note, rank_certain=tensor.rank_certain)


def _flatten(layer: Layer, tensor: Tensor) -> Tuple[Tensor, List[Check]]:
    # Keras's Flatten has no range: it keeps the batch axis and merges the rest.
    return flatten(tensor, layer.arguments.get("start_dim", 1), layer.arguments.get("end_dim", -1)), []


def shape_of(value: Any) -> Optional[Tuple[Any, ...]]:
    """A shape written as a tuple or list of sizes, each an int, a symbol or None (left open)."""
    if isinstance(value, ListValue):
        if not value.complete:
            return None
        value = tuple(value.items)
    if not isinstance(value, tuple):
        return None
    if not all(size is None or as_dim(size) is not None for size in value):
        return None
    return tuple(UNDEFINED if size is None else size for size in value)


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
    RECURRENT: _single_output,
    CONV_RECURRENT: _single_output,
    BIDIRECTIONAL: _single_output,
    TIME_DISTRIBUTED: _time_distributed,
    REPEAT_VECTOR: _repeat_vector,
    PERMUTE: _permute,
    RESAMPLE: _resample,
    PIXEL_SHUFFLE: _pixel_shuffle,
    PIXEL_UNSHUFFLE: _pixel_unshuffle,
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
        if isinstance(check, Check) and known.axis(check.axis) is UNKNOWN and as_dim(check.expected) is not None:
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
