"""Layer catalogs, one table per framework: what each layer takes, checks and produces."""

from __future__ import annotations

from typing import Optional

from convlint.frameworks import keras, torch
from convlint.frameworks.catalog import LayerSpec

#: Top-level packages that are frameworks: always outside the analysed code, even when their
#: source is among the linted files (Keras's own applications import ``keras.src.layers``).
PACKAGES = frozenset({"torch", "keras", "tensorflow", "tf_keras"})

#: What a file must contain (as bytes) to possibly build a layer of some framework.
PREFILTER_NEEDLES = torch.PREFILTER_NEEDLES + keras.PREFILTER_NEEDLES


def layer_for(qualified_name: str) -> Optional[LayerSpec]:
    """The catalog entry of any framework for a fully qualified name (``torch.nn.Conv2d``,
    ``tensorflow.keras.layers.Conv2D``)."""
    return torch.layer_for(qualified_name) or keras.layer_for(qualified_name)
