"""The objects the interpreter builds: user functions, classes and instances, torch layers and
containers, tensors, and the mutable lists and dicts that model code fills in loops.

Every mutable object can take a snapshot of its state, restore one, and join two: the
interpreter uses that to follow both branches of an ``if`` it cannot decide and keep only what
both agree on.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import libcst as cst

from convlint.analysis.values import UNKNOWN, provably_different
from convlint.frameworks.catalog import LayerSpec

if TYPE_CHECKING:
    from convlint.analysis.imports import ModuleSource


class _UnknownItems:
    """In a list: zero or more items the analysis could not follow (a loop it could not unroll)."""

    def __repr__(self) -> str:
        return "UNKNOWN_ITEMS"


UNKNOWN_ITEMS = _UnknownItems()

#: A place in the source: a node and the file it belongs to.
Site = Tuple[cst.CSTNode, "ModuleSource"]


@dataclass(frozen=True)
class MaybeMissing:
    """A dict entry that only some paths set: ``value`` if present."""

    value: Any


def join_values(a: Any, b: Any) -> Any:
    """What is known after two paths that produced ``a`` and ``b``."""
    if a is b:
        return a
    if type(a) is Tensor and type(b) is Tensor:
        return _join_tensors(a, b)
    if type(a) is type(b) and isinstance(a, (int, float, str, bool, type(None))) and a == b:
        return a
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(join_values(x, y) for x, y in zip(a, b))
    try:
        if type(a) is type(b) and a == b:
            return a
    except Exception:  # a user value whose comparison the interpreter cannot make
        pass
    return UNKNOWN


_births = itertools.count()
_layer_births = itertools.count()


def birth_now() -> int:
    """A number between the births of the objects made before and after this call."""
    return next(_births)


class Mutable:
    """State that branches may change; see the module docstring. ``born`` orders creation, so
    that a branch need not save objects created after it began."""

    born: int = -1

    def mark_born(self) -> None:
        self.born = next(_births)

    def snapshot(self) -> Any:
        raise NotImplementedError

    def restore(self, state: Any) -> None:
        raise NotImplementedError

    def join(self, a: Any, b: Any) -> Any:
        raise NotImplementedError


def _join_dicts(a: Dict[Any, Any], b: Dict[Any, Any], missing: Any = UNKNOWN) -> Dict[Any, Any]:
    """Join two mappings; a key only one side has gets ``missing`` joined in (a dict's
    entries become MaybeMissing, a namespace's names unknown)."""
    joined = {}
    for key in list(a) + [k for k in b if k not in a]:
        if key in a and key in b:
            joined[key] = join_values(a[key], b[key])
        elif missing is MaybeMissing:
            present = a[key] if key in a else b[key]
            joined[key] = present if isinstance(present, MaybeMissing) else MaybeMissing(present)
        else:
            joined[key] = UNKNOWN
    return joined


def _join_lists(a: List[Any], b: List[Any]) -> List[Any]:
    if len(a) == len(b):
        return [join_values(x, y) for x, y in zip(a, b)]
    common = []
    for x, y in zip(a, b):
        if x is not y:
            break
        common.append(x)
    return common + [UNKNOWN_ITEMS]


class Namespace(Mutable):
    """Names bound in a scope: a function's locals, a module's or a class's globals."""

    def __init__(self, values: Optional[Dict[str, Any]] = None) -> None:
        self.values: Dict[str, Any] = dict(values or {})
        self.mark_born()

    def snapshot(self) -> Any:
        return dict(self.values)

    def restore(self, state: Any) -> None:
        self.values = dict(state)

    def join(self, a: Any, b: Any) -> Any:
        return _join_dicts(a, b)


class ListValue(Mutable):
    def __init__(self, items: Optional[List[Any]] = None) -> None:
        self.items: List[Any] = list(items or [])
        self.mark_born()

    @property
    def complete(self) -> bool:
        return UNKNOWN_ITEMS not in self.items

    def snapshot(self) -> Any:
        return list(self.items)

    def restore(self, state: Any) -> None:
        self.items = list(state)

    def join(self, a: Any, b: Any) -> Any:
        return _join_lists(a, b)


class SetValue(Mutable):
    """A set: its items when every one is known. A set has no order the analysis may rely on,
    so it is never iterated; ``len``, ``in`` and ``sorted`` read it."""

    def __init__(self, items: Optional[frozenset] = None) -> None:
        self.items = items
        self.mark_born()

    def snapshot(self) -> Any:
        return self.items

    def restore(self, state: Any) -> None:
        self.items = state

    def join(self, a: Any, b: Any) -> Any:
        return a if a == b else None


class DictValue(Mutable):
    """A dict or OrderedDict with known keys; ``complete`` is False once a key is unknown."""

    def __init__(self, items: Optional[Dict[Any, Any]] = None, complete: bool = True) -> None:
        self.items: Dict[Any, Any] = dict(items or {})
        self.complete = complete
        self.mark_born()

    def snapshot(self) -> Any:
        return (dict(self.items), self.complete)

    def restore(self, state: Any) -> None:
        self.items, self.complete = dict(state[0]), state[1]

    def join(self, a: Any, b: Any) -> Any:
        return (_join_dicts(a[0], b[0], missing=MaybeMissing), a[1] and b[1])


@dataclass(frozen=True)
class ParameterNames:
    """A function's named parameters (``*args`` and ``**kwargs`` left out), read once."""

    positional: Tuple[str, ...]
    #: The positional names, then the keyword-only ones: every name a keyword argument may bind.
    every: Tuple[str, ...]


@dataclass(eq=False)
class FunctionValue:
    """A ``def`` or ``lambda`` of the analysed code, with the scope it closes over."""

    node: Any  # cst.FunctionDef or cst.Lambda
    module: "ModuleSource"
    closure: Optional[Namespace] = None
    defaults: Dict[str, Any] = field(default_factory=dict)
    kind: str = "function"  # or "staticmethod", "classmethod", "property"
    #: The class whose body defined this function, for ``super()``.
    owner: Optional["ClassValue"] = None
    _parameters: Optional[ParameterNames] = field(default=None, init=False, repr=False)

    @property
    def name(self) -> str:
        return self.node.name.value if isinstance(self.node, cst.FunctionDef) else "<lambda>"

    def parameters(self) -> ParameterNames:
        """The parameter names, computed on the first call: a function is called many times."""
        if self._parameters is None:
            params = self.node.params
            positional = tuple(p.name.value for p in itertools.chain(params.posonly_params, params.params))
            keyword_only = tuple(p.name.value for p in params.kwonly_params)
            self._parameters = ParameterNames(positional, positional + keyword_only)
        return self._parameters


@dataclass(frozen=True)
class Frame:
    """A user function being run, and the call that runs it."""

    function: FunctionValue
    call: Optional[cst.CSTNode]
    #: How many leading arguments the call does not spell (``self`` of a method).
    implicit: int


@dataclass(eq=False)
class ClassValue:
    node: cst.ClassDef
    module: "ModuleSource"
    bases: Tuple[Any, ...]
    namespace: Namespace
    #: For a ``@dataclass``: the generated ``__init__``'s parameters and defaults.
    fields: Optional[Tuple[Tuple[str, Any], ...]] = None
    _mro: Optional[List["ClassValue"]] = field(default=None, repr=False)
    _external_bases: Optional[Tuple[Any, ...]] = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.node.name.value

    def mro(self) -> List["ClassValue"]:
        """The user classes in method resolution order (external bases end the walk); computed
        once, as a class's bases never change."""
        if self._mro is None:
            order: List[ClassValue] = []
            pending = [self]
            while pending:
                klass = pending.pop(0)
                if klass in order:
                    continue
                order.append(klass)
                pending.extend(base for base in klass.bases if isinstance(base, ClassValue))
            self._mro = order
        return self._mro

    def external_bases(self) -> Tuple[Any, ...]:
        """The bases of the MRO that are not user classes (``nn.Module``, unknowns); computed
        once, like the MRO."""
        if self._external_bases is None:
            self._external_bases = tuple(base for klass in self.mro() for base in klass.bases
                                         if not isinstance(base, ClassValue))
        return self._external_bases

    def lookup(self, name: str) -> Any:
        for klass in self.mro():
            if name in klass.namespace.values:
                return klass.namespace.values[name]
        return None


@dataclass(eq=False)
class Instance(Mutable):
    """An object of a user class; a model or block when its class derives from nn.Module."""

    klass: ClassValue
    attributes: Dict[str, Any] = field(default_factory=dict)
    #: When the class derives from a torch container (nn.Sequential, nn.ModuleList …).
    container: Optional["Container"] = None
    path: Tuple[Site, ...] = ()
    #: When the class derives from a catalog layer: that layer, as ``super().__init__`` built it.
    base_layer: Optional["Layer"] = None
    #: For a Flax module: the layers its ``__call__`` created inline in a run that followed one
    #: path, by call site and occurrence; None until such a run (not journaled: Flax keeps them).
    compact_layers: Optional[Dict[Any, "Layer"]] = None

    def __post_init__(self) -> None:
        self.mark_born()

    def snapshot(self) -> Any:
        return dict(self.attributes)

    def restore(self, state: Any) -> None:
        self.attributes = dict(state)

    def join(self, a: Any, b: Any) -> Any:
        return _join_dicts(a, b)


@dataclass(frozen=True)
class BoundMethod:
    receiver: Any
    function: FunctionValue


@dataclass(frozen=True)
class Partial:
    """``functools.partial(func, *args, **kwargs)``."""

    function: Any
    args: Tuple[Any, ...]
    kwargs: Tuple[Tuple[str, Any], ...]


@dataclass(frozen=True)
class ModuleValue:
    """An analysed module, as ``import pkg.mod`` or ``from . import mod`` binds it."""

    source: "ModuleSource"
    namespace: "Namespace"


@dataclass(frozen=True)
class LazyImport:
    """An import in a file other than the linted one, resolved on first use."""

    module: str
    name: Optional[str]
    importer: "ModuleSource"


@dataclass(frozen=True)
class Super:
    """``super()`` inside a method of ``owner``, bound to ``receiver``."""

    owner: "ClassValue"
    receiver: Any


@dataclass(frozen=True)
class Builtin:
    """A Python builtin the interpreter evaluates (``len``, ``range``, ``int`` …)."""

    name: str


@dataclass(frozen=True)
class External:
    """A name imported from outside the analysed code (``torch.nn.Conv2d``, ``math.ceil``)."""

    qualname: str


@dataclass(frozen=True)
class ExternalCallable:
    """A method of an analysed object implemented by the interpreter (``list.append``)."""

    name: str
    receiver: Any


@dataclass(eq=False)
class Layer:
    """A catalog layer built by the analysed code: ``nn.Conv2d(3, 64, 3)``."""

    spec: LayerSpec
    arguments: Dict[str, Any]
    node: cst.Call
    module: "ModuleSource"
    #: The calls that led to this layer, outermost first, ending with the layer's own call.
    path: Tuple[Site, ...]
    #: The user functions running when the layer was built, outermost first: what ``origins``
    #: reads, kept so that origins are found only for the layers a finding is about.
    frames: Tuple[Frame, ...] = field(default=(), repr=False)
    #: Set when code assigned to the layer's attributes after building it (tied weights …).
    altered: bool = False
    #: For a layer that creates its weights on its first call (Keras): the shape of its input.
    built_with: Optional["Tensor"] = None
    #: Creation order, for listing the layers of a functional model as they were built.
    order: int = field(default_factory=lambda: next(_layer_births))
    #: For a layer built on several inputs (Keras's ``MultiHeadAttention``: the value and the key
    #: beside the query in ``built_with``): the shape of each other input, by its name.
    built_with_others: Dict[str, Optional["Tensor"]] = field(default_factory=dict)

    def argument(self, name: Optional[str]) -> Any:
        if name is None:
            return UNKNOWN
        return self.arguments.get(name, UNKNOWN)

    def note_input(self, tensor: "Tensor", role: Optional[str] = None) -> None:
        """A layer that creates its weights for its first input (Keras, Flax) was called on
        ``tensor`` (as its input named ``role``, for a layer of several inputs): what is known of
        the shape it was built with grows; calls that provably disagree leave it unknown (the
        framework would refuse one of them)."""
        if role is None:
            self.built_with = _grown_build(self.built_with, tensor)
        else:
            self.built_with_others[role] = _grown_build(self.built_with_others.get(role), tensor)

    def argument_node(self, name: str) -> Optional[cst.BaseExpression]:
        """The expression the layer's own call wrote for ``name``; None if it wrote none, or
        if a ``*args``/``**kwargs`` may hold it."""
        if type(self.node) is not cst.Call:
            return None
        return argument_node(self.node, self.spec.param_names, name)

    def origins(self, parameter: Optional[str]) -> Tuple[cst.CSTNode, ...]:
        """The calls, innermost first, through which the value of argument ``parameter`` was
        passed on as a bare parameter: for ``Conv2d(in_ch, …)`` inside ``Block``, the call
        ``Block(64, 64)`` that wrote it, so that a wrong argument is reported where it is written."""
        if parameter is None or parameter not in self.arguments:
            return ()
        expression = self.argument_node(parameter)
        calls: List[cst.CSTNode] = []
        for frame in reversed(self.frames):
            if type(expression) is not cst.Name or type(frame.call) is not cst.Call:
                break
            parameters = frame.function.parameters().every
            if expression.value not in parameters:
                break
            calls.append(frame.call)
            expression = argument_node(frame.call, parameters[frame.implicit:], expression.value)
        return tuple(calls)


@dataclass(eq=False)
class Container(Mutable):
    """``nn.Sequential``, ``nn.ModuleList`` or ``nn.ModuleDict``: named children in order."""

    kind: str
    children: List[Tuple[Any, Any]]  # (name, module); UNKNOWN_ITEMS marks children not followed
    node: Optional[cst.CSTNode] = None
    path: Tuple[Site, ...] = ()

    def __post_init__(self) -> None:
        self.mark_born()

    def modules(self) -> List[Any]:
        return [child for _, child in self.children]

    def snapshot(self) -> Any:
        return list(self.children)

    def restore(self, state: Any) -> None:
        self.children = list(state)

    def join(self, a: Any, b: Any) -> Any:
        if len(a) == len(b):
            return [(x[0] if x[0] == y[0] else None, join_values(x[1], y[1])) for x, y in zip(a, b)]
        common = []
        for x, y in zip(a, b):
            if x[0] != y[0] or x[1] is not y[1]:
                break
            common.append(x)
        return common + [(None, UNKNOWN_ITEMS)]


@dataclass(frozen=True)
class ParameterValue:
    """``nn.Parameter(torch.zeros(1, 1, dim))``: a parameter of a known shape (or None)."""

    shape: Optional[Tuple[Any, ...]]
    requires_grad: Any = True


@dataclass(frozen=True)
class Tensor:
    """A tensor flowing through ``forward``: its rank when known, and the sizes known so far.

    With a known rank, ``dims`` holds every axis; without one, ``dims`` holds the trailing axes
    that are known (possibly none). ``origin`` is the layer that last set the channel axis.
    """

    rank: Optional[int]
    dims: Tuple[Any, ...]
    origin: Optional[Layer] = None
    #: True while the tensor is ``origin``'s output exactly as it left it (no operation since).
    direct: bool = False
    #: How one axis (counted from the end) came to be, for messages: ``64 × 12 × 12`` after a
    #: flatten, ``16 + 32`` after a concatenation.
    note: Optional[Tuple[int, str]] = None
    #: True only when the rank is proven (a given input shape, a flatten), not taken from the
    #: batched-input convention.
    rank_certain: bool = False

    def axis(self, index: int) -> Any:
        if self.rank is not None:
            if -self.rank <= index < self.rank:
                return self.dims[index]
            return UNKNOWN
        if index < 0 and -index <= len(self.dims):
            return self.dims[index]
        return UNKNOWN


UNKNOWN_TENSOR = Tensor(None, ())
#: ``Layer.built_with`` of a layer called on shapes that disagree: its weights are not known.
CONFLICTING_BUILDS = Tensor(None, ())


def _grown_build(built: Optional[Tensor], tensor: Tensor) -> Optional[Tensor]:
    """What is known of the shape a layer was built with, after a call on ``tensor``."""
    if tensor.rank is None or built is CONFLICTING_BUILDS:
        return built
    if built is None:
        return Tensor(tensor.rank, tensor.dims)
    if built.rank != tensor.rank:
        return CONFLICTING_BUILDS
    dims = []
    for old, new in zip(built.dims, tensor.dims):
        if old is not UNKNOWN and new is not UNKNOWN and provably_different(old, new):
            return CONFLICTING_BUILDS
        dims.append(new if old is UNKNOWN else old)
    return Tensor(tensor.rank, tuple(dims))


def _join_tensors(a: Tensor, b: Tensor) -> Tensor:
    """The sizes two paths agree on. Always a new object: two names bound to one tensor are
    known to have the same shape, and a join must not make distinct tensors look like one."""
    if a.rank != b.rank:
        return Tensor(None, ())
    width = min(len(a.dims), len(b.dims)) if a.rank is None else a.rank
    dims = tuple(join_values(x, y) for x, y in zip(a.dims[len(a.dims) - width:], b.dims[len(b.dims) - width:]))
    same_origin = a.origin is b.origin
    return Tensor(a.rank, dims, a.origin if same_origin else None, direct=a.direct and b.direct and same_origin,
                  note=a.note if a.note == b.note else None, rank_certain=a.rank_certain and b.rank_certain)


@dataclass
class Arguments:
    """The evaluated arguments of a call. ``open_*`` is set when a ``*x`` or ``**x`` could not
    be expanded: then more arguments than those listed may have been passed."""

    positional: List[Any] = field(default_factory=list)
    keywords: Dict[str, Any] = field(default_factory=dict)
    open_positional: bool = False
    open_keywords: bool = False

    @property
    def exact(self) -> bool:
        return not (self.open_positional or self.open_keywords)


def argument_node(call: cst.Call, names: Sequence[str], name: str) -> Optional[cst.BaseExpression]:
    """The expression a call passes for parameter ``name`` (``names`` in signature order)."""
    position = 0
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is not None:
            if arg.keyword.value == name:
                return arg.value
            continue
        if position < len(names) and names[position] == name:
            return arg.value
        position += 1
    return None
