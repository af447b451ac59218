"""Layer catalogs, one table per framework: what each layer takes, checks and produces."""

from __future__ import annotations

from typing import Dict, Optional

from convlint.frameworks import flax, keras, torch
from convlint.frameworks.catalog import LayerSpec

#: Top-level packages that are frameworks: always outside the analysed code, even when their
#: source is among the linted files (Keras's own applications import ``keras.src.layers``).
PACKAGES = frozenset({"torch", "keras", "tensorflow", "tf_keras", "flax", "jax", "einops"})

#: What a file must contain (as bytes) to possibly build a layer of some framework.
PREFILTER_NEEDLES = torch.PREFILTER_NEEDLES + keras.PREFILTER_NEEDLES + flax.PREFILTER_NEEDLES

#: Functions that act on their first argument as a layer would (``F.max_pool2d``, ``nn.avg_pool``).
FUNCTIONAL_LAYERS: Dict[str, LayerSpec] = {**torch.FUNCTIONAL_LAYERS, **flax.FUNCTIONAL_LAYERS}

#: Functions by what they do to the shape of their first argument.
FUNCTIONS: Dict[str, str] = {**torch.FUNCTIONS, **{name: torch.SAME_SHAPE for name in flax.ELEMENTWISE_FUNCTIONS}}

#: Framework decorators that leave the function as written.
TRANSPARENT_DECORATORS = flax.TRANSPARENT_DECORATORS


def layer_for(qualified_name: str) -> Optional[LayerSpec]:
    """The catalog entry of any framework for a fully qualified name (``torch.nn.Conv2d``,
    ``tensorflow.keras.layers.Conv2D``, ``flax.linen.Conv``)."""
    return torch.layer_for(qualified_name) or keras.layer_for(qualified_name) or flax.layer_for(qualified_name)
