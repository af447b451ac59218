"""Parameter counts of the frameworks that infer input sizes, from the shape each layer was built
with: Keras (``model.count_params()``) and Flax (the ``params`` collection of ``init``) create a
layer's weights for its first input, so a layer never called on an input of known size has no
count. Keras's non-trainable weights (BatchNormalization's moving statistics) are parameters in
its count, listed apart as non-trainable; Flax's batch statistics are another collection, not
parameters."""

from __future__ import annotations

from typing import Callable, Dict, Optional, Tuple

from convlint.analysis import flow
from convlint.analysis.objects import CONFLICTING_BUILDS, Layer, ListValue
from convlint.analysis.counts import Count, ints, known_int

NOT_BUILT = Count(None, "not built: never called on an input of known size")


def _input_size(layer: Layer, axis: int) -> Optional[int]:
    """The size of ``axis`` of the input ``layer`` was built with."""
    built = layer.built_with
    if built is None or built is CONFLICTING_BUILDS:
        return None
    return known_int(built.axis(axis))


def _channels(layer: Layer, steps: int = 0) -> Optional[int]:
    """The input channels of an image layer built on images of its rank (Flax takes any number
    of leading batch axes; a Keras ConvLSTM a time axis after the batch: ``steps=1``)."""
    rank, axis, built = flow.spatial_rank(layer), flow.weights_axis(layer), layer.built_with
    if rank is None or axis is None or built is None or built.rank is None:
        return None
    if built.rank != rank + 2 + steps and not (layer.spec.framework == "flax" and built.rank > rank + 1):
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


def _conv_lstm(layer: Layer) -> Count:
    """Keras's ConvLSTM: for each of 4 gates, a kernel over the input's channels and one over
    the state's ``filters``, and a bias."""
    cin, kernel, filters = _channels(layer, steps=1), _kernel(layer), known_int(layer.argument("filters"))
    if cin is None or kernel is None or filters is None:
        return NOT_BUILT if cin is None else Count(None, "filters or kernel_size not known")
    return _bias(layer, 4 * filters * _area(kernel[0]) * (cin + filters),
                 f"4·{filters}·{kernel[1]}·({cin}+{filters})", 4 * filters)


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


def _wrapped(layer: Layer, name: str = "layer") -> Count:
    """The count of a layer a Keras wrapper holds (argument ``name``), built as the wrapper
    builds it."""
    if layer.built_with is None or layer.built_with.rank is None:
        return NOT_BUILT
    inner = flow.wrapped_build(layer, name)
    if inner is None:
        return Count(None, f"the wrapped {name} is not known")
    if inner.spec.parameters == "none":
        return Count(0, "no parameters")
    formula = FORMULAS.get(inner.spec.parameters or "")
    return formula(inner) if formula is not None else Count(None, f"convlint has no formula for {inner.spec.name}")


def _terms(count: Count) -> str:
    """A count's formula without its total."""
    return count.formula.rpartition(" = ")[0] or count.formula


def _bidirectional(layer: Layer) -> Count:
    """A forward and a backward copy of the wrapped layer (or ``backward_layer``), each built
    for the wrapper's input."""
    forward = _wrapped(layer)
    backward = forward if layer.arguments.get("backward_layer") is None else _wrapped(layer, "backward_layer")
    if forward.params is None or backward.params is None:
        return forward if forward.params is None else backward
    total = forward.params + backward.params
    shown = f"2·({_terms(forward)})" if backward is forward else f"({_terms(forward)}) + ({_terms(backward)})"
    return Count(total, f"{shown} = {total:,}")


def _multi_head_attention(layer: Layer) -> Count:
    """Keras's ``MultiHeadAttention``: query, key and value projections to ``num_heads`` ×
    ``key_dim`` (the value's to ``value_dim``), a gate like the value's with ``use_gate``, and an
    output projection to ``output_shape`` (else the query's width), each with a bias."""
    query = _input_size(layer, -1)
    value, key = (layer.built_with_others.get(role) for role in ("value", "key"))
    sizes = [known_int(tensor.axis(-1)) if tensor is not None else None for tensor in (value, key)]
    heads, key_dim = known_int(layer.argument("num_heads")), known_int(layer.argument("key_dim"))
    value_dim = layer.argument("value_dim")
    value_dim = key_dim if value_dim is None else known_int(value_dim)
    out = _output_width(layer.argument("output_shape"), query)
    use_bias, gate = layer.argument("use_bias"), layer.argument("use_gate")
    if query is None or sizes[0] is None or sizes[1] is None:
        return NOT_BUILT
    if heads is None or key_dim is None or value_dim is None or out is None or use_bias not in (True, False) \
            or gate not in (True, False):
        return Count(None, "num_heads, key_dim, value_dim, output_shape, use_bias or use_gate not known")
    projections = [(query, key_dim), (sizes[1], key_dim), (sizes[0], value_dim)] + [(query, value_dim)] * gate
    weights = sum(width * heads * per_head for width, per_head in projections) + heads * value_dim * out
    biases = (sum(heads * per_head for _, per_head in projections) + out) if use_bias else 0
    shown = " + ".join([f"{width}·{heads}·{per_head}" for width, per_head in projections]
                       + [f"{heads}·{value_dim}·{out}"] + ([f"{biases}"] if biases else []))
    return Count(weights + biases, f"{shown} = {weights + biases:,}")


def _attention(layer: Layer) -> Count:
    """Keras's ``Attention``: a scalar scale with ``use_scale``, and a scalar weight for
    ``score_mode="concat"``; created when it is built."""
    scale, mode = layer.argument("use_scale"), layer.argument("score_mode")
    if layer.built_with is None:
        return NOT_BUILT
    if scale not in (True, False) or mode not in ("dot", "concat"):
        return Count(None, "use_scale or score_mode not known")
    names = [name for name, on in (("a scale", scale), ("a concat score weight", mode == "concat")) if on]
    return Count(len(names), " + ".join(names) + f" = {len(names)}" if names else "no parameters")


def _additive_attention(layer: Layer) -> Count:
    """Keras's ``AdditiveAttention``: with ``use_scale``, a scale per feature of the query."""
    scale, features = layer.argument("use_scale"), _input_size(layer, -1)
    if scale is False:
        return Count(0, "no parameters (use_scale=False)")
    if scale is not True:
        return Count(None, "use_scale not known")
    return NOT_BUILT if features is None else Count(features, f"{features} scales = {features:,}")


def _output_width(shape: object, query: Optional[int]) -> Optional[int]:
    """The number of values ``MultiHeadAttention``'s output projection makes per position."""
    if isinstance(shape, ListValue) and shape.complete:
        shape = tuple(shape.items)
    if shape is None or shape == 0 or shape == ():
        return query
    sizes = ints(shape, len(shape) if isinstance(shape, tuple) else 1)
    return _area(sizes) if sizes is not None else None


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
    "keras_conv_lstm": _conv_lstm,
    "keras_bidirectional": _bidirectional,
    "keras_time_distributed": _wrapped,
    "keras_multi_head_attention": _multi_head_attention,
    "keras_attention": _attention,
    "keras_additive_attention": _additive_attention,
    "flax_conv": lambda layer: _conv(layer, groups_name="feature_group_count"),
    "flax_conv_transpose": _conv_transpose,
    "flax_dense": _dense,
    "flax_norm": _flax_norm,
    "flax_embedding": lambda layer: _embedding(layer, rows_name="num_embeddings"),
}
