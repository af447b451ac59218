"""Parameter counts as Keras gives them (``model.count_params()``), from the shape each layer was
built with: Keras creates a layer's weights for its first input, so a layer that was never called
on a tensor of known size has no count. Non-trainable weights (BatchNormalization's moving
statistics) are parameters in Keras's count, listed apart as non-trainable."""

from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

from convlint.analysis import flow
from convlint.analysis.keras_api import CONFLICTING_BUILDS
from convlint.analysis.objects import Layer
from convlint.analysis.counts import Count, ints, known_int

NOT_BUILT = Count(None, "not built: never called on an input of known size")


def _input_size(layer: Layer, axis: int) -> Optional[int]:
    """The size of ``axis`` of the input ``layer`` was built with."""
    built = layer.built_with
    if built is None or built is CONFLICTING_BUILDS:
        return None
    return known_int(built.axis(axis))


def _channels(layer: Layer) -> Optional[int]:
    """The input channels of an image layer built on images of its rank."""
    rank = layer.spec.spatial_rank or 0
    axes = flow.image_axes(layer, rank)
    if axes is None or layer.built_with is None or layer.built_with.rank != rank + 2:
        return None
    return _input_size(layer, axes[0])


def _bias(layer: Layer, weight: int, formula: str, size: int, frozen: int = 0) -> Count:
    use_bias = layer.argument("use_bias")
    if use_bias not in (True, False):
        return Count(None, "use_bias is not known")
    total = weight + (size if use_bias else 0)
    shown = f"{formula} + {size}" if use_bias else formula
    return Count(total, f"{shown} = {total:,}", frozen)


def _kernel(layer: Layer) -> Optional[Tuple[Tuple[int, ...], str]]:
    kernel = ints(layer.argument("kernel_size"), layer.spec.spatial_rank or 0)
    return (kernel, "·".join(map(str, kernel))) if kernel is not None else None


def _area(kernel: Tuple[int, ...]) -> int:
    area = 1
    for size in kernel:
        area *= size
    return area


def _conv(layer: Layer) -> Count:
    cin, kernel = _channels(layer), _kernel(layer)
    filters, groups = known_int(layer.argument("filters")), known_int(layer.argument("groups"))
    if cin is None or kernel is None or filters is None or groups is None or groups <= 0:
        return NOT_BUILT if cin is None else Count(None, "filters, groups or kernel_size not known")
    per_group = f"{cin}/{groups}" if groups != 1 else f"{cin}"
    return _bias(layer, _area(kernel[0]) * (cin // groups) * filters, f"{kernel[1]}·{per_group}·{filters}", filters)


def _conv_transpose(layer: Layer) -> Count:
    cin, kernel, filters = _channels(layer), _kernel(layer), known_int(layer.argument("filters"))
    if cin is None or kernel is None or filters is None:
        return NOT_BUILT if cin is None else Count(None, "filters or kernel_size not known")
    return _bias(layer, _area(kernel[0]) * filters * cin, f"{kernel[1]}·{filters}·{cin}", filters)


def _depthwise(layer: Layer) -> Count:
    cin, kernel, multiplier = _channels(layer), _kernel(layer), known_int(layer.argument("depth_multiplier"))
    if cin is None or kernel is None or multiplier is None:
        return NOT_BUILT if cin is None else Count(None, "depth_multiplier or kernel_size not known")
    return _bias(layer, _area(kernel[0]) * cin * multiplier, f"{kernel[1]}·{cin}·{multiplier}", cin * multiplier)


def _separable(layer: Layer) -> Count:
    cin, kernel = _channels(layer), _kernel(layer)
    multiplier, filters = known_int(layer.argument("depth_multiplier")), known_int(layer.argument("filters"))
    if cin is None or kernel is None or multiplier is None or filters is None:
        return NOT_BUILT if cin is None else Count(None, "filters, depth_multiplier or kernel_size not known")
    depthwise = _area(kernel[0]) * cin * multiplier
    pointwise = cin * multiplier * filters
    return _bias(layer, depthwise + pointwise, f"{kernel[1]}·{cin}·{multiplier} + {cin * multiplier}·{filters}",
                 filters)


def _dense(layer: Layer) -> Count:
    features, units = _input_size(layer, -1), known_int(layer.argument("units"))
    if features is None or units is None:
        return NOT_BUILT if features is None else Count(None, "units not known")
    return _bias(layer, features * units, f"{features}·{units}", units)


def _normalized(layer: Layer) -> Optional[int]:
    axis = layer.argument("axis")
    return _input_size(layer, axis) if type(axis) is int else None


def _scale_and_center(layer: Layer, moving_statistics: bool) -> Count:
    size = _normalized(layer)
    center, scale = layer.argument("center"), layer.argument("scale")
    if size is None or center not in (True, False) or scale not in (True, False):
        return NOT_BUILT if layer.built_with is None else Count(None, "axis, center or scale not known")
    parts = [f"{size} {name}" for name, on in (("gammas", scale), ("betas", center)) if on]
    trainable = size * (int(scale) + int(center))
    frozen = 2 * size if moving_statistics else 0
    if moving_statistics:
        parts.append(f"{2 * size} moving statistics (non-trainable)")
    return Count(trainable + frozen, " + ".join(parts or ["nothing"]) + f" = {trainable + frozen:,}", frozen)


def _embedding(layer: Layer) -> Count:
    rows, width = known_int(layer.argument("input_dim")), known_int(layer.argument("output_dim"))
    if rows is None or width is None:
        return Count(None, "input_dim or output_dim not known")
    return Count(rows * width, f"{rows}·{width} = {rows * width:,}")


def _recurrent(gates: int, biases: Callable[[Layer], Optional[int]]) -> Callable[[Layer], Count]:
    """A kernel (features × gates·units), a recurrent kernel (units × gates·units) and biases."""

    def count(layer: Layer) -> Count:
        features, units = _input_size(layer, -1), known_int(layer.argument("units"))
        if features is None or units is None:
            return NOT_BUILT if features is None else Count(None, "units not known")
        per_gate = biases(layer)
        if per_gate is None or layer.argument("use_bias") not in (True, False):
            return Count(None, "use_bias or reset_after not known")
        bias = gates * units * per_gate if layer.argument("use_bias") else 0
        total = gates * units * (features + units) + bias
        formula = f"{gates}·{units}·({features}+{units})" + (f" + {bias}" if bias else "")
        return Count(total, f"{formula} = {total:,}")

    return count


def _gru_biases(layer: Layer) -> Optional[int]:
    reset_after = layer.arguments.get("reset_after", True)
    return (2 if reset_after else 1) if reset_after in (True, False) else None


def _prelu(layer: Layer) -> Count:
    built = layer.built_with
    if built is None or built is CONFLICTING_BUILDS or built.rank is None:
        return NOT_BUILT
    if layer.argument("shared_axes") is not None:
        return Count(None, "shared_axes are not counted by convlint")
    sizes = [known_int(size) for size in built.dims[1:]]
    if any(size is None for size in sizes):
        return Count(None, "an input size is not known")
    total = _area(tuple(size for size in sizes if size is not None))
    return Count(total, "·".join(map(str, sizes)) + f" slopes = {total:,}")


FORMULAS: Dict[str, Callable[[Layer], Count]] = {
    "keras_conv": _conv,
    "keras_conv_transpose": _conv_transpose,
    "keras_depthwise_conv": _depthwise,
    "keras_separable_conv": _separable,
    "keras_dense": _dense,
    "keras_batch_norm": lambda layer: _scale_and_center(layer, moving_statistics=True),
    "keras_layer_norm": lambda layer: _scale_and_center(layer, moving_statistics=False),
    "keras_embedding": _embedding,
    "keras_lstm": _recurrent(4, lambda layer: 1),
    "keras_gru": _recurrent(3, _gru_biases),
    "keras_simple_rnn": _recurrent(1, lambda layer: 1),
    "keras_prelu": _prelu,
}
