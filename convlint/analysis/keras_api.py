"""How the interpreter follows Keras's model-building APIs: ``keras.Input``, ``Sequential`` (a
list, or ``model.add``), the functional API (layers called on symbolic tensors, then
``keras.Model(inputs, outputs)``), the merge layers, and subclassed models whose forward is
``call``.

Keras creates a layer's weights for the first input it is called on (``Layer.note_input``); a
functional model is the set of layers on the
paths from its outputs back to its inputs, traced through the outputs each call produced.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst

from convlint.analysis import flow
from convlint.analysis.objects import (
    UNKNOWN_ITEMS,
    UNKNOWN_TENSOR,
    Arguments,
    ClassValue,
    Container,
    DictValue,
    External,
    Layer,
    ListValue,
    Tensor,
)
from convlint.analysis.values import UNKNOWN, as_dim
from convlint.frameworks import keras as keras_catalog
from convlint.frameworks.catalog import CONCATENATE, MULTI_HEAD_ATTENTION, QUERY_VALUE_ATTENTION

#: What ``call_keras`` returns for a name that is not a Keras model-building call.
NOT_KERAS = object()


def is_keras_class(klass: ClassValue) -> bool:
    """Whether a user class derives from a Keras layer or model (its forward is ``call``)."""
    return any(isinstance(base, External) and keras_catalog.canonical(base.qualname) in keras_catalog.MODULE_BASES
               for base in klass.external_bases())


class KerasSupport:
    """Mixed into the interpreter: the Keras calls, and the bookkeeping of built layers."""

    #: For each output of a Keras layer call (by id): the output, the layer and its inputs.
    keras_calls: Dict[int, Tuple[Tensor, Layer, Tuple[Tensor, ...]]]

    def call_keras(self, qualname: str, args: Arguments, node: Optional[cst.CSTNode]) -> Any:
        """``keras.Input``, ``keras.Sequential``, ``keras.Model`` and ``layers.add``; NOT_KERAS
        for any other name."""
        name = keras_catalog.canonical(qualname)
        if name is None:
            return NOT_KERAS
        if name in keras_catalog.IMAGE_DATA_FORMAT:
            return keras_catalog.DEFAULT_DATA_FORMAT
        if name in keras_catalog.INPUTS:
            shape = args.keywords.get("shape", args.positional[0] if args.positional else None)
            batch = args.keywords.get("batch_shape")
            if batch is not None:
                sizes = flow.shape_of(batch)
                return Tensor(len(sizes), sizes, rank_certain=True) if sizes else UNKNOWN_TENSOR
            return flow.placeholder(shape)
        if name in keras_catalog.SEQUENTIALS:
            container = self._new_container("Sequential", [], node)  # type: ignore[attr-defined]
            children = args.positional[0] if args.positional else args.keywords.get("layers")
            if children is not None:
                self.extend(container, children)  # type: ignore[attr-defined]
                self.build_sequential(container)
            return container
        if name in keras_catalog.MODELS:
            return self._functional_model(args, node)
        merge = keras_catalog.MERGE_FUNCTIONS.get(name)
        if merge is not None and node is not None:
            spec = keras_catalog.LAYERS[merge]
            layer_args = Arguments([], {k: v for k, v in args.keywords.items() if k != "inputs"},
                                   open_keywords=args.open_keywords)
            layer = self.build_layer(spec, layer_args, node)  # type: ignore[attr-defined]
            inputs = args.positional[0] if args.positional else args.keywords.get("inputs", UNKNOWN)
            return self.merge_layer(layer, inputs, node)
        return NOT_KERAS

    def merge_layer(self, layer: Layer, inputs: Any, node: Optional[cst.CSTNode]) -> Tensor:
        """``layers.Add()([a, b])`` and ``layers.Concatenate(axis)([a, b])``: Keras checks the
        shapes as ``+`` and ``torch.cat`` do (broadcasting for the merges)."""
        tensors = self.iterate(inputs)  # type: ignore[attr-defined]
        if not tensors or not all(isinstance(t, Tensor) for t in tensors):
            return UNKNOWN_TENSOR
        if layer.spec.kind == CONCATENATE:
            joined = self.concatenate(Arguments([ListValue(list(tensors))], {"dim": layer.argument("axis")}),  # type: ignore[attr-defined]
                                      node, operation=layer.spec.name)
        else:
            self._record_operands(layer.spec.name, tensors, None, node)  # type: ignore[attr-defined]
            joined = tensors[0]
            for tensor in tensors[1:]:
                joined = flow.broadcast(joined, tensor)
        return self.record_keras_call(layer, tuple(tensors), replace(joined, origin=layer, direct=True))

    def record_keras_call(self, layer: Layer, inputs: Tuple[Tensor, ...], output: Tensor) -> Tensor:
        """Note where a Keras layer's output came from; returns the output as a tensor of its
        own, so that it can be traced back."""
        output = replace(output)
        self.keras_calls[id(output)] = (output, layer, inputs)
        return output

    def call_keras_layer(self, layer: Layer, args: Arguments, node: Optional[cst.CSTNode]) -> Any:
        """A Keras layer's call: the layer applied to its first argument, a ``MultiHeadAttention``
        to its query, value and key; a tuple for a recurrent layer with ``return_state=True`` and
        for ``Bidirectional`` with ``merge_mode=None``. Each output is traced back to every tensor
        the call was given (``initial_state=[h, c]`` too)."""
        inputs = self._call_inputs(args)
        if layer.spec.kind == MULTI_HEAD_ATTENTION:
            return self._multi_head_attention(layer, args, inputs)
        if layer.spec.kind == QUERY_VALUE_ATTENTION:
            return self._attention(layer, args, inputs)
        tensor = args.positional[0] if args.positional and isinstance(args.positional[0], Tensor) else UNKNOWN_TENSOR
        output = self.apply_layer(layer, tensor)  # type: ignore[attr-defined]
        outputs = flow.keras_outputs(layer, tensor)
        if outputs is None or len(outputs) == 1:
            return self.record_keras_call(layer, inputs, output)
        return tuple(self.record_keras_call(layer, inputs, item) for item in outputs)

    def _call_inputs(self, args: Arguments) -> Tuple[Tensor, ...]:
        """The tensors among a call's arguments; a value the analysis cannot see there (which
        may hold a tensor) is an unknown tensor, which no model trace gets through."""
        found: List[Tensor] = []
        pending = list(args.positional) + [value for name, value in args.keywords.items()
                                           if name not in keras_catalog.CALL_FLAGS]
        if not args.exact:
            pending.append(UNKNOWN)
        while pending:
            value = pending.pop(0)
            if isinstance(value, Tensor):
                found.append(value)
            elif isinstance(value, (tuple, ListValue)):
                items = value.items if isinstance(value, ListValue) else list(value)
                pending.extend(UNKNOWN if item is UNKNOWN_ITEMS else item for item in items)
            elif not (value is None or isinstance(value, (bool, int, float, str))):
                found.append(UNKNOWN_TENSOR)
        return tuple(found)

    def _multi_head_attention(self, layer: Layer, args: Arguments, inputs: Tuple[Tensor, ...]) -> Any:
        """``mha(query, value, key=None, return_attention_scores=False)``: built for the three
        shapes; the output has the query's shape, its last axis ``output_shape`` if given (else
        the query's own), and the scores are (N, heads, T_query, T_value) for 3-D inputs."""
        given = dict(zip(("query", "value", "key"), args.positional))
        given.update((name, value) for name, value in args.keywords.items() if name in ("query", "value", "key"))
        query, value = given.get("query", UNKNOWN), given.get("value", UNKNOWN)
        key = value if given.get("key") is None else given["key"]
        for role, tensor in (("query", query), ("value", value), ("key", key)):
            if isinstance(tensor, Tensor):
                layer.note_input(tensor, None if role == "query" else role)
                self._check_defined(layer, tensor)  # type: ignore[attr-defined]
        scores = args.keywords.get("return_attention_scores", False)
        if not isinstance(query, Tensor) or not isinstance(value, Tensor) or scores not in (True, False):
            return UNKNOWN
        output = self.record_keras_call(layer, inputs, flow.attention_output(layer, query))
        if self.outputs is not None:  # type: ignore[attr-defined]
            self.outputs.setdefault(id(layer), output)  # type: ignore[attr-defined]
        if not scores:
            return output
        return output, self.record_keras_call(layer, inputs, flow.attention_scores(layer, query, value))

    def _attention(self, layer: Layer, args: Arguments, inputs: Tuple[Tensor, ...]) -> Any:
        """``Attention()([query, value])`` (or ``[query, value, key]``): the query's steps with
        the value's features, and with ``return_attention_scores=True`` the scores (N, T_query,
        T_value)."""
        given = args.positional[0] if args.positional else args.keywords.get("inputs", UNKNOWN)
        tensors = self._tensors(given) if not isinstance(given, Tensor) else None
        scores = args.keywords.get("return_attention_scores", False)
        if tensors is None or len(tensors) not in (2, 3) or scores not in (True, False):
            return UNKNOWN
        query, value = tensors[:2]
        layer.note_input(query)
        output = self.record_keras_call(layer, inputs, flow.attention_output(layer, query, value.axis(-1)))
        if not scores:
            return output
        steps = (query.axis(0), query.axis(1), value.axis(1)) if query.rank == 3 and value.rank == 3 else None
        weights = Tensor(3, steps, layer, rank_certain=query.rank_certain) if steps else UNKNOWN_TENSOR
        return output, self.record_keras_call(layer, inputs, weights)

    def sequential_input(self, index: int, child: Any, tensor: Tensor) -> Tensor:
        """What a Sequential's ``index``-th child receives: a ``keras.Input`` among the children
        is the model's input; a first layer with ``input_shape=`` declares it."""
        if isinstance(child, Tensor):
            return child
        if index == 0 and isinstance(child, Layer) and "input_shape" in child.arguments:
            declared = child.arguments.get("input_shape")
            if declared is not None and declared is not UNKNOWN:
                return flow.placeholder(declared)
            width = child.arguments.get("input_dim")
            if as_dim(width) is not None:
                return flow.placeholder((width,))
        return tensor

    def build_sequential(self, container: Container, shape: Any = None) -> None:
        """Build the layers of a Keras Sequential as Keras does: for ``model.build(shape)``, or
        as soon as its first child declares the input (``keras.Input``, ``input_shape=``)."""
        if shape is not None:
            sizes = flow.shape_of(shape)
            tensor = Tensor(len(sizes), sizes, rank_certain=True) if sizes is not None else None
        else:
            first = container.children[0][1] if container.children else None
            declared = self.sequential_input(0, first, UNKNOWN_TENSOR)
            tensor = UNKNOWN_TENSOR if declared is not UNKNOWN_TENSOR else None
        if tensor is None:
            return
        frame = self.open_frame()  # type: ignore[attr-defined]
        try:
            self.call_module(container, Arguments([tensor]), None)  # type: ignore[attr-defined]
        finally:
            self.undo(frame)  # type: ignore[attr-defined]

    def _functional_model(self, args: Arguments, node: Optional[cst.CSTNode]) -> Any:
        """``keras.Model(inputs, outputs)``: the layers on the paths from the outputs back to the
        inputs, in call order; a path that cannot be traced leaves a hole in the model."""
        inputs = args.positional[0] if args.positional else args.keywords.get("inputs")
        outputs = args.positional[1] if len(args.positional) > 1 else args.keywords.get("outputs")
        if inputs is None or outputs is None:
            return UNKNOWN
        sources = self._tensors(inputs)
        targets = self._tensors(outputs)
        if sources is None or targets is None:
            return self._new_container("Functional", [(None, UNKNOWN)], node)  # type: ignore[attr-defined]
        found: List[Layer] = []
        seen: Set[int] = set()
        complete = all(self._trace(target, {id(t) for t in sources}, found, seen) for target in targets)
        ordered = sorted(found, key=lambda layer: layer.order)
        children: List[Tuple[Any, Any]] = [(None, layer) for layer in ordered]
        if not complete:
            children.append((None, UNKNOWN))
        return self._new_container("Functional", children, node)  # type: ignore[attr-defined]

    def _tensors(self, value: Any) -> Optional[Sequence[Tensor]]:
        if isinstance(value, Tensor):
            return (value,)
        if isinstance(value, DictValue):
            value = tuple(value.items.values()) if value.complete else None
        items = self.iterate(value) if value is not None else None  # type: ignore[attr-defined]
        if not items or not all(isinstance(item, Tensor) for item in items):
            return None
        return items

    def _trace(self, tensor: Tensor, sources: Set[int], found: List[Layer], seen: Set[int]) -> bool:
        """Collect the layers that made ``tensor`` from ``sources``; False if a step is unknown."""
        pending = [tensor]
        while pending:
            current = pending.pop()
            if id(current) in sources or id(current) in seen:
                continue
            seen.add(id(current))
            call = self.keras_calls.get(id(current))
            if call is None or call[0] is not current:
                return False
            _, layer, inputs = call
            if all(layer is not other for other in found):
                found.append(layer)
            pending.extend(inputs)
        return True
