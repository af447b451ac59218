"""Flax's linen modules as data: their fields (flax 0.12) and how shapes flow through them.

Like Keras, Flax infers each layer's input size from the first array it is called on, and lays
images out channels-last; a ``Conv``'s number of spatial axes is the length of its
``kernel_size``. Layers are built in ``setup()`` or inline in an ``@nn.compact`` ``__call__``.
"""

from __future__ import annotations

from typing import Dict, Optional

from convlint.frameworks.catalog import (
    CONV,
    EMBEDDING,
    KEYWORD_ONLY,
    LINEAR,
    OPAQUE,
    PASS_THROUGH,
    POOL,
    REQUIRED,
    LayerSpec,
)

_CONV_WINDOW = ("kernel_size", "strides", "padding", "kernel_dilation")
_POOL_WINDOW = ("window_shape", "strides", "padding", None)
_DTYPES = (("dtype", None), ("param_dtype", None))
_NORM = (("use_bias", True), ("use_scale", True))


def _spec(name: str, signature: tuple, kind: str, **options: object) -> LayerSpec:
    # Past the fields the table lists come initializers and dtypes, and ``parent``/``name``.
    return LayerSpec(name, signature + (KEYWORD_ONLY, ("name", None)), kind, framework="flax",  # type: ignore[arg-type]
                     **options)


LAYERS: Dict[str, LayerSpec] = {
    "Conv": _spec(
        "Conv",
        (("features", REQUIRED), ("kernel_size", REQUIRED), ("strides", 1), ("padding", "SAME"),
         ("input_dilation", 1), ("kernel_dilation", 1), ("feature_group_count", 1), ("use_bias", True)),
        CONV, out_param="features", positive_params=("features", "kernel_size", "feature_group_count"),
        parameters="flax_conv", channels_last=True, window=_CONV_WINDOW, built_on_call=True,
        rank_from="kernel_size", unmodelled=(("input_dilation", 1),),
    ),
    # Its output size has Flax's own formula for each padding: not modelled.
    "ConvTranspose": _spec(
        "ConvTranspose", (("features", REQUIRED), ("kernel_size", REQUIRED), ("strides", None), ("padding", "SAME"),
                          ("kernel_dilation", None), ("use_bias", True)),
        OPAQUE, out_param="features", parameters="flax_conv_transpose", channels_last=True, built_on_call=True,
        rank_from="kernel_size",
    ),
    "Dense": _spec("Dense", (("features", REQUIRED), ("use_bias", True)), LINEAR, out_param="features",
                   parameters="flax_dense", built_on_call=True),
    # Normalizing over the last axis (the default) keeps the shape; batch statistics are not
    # parameters in Flax (a separate collection).
    "BatchNorm": _spec("BatchNorm", (("use_running_average", None), ("axis", -1), ("momentum", 0.99),
                                     ("epsilon", 1e-5)) + _DTYPES + _NORM, PASS_THROUGH,
                       parameters="flax_norm", built_on_call=True),
    "LayerNorm": _spec("LayerNorm", (("epsilon", 1e-6),) + _DTYPES + _NORM
                       + (("reduction_axes", -1), ("feature_axes", -1)), PASS_THROUGH,
                       parameters="flax_norm", built_on_call=True),
    "GroupNorm": _spec("GroupNorm", (("num_groups", 32), ("group_size", None), ("epsilon", 1e-6)) + _DTYPES + _NORM,
                       PASS_THROUGH, parameters="flax_norm", built_on_call=True),
    "Dropout": _spec("Dropout", (("rate", REQUIRED), ("broadcast_dims", ()), ("deterministic", None)), PASS_THROUGH,
                     parameters="none"),
    "Embed": _spec("Embed", (("num_embeddings", REQUIRED), ("features", REQUIRED)), EMBEDDING,
                   out_param="features", positive_params=("num_embeddings", "features"),
                   parameters="flax_embedding"),
}

#: ``nn.avg_pool(x, window_shape, strides, padding)``: the first argument goes through the
#: pooling the rest describe.
_POOL = (("window_shape", REQUIRED), ("strides", None), ("padding", "VALID"))
FUNCTIONAL_LAYERS: Dict[str, LayerSpec] = {
    f"flax.linen.{name}": LayerSpec(name, _POOL, POOL, parameters="none", channels_last=True, window=_POOL_WINDOW,
                                    rank_from="window_shape", framework="flax")
    for name in ("avg_pool", "max_pool", "min_pool")
}

#: Activations and other functions that keep the shape, as ``flax.linen`` and ``jax.nn`` name them.
_ELEMENTWISE = ("relu", "relu6", "gelu", "silu", "swish", "sigmoid", "tanh", "elu", "selu", "celu", "leaky_relu",
                "softplus", "soft_sign", "hard_tanh", "hard_sigmoid", "hard_swish", "log_sigmoid", "softmax",
                "log_softmax", "normalize", "standardize")
ELEMENTWISE_FUNCTIONS = frozenset(f"{module}.{name}" for module in ("flax.linen", "jax.nn") for name in _ELEMENTWISE)

#: Decorators that leave the method as written.
TRANSPARENT_DECORATORS = frozenset({"flax.linen.compact", "flax.linen.nowrap"})
#: The base of every Flax module: a dataclass whose ``setup`` runs before it is used.
MODULE_BASES = frozenset({"flax.linen.Module", "flax.linen.module.Module"})

#: Names a file must contain (as bytes) to possibly build a Flax layer: the prefilter's needle.
PREFILTER_NEEDLES = (b"flax",)


def canonical(qualified_name: str) -> Optional[str]:
    """``flax.linen.Conv`` for ``flax.linen.linear.Conv`` and the like; None outside Flax."""
    if not qualified_name.startswith("flax.linen."):
        return None
    module, _, name = qualified_name.rpartition(".")
    if module != "flax.linen" and (name in LAYERS or f"flax.linen.{name}" in FUNCTIONAL_LAYERS):
        return f"flax.linen.{name}"
    return qualified_name


def layer_for(qualified_name: str) -> Optional[LayerSpec]:
    name = canonical(qualified_name)
    return LAYERS.get(name[len("flax.linen."):]) if name is not None and name.count(".") == 2 else None
