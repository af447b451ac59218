"""Parameter counts, as PyTorch's ``sum(p.numel() for p in model.parameters())`` gives them.

Every count comes with the formula that gives it (``11·11·3·64 + 64 = 23,296``). A count is exact
or absent: a layer whose arguments are not all known, a layer convlint has no formula for, or
an attribute the analysis could not follow makes the model's total unknown, never approximate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

from convlint.analysis.objects import (
    UNKNOWN_ITEMS,
    BoundMethod,
    Builtin,
    ClassValue,
    Container,
    DictValue,
    External,
    FunctionValue,
    Instance,
    Layer,
    ListValue,
    ParameterValue,
    Partial,
    Tensor,
)
from convlint.analysis.counts import Count, ints, known_int
from convlint.analysis.flax_api import is_flax_class, uses_compact
from convlint.analysis.keras_api import is_keras_class
from convlint.analysis.inferred_params import FORMULAS as INFERRED_FORMULAS
from convlint.analysis.values import UNKNOWN
from convlint.frameworks import keras as keras_catalog


@dataclass(frozen=True)
class LayerRow:
    path: str
    type_name: str
    layer: Optional[Layer]
    count: Count


@dataclass
class ModelCount:
    rows: List[LayerRow] = field(default_factory=list)
    #: What could not be counted, and why.
    unresolved: List[str] = field(default_factory=list)
    #: Parameters created with ``requires_grad=False``.
    frozen: int = 0

    @property
    def known(self) -> int:
        return sum(row.count.params or 0 for row in self.rows)

    @property
    def total(self) -> Optional[int]:
        return None if self.unresolved else self.known

    @property
    def trainable(self) -> Optional[int]:
        return None if self.unresolved else self.known - self.frozen


def _with_bias(weight: int, weight_formula: str, bias: Any, size: int) -> Count:
    if bias is False or bias is None:
        return Count(weight, f"{weight_formula} = {weight:,}")
    if bias is not True:
        return Count(None, "bias is not known")
    return Count(weight + size, f"{weight_formula} + {size} = {weight + size:,}")


def _convolution(transposed: bool) -> Callable[[Layer], Count]:
    def count(layer: Layer) -> Count:
        rank = layer.spec.spatial_rank or 0
        cin, cout, groups = (known_int(layer.argument(n)) for n in ("in_channels", "out_channels", "groups"))
        kernel = ints(layer.argument("kernel_size"), rank)
        if cin is None or cout is None or groups is None or kernel is None or groups <= 0:
            return Count(None, "channels, groups or kernel size not known")
        # PyTorch stores (out, in/groups, *k), or (in, out/groups, *k) for a transposed conv.
        grouped, other = (cout, cin) if transposed else (cin, cout)
        per_group = f"{grouped}/{groups}" if groups != 1 else f"{grouped}"
        weight = other * (grouped // groups)
        for size in kernel:
            weight *= size
        formula = "·".join(str(k) for k in kernel) + f"·{per_group}·{other}"
        return _with_bias(weight, formula, layer.argument("bias"), cout)

    return count


def _linear(layer: Layer) -> Count:
    cin, cout = known_int(layer.argument("in_features")), known_int(layer.argument("out_features"))
    if cin is None or cout is None:
        return Count(None, "features not known")
    return _with_bias(cin * cout, f"{cin}·{cout}", layer.argument("bias"), cout)


def _bilinear(layer: Layer) -> Count:
    first, second, out = (known_int(layer.argument(n)) for n in ("in1_features", "in2_features", "out_features"))
    if first is None or second is None or out is None:
        return Count(None, "features not known")
    return _with_bias(first * second * out, f"{first}·{second}·{out}", layer.argument("bias"), out)


def _affine(layer: Layer, size_name: str, flag: str) -> Count:
    size, affine = known_int(layer.argument(size_name)), layer.argument(flag)
    if affine is False:
        return Count(0, "no affine parameters (running statistics are buffers)")
    if affine is not True or size is None:
        return Count(None, f"{size_name} or {flag} not known")
    return Count(2 * size, f"{size} weights + {size} biases = {2 * size:,}")


def _layer_norm(layer: Layer) -> Count:
    shape = layer.argument("normalized_shape")
    if isinstance(shape, ListValue) and shape.complete:
        shape = tuple(shape.items)
    sizes = shape if isinstance(shape, tuple) else (shape,)
    affine, bias = layer.argument("elementwise_affine"), layer.argument("bias")
    if affine is False:
        return Count(0, "no elementwise affine parameters")
    if affine is not True or bias not in (True, False) or any(type(s) is not int for s in sizes):
        return Count(None, "normalized_shape, elementwise_affine or bias not known")
    size = 1
    for s in sizes:
        size *= s
    total = size * (2 if bias else 1)
    return Count(total, f"{size} weights" + (f" + {size} biases" if bias else "") + f" = {total:,}")


def _multihead_attention(layer: Layer) -> Count:
    embed = known_int(layer.argument("embed_dim"))
    kdim, vdim = layer.argument("kdim"), layer.argument("vdim")
    kdim = embed if kdim is None else known_int(kdim)
    vdim = embed if vdim is None else known_int(vdim)
    bias, bias_kv = layer.argument("bias"), layer.argument("add_bias_kv")
    if embed is None or kdim is None or vdim is None or bias not in (True, False) or bias_kv not in (True, False):
        return Count(None, "embed_dim, kdim, vdim, bias or add_bias_kv not known")
    projections = embed * (embed + kdim + vdim) + embed * embed
    biases = (4 * embed if bias else 0) + (2 * embed if bias_kv else 0)
    total = projections + biases
    formula = f"{embed}·({embed}+{kdim}+{vdim}) + {embed}·{embed}"
    formula += f" + {biases}" if biases else ""
    return Count(total, f"{formula} = {total:,}")


def _embedding(layer: Layer) -> Count:
    rows, width = known_int(layer.argument("num_embeddings")), known_int(layer.argument("embedding_dim"))
    if rows is None or width is None or layer.argument("_weight") is not None:
        return Count(None, "num_embeddings or embedding_dim not known, or a given _weight")
    return Count(rows * width, f"{rows}·{width} = {rows * width:,}")


def _recurrent(gates: int) -> Callable[[Layer], Count]:
    """PyTorch's RNN weights: per layer and direction, ``weight_ih`` (gates·H × input),
    ``weight_hh`` (gates·H × H, or × proj_size), two biases of gates·H, and LSTM's ``weight_hr``."""

    def count(layer: Layer) -> Count:
        size, hidden = known_int(layer.argument("input_size")), known_int(layer.argument("hidden_size"))
        layers = known_int(layer.argument("num_layers"))
        projection = known_int(layer.argument("proj_size")) if "proj_size" in layer.arguments else 0
        bias, bidirectional = layer.argument("bias"), layer.argument("bidirectional")
        if None in (size, hidden, layers, projection) or bias not in (True, False) or \
                bidirectional not in (True, False):
            return Count(None, "sizes, num_layers, bias or bidirectional not known")
        directions = 2 if bidirectional else 1
        output = projection or hidden
        total = 0
        for index in range(layers):
            width = size if index == 0 else output * directions
            per_direction = gates * hidden * (width + output) + (2 * gates * hidden if bias else 0)
            per_direction += projection * hidden
            total += directions * per_direction
        formula = f"{directions}·Σ over {layers} layers of {gates}·{hidden}·(input + {output})"
        formula += f" + 2·{gates}·{hidden}" if bias else ""
        formula += f" + {projection}·{hidden}" if projection else ""
        return Count(total, f"{formula} = {total:,}")

    return count


def _cell(gates: int) -> Callable[[Layer], Count]:
    def count(layer: Layer) -> Count:
        size, hidden, bias = known_int(layer.argument("input_size")), known_int(layer.argument("hidden_size")), \
            layer.argument("bias")
        if size is None or hidden is None or bias not in (True, False):
            return Count(None, "sizes or bias not known")
        weight = gates * hidden * (size + hidden)
        return _with_bias(weight, f"{gates}·{hidden}·({size}+{hidden})", bias, 2 * gates * hidden)

    return count


def _transformer_sizes(layer: Layer) -> Optional[Dict[str, Any]]:
    width, hidden, bias = known_int(layer.argument("d_model")), known_int(layer.argument("dim_feedforward")), \
        layer.argument("bias")
    if width is None or hidden is None or bias not in (True, False):
        return None
    return {"width": width, "hidden": hidden, "bias": bias}


def _block(width: int, hidden: int, bias: bool, attentions: int, norms: int) -> Count:
    """Self-attention (and cross-attention), two feed-forward Linears and the LayerNorms."""
    attention = 4 * width * width + (4 * width if bias else 0)
    feed_forward = 2 * width * hidden + ((hidden + width) if bias else 0)
    norm = (2 if bias else 1) * width
    total = attentions * attention + feed_forward + norms * norm
    return Count(total, f"{attentions}×attention {attention:,} + feed-forward {feed_forward:,} + "
                        f"{norms}×LayerNorm {norm:,} = {total:,}")


def _transformer_layer(attentions: int, norms: int) -> Callable[[Layer], Count]:
    def count(layer: Layer) -> Count:
        sizes = _transformer_sizes(layer)
        if sizes is None:
            return Count(None, "d_model, dim_feedforward or bias not known")
        return _block(**sizes, attentions=attentions, norms=norms)

    return count


def _transformer_stack(name: str) -> Callable[[Layer], Count]:
    """``TransformerEncoder(layer, n, norm)``: n deep copies of the layer, and the norm."""

    def count(layer: Layer) -> Count:
        stacked, layers, norm = layer.argument(name), known_int(layer.argument("num_layers")), layer.argument("norm")
        one = count_layer(stacked) if isinstance(stacked, Layer) else Count(None, "")
        final = Count(0, "") if norm is None else count_layer(norm) if isinstance(norm, Layer) else Count(None, "")
        if one.params is None or layers is None or final.params is None:
            return Count(None, f"{name}, num_layers or norm not known")
        total = layers * one.params + final.params
        return Count(total, f"{layers}×{one.params:,}" + (f" + norm {final.params:,}" if norm is not None else "")
                     + f" = {total:,}")

    return count


def _transformer(layer: Layer) -> Count:
    """``nn.Transformer``: its encoder and decoder stacks, each with a final LayerNorm."""
    sizes = _transformer_sizes(layer)
    encoders, decoders = known_int(layer.argument("num_encoder_layers")), known_int(layer.argument("num_decoder_layers"))
    custom = layer.argument("custom_encoder"), layer.argument("custom_decoder")
    if sizes is None or encoders is None or decoders is None or custom != (None, None):
        return Count(None, "d_model, dim_feedforward, bias or the layer counts not known, or a custom encoder")
    encoder, decoder = _block(**sizes, attentions=1, norms=2).params, _block(**sizes, attentions=2, norms=3).params
    norm = (2 if sizes["bias"] else 1) * sizes["width"]
    total = encoders * encoder + decoders * decoder + 2 * norm
    return Count(total, f"{encoders}×{encoder:,} + {decoders}×{decoder:,} + 2×LayerNorm {norm:,} = {total:,}")


def _prelu(layer: Layer) -> Count:
    size = known_int(layer.argument("num_parameters"))
    return Count(size, f"{size} slopes") if size is not None else Count(None, "num_parameters not known")


FORMULAS: Dict[str, Callable[[Layer], Count]] = {
    "conv": _convolution(transposed=False),
    "conv_transpose": _convolution(transposed=True),
    "linear": _linear,
    "bilinear": _bilinear,
    "norm": lambda layer: _affine(layer, "num_features", "affine"),
    "group_norm": lambda layer: _affine(layer, "num_channels", "affine"),
    "layer_norm": _layer_norm,
    "prelu": _prelu,
    "multihead_attention": _multihead_attention,
    "embedding": _embedding,
    "rnn": _recurrent(1),
    "gru": _recurrent(3),
    "lstm": _recurrent(4),
    "rnn_cell": _cell(1),
    "gru_cell": _cell(3),
    "lstm_cell": _cell(4),
    "transformer_encoder_layer": _transformer_layer(attentions=1, norms=2),
    "transformer_decoder_layer": _transformer_layer(attentions=2, norms=3),
    "transformer_encoder": _transformer_stack("encoder_layer"),
    "transformer_decoder": _transformer_stack("decoder_layer"),
    "transformer": _transformer,
    "none": lambda layer: Count(0, "no parameters"),
    **INFERRED_FORMULAS,
}


def count_layer(layer: Layer) -> Count:
    if layer.altered:
        return Count(None, "its attributes are reassigned after it is built (tied or replaced weights)")
    formula = FORMULAS.get(layer.spec.parameters or "")
    if formula is None:
        return Count(None, f"convlint has no parameter formula for {layer.spec.name}")
    return formula(layer)


#: Torch bases that create no parameters of their own.
_PLAIN_BASES = frozenset({"torch.nn.Module", "torch.nn.modules.module.Module", "torch.nn.Sequential",
                          "torch.nn.ModuleList", "torch.nn.ModuleDict"})


def is_torch_module(instance: Instance) -> Optional[bool]:
    """Whether the instance's class derives from ``nn.Module``, or from a Keras layer or model
    (None: cannot tell)."""
    bases = instance.klass.external_bases()
    if any(isinstance(base, External) and base.qualname.startswith("torch.nn.") for base in bases):
        return True
    if is_keras_class(instance.klass) or is_flax_class(instance.klass):
        return True
    if all(isinstance(base, External) or isinstance(base, Builtin) for base in bases):
        return False
    return None


def _unseen_torch_base(instance: Instance) -> Optional[str]:
    """A torch base class whose own ``__init__`` may create parameters convlint did not see."""
    for base in instance.klass.external_bases():
        if isinstance(base, External) and base.qualname.startswith("torch.") and base.qualname not in _PLAIN_BASES:
            if instance.base_layer is None:
                return base.qualname
    return None


#: Attribute values that are not registered as submodules or parameters.
_NOT_MODULES = (int, float, str, bool, bytes, type(None), tuple, ListValue, DictValue, Tensor, External,
                FunctionValue, BoundMethod, ClassValue, Builtin, Partial)


def count_model(model: Any) -> ModelCount:
    """Walk the registered submodules of ``model`` as ``model.named_modules()`` would."""
    result = ModelCount()
    seen: set = set()
    _walk(model, "", result, seen)
    return result


def _walk(value: Any, path: str, result: ModelCount, seen: set) -> None:
    if id(value) in seen:
        return  # PyTorch counts a shared module's parameters once
    seen.add(id(value))
    if isinstance(value, Layer):
        shared = _shared_held_layer(value, seen)
        count = count_layer(value) if shared is None else Count(None, shared)
        result.rows.append(LayerRow(path or "(model)", value.spec.name, value, count))
        result.frozen += result.rows[-1].count.frozen
        if result.rows[-1].count.params is None:
            result.unresolved.append(f"{path or '(model)'} ({value.spec.name}): {result.rows[-1].count.formula}")
        return
    if isinstance(value, Container):
        _walk_children(value, path, result, seen)
        return
    if isinstance(value, Instance):
        module = is_torch_module(value)
        unseen = _unseen_torch_base(value)
        if module is None or unseen is not None:
            base = unseen or "a class convlint cannot see"
            result.unresolved.append(f"{path or '(model)'}: {value.klass.name} derives from {base}")
            return
        if value.base_layer is not None:
            layer = value.base_layer
            count = count_layer(layer)
            result.rows.append(LayerRow(path or "(model)", f"{value.klass.name}({layer.spec.name})", layer, count))
            if count.params is None:
                result.unresolved.append(f"{path or '(model)'} ({value.klass.name}): {count.formula}")
        for name, attribute in value.attributes.items():
            if is_flax_class(value.klass):
                _walk_flax_attribute(attribute, _join(path, name), result, seen)
            else:
                _walk_attribute(attribute, _join(path, name), result, seen)
        if value.container is not None:
            _walk_children(value.container, path, result, seen)
        if uses_compact(value.klass):
            _walk_compact(value, path, result, seen)
        return
    result.unresolved.append(f"{path or '(model)'}: not a model convlint can follow")


def _shared_held_layer(wrapper: Layer, seen: set) -> Optional[str]:
    """A Keras wrapper counts the layer it holds (``TimeDistributed(dense)``), which is then not
    counted again on its own; if it already was, why the wrapper's count is left out."""
    names = keras_catalog.OWNED_LAYERS.get(wrapper.spec.name, ()) if wrapper.spec.framework == "keras" else ()
    problem = None
    for name in names:
        held = wrapper.arguments.get(name)
        if isinstance(held, Layer):
            if id(held) in seen:
                problem = f"its {held.spec.name} is also a layer of the model, whose weights Keras counts once"
            seen.add(id(held))
    return problem


def _walk_flax_attribute(value: Any, path: str, result: ModelCount, seen: set) -> None:
    """Flax registers the modules in lists, tuples and dicts assigned in ``setup`` too
    (``self.layers = [nn.Dense(w) for w in self.features]`` is ``layers_0``, ``layers_1`` ...)."""
    items: Any = None
    if isinstance(value, (ListValue, tuple)):
        items = value.items if isinstance(value, ListValue) else list(value)
        if UNKNOWN_ITEMS in items:
            result.unresolved.append(f"{path}: items convlint could not follow")
            return
        items = [(str(index), item) for index, item in enumerate(items)]
    elif isinstance(value, DictValue):
        if not value.complete:
            result.unresolved.append(f"{path}: items convlint could not follow")
            return
        items = [(str(key), item) for key, item in value.items.items()]
    if items is None:
        _walk_attribute(value, path, result, seen)
        return
    for name, item in items:
        _walk_flax_attribute(item, f"{path}_{name}", result, seen)


def _walk_compact(module: Instance, path: str, result: ModelCount, seen: set) -> None:
    """The layers a Flax ``@nn.compact`` ``__call__`` creates, named as Flax names them."""
    if module.compact_layers is None:
        result.unresolved.append(f"{path or '(model)'}: its @nn.compact __call__ never ran along one path")
        return
    counters: Dict[str, int] = {}
    for layer in module.compact_layers.values():
        index = counters.get(layer.spec.name, 0)
        counters[layer.spec.name] = index + 1
        _walk(layer, _join(path, f"{layer.spec.name}_{index}"), result, seen)


def _walk_children(container: Container, path: str, result: ModelCount, seen: set) -> None:
    for index, (name, child) in enumerate(container.children):
        if child is UNKNOWN_ITEMS or child is UNKNOWN:
            result.unresolved.append(f"{path or '(model)'}: children that were not followed")
            continue
        if isinstance(child, Tensor):
            continue  # a Keras Sequential's keras.Input: a placeholder, not a layer
        _walk(child, _join(path, name if isinstance(name, str) else str(index)), result, seen)


def _walk_attribute(value: Any, path: str, result: ModelCount, seen: set) -> None:
    if isinstance(value, ParameterValue):
        _count_parameter(value, path, result, seen)
    elif isinstance(value, (Layer, Container)):
        _walk(value, path, result, seen)
    elif isinstance(value, Instance):
        if is_torch_module(value) is not False:
            _walk(value, path, result, seen)
    elif value is UNKNOWN:
        result.unresolved.append(f"{path}: a value convlint could not follow (it may hold parameters)")
    elif not isinstance(value, _NOT_MODULES):
        result.unresolved.append(f"{path}: a value convlint could not follow (it may hold parameters)")


def _count_parameter(value: ParameterValue, path: str, result: ModelCount, seen: set) -> None:
    if id(value) in seen:
        return
    seen.add(id(value))
    sizes: Sequence[Any] = value.shape or ()
    if value.shape is None or any(type(s) is not int for s in sizes) or value.requires_grad not in (True, False):
        result.unresolved.append(f"{path}: a parameter of unknown shape")
        return
    size = 1
    for s in sizes:
        size *= s
    formula = "·".join(str(s) for s in sizes) + f" = {size:,}"
    result.rows.append(LayerRow(path, "Parameter", None, Count(size, formula)))
    if value.requires_grad is False:
        result.frozen += size


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
