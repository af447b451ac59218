"""PyTorch's layers as data: constructor signatures (torch 2.x) and channel behaviour."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, Optional, Tuple

from convlint.analysis.values import multiply
from convlint.frameworks.catalog import (
    ADAPTIVE_POOL,
    ATTENTION,
    POOL,
    BAG_EMBEDDING,
    BATCH_NORM,
    CHANNEL_NORM,
    CONV,
    EMBEDDING,
    FLATTEN,
    LAYER_NORM,
    LINEAR,
    OPAQUE,
    PASS_THROUGH,
    PIXEL_SHUFFLE,
    PIXEL_UNSHUFFLE,
    REQUIRED,
    RESAMPLE,
    SEQUENCE,
    SPATIAL,
    TRANSFORMER,
    LayerSpec,
)

_FACTORY = (("device", None), ("dtype", None))
_CONV = (
    ("in_channels", REQUIRED),
    ("out_channels", REQUIRED),
    ("kernel_size", REQUIRED),
    ("stride", 1),
    ("padding", 0),
    ("dilation", 1),
    ("groups", 1),
    ("bias", True),
    ("padding_mode", "zeros"),
) + _FACTORY
_CONV_TRANSPOSE = (
    ("in_channels", REQUIRED),
    ("out_channels", REQUIRED),
    ("kernel_size", REQUIRED),
    ("stride", 1),
    ("padding", 0),
    ("output_padding", 0),
    ("groups", 1),
    ("bias", True),
    ("dilation", 1),
    ("padding_mode", "zeros"),
) + _FACTORY
_BATCH_NORM = (
    ("num_features", REQUIRED),
    ("eps", 1e-5),
    ("momentum", 0.1),
    ("affine", True),
    ("track_running_stats", True),
) + _FACTORY
_INSTANCE_NORM = (
    ("num_features", REQUIRED),
    ("eps", 1e-5),
    ("momentum", 0.1),
    ("affine", False),
    ("track_running_stats", False),
) + _FACTORY
_NORM_STATE = ("affine", "track_running_stats")
# A conv with zero channels or a zero kernel is built, but fails on its first input.
_CONV_POSITIVE = ("in_channels", "out_channels", "kernel_size", "groups")
_CONV_GROUPS = (("in_channels", "groups"), ("out_channels", "groups"))


def _conv_family() -> Dict[str, LayerSpec]:
    specs = {}
    for rank in (1, 2, 3):
        specs[f"Conv{rank}d"] = LayerSpec(
            f"Conv{rank}d", _CONV, CONV, rank, "in_channels", "out_channels", _CONV_POSITIVE, parameters="conv",
            ranks=(rank + 1, rank + 2), divisible=_CONV_GROUPS,
        )
        specs[f"ConvTranspose{rank}d"] = LayerSpec(
            f"ConvTranspose{rank}d", _CONV_TRANSPOSE, CONV, rank, "in_channels", "out_channels", _CONV_POSITIVE,
            parameters="conv_transpose", ranks=(rank + 1, rank + 2), divisible=_CONV_GROUPS,
        )
        specs[f"LazyConv{rank}d"] = LayerSpec(
            f"LazyConv{rank}d", _CONV[1:], CONV, rank, None, "out_channels", _CONV_POSITIVE[1:],
            divisible=_CONV_GROUPS[1:],
        )
        specs[f"LazyConvTranspose{rank}d"] = LayerSpec(
            f"LazyConvTranspose{rank}d", _CONV_TRANSPOSE[1:], CONV, rank, None, "out_channels",
            _CONV_POSITIVE[1:], divisible=_CONV_GROUPS[1:],
        )
    return specs


def _norm_family() -> Dict[str, LayerSpec]:
    specs = {}
    for rank in (1, 2, 3):
        # BatchNorm1d accepts (N, C) and (N, C, L), so its channel axis depends on the rank.
        kind = CHANNEL_NORM if rank == 1 else BATCH_NORM
        specs[f"BatchNorm{rank}d"] = LayerSpec(
            f"BatchNorm{rank}d", _BATCH_NORM, kind, rank, "num_features", "num_features", ("num_features",),
            sized_by=_NORM_STATE, parameters="norm", cancels_bias=True,
            # BatchNorm1d takes (N, C) or (N, C, L); BatchNorm2d/3d only the batched form.
            ranks=(2, 3) if rank == 1 else (rank + 2,),
        )
        specs[f"InstanceNorm{rank}d"] = LayerSpec(
            f"InstanceNorm{rank}d", _INSTANCE_NORM, CHANNEL_NORM, rank, "num_features", "num_features",
            ("num_features",), sized_by=_NORM_STATE, parameters="norm", ranks=(rank + 1, rank + 2),
        )
        specs[f"LazyBatchNorm{rank}d"] = LayerSpec(f"LazyBatchNorm{rank}d", _BATCH_NORM[1:], PASS_THROUGH, rank)
        specs[f"LazyInstanceNorm{rank}d"] = LayerSpec(
            f"LazyInstanceNorm{rank}d", _INSTANCE_NORM[1:], PASS_THROUGH, rank
        )
    specs["SyncBatchNorm"] = LayerSpec(
        "SyncBatchNorm", _BATCH_NORM[:5] + (("process_group", None),) + _FACTORY, CHANNEL_NORM, None,
        "num_features", "num_features", ("num_features",), sized_by=_NORM_STATE, parameters="norm",
        cancels_bias=True,
    )
    specs["GroupNorm"] = LayerSpec(
        "GroupNorm",
        (("num_groups", REQUIRED), ("num_channels", REQUIRED), ("eps", 1e-5), ("affine", True)) + _FACTORY,
        CHANNEL_NORM, None, "num_channels", "num_channels", ("num_groups", "num_channels"), sized_by=("affine",),
        parameters="group_norm", divisible=(("num_channels", "num_groups"),),
    )
    specs["LayerNorm"] = LayerSpec(
        "LayerNorm",
        (("normalized_shape", REQUIRED), ("eps", 1e-5), ("elementwise_affine", True), ("bias", True)) + _FACTORY,
        LAYER_NORM, None, "normalized_shape", "normalized_shape", parameters="layer_norm",
    )
    return specs


# RNNBase's signature, as LSTM and GRU take it (RNN adds ``nonlinearity`` fourth).
_RECURRENT = (
    ("input_size", REQUIRED), ("hidden_size", REQUIRED), ("num_layers", 1), ("bias", True), ("batch_first", False),
    ("dropout", 0.0), ("bidirectional", False), ("proj_size", 0),
)
_CELL = (("input_size", REQUIRED), ("hidden_size", REQUIRED), ("bias", True))
_TRANSFORMER_LAYER = (
    ("d_model", REQUIRED), ("nhead", REQUIRED), ("dim_feedforward", 2048), ("dropout", 0.1), ("activation", "relu"),
    ("layer_norm_eps", 1e-5), ("batch_first", False), ("norm_first", False), ("bias", True),
) + _FACTORY

# The forward signatures of the layers that take several tensors.
_ATTENTION_FORWARD = (
    ("query", REQUIRED), ("key", REQUIRED), ("value", REQUIRED), ("key_padding_mask", None), ("need_weights", True),
    ("attn_mask", None), ("average_attn_weights", True), ("is_causal", False),
)
_ENCODER_FORWARD = (("src", REQUIRED), ("mask", None), ("src_key_padding_mask", None), ("is_causal", None))
_DECODER_FORWARD = (
    ("tgt", REQUIRED), ("memory", REQUIRED), ("tgt_mask", None), ("memory_mask", None),
    ("tgt_key_padding_mask", None), ("memory_key_padding_mask", None), ("tgt_is_causal", None),
    ("memory_is_causal", False),
)
_TRANSFORMER_FORWARD = (
    ("src", REQUIRED), ("tgt", REQUIRED), ("src_mask", None), ("tgt_mask", None), ("memory_mask", None),
    ("src_key_padding_mask", None), ("tgt_key_padding_mask", None), ("memory_key_padding_mask", None),
    ("src_is_causal", None), ("tgt_is_causal", None), ("memory_is_causal", False),
)


def _transformer(name: str, signature: Tuple[Tuple[str, Any], ...], forward: Tuple[Tuple[str, Any], ...],
                 parameters: str, width: Optional[str] = "d_model") -> LayerSpec:
    """A transformer layer or stack: its inputs checked against ``d_model`` (a stack's is its
    layer's), the shape of ``tgt`` (or ``src``) out, through a stack's ``norm``."""
    return LayerSpec(name, signature, TRANSFORMER, in_param=width, out_param=width, parameters=parameters,
                     divisible=(("d_model", "nhead"),) if width else (), ranks=(2, 3), forward=forward,
                     output_layer=None if width else "norm")


_MAX_POOL = (("kernel_size", REQUIRED), ("stride", None), ("padding", 0), ("dilation", 1),
             ("return_indices", False), ("ceil_mode", False))
_AVG_POOL = (("kernel_size", REQUIRED), ("stride", None), ("padding", 0), ("ceil_mode", False),
             ("count_include_pad", True), ("divisor_override", None))

_LINEAR = {
    "Linear": LayerSpec(
        "Linear", (("in_features", REQUIRED), ("out_features", REQUIRED), ("bias", True)) + _FACTORY,
        # Linear(0, n) and Linear(n, 0) are valid PyTorch: empty weights, a bias-only output.
        LINEAR, None, "in_features", "out_features", non_negative_params=("in_features", "out_features"),
        parameters="linear",
    ),
    "LazyLinear": LayerSpec(
        "LazyLinear", (("out_features", REQUIRED), ("bias", True)) + _FACTORY, LINEAR, None, None,
        "out_features", non_negative_params=("out_features",),
    ),
    # Parameters: in-projections (packed when kdim == vdim == embed_dim), out_proj, bias_k/bias_v.
    "MultiheadAttention": LayerSpec(
        "MultiheadAttention",
        (("embed_dim", REQUIRED), ("num_heads", REQUIRED), ("dropout", 0.0), ("bias", True),
         ("add_bias_kv", False), ("add_zero_attn", False), ("kdim", None), ("vdim", None),
         ("batch_first", False)) + _FACTORY,
        ATTENTION, in_param="embed_dim", out_param="embed_dim", parameters="multihead_attention",
        divisible=(("embed_dim", "num_heads"),), ranks=(2, 3), forward=_ATTENTION_FORWARD,
    ),
    "Embedding": LayerSpec(
        "Embedding",
        (("num_embeddings", REQUIRED), ("embedding_dim", REQUIRED), ("padding_idx", None), ("max_norm", None),
         ("norm_type", 2.0), ("scale_grad_by_freq", False), ("sparse", False), ("_weight", None),
         ("_freeze", False)) + _FACTORY,
        EMBEDDING, out_param="embedding_dim", parameters="embedding",
    ),
    "EmbeddingBag": LayerSpec(
        "EmbeddingBag",
        (("num_embeddings", REQUIRED), ("embedding_dim", REQUIRED), ("max_norm", None), ("norm_type", 2.0),
         ("scale_grad_by_freq", False), ("mode", "mean"), ("sparse", False), ("_weight", None),
         ("include_last_offset", False), ("padding_idx", None)) + _FACTORY,
        BAG_EMBEDDING, out_param="embedding_dim", parameters="embedding", ranks=(1, 2),
    ),
    "RNN": LayerSpec("RNN", _RECURRENT[:3] + (("nonlinearity", "tanh"),) + _RECURRENT[3:7] + _FACTORY, SEQUENCE,
                     in_param="input_size", out_param="hidden_size", returns_state=True, ranks=(2, 3),
                     parameters="rnn"),
    "LSTM": LayerSpec("LSTM", _RECURRENT + _FACTORY, SEQUENCE, in_param="input_size", out_param="hidden_size",
                      parameters="lstm", returns_state=True, ranks=(2, 3)),
    "GRU": LayerSpec("GRU", _RECURRENT[:7] + _FACTORY, SEQUENCE, in_param="input_size", out_param="hidden_size",
                     parameters="gru", returns_state=True, ranks=(2, 3)),
    "RNNCell": LayerSpec("RNNCell", _CELL + (("nonlinearity", "tanh"),) + _FACTORY, SEQUENCE, in_param="input_size",
                         out_param="hidden_size", parameters="rnn_cell", ranks=(1, 2)),
    "LSTMCell": LayerSpec("LSTMCell", _CELL + _FACTORY, SEQUENCE, in_param="input_size", out_param="hidden_size",
                          parameters="lstm_cell", returns_state=True, ranks=(1, 2)),
    "GRUCell": LayerSpec("GRUCell", _CELL + _FACTORY, SEQUENCE, in_param="input_size", out_param="hidden_size",
                         parameters="gru_cell", ranks=(1, 2)),
    "TransformerEncoderLayer": _transformer("TransformerEncoderLayer", _TRANSFORMER_LAYER, _ENCODER_FORWARD[:2]
                                            + (("src_key_padding_mask", None), ("is_causal", False)),
                                            "transformer_encoder_layer"),
    "TransformerDecoderLayer": _transformer("TransformerDecoderLayer", _TRANSFORMER_LAYER, _DECODER_FORWARD[:6]
                                            + (("tgt_is_causal", False), ("memory_is_causal", False)),
                                            "transformer_decoder_layer"),
    "TransformerEncoder": _transformer(
        "TransformerEncoder", (("encoder_layer", REQUIRED), ("num_layers", REQUIRED), ("norm", None),
                               ("enable_nested_tensor", True), ("mask_check", True)),
        _ENCODER_FORWARD, "transformer_encoder", width=None),
    "TransformerDecoder": _transformer(
        "TransformerDecoder", (("decoder_layer", REQUIRED), ("num_layers", REQUIRED), ("norm", None)),
        _DECODER_FORWARD, "transformer_decoder", width=None),
    "Transformer": _transformer(
        "Transformer", (("d_model", 512), ("nhead", 8), ("num_encoder_layers", 6), ("num_decoder_layers", 6),
                        ("dim_feedforward", 2048), ("dropout", 0.1), ("activation", "relu"), ("custom_encoder", None),
                        ("custom_decoder", None), ("layer_norm_eps", 1e-5), ("batch_first", False),
                        ("norm_first", False), ("bias", True)) + _FACTORY,
        _TRANSFORMER_FORWARD, "transformer"),
    "Bilinear": LayerSpec(
        "Bilinear",
        (("in1_features", REQUIRED), ("in2_features", REQUIRED), ("out_features", REQUIRED), ("bias", True))
        + _FACTORY,
        OPAQUE, parameters="bilinear",
    ),
}

# Layers whose output has the shape of their input. Their arguments do not matter to the flow.
_PASS_THROUGH_NAMES = (
    "ReLU", "ReLU6", "LeakyReLU", "RReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
    "Sigmoid", "Tanh", "Hardswish", "Hardsigmoid", "Hardtanh", "Hardshrink", "Softshrink", "Tanhshrink",
    "Softplus", "Softsign", "LogSigmoid", "Threshold", "Softmax", "Softmin", "LogSoftmax", "Softmax2d",
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "Identity",
    "LocalResponseNorm", "ChannelShuffle",
)
# Layers that keep the batch and channel axes and change only the spatial ones.
_SPATIAL_NAMES = tuple(
    f"{name}{rank}d"
    for rank in (1, 2, 3)
    for name in (
        "LPPool", "FractionalMaxPool",
        "ReflectionPad", "ReplicationPad", "ZeroPad", "ConstantPad", "CircularPad",
    )
)
_UPSAMPLE = (("size", None), ("scale_factor", None), ("mode", "nearest"), ("align_corners", None),
             ("recompute_scale_factor", None))


def _table() -> Dict[str, LayerSpec]:
    table: Dict[str, LayerSpec] = {}
    table.update(_conv_family())
    table.update(_norm_family())
    table.update(_LINEAR)
    # Signatures of these do not matter to the flow: the interpreter binds what it can.
    for name in _PASS_THROUGH_NAMES:
        table[name] = LayerSpec(name, (), PASS_THROUGH, parameters="none")
    # PReLU learns one slope, or one per channel.
    table["PReLU"] = LayerSpec("PReLU", (("num_parameters", 1), ("init", 0.25)) + _FACTORY, PASS_THROUGH,
                               parameters="prelu")
    for name in _SPATIAL_NAMES:
        table[name] = LayerSpec(name, (), SPATIAL, parameters="none")
    for rank in (1, 2, 3):
        table[f"MaxPool{rank}d"] = LayerSpec(f"MaxPool{rank}d", _MAX_POOL, POOL, rank, parameters="none",
                                             ranks=(rank + 1, rank + 2))
        average = _AVG_POOL if rank > 1 else _AVG_POOL[:5]
        table[f"AvgPool{rank}d"] = LayerSpec(f"AvgPool{rank}d", average, POOL, rank, parameters="none",
                                             ranks=(rank + 1, rank + 2))
        for name in (f"AdaptiveAvgPool{rank}d", f"AdaptiveMaxPool{rank}d"):
            signature = (("output_size", REQUIRED),) + ((("return_indices", False),) if "Max" in name else ())
            table[name] = LayerSpec(name, signature, ADAPTIVE_POOL, rank, parameters="none")
    table["Flatten"] = LayerSpec("Flatten", (("start_dim", 1), ("end_dim", -1)), FLATTEN, parameters="none")
    table["Upsample"] = LayerSpec("Upsample", _UPSAMPLE, RESAMPLE, parameters="none")
    for name in ("UpsamplingNearest2d", "UpsamplingBilinear2d"):
        table[name] = LayerSpec(name, _UPSAMPLE[:2], RESAMPLE, parameters="none")
    table["PixelShuffle"] = LayerSpec("PixelShuffle", (("upscale_factor", REQUIRED),), PIXEL_SHUFFLE,
                                      parameters="none")
    table["PixelUnshuffle"] = LayerSpec("PixelUnshuffle", (("downscale_factor", REQUIRED),), PIXEL_UNSHUFFLE,
                                        parameters="none")
    return table


LAYERS: Dict[str, LayerSpec] = _table()

#: Where a torch layer may be imported from: ``torch.nn.X`` and ``torch.nn.modules.<file>.X``.
_NN_PREFIXES = ("torch.nn.", "torch.nn.modules.")


def layer_for(qualified_name: str) -> Optional[LayerSpec]:
    """The catalog entry for a fully qualified name such as ``torch.nn.Conv2d``."""
    if not qualified_name.startswith(_NN_PREFIXES[0]):
        return None
    module, _, name = qualified_name.rpartition(".")
    if module != "torch.nn" and not module.startswith(_NN_PREFIXES[1]):
        return None
    return LAYERS.get(name)


#: Names a file must contain (as bytes) to possibly build a torch layer: the prefilter's needle.
PREFILTER_NEEDLES = (b"torch",)

# Functions and tensor methods, by what they do to the shape of their first argument.
SAME_SHAPE = "same_shape"
OTHER_SHAPE = "other_shape"
FLATTEN_FUNCTION = "flatten"  # flatten(start_dim=0, end_dim=-1)
CONCAT = "concat"  # torch.cat(tensors, dim): sizes add along dim, the others must agree
FACTORY = "factory"  # a new tensor of the shape its arguments give: torch.zeros(1, 1, dim)
STACK = "stack"  # torch.stack(tensors, dim): a new axis of len(tensors); the shapes must be equal
REDUCE = "reduce"  # mean(dim, keepdim): the axes in dim go, or become 1 with keepdim
RESHAPE = "reshape"  # view(*sizes) / reshape(sizes): the sizes given, one -1 inferred
BROADCAST = "broadcast"  # torch.add(a, b), a.mul(b): as a + b, the shapes broadcast
PERMUTE = "permute"  # permute(*dims): the axes in that order
TRANSPOSE = "transpose"  # transpose(dim0, dim1): two axes swapped
UNSQUEEZE = "unsqueeze"  # unsqueeze(dim): a new axis of 1
MOVEDIM = "movedim"  # movedim(source, destination): axes moved, the others in order
SQUEEZE = "squeeze"  # squeeze(dim=None): axes of size 1 dropped
UNFLATTEN = "unflatten"  # unflatten(dim, sizes): one axis split into several (one -1 inferred)
EXPAND = "expand"  # expand(*sizes): axes of 1 take the sizes given, -1 keeps
REPEAT = "repeat"  # repeat(*repeats): each axis times its count
CHUNK = "chunk"  # chunk(chunks, dim=0): a tuple of pieces of ceil(size / chunks)
SPLIT = "split"  # split(split_size_or_sections, dim=0): a tuple of pieces of that size, or those sizes
UNBIND = "unbind"  # unbind(dim=0): a tuple of the slices along dim, without that axis
REARRANGE = "rearrange"  # einops.rearrange(tensor, pattern, **axes_lengths)

#: The arguments after the tensor of the kinds ``analysis.shape_ops`` models, as PyTorch (and
#: einops) bind them: ``*name`` takes the remaining positional arguments, ``**name`` the keywords.
OPERATION_SIGNATURES = {
    MOVEDIM: (("source", REQUIRED), ("destination", REQUIRED)),
    SQUEEZE: (("dim", None),),
    UNFLATTEN: (("dim", REQUIRED), ("sizes", REQUIRED)),
    EXPAND: (("*size", REQUIRED),),
    REPEAT: (("*repeats", REQUIRED),),
    CHUNK: (("chunks", REQUIRED), ("dim", 0)),
    SPLIT: (("split_size_or_sections", REQUIRED), ("dim", 0)),
    UNBIND: (("dim", 0),),
    REARRANGE: (("pattern", REQUIRED), ("**axes_lengths", REQUIRED)),
}

MATMUL = "matmul"  # matmul(a, b), a @ b: PyTorch's matrix product, the batch axes broadcast
BATCH_MATMUL = "bmm"  # bmm(a, b): a matrix product of two 3-D tensors
MATRIX_MULTIPLY = "mm"  # mm(a, b): a matrix product of two 2-D tensors
EINSUM = "einsum"  # einsum(equation, *operands) with a literal equation
ATTENTION_FUNCTION = "attention"  # scaled_dot_product_attention(q, k, v): q's shape with v's last size

#: The rank the operands of a matrix product must have (None: any from 1 up).
MATRIX_RANKS = {MATMUL: None, BATCH_MATMUL: 3, MATRIX_MULTIPLY: 2}

_ELEMENTWISE = (
    "relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu", "celu", "gelu", "silu",
    "mish", "sigmoid", "tanh", "hardswish", "hardsigmoid", "hardtanh", "softplus", "softsign", "logsigmoid",
    "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "softmax", "log_softmax", "normalize",
    "abs", "exp", "log", "sqrt", "rsqrt", "neg", "clamp", "clip", "square",
)
_TENSOR_SAME_SHAPE = _ELEMENTWISE + (
    "normal_", "uniform_", "zero_", "fill_", "copy_", "trunc_normal_", "bernoulli_", "exponential_",
    "contiguous", "clone", "detach", "float", "double", "half", "bfloat16", "long", "int", "short", "bool",
    "to", "cuda", "cpu", "type_as",
    "requires_grad_", "sigmoid_", "tanh_", "mul_", "add_", "div_", "sub_", "clamp_", "clamp_min", "clamp_max",
)
_TENSOR_OTHER_SHAPE = ("max", "min", "narrow")
_MATRIX_PRODUCTS = {"matmul": MATMUL, "bmm": BATCH_MATMUL, "mm": MATRIX_MULTIPLY}
_AXES = {"permute": PERMUTE, "transpose": TRANSPOSE, "swapaxes": TRANSPOSE, "unsqueeze": UNSQUEEZE}
#: Operations whose method and ``torch.`` function forms take the same arguments after the tensor.
_REGROUPING = {"movedim": MOVEDIM, "moveaxis": MOVEDIM, "squeeze": SQUEEZE, "unflatten": UNFLATTEN,
               "chunk": CHUNK, "split": SPLIT, "unbind": UNBIND}
# Reductions whose signature is (dim, keepdim) after the tensor; std and var take other
# positional arguments, max and min return (values, indices) when given a dim.
_REDUCTIONS = ("mean", "sum", "amax", "amin", "nanmean", "nansum", "logsumexp")
_BROADCASTING = ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "maximum", "minimum",
                 "pow")

FUNCTIONS = {
    **{f"torch.nn.functional.{name}": SAME_SHAPE for name in _ELEMENTWISE},
    **{f"torch.{name}": SAME_SHAPE for name in _ELEMENTWISE},
    "torch.flatten": FLATTEN_FUNCTION,
    "torch.reshape": RESHAPE,
    **{f"torch.{name}": REDUCE for name in _REDUCTIONS},
    **{f"torch.{name}": CONCAT for name in ("cat", "concat", "concatenate")},
    "torch.stack": STACK,
    **{f"torch.{name}": BROADCAST for name in _BROADCASTING},
    **{f"torch.{name}": kind for name, kind in _AXES.items()},
    **{f"torch.{name}": FACTORY for name in ("zeros", "ones", "randn", "rand", "empty")},
    **{f"torch.{name}_like": SAME_SHAPE for name in ("zeros", "ones", "randn", "rand", "empty")},
    **{f"torch.{name}": kind for name, kind in _REGROUPING.items()},
    "einops.rearrange": REARRANGE,
    **{f"torch.{name}": kind for name, kind in _MATRIX_PRODUCTS.items()},
    "torch.einsum": EINSUM,
    "torch.nn.functional.scaled_dot_product_attention": ATTENTION_FUNCTION,
}
TENSOR_METHODS = {
    **{name: SAME_SHAPE for name in _TENSOR_SAME_SHAPE},
    **{name: OTHER_SHAPE for name in _TENSOR_OTHER_SHAPE},
    **{name: REDUCE for name in _REDUCTIONS},
    **{name: BROADCAST for name in _BROADCASTING},
    **_AXES,
    **_REGROUPING,
    "expand": EXPAND,
    "repeat": REPEAT,
    **_MATRIX_PRODUCTS,
    "view": RESHAPE,
    "reshape": RESHAPE,
    "flatten": FLATTEN_FUNCTION,
}


def _functional_layers() -> Dict[str, LayerSpec]:
    """Functions that act on their first argument as a layer would, with their own signatures."""
    table = {}
    for rank in (1, 2, 3):
        table[f"torch.nn.functional.max_pool{rank}d"] = replace(
            LAYERS[f"MaxPool{rank}d"], signature=_MAX_POOL[:4] + (("ceil_mode", False), ("return_indices", False)))
        table[f"torch.nn.functional.avg_pool{rank}d"] = LAYERS[f"AvgPool{rank}d"]
        table[f"torch.nn.functional.adaptive_avg_pool{rank}d"] = LAYERS[f"AdaptiveAvgPool{rank}d"]
        table[f"torch.nn.functional.adaptive_max_pool{rank}d"] = LAYERS[f"AdaptiveMaxPool{rank}d"]
    for name in ("interpolate", "upsample"):
        table[f"torch.nn.functional.{name}"] = replace(LAYERS["Upsample"], signature=_UPSAMPLE + (("antialias", False),))
    for name in ("upsample_nearest", "upsample_bilinear"):
        table[f"torch.nn.functional.{name}"] = replace(LAYERS["Upsample"], signature=_UPSAMPLE[:2])
    for module in ("torch.nn.functional.", "torch."):
        table[f"{module}pixel_shuffle"] = LAYERS["PixelShuffle"]
        table[f"{module}pixel_unshuffle"] = LAYERS["PixelUnshuffle"]
    return table


FUNCTIONAL_LAYERS: Dict[str, LayerSpec] = _functional_layers()


_CONV_FUNCTION = (("weight", REQUIRED), ("bias", None), ("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1))

#: Functions that act as a layer whose sizes their ``weight`` argument gives: ``F.conv2d(x, w)``.
WEIGHTED_FUNCTIONS: Dict[str, LayerSpec] = {
    **{f"torch.nn.functional.conv{rank}d": replace(LAYERS[f"Conv{rank}d"], name=f"F.conv{rank}d",
                                                    signature=_CONV_FUNCTION) for rank in (1, 2, 3)},
    "torch.nn.functional.linear": replace(LAYERS["Linear"], name="F.linear",
                                          signature=(("weight", REQUIRED), ("bias", None))),
}


def weight_arguments(spec: LayerSpec, shape: Tuple[Any, ...], groups: Any) -> Dict[str, Any]:
    """The layer arguments a weight of ``shape`` stands for: ``(out, in / groups, *kernel)`` for a
    convolution, ``(out, in)`` for a linear layer; empty when the shape does not fit the layer."""
    if spec.kind == LINEAR and len(shape) == 2:
        return {"out_features": shape[0], "in_features": shape[1]}
    if spec.kind == CONV and len(shape) == (spec.spatial_rank or 0) + 2:
        return {"out_channels": shape[0], "in_channels": multiply(shape[1], groups), "kernel_size": tuple(shape[2:])}
    return {}
