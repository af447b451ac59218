"""What the analysis found in one file, for rules to read.

Facts keep libcst nodes, never positions: positions are resolved only for what is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

import libcst as cst

from convlint.analysis.imports import ModuleSource
from convlint.analysis.objects import Layer
from convlint.analysis.values import Dim, as_dim


@dataclass(frozen=True)
class LayerFact:
    """A catalog layer was built; ``anchor`` is where the linted file made it."""

    layer: Layer
    anchor: cst.CSTNode
    context: Optional[str]


@dataclass(frozen=True)
class FlowFact:
    """A tensor arrived at ``consumer``: its axis had ``received``, the layer wants ``expected``."""

    consumer: Layer
    parameter: str
    expected: Any
    received: Any
    producer: Optional[Layer]
    anchor: cst.CSTNode
    context: Optional[str]
    #: How the received size was made, when it is a product (``64 × 12 × 12``).
    note: Optional[str] = None


@dataclass(frozen=True)
class AdjacencyFact:
    """``consumer`` received ``producer``'s output directly, with nothing in between."""

    producer: Layer
    consumer: Layer
    anchor: cst.CSTNode
    context: Optional[str]


@dataclass(frozen=True)
class OperandsFact:
    """Tensors combined by ``operation`` (``+``, ``torch.cat``) brought ``sizes`` on one axis."""

    operation: str
    axis: int  # counted from the end
    sizes: Tuple[Any, ...]
    producers: Tuple[Optional[Layer], ...]
    anchor: cst.CSTNode
    context: Optional[str]


@dataclass(frozen=True)
class ContractionFact:
    """``operation`` multiplies two sizes together that must be equal (``flow.Contraction``):
    the inner sizes of ``@``, or two sizes one einsum ``subscript`` names. ``shapes`` are the
    operands' shapes as written in messages."""

    operation: str
    contraction: Any
    shapes: Tuple[str, ...]
    producers: Tuple[Optional[Layer], ...]
    anchor: cst.CSTNode
    context: Optional[str]


@dataclass(frozen=True)
class RankFact:
    """``consumer`` received a tensor of ``rank`` dimensions, a rank it does not accept."""

    consumer: Layer
    rank: int
    producer: Optional[Layer]
    anchor: cst.CSTNode
    context: Optional[str]


@dataclass(frozen=True)
class UndefinedSizeFact:
    """``consumer`` sizes its weights by ``axis`` of its first input, which the model leaves open
    (Keras's ``None``)."""

    consumer: Layer
    axis: int
    producer: Optional[Layer]
    anchor: cst.CSTNode
    context: Optional[str]


@dataclass(frozen=True)
class UnfitFact:
    """``operation`` (a layer, the ``consumer``, or a tensor method such as ``view``) received a
    size it provably cannot take (``flow.Unfit``): a window larger than its padded input,
    channels that do not split into ``r²`` groups, elements that do not fill a new shape."""

    consumer: Optional[Layer]
    operation: str
    requirement: str
    axis: int  # counted from the end
    detail: str
    producer: Optional[Layer]
    anchor: cst.CSTNode
    context: Optional[str]


@dataclass(frozen=True)
class ModelFact:
    """A model one of the file's roots built: a module-level model, a class built with its
    defaults, or what a builder function returned."""

    label: str
    node: cst.CSTNode
    model: Any


@dataclass
class FileFacts:
    module: ModuleSource
    layers: List[LayerFact] = field(default_factory=list)
    flows: List[FlowFact] = field(default_factory=list)
    adjacencies: List[AdjacencyFact] = field(default_factory=list)
    models: List[ModelFact] = field(default_factory=list)
    operands: List[OperandsFact] = field(default_factory=list)
    wrong_ranks: List[RankFact] = field(default_factory=list)
    undefined_sizes: List[UndefinedSizeFact] = field(default_factory=list)
    unfits: List[UnfitFact] = field(default_factory=list)
    contractions: List[ContractionFact] = field(default_factory=list)
    #: Why parts of the file were not fully analysed (budgets hit), for CL004.
    budget_notes: List[Tuple[cst.CSTNode, str]] = field(default_factory=list)
    #: Catalog layer calls of this file that were evaluated, and those whose channel arguments
    #: resolved to a known or symbolic value (the coverage figure).
    layer_calls: Set[cst.CSTNode] = field(default_factory=set)
    resolved_layer_calls: Set[cst.CSTNode] = field(default_factory=set)
    _seen: Set[Tuple[Any, ...]] = field(default_factory=set, repr=False)

    def add_layer(self, fact: LayerFact) -> None:
        layer = fact.layer
        names = layer.spec.size_params
        if layer.module is self.module and names:
            self.layer_calls.add(layer.node)
            if all(_resolved(layer.argument(name)) for name in names):
                self.resolved_layer_calls.add(layer.node)
        key = ("layer", id(fact.anchor), id(layer.node), _freeze(layer.arguments))
        if key not in self._seen:
            self._seen.add(key)
            self.layers.append(fact)

    def add_flow(self, fact: FlowFact) -> None:
        key = ("flow", id(fact.anchor), id(fact.consumer.node), repr(fact.expected), repr(fact.received))
        if key not in self._seen:
            self._seen.add(key)
            self.flows.append(fact)

    def anchor(self, layer: Layer, parameter: Optional[str] = None,
               producer: Optional[Layer] = None) -> Optional[cst.CSTNode]:
        """Where in this file a finding about ``layer`` (and its argument ``parameter``) goes:
        the call of this file that wrote the argument's value, else the deepest call of this file
        on the way to the layer; None when this file took no part in building it. A call that
        also built the ``producer`` wired both layers itself, so the mistake is inside it."""
        shared = {id(node) for node, _ in producer.path} if producer is not None else set()
        origin = None
        for call in layer.origins(parameter):
            if id(call) in shared:
                break
            origin = call
        if origin is not None and any(node is origin and module is self.module for node, module in layer.path):
            return origin
        for node, module in reversed(layer.path):
            if module is self.module:
                return node
        return None

    def add_adjacency(self, fact: AdjacencyFact) -> None:
        key = ("adjacent", id(fact.producer.node), id(fact.consumer.node), id(fact.anchor))
        if key not in self._seen:
            self._seen.add(key)
            self.adjacencies.append(fact)

    def add_operands(self, fact: OperandsFact) -> None:
        key = ("operands", id(fact.anchor), fact.operation, fact.axis, repr(fact.sizes))
        if key not in self._seen:
            self._seen.add(key)
            self.operands.append(fact)

    def add_contraction(self, fact: ContractionFact) -> None:
        key = ("contraction", id(fact.anchor), fact.operation, repr(fact.contraction))
        if key not in self._seen:
            self._seen.add(key)
            self.contractions.append(fact)

    def add_unfit(self, fact: UnfitFact) -> None:
        consumer = id(fact.consumer.node) if fact.consumer is not None else fact.operation
        key = ("unfit", id(fact.anchor), consumer, fact.requirement, fact.axis, fact.detail)
        if key not in self._seen:
            self._seen.add(key)
            self.unfits.append(fact)

    def where(self, layer: Layer) -> str:
        """``line 4`` in this file, ``blocks.py:12`` in another: for messages."""
        line = layer.module.line_of(layer.node)
        if layer.module is self.module:
            return f"line {line}"
        return f"{layer.module.path.name}:{line}"


def _resolved(value: Any) -> bool:
    if isinstance(value, (tuple, list)):
        return bool(value) and all(_resolved(item) for item in value)
    return as_dim(value) is not None


def _freeze(arguments: Dict[str, Any]) -> Tuple[Tuple[str, Any], ...]:
    """A key for a layer's arguments: what two layers built alike share. (Names are unique, so
    sorting never compares two values.)"""
    return tuple(sorted((name, _value_key(value)) for name, value in arguments.items()))


_PLAIN = (int, float, str, bytes, type(None), Dim)


def _value_key(value: Any) -> Any:
    """Plain values (numbers, strings, sizes) by their repr, which tells 1 from 1.0 and True;
    any other object (a layer, a class, a function passed as an argument) by identity, since
    its repr would print whole syntax trees. A fact that is kept holds its layer's arguments,
    so an identity cannot be reused while it is a key."""
    if isinstance(value, _PLAIN):
        return repr(value)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_value_key(item) for item in value))
    return ("object", id(value))
