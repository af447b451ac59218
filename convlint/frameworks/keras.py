"""Keras 3's layers as data: constructor signatures (keras 3.x) and how shapes flow through them.

Keras infers every input size from the first tensor a layer is called on, so no argument can
disagree with the channels it receives; what can go wrong is the shape: a ``Conv2D`` after a
``Flatten``, an ``add`` of tensors of different widths. Images are channels-last unless a layer's
``data_format`` says ``"channels_first"`` (Keras's default, unless ``~/.keras/keras.json`` was
changed; a ``data_format`` the analysis cannot read makes the output unknown).

Keras's own modules are reached under several names (``keras.layers``, ``tf.keras.layers``,
``keras.src.layers.convolutional.conv2d``, ``tf_keras``); ``canonical`` maps them to one.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

from convlint.frameworks.catalog import (
    QUERY_VALUE_ATTENTION,
    BIDIRECTIONAL,
    CONCATENATE,
    CONV,
    CONV_RECURRENT,
    EMBEDDING,
    FLATTEN,
    GLOBAL_POOL,
    INPUT,
    KEYWORD_ONLY,
    LINEAR,
    MERGE,
    MULTI_HEAD_ATTENTION,
    OPAQUE,
    PASS_THROUGH,
    PERMUTE,
    POOL,
    RECURRENT,
    REPEAT_VECTOR,
    REQUIRED,
    RESHAPE,
    SPATIAL,
    TIME_DISTRIBUTED,
    LayerSpec,
)

#: Arguments every Keras layer takes through ``**kwargs``, after the ones the table lists: the
#: positional parameters a table leaves out (initializers, regularizers) are not bound.
_BASE = (KEYWORD_ONLY, ("name", None), ("dtype", None), ("trainable", True), ("input_shape", None),
         ("input_dim", None))
_CONV_WINDOW = ("kernel_size", "strides", "padding", "dilation_rate")
_POOL_WINDOW = ("pool_size", "strides", "padding", None)
_BIAS_AND_REST = (("activation", None), ("use_bias", True))
# Keras refuses these when they are not positive (``ValueError: ... expected a positive integer``).
_CONV_POSITIVE = ("filters", "kernel_size", "strides", "dilation_rate", "groups")


def _spec(name: str, signature: Tuple[Tuple[str, object], ...], kind: str, **options: object) -> LayerSpec:
    base = _BASE[1:] if KEYWORD_ONLY in signature else _BASE
    return LayerSpec(name, signature + base, kind, framework="keras", **options)  # type: ignore[arg-type]


def _conv_family() -> Dict[str, LayerSpec]:
    specs = {}
    for rank in (1, 2, 3):
        ranks = (rank + 2,)
        window = (("strides", 1), ("padding", "valid"))
        specs[f"Conv{rank}D"] = _spec(
            f"Conv{rank}D",
            (("filters", REQUIRED), ("kernel_size", REQUIRED)) + window
            + (("data_format", None), ("dilation_rate", 1), ("groups", 1)) + _BIAS_AND_REST,
            CONV, spatial_rank=rank, out_param="filters", positive_params=_CONV_POSITIVE, parameters="keras_conv",
            ranks=ranks, channels_last=True, window=_CONV_WINDOW, built_on_call=True,
            divisible=(("filters", "groups"),),
        )
        specs[f"Conv{rank}DTranspose"] = _spec(
            f"Conv{rank}DTranspose",
            (("filters", REQUIRED), ("kernel_size", REQUIRED)) + window
            + (("output_padding", None), ("data_format", None), ("dilation_rate", 1)) + _BIAS_AND_REST,
            # The output size of a Keras transposed conv has its own formula: not modelled.
            OPAQUE, spatial_rank=rank, out_param="filters", positive_params=_CONV_POSITIVE[:-1],
            parameters="keras_conv_transpose", ranks=ranks, channels_last=True, window=_CONV_WINDOW,
            built_on_call=True,
        )
        specs[f"DepthwiseConv{rank}D"] = _spec(
            f"DepthwiseConv{rank}D",
            (("kernel_size", REQUIRED),) + window
            + (("depth_multiplier", 1), ("data_format", None), ("dilation_rate", 1)) + _BIAS_AND_REST,
            CONV, spatial_rank=rank, positive_params=("kernel_size", "strides", "depth_multiplier"),
            parameters="keras_depthwise_conv", ranks=ranks, channels_last=True, window=_CONV_WINDOW,
            channel_multiplier="depth_multiplier", built_on_call=True,
        )
        if rank < 3:
            specs[f"SeparableConv{rank}D"] = _spec(
                f"SeparableConv{rank}D",
                (("filters", REQUIRED), ("kernel_size", REQUIRED)) + window
                + (("data_format", None), ("dilation_rate", 1), ("depth_multiplier", 1)) + _BIAS_AND_REST,
                CONV, spatial_rank=rank, out_param="filters", positive_params=_CONV_POSITIVE[:-1],
                parameters="keras_separable_conv", ranks=ranks, channels_last=True, window=_CONV_WINDOW,
                built_on_call=True,
            )
        specs[f"ConvLSTM{rank}D"] = _spec(
            f"ConvLSTM{rank}D",
            (("filters", REQUIRED), ("kernel_size", REQUIRED)) + window
            + (("data_format", None), ("dilation_rate", 1), ("activation", "tanh"),
               ("recurrent_activation", "sigmoid"), ("use_bias", True)) + _RETURNS,
            CONV_RECURRENT, spatial_rank=rank, out_param="filters", positive_params=_CONV_POSITIVE[:-1],
            parameters="keras_conv_lstm", ranks=(rank + 3,), channels_last=True, window=_CONV_WINDOW,
            built_on_call=True,
        )
        pool = (("pool_size", 2), ("strides", None), ("padding", "valid"), ("data_format", None))
        for name in (f"MaxPooling{rank}D", f"AveragePooling{rank}D"):
            specs[name] = _spec(name, pool, POOL, spatial_rank=rank, parameters="none", ranks=ranks,
                                channels_last=True, window=_POOL_WINDOW)
        for name in (f"GlobalAveragePooling{rank}D", f"GlobalMaxPooling{rank}D"):
            specs[name] = _spec(name, (("data_format", None), ("keepdims", False)), GLOBAL_POOL,
                                spatial_rank=rank, parameters="none", ranks=ranks, channels_last=True)
        for name in (f"ZeroPadding{rank}D", f"UpSampling{rank}D", f"Cropping{rank}D"):
            specs[name] = _spec(name, (), SPATIAL, spatial_rank=rank, parameters="none", ranks=ranks,
                                channels_last=True)
    # Keras 2 names that Keras 3 still exports.
    for short, long in (("MaxPool", "MaxPooling"), ("AvgPool", "AveragePooling")):
        for rank in (1, 2, 3):
            specs[f"{short}{rank}D"] = specs[f"{long}{rank}D"]
    return specs


_NORMALIZATION = (("axis", -1), ("momentum", 0.99), ("epsilon", 0.001), ("center", True), ("scale", True))
_RECURRENT = (("units", REQUIRED), ("activation", "tanh"))
#: What recurrent layers take by keyword: what they return.
_RETURNS = (KEYWORD_ONLY, ("return_sequences", False), ("return_state", False))

_OTHERS: Dict[str, LayerSpec] = {
    "Dense": _spec("Dense", (("units", REQUIRED),) + _BIAS_AND_REST, LINEAR, out_param="units",
                   positive_params=("units",), parameters="keras_dense", built_on_call=True),
    "BatchNormalization": _spec("BatchNormalization", _NORMALIZATION, PASS_THROUGH,
                                parameters="keras_batch_norm", built_on_call=True),
    "LayerNormalization": _spec("LayerNormalization", _NORMALIZATION[:1] + _NORMALIZATION[2:], PASS_THROUGH,
                                parameters="keras_layer_norm", built_on_call=True),
    "GroupNormalization": _spec("GroupNormalization", (("groups", 32),) + _NORMALIZATION[:1] + _NORMALIZATION[2:],
                                PASS_THROUGH, parameters="keras_layer_norm", built_on_call=True),
    "Flatten": _spec("Flatten", (("data_format", None),), FLATTEN, parameters="none"),
    "Reshape": _spec("Reshape", (("target_shape", REQUIRED),), RESHAPE, parameters="none"),
    "InputLayer": _spec("InputLayer", (("shape", None), ("batch_size", None), ("dtype", None), ("sparse", None),
                                       ("ragged", None), ("batch_shape", None)), INPUT, parameters="none"),
    "Concatenate": _spec("Concatenate", (("axis", -1),), CONCATENATE, parameters="none"),
    "Embedding": _spec("Embedding", (("input_dim", REQUIRED), ("output_dim", REQUIRED)), EMBEDDING,
                       out_param="output_dim", positive_params=("input_dim", "output_dim"),
                       parameters="keras_embedding"),
    "LSTM": _spec("LSTM", _RECURRENT + (("recurrent_activation", "sigmoid"), ("use_bias", True)) + _RETURNS, RECURRENT,
                  out_param="units", positive_params=("units",), parameters="keras_lstm", ranks=(3,),
                  built_on_call=True),
    "GRU": _spec("GRU", _RECURRENT + (("recurrent_activation", "sigmoid"), ("use_bias", True)) + _RETURNS
                 + (("reset_after", True),), RECURRENT,
                 out_param="units", positive_params=("units",), parameters="keras_gru", ranks=(3,),
                 built_on_call=True),
    "SimpleRNN": _spec("SimpleRNN", _RECURRENT + (("use_bias", True),) + _RETURNS, RECURRENT, out_param="units",
                       positive_params=("units",), parameters="keras_simple_rnn", ranks=(3,), built_on_call=True),
    # Bidirectional builds two copies of the layer it wraps (one per direction) for its own input;
    # the instance passed in is never built. TimeDistributed builds that instance for one step.
    "Bidirectional": _spec("Bidirectional", (("layer", REQUIRED), ("merge_mode", "concat"), ("weights", None),
                                             ("backward_layer", None)), BIDIRECTIONAL,
                           parameters="keras_bidirectional", built_on_call=True),
    "TimeDistributed": _spec("TimeDistributed", (("layer", REQUIRED),), TIME_DISTRIBUTED,
                             parameters="keras_time_distributed", built_on_call=True),
    # Called as ``mha(query, value, key=None)``; built from the three shapes (``Layer.built_with``).
    "MultiHeadAttention": _spec("MultiHeadAttention", (
        ("num_heads", REQUIRED), ("key_dim", REQUIRED), ("value_dim", None), ("dropout", 0.0), ("use_bias", True),
        ("output_shape", None), ("attention_axes", None), KEYWORD_ONLY, ("use_gate", False)),
        MULTI_HEAD_ATTENTION, positive_params=("num_heads", "key_dim", "value_dim"), parameters="keras_multi_head_attention",
        built_on_call=True),
    "RepeatVector": _spec("RepeatVector", (("n", REQUIRED),), REPEAT_VECTOR, parameters="none", ranks=(2,)),
    "Permute": _spec("Permute", (("dims", REQUIRED),), PERMUTE, parameters="none"),
    # Called on [query, value] or [query, value, key]; a scalar scale (or one per query feature).
    "Attention": _spec("Attention", (("use_scale", False), ("score_mode", "dot"), ("dropout", 0.0)), QUERY_VALUE_ATTENTION,
                       parameters="keras_attention", built_on_call=True),
    "AdditiveAttention": _spec("AdditiveAttention", (("use_scale", True), ("dropout", 0.0)), QUERY_VALUE_ATTENTION,
                               parameters="keras_additive_attention", built_on_call=True),
    # Keras's PReLU learns a slope per input element (minus shared axes): counted from the input.
    "PReLU": _spec("PReLU", (("alpha_initializer", "Zeros"), ("alpha_regularizer", None),
                             ("alpha_constraint", None), ("shared_axes", None)), PASS_THROUGH,
                   parameters="keras_prelu", built_on_call=True),
}

#: The states a recurrent layer built with ``return_state=True`` returns after its output.
RECURRENT_STATES: Dict[str, int] = {"LSTM": 2, "GRU": 1, "SimpleRNN": 1, "ConvLSTM1D": 2, "ConvLSTM2D": 2,
                                    "ConvLSTM3D": 2}

#: The arguments of a Keras wrapper that hold a layer it builds and owns itself (not a copy):
#: Keras counts that layer's weights once, in the wrapper, even when the model uses it elsewhere.
OWNED_LAYERS: Dict[str, Tuple[str, ...]] = {"TimeDistributed": ("layer",), "Bidirectional": ("backward_layer",)}

#: Arguments of a layer's call that are never tensors.
CALL_FLAGS = frozenset({"training", "return_attention_scores", "use_causal_mask"})

#: Layers whose output has the shape of their input and that hold no weights.
_PASS_THROUGH_NAMES = (
    "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "ThresholdedReLU", "Dropout", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "Identity",
    "Rescaling", "ActivityRegularization", "Masking", "RandomFlip", "RandomRotation", "RandomZoom",
    "RandomTranslation", "RandomContrast", "RandomBrightness", "UnitNormalization",
)
#: Merge layers, called on a list of tensors.
_MERGE_NAMES = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")


def _table() -> Dict[str, LayerSpec]:
    table: Dict[str, LayerSpec] = {}
    table.update(_conv_family())
    table.update(_OTHERS)
    for name in _PASS_THROUGH_NAMES:
        table[name] = _spec(name, (), PASS_THROUGH, parameters="none")
    for name in _MERGE_NAMES:
        table[name] = _spec(name, (), MERGE, parameters="none")
    return table


LAYERS: Dict[str, LayerSpec] = _table()

#: The functional forms of the merge layers: ``layers.add([a, b])`` is ``layers.Add()([a, b])``.
MERGE_FUNCTIONS: Dict[str, str] = {
    **{f"keras.layers.{name.lower()}": name for name in _MERGE_NAMES},
    "keras.layers.concatenate": "Concatenate",
}
#: ``keras.Input(shape=...)``: a symbolic batch of that shape.
INPUTS = frozenset({"keras.Input", "keras.layers.Input"})
#: ``keras.Sequential([...])``: the layers in order; ``model.add(layer)`` appends.
SEQUENTIALS = frozenset({"keras.Sequential", "keras.models.Sequential"})
#: ``keras.Model(inputs, outputs)``: the layers between them. As a base class: a subclassed model.
MODELS = frozenset({"keras.Model", "keras.models.Model", "keras.models.Functional", "keras.Functional"})
#: Bases of a user's Keras layer or model: ``call`` is its forward.
MODULE_BASES = MODELS | frozenset({"keras.layers.Layer", "keras.Layer"})

#: Where Keras reads its configured image layout: "channels_last" unless ``~/.keras/keras.json``
#: says otherwise. convlint reads layers as that default, and so answers these the same way.
IMAGE_DATA_FORMAT = frozenset({"keras.backend.image_data_format", "keras.config.image_data_format"})
DEFAULT_DATA_FORMAT = "channels_last"

#: Names a file must contain (as bytes) to possibly build a Keras layer: the prefilter's needle.
PREFILTER_NEEDLES = (b"keras",)

#: Other spellings of Keras's modules, longest first: what each begins with, and what it means.
_SPELLINGS = (
    ("keras._tf_keras.keras.", "keras."),
    ("tensorflow.python.keras.", "keras."),
    ("tensorflow.keras.", "keras."),
    ("tf_keras.src.", "keras."),
    ("tf_keras.", "keras."),
    ("keras.src.", "keras."),
    ("keras.api.", "keras."),
)


_TOPS = ("keras.", "tensorflow.", "tf_keras.")


def canonical(qualified_name: str) -> Optional[str]:
    """``keras.layers.Conv2D`` for any spelling of it (``tf.keras.layers.Conv2D``,
    ``keras.src.layers.convolutional.conv2d.Conv2D``); None for a name outside Keras."""
    if not qualified_name.startswith(_TOPS):
        return None  # most names (torch.cat, math.ceil) are asked here: answer them at once
    for prefix, meaning in _SPELLINGS:
        if qualified_name.startswith(prefix):
            qualified_name = meaning + qualified_name[len(prefix):]
            break
    if not qualified_name.startswith("keras."):
        return None
    module, _, name = qualified_name.rpartition(".")
    if module.startswith("keras.layers.") and name in LAYERS:
        return f"keras.layers.{name}"  # keras.layers.convolutional.Conv2D (Keras 2), keras.src.layers.*
    if module.startswith("keras.models.") or module.startswith("keras.engine."):
        return f"keras.models.{name}"
    return qualified_name


def layer_for(qualified_name: str) -> Optional[LayerSpec]:
    """The catalog entry for a qualified name such as ``tensorflow.keras.layers.Conv2D``."""
    name = canonical(qualified_name)
    if name is None or not name.startswith("keras.layers."):
        return None
    return LAYERS.get(name[len("keras.layers."):])
