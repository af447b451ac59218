"""How rules name layers and where things came from, so every message carries its evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import libcst as cst

from convlint.analysis.objects import Layer
from convlint.analysis.values import describe, known_factor

if TYPE_CHECKING:
    from convlint.analysis.facts import FileFacts


def layer_call(layer: Layer) -> str:
    """``Conv2d(3, 64)``: the layer with the channel arguments it was built with; a Keras
    wrapper with the layer it wraps (``Bidirectional(LSTM(64))``)."""
    spec = layer.spec
    wrapped = layer.arguments.get("layer") if spec.framework == "keras" else None
    if isinstance(wrapped, Layer):
        return f"{spec.name}({layer_call(wrapped)})"
    shown = [describe(layer.argument(name)) for name in (spec.in_param, spec.out_param) if name]
    if spec.in_param == spec.out_param and shown:
        shown = shown[:1]
    return f"{spec.name}({', '.join(shown)})"


def received(value: Any, note: Optional[str]) -> str:
    """The size that arrived, with the arithmetic that made it: ``32 × 13 × 13 = 5408``, or
    ``64 × ? × ?, a multiple of 64`` when some sizes are not known."""
    factor = known_factor(value)
    if factor is not None:
        return f"{note}, a multiple of {factor}" if note else f"a multiple of {factor}"
    return f"{note} = {value}" if note else f"{value}"


def origin(facts: "FileFacts", producer: Optional[Layer]) -> str:
    """`` from Conv2d(3, 64) on line 4``, or nothing when the producer is not known."""
    if producer is None:
        return ""
    return f" from {layer_call(producer)} on {facts.where(producer)}"


def subject(facts: "FileFacts", layer: Layer, anchor: Any) -> str:
    """The layer as the message's subject: by name at its own line, located when the finding is
    placed at the call that gave it its arguments."""
    if layer.node is anchor:
        return layer.spec.name
    return f"The {layer.spec.name} on {facts.where(layer)}"


def provenance(facts: "FileFacts", layer: Layer, anchor: Any, context: Optional[str]) -> str:
    """Which call made the values concrete: the enclosing call of this file, or the builder."""
    sites = [node for node, module in layer.path if module is facts.module]
    callers = sites[: sites.index(anchor)] if anchor in sites else []
    if callers and isinstance(callers[-1], cst.Call):
        return f" (as built on line {facts.module.line_of(callers[-1])})"
    if context:
        return f" (in the model built by {context})"
    return ""
