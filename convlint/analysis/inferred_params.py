"""Parameter counts of the frameworks that infer input sizes, from the shape each layer was built
with: Keras (``model.count_params()``) and Flax (the ``params`` collection of ``init``) create a
layer's weights for its first input, so a layer never called on an input of known size has no
count. Keras's non-trainable weights (BatchNormalization's moving statistics) are parameters in
its count, listed apart as non-trainable; Flax's batch statistics are another collection, not
parameters."""

from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

from convlint.analysis import flow
from convlint.analysis.objects import CONFLICTING_BUILDS, Layer
from convlint.analysis.counts import Count, ints, known_int

NOT_BUILT = Count(None, "not built: never called on an input of known size")


def _input_size(layer: Layer, axis: int) -> Optional[int]:
    """The size of ``axis`` of the input ``layer`` was built with."""
    built = layer.built_with
    if built is None or built is CONFLICTING_BUILDS:
        return None
    return known_int(built.axis(axis))


def _channels(layer: Layer) -> Optional[int]:
    """The input channels of an image layer built on images of its rank (Flax takes any number
    of leading batch axes)."""
    rank, axis, built = flow.spatial_rank(layer), flow.weights_axis(layer), layer.built_with
    if rank is None or axis is None or built is None or built.rank is None:
        return None
    if built.rank != rank + 2 and not (layer.spec.framework == "flax" and built.rank > rank + 1):
        return None
    return _input_size(layer, axis)


def _bias(layer: Layer, weight: int, formula: str, size: int, frozen: int = 0) -> Count:
    use_bias = layer.argument("use_bias")
    if use_bias not in (True, False):
        return Count(None, "use_bias is not known")
    total = weight + (size if use_bias else 0)
    shown = f"{formula} + {size}" if use_bias else formula
    return Count(total, f"{shown} = {total:,}", frozen)


def _kernel(layer: Layer) -> Optional[Tuple[Tuple[int, ...], str]]:
    kernel = ints(layer.argument("kernel_size"), flow.spatial_rank(layer) or 0)
    return (kernel, "·".join(map(str, kernel))) if kernel is not None else None


def _area(kernel: Tuple[int, ...]) -> int:
    area = 1
    for size in kernel:
        area *= size
    return area


def _conv(layer: Layer, groups_name: str = "groups") -> Count:
    cin, kernel = _channels(layer), _kernel(layer)
    filters, groups = known_int(layer.argument(layer.spec.out_param)), known_int(layer.argument(groups_name))
    if cin is None or kernel is None or filters is None or groups is None or groups <= 0:
        return NOT_BUILT if cin is None else Count(None, "filters, groups or kernel_size not known")
    per_group = f"{cin}/{groups}" if groups != 1 else f"{cin}"
    return _bias(layer, _area(kernel[0]) * (cin // groups) * filters, f"{kernel[1]}·{per_group}·{filters}", filters)


def _conv_transpose(layer: Layer) -> Count:
    cin, kernel, filters = _channels(layer), _kernel(layer), known_int(layer.argument(layer.spec.out_param))
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
    features, units = _input_size(layer, -1), known_int(layer.argument(layer.spec.out_param))
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


def _embedding(layer: Layer, rows_name: str = "input_dim") -> Count:
    rows, width = known_int(layer.argument(rows_name)), known_int(layer.argument(layer.spec.out_param))
    if rows is None or width is None:
        return Count(None, "the table's size not known")
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


def _flax_norm(layer: Layer) -> Count:
    """Flax's BatchNorm, LayerNorm and GroupNorm: a scale and a bias per feature (last axis)."""
    features = _input_size(layer, -1)
    scale, bias = layer.argument("use_scale"), layer.argument("use_bias")
    axis = layer.arguments.get("axis", -1)
    feature_axes = layer.arguments.get("feature_axes", -1)
    if features is None or scale not in (True, False) or bias not in (True, False) or axis != -1 \
            or feature_axes != -1:
        return NOT_BUILT if layer.built_with is None else Count(None, "axes, use_scale or use_bias not known")
    parts = [f"{features} {name}" for name, on in (("scales", scale), ("biases", bias)) if on]
    total = features * (int(scale) + int(bias))
    return Count(total, " + ".join(parts or ["nothing"]) + f" = {total:,}")


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
    "flax_conv": lambda layer: _conv(layer, groups_name="feature_group_count"),
    "flax_conv_transpose": _conv_transpose,
    "flax_dense": _dense,
    "flax_norm": _flax_norm,
    "flax_embedding": lambda layer: _embedding(layer, rows_name="num_embeddings"),
}
