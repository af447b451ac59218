"""A small abstract interpreter over libcst nodes, for the Python that model code is written in.

It evaluates module bodies, ``__init__`` methods, helpers and ``forward`` statement by statement
with the values of ``convlint.analysis.values`` and the objects of
``convlint.analysis.objects``. What it cannot follow becomes UNKNOWN, never an exception: an
``if`` it cannot decide runs both branches and keeps what they agree on, a loop it cannot unroll
makes what it assigns unknown, and budgets bound the work of every file.

The interpreter knows nothing about rules. It records facts (layers built, tensors arriving at
layers) in a ``FileFacts``; rules read those.
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import operator
import re
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst

from convlint.analysis import flow, shape_ops, value_tensors
from convlint.analysis.builtins import BUILTINS, KNOWN_BUILTIN_NAMES, MATH_FUNCTIONS, MAX_ITEMS, is_native, items_of
from convlint.analysis.facts import (
    AdjacencyFact,
    ContractionFact,
    FileFacts,
    FlowFact,
    LayerFact,
    OperandsFact,
    RankFact,
    UndefinedSizeFact,
    UnfitFact,
)
from convlint.analysis.imports import ModuleSource, Project, absolute_name
from convlint.analysis.objects import (
    UNKNOWN_ITEMS,
    UNKNOWN_TENSOR,
    Arguments,
    BoundMethod,
    Builtin,
    ClassValue,
    Container,
    DictValue,
    External,
    ExternalCallable,
    Frame,
    FunctionValue,
    Instance,
    Layer,
    LazyImport,
    ListValue,
    SetValue,
    MaybeMissing,
    ModuleValue,
    ParameterValue,
    Mutable,
    Namespace,
    Partial,
    Site,
    Super,
    Tensor,
    birth_now,
    join_values,
)
from convlint.analysis.values import (
    INT_LIMIT,
    UNDEFINED,
    UNNAMED,
    UNKNOWN,
    Dim,
    add,
    as_dim,
    describe,
    floor_divide,
    multiply,
    provably_different,
    provably_equal,
    unknown_positive,
)
from convlint import frameworks
from convlint.analysis.flax_api import FlaxSupport, is_flax_class
from convlint.analysis.keras_api import NOT_KERAS, KerasSupport, is_keras_class
from convlint.frameworks import flax as flax_catalog
from convlint.frameworks import torch as torch_catalog
from convlint.frameworks.catalog import CONCATENATE, KEYWORD_ONLY, MERGE, REQUIRED


@dataclass(frozen=True)
class Limits:
    """Budgets that bound the work on one analysis root."""

    steps: int = 150_000
    #: Across all the roots of one file; the roots after it are left unchecked.
    file_steps: int = 400_000
    loop_iterations: int = 512
    call_depth: int = 20
    same_function_depth: int = 3


class BudgetExceeded(Exception):
    pass


class _Return(Exception):
    def __init__(self, value: Any, deferred: bool = False) -> None:
        self.value = value
        self.deferred = deferred


class _Raise(Exception):
    """The code raises here: the path ends, and nothing after it runs."""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _UncertainExit(Exception):
    """A ``break`` or ``continue`` under a condition the analysis cannot decide."""


_SIGNALS = (_Return, _Raise, _Break, _Continue, _UncertainExit)
#: What ends a path of the analysed program, as opposed to a failure of the analysis.
CONTROL_SIGNALS = _SIGNALS


@dataclass
class _JournalFrame:
    opened_at: int
    entries: Dict[int, Tuple[Mutable, Any]] = field(default_factory=dict)


@dataclass
class _Call:
    """One user-function call in progress: its journal and the returns of paths that ended."""

    journal: _JournalFrame
    deferred: List[Tuple[Any, Dict[int, Tuple[Mutable, Any]]]] = field(default_factory=list)


class Scope:
    __slots__ = ("namespace", "parent", "module")

    def __init__(self, namespace: Namespace, parent: Optional["Scope"], module: ModuleSource) -> None:
        self.namespace = namespace
        self.parent = parent
        self.module = module


_CONSTANTS = {"True": True, "False": False, "None": None}
_MISSING = object()
_OPERATOR_TEXT = {cst.Add: "+", cst.Subtract: "-", cst.Multiply: "*", cst.Divide: "/", cst.AddAssign: "+="}
_REDUCTION_KEYWORDS = frozenset({"dim", "keepdim", "dtype"})
_ATTENTION_KEYWORDS = frozenset({"attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa"})
_PARAMETER_CLASSES = frozenset({"torch.nn.Parameter", "torch.nn.parameter.Parameter"})
#: The local name under which a method keeps what a bare ``super()`` means in it.
_SUPER = "super()"
#: The module-level name under which a module keeps its ``from x import *`` imports.
_STARS = "import *"

_BINARY: Dict[type, Callable[[Any, Any], Any]] = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.Power: operator.pow,
    cst.LeftShift: operator.lshift,
    cst.RightShift: operator.rshift,
    cst.BitOr: operator.or_,
    cst.BitAnd: operator.and_,
    cst.BitXor: operator.xor,
}
_AUGMENTED: Dict[type, type] = {
    cst.AddAssign: cst.Add,
    cst.SubtractAssign: cst.Subtract,
    cst.MultiplyAssign: cst.Multiply,
    cst.DivideAssign: cst.Divide,
    cst.FloorDivideAssign: cst.FloorDivide,
    cst.ModuloAssign: cst.Modulo,
    cst.PowerAssign: cst.Power,
    cst.LeftShiftAssign: cst.LeftShift,
    cst.RightShiftAssign: cst.RightShift,
    cst.BitOrAssign: cst.BitOr,
    cst.BitAndAssign: cst.BitAnd,
    cst.BitXorAssign: cst.BitXor,
}
_COMPARE: Dict[type, Callable[[Any, Any], Any]] = {
    cst.Equal: operator.eq,
    cst.NotEqual: operator.ne,
    cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le,
    cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge,
}
#: Decorators that return the function they decorate.
_TRANSPARENT_DECORATORS = frozenset(
    {
        "torch.jit.ignore", "torch.jit.unused", "torch.jit.export", "torch.jit.script_method",
        "torch.no_grad", "torch.inference_mode", "torch.fx.wrap", "functools.wraps",
        "functools.lru_cache", "functools.cache", "typing.overload", "typing.final",
    }
)
_CONTAINERS = {"torch.nn.Sequential": "Sequential", "torch.nn.ModuleList": "ModuleList",
               "torch.nn.ModuleDict": "ModuleDict"}
#: Methods whose effect on their receiver the interpreter models (or that change nothing); any
#: other method may change it.
_KNOWN_LIST_METHODS = frozenset({"append", "extend", "insert", "pop", "reverse", "copy", "index", "count"})
_KNOWN_DICT_METHODS = frozenset({"items", "keys", "values", "get", "update", "setdefault", "pop", "copy"})
_KNOWN_CONTAINER_METHODS = frozenset({"append", "extend", "insert", "add_module", "add", "build", "children", "modules",
                                      "named_children", "named_modules", "items", "keys", "values",
                                      "parameters", "named_parameters", "forward"})
_CONTAINER_METHODS = frozenset({"append", "extend", "insert", "add_module", "add", "build", "children", "modules",
                                "items", "keys", "values", "update"})
_MODULE_METHODS = frozenset({"add_module", "register_module"})
#: Bases whose metaclass makes calling the class look a member up instead of building an object.
_ENUM_BASES = frozenset({"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag"})
_STR_METHODS = frozenset({"format", "join", "lower", "upper", "startswith", "endswith", "replace",
                          "split", "strip", "rstrip", "lstrip"})


def _literal(node: cst.CSTNode) -> Any:
    text = node.value  # type: ignore[attr-defined]
    if text.isdigit():
        return int(text) if len(text) < 19 else UNKNOWN
    found = _LITERALS.get(text, _MISSING)
    if found is _MISSING:
        try:
            found = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError):
            found = UNKNOWN
        if len(_LITERALS) < 100_000:
            _LITERALS[text] = found
    return found


#: Numbers other than plain decimals (``1e-5``, ``0x10``, ``1_000``), by their text.
_LITERALS: Dict[str, Any] = {}
#: String literals by their text (libcst evaluates one with ``ast.literal_eval`` every time).
_STRINGS: Dict[str, Any] = {}


def _string_value(node: cst.SimpleString) -> Any:
    """A string literal's value. An invalid escape such as ``"\\d"`` makes Python warn, which
    under ``-W error`` is a SyntaxError and from Python 3.12 on a line on stderr: neither is
    convlint's business."""
    if "\\" not in node.value:
        return node.evaluated_value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return node.evaluated_value
        except (ValueError, SyntaxError):
            return UNKNOWN


def _body(node: Any) -> Sequence[cst.CSTNode]:
    return node.body if type(node) in (cst.IndentedBlock, cst.SimpleStatementSuite) else node.body.body


class Interpreter(KerasSupport, FlaxSupport):
    def __init__(self, project: Project, root: ModuleSource, facts: FileFacts, limits: Limits = Limits(),
                 unknown_defaults: bool = False) -> None:
        self.project = project
        self.root = root
        self.facts = facts
        self.limits = limits
        #: Roots leave their parameters' defaults unknown: what is found then holds whatever
        #: values callers pass (fixes are checked this way).
        self.unknown_defaults = unknown_defaults
        self.steps = 0
        self.journal: List[_JournalFrame] = []
        self.calls: List[_Call] = []
        self.frames: List[Frame] = []
        #: How many frames run each function, for the same-function depth limit.
        self.running: Dict[FunctionValue, int] = {}
        self.sites: List[Site] = []
        self.context: Optional[str] = None
        #: Models and containers built by the current root, whose forward is checked afterwards.
        self.created: List[Any] = []
        self.module_stack: List[ModuleSource] = []
        #: Models and containers whose forward has run for the current root.
        self.forwarded: Set[int] = set()
        #: When set, each layer's output tensor of a forward run, by layer (``summary --input-shape``).
        self.outputs: Optional[Dict[int, Tensor]] = None
        #: The root file's own namespace, executed fresh for every linted file.
        self.root_namespace: Optional[Namespace] = None
        self.keras_calls = {}
        self.compact_owners = []
        #: How many times a path was not decided (both branches of an ``if`` run, a loop not
        #: unrolled): what ran in between is not one path of the program.
        self.undecided = 0
        #: Above zero while evaluating an expression that may not run (``a if c else b``).
        self.speculative = 0

    # ----------------------------------------------------------------- budget and journal

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.limits.steps:
            self.exceeded()

    def exceeded(self) -> None:
        raise BudgetExceeded(f"more than {self.limits.steps} interpreter steps")

    def touch(self, value: Mutable) -> None:
        """Save ``value``'s state in every open branch that may have to undo or join it."""
        for frame in reversed(self.journal):
            if value.born >= frame.opened_at or id(value) in frame.entries:
                break
            frame.entries[id(value)] = (value, value.snapshot())

    def _open(self) -> _JournalFrame:
        frame = _JournalFrame(birth_now())
        self.journal.append(frame)
        return frame

    def open_frame(self) -> _JournalFrame:
        """Start recording changes, to undo them with ``undo``."""
        return self._open()

    def undo(self, frame: _JournalFrame) -> None:
        self._close(frame)
        for value, before in frame.entries.values():
            value.restore(before)

    def reset(self) -> None:
        """Forget the state of an interrupted root: open branches, calls, sites."""
        while self.journal:
            self.undo(self.journal[-1])
        self.calls.clear()
        self.frames.clear()
        self.running.clear()
        self.sites.clear()
        self.module_stack.clear()

    def root_defaults(self, node: cst.FunctionDef) -> Dict[str, Any]:
        assert self.root_namespace is not None
        return self._defaults(node.params, Scope(self.root_namespace, None, self.root))

    def _close(self, frame: _JournalFrame) -> None:
        while self.journal and self.journal[-1] is not frame:
            self.journal.pop()
        if self.journal:
            self.journal.pop()

    def branches(self, runs: Sequence[Callable[[], None]]) -> None:
        """Run each path from the same state, then keep what the paths that go on agree on."""
        self.undecided += 1
        outcomes = []
        for run in runs:
            frame = self._open()
            signal: Optional[BaseException] = None
            try:
                run()
            except _SIGNALS as caught:
                # Kept without its traceback, whose frames (this one among them) would hold it
                # in a cycle: each path's interpreter state then waits for a full collection.
                signal = caught.with_traceback(None)
            finally:
                self._close(frame)
            after = {key: value.snapshot() for key, (value, _) in frame.entries.items()}
            if isinstance(signal, _Return) and not signal.deferred:
                self._defer_return(signal.value)
            for value, before in frame.entries.values():
                value.restore(before)
            outcomes.append((frame, after, signal))
        going_on = [o for o in outcomes if o[2] is None or isinstance(o[2], (_Break, _Continue, _UncertainExit))]
        self._apply_join(going_on)
        if any(o[2] is not None for o in going_on):
            raise _UncertainExit()
        if not going_on:
            if any(isinstance(o[2], _Return) for o in outcomes):
                raise _Return(None, deferred=True)
            raise _Raise()

    def _apply_join(self, outcomes: List[Tuple[_JournalFrame, Dict[int, Any], Any]]) -> None:
        befores: Dict[int, Tuple[Mutable, Any]] = {}
        for frame, _, _ in outcomes:
            befores.update(frame.entries)
        for key, (value, before) in befores.items():
            states = [after.get(key, before) for _, after, _ in outcomes]
            joined = states[0]
            for state in states[1:]:
                joined = value.join(joined, state)
            value.restore(joined)

    def _defer_return(self, value: Any) -> None:
        if not self.calls:
            return
        call = self.calls[-1]
        states = {key: (obj, obj.snapshot()) for key, (obj, _) in call.journal.entries.items()}
        call.deferred.append((value, states))

    # ----------------------------------------------------------------- modules

    def module_namespace(self, source: ModuleSource) -> Namespace:
        """Execute a module once per run; later imports share its namespace."""
        cached = self.project.namespaces.get(source.path)
        if cached is not None:
            return cached
        namespace = Namespace({"__name__": source.name})
        self.project.namespaces[source.path] = namespace
        with self.project.on_behalf_of(source.path):
            self.execute_module(source, namespace)
        return namespace

    def execute_module(self, source: ModuleSource, namespace: Namespace) -> None:
        saved_steps = self.steps
        self.steps = 0
        scope = Scope(namespace, None, source)
        statement = None
        try:
            for statement in source.tree.body:
                self.execute(statement, scope)
        except (_Raise, _Return, _Break, _Continue, _UncertainExit):
            pass
        except (BudgetExceeded, RecursionError) as error:
            if source is self.root and statement is not None:
                # What follows in the linted file goes unchecked: CL004 says so.
                note = str(error) if isinstance(error, BudgetExceeded) else "nesting too deep for the interpreter"
                self.facts.budget_notes.append((statement, note))
        finally:
            self.steps = saved_steps

    def import_module(self, name: str, importer: ModuleSource) -> Any:
        if name.split(".")[0] in frameworks.PACKAGES:
            return External(name)
        source = self.project.find_module(name, importer)
        if source is None:
            return External(name)
        return ModuleValue(source, self.module_namespace(source))

    # ----------------------------------------------------------------- statements

    def execute_block(self, statements: Sequence[cst.CSTNode], scope: Scope) -> None:
        for statement in statements:
            self.execute(statement, scope)

    def execute(self, node: cst.CSTNode, scope: Scope) -> None:
        self.steps += 1  # tick(), inlined: the two hottest methods count every step
        if self.steps > self.limits.steps:
            self.exceeded()
        if type(node) is cst.SimpleStatementLine:
            for small in node.body:
                self.execute(small, scope)
            return
        handler = self._statements.get(type(node))
        if handler is not None:
            handler(self, node, scope)

    def _expr_statement(self, node: cst.Expr, scope: Scope) -> None:
        self.evaluate(node.value, scope)

    def _assign(self, node: cst.Assign, scope: Scope) -> None:
        if len(node.targets) == 1:
            self._unpacked_shape(node.targets[0].target, node.value, scope)
        value = self.evaluate(node.value, scope)
        for target in node.targets:
            self.assign(target.target, value, scope)

    def _ann_assign(self, node: cst.AnnAssign, scope: Scope) -> None:
        if node.value is not None:
            self.assign(node.target, self.evaluate(node.value, scope), scope)

    def _aug_assign(self, node: cst.AugAssign, scope: Scope) -> None:
        current = self.evaluate(node.target, scope)
        value = self.evaluate(node.value, scope)
        if isinstance(node.operator, cst.AddAssign) and isinstance(current, (ListValue, Container)):
            self.extend(current, value)
            return
        kind = _AUGMENTED.get(type(node.operator))  # ``@=`` is not modelled: its result is unknown
        self.assign(node.target, self.binary(kind, current, value, node) if kind else UNKNOWN, scope)

    def _return(self, node: cst.Return, scope: Scope) -> None:
        raise _Return(self.evaluate(node.value, scope) if node.value is not None else None)

    def _raise(self, node: cst.Raise, scope: Scope) -> None:
        raise _Raise()

    def _assert(self, node: cst.Assert, scope: Scope) -> None:
        if self.truth(self.evaluate(node.test, scope)) is False:
            raise _Raise()

    def _break(self, node: cst.Break, scope: Scope) -> None:
        raise _Break()

    def _continue(self, node: cst.Continue, scope: Scope) -> None:
        raise _Continue()

    def _delete(self, node: cst.Del, scope: Scope) -> None:
        self.assign(node.target, UNKNOWN, scope)

    def _import(self, node: cst.Import, scope: Scope) -> None:
        for alias in node.names:
            dotted = _dotted(alias.name)
            if alias.asname is not None:
                self.bind(scope, _name_of(alias.asname.name), self._imported(dotted, None, scope))
            else:
                top = dotted.split(".")[0]
                self.bind(scope, top, self._imported(top, None, scope))

    def _imported(self, module: str, name: Optional[str], scope: Scope) -> Any:
        """What an import binds. In files other than the linted one it is resolved only when
        used: a package's ``__init__`` importing fifty submodules costs nothing until one is."""
        lazy = LazyImport(module, name, scope.module)
        return self.resolve(lazy) if scope.module is self.root else lazy

    def _from_star(self, star: LazyImport, name: str) -> Any:
        """``name`` as ``from module import *`` binds it, or _MISSING."""
        if name.startswith("_"):
            return _MISSING
        module = self.resolve(star)
        if isinstance(module, ModuleValue):
            return self.attribute(module, name) if name in module.namespace.values else _MISSING
        if isinstance(module, External):
            qualified = f"{module.qualname}.{name}"
            if frameworks.layer_for(qualified) is not None or qualified in _CONTAINERS:
                return External(qualified)
        return _MISSING

    def resolve(self, value: Any) -> Any:
        if not isinstance(value, LazyImport):
            return value
        # The namespace holding the import keeps what it resolves to: that is the module's too.
        with self.project.on_behalf_of(value.importer.path):
            return self._resolve(value)

    def _resolve(self, value: LazyImport) -> Any:
        module = self.import_module(value.module, value.importer)
        if value.name is None:
            return module
        found = self.attribute(module, value.name)
        if found is UNKNOWN and isinstance(module, ModuleValue):
            found = self.import_module(f"{value.module}.{value.name}", value.importer)
            if isinstance(found, External):
                found = UNKNOWN
        return found

    def _import_from(self, node: cst.ImportFrom, scope: Scope) -> None:
        module_name = _dotted(node.module) if node.module is not None else ""
        name = absolute_name(scope.module, len(node.relative), module_name)
        if name is None:
            return
        if isinstance(node.names, cst.ImportStar):
            # Resolved name by name on lookup: a package's ``from .x import *`` lines then cost
            # nothing until one of their names is used.
            if name:
                stars = scope.namespace.values.get(_STARS, ())
                if type(stars) is tuple:  # else branches disagreed on them, and they stay unknown
                    scope.namespace.values[_STARS] = stars + (LazyImport(name, None, scope.module),)
            return
        for alias in node.names:
            imported = _name_of(alias.name)
            local = _name_of(alias.asname.name) if alias.asname is not None else imported
            self.bind(scope, local, self._imported(name, imported, scope) if name else UNKNOWN)

    def _if(self, node: cst.If, scope: Scope) -> None:
        test = self.truth(self.evaluate(node.test, scope))
        orelse = node.orelse

        def run_else() -> None:
            if type(orelse) is cst.If:
                self._if(orelse, scope)
            elif orelse is not None:
                self.execute_block(_body(orelse), scope)

        if test is True:
            self.execute_block(_body(node), scope)
        elif test is False:
            run_else()
        else:
            self.branches([lambda: self.execute_block(_body(node), scope), run_else])

    def _for(self, node: cst.For, scope: Scope) -> None:
        items = self.iterate(self.evaluate(node.iter, scope))
        if items is None:
            self.forget(node, scope)
            return
        for item in items:
            self.tick()
            self.assign(node.target, item, scope)
            try:
                self.execute_block(_body(node), scope)
            except _Break:
                return
            except _Continue:
                continue
            except _UncertainExit:
                self.forget(node, scope)
                return
        if node.orelse is not None:
            self.execute_block(_body(node.orelse), scope)

    def _while(self, node: cst.While, scope: Scope) -> None:
        if self.truth(self.evaluate(node.test, scope)) is False:
            if node.orelse is not None:
                self.execute_block(_body(node.orelse), scope)
            return
        self.forget(node, scope)

    def _with(self, node: cst.With, scope: Scope) -> None:
        for item in node.items:
            self.evaluate(item.item, scope)
            if item.asname is not None:
                self.assign(item.asname.name, UNKNOWN, scope)
        self.execute_block(_body(node), scope)

    def _try(self, node: cst.Try, scope: Scope) -> None:
        def run_body() -> None:
            self.execute_block(_body(node), scope)
            if node.orelse is not None:
                self.execute_block(_body(node.orelse), scope)

        def handler_run(handler: cst.ExceptHandler) -> Callable[[], None]:
            def run() -> None:
                if handler.name is not None:
                    self.assign(handler.name.name, UNKNOWN, scope)
                self.execute_block(_body(handler), scope)

            return run

        self.branches([run_body] + [handler_run(h) for h in node.handlers])
        if node.finalbody is not None:
            self.execute_block(_body(node.finalbody), scope)

    def _function_def(self, node: cst.FunctionDef, scope: Scope) -> None:
        self.bind(scope, node.name.value, self.define_function(node, scope))

    def define_function(self, node: cst.FunctionDef, scope: Scope, owner: Optional[ClassValue] = None) -> Any:
        function = FunctionValue(node, scope.module, closure=_closure_scope(scope),
                                 defaults=self._defaults(node.params, scope), owner=owner)
        value: Any = function
        for decorator in reversed(node.decorators):
            value = self.decorate(value, decorator.decorator, scope)
        return value

    def decorate(self, value: Any, expression: cst.BaseExpression, scope: Scope) -> Any:
        if isinstance(expression, cst.Name) and expression.value in ("staticmethod", "classmethod", "property"):
            if isinstance(value, FunctionValue):
                value.kind = expression.value
            return value
        if isinstance(expression, cst.Attribute) and expression.attr.value in ("setter", "getter", "deleter"):
            return UNKNOWN
        decorator = self.evaluate(expression, scope)
        if isinstance(decorator, External):
            base = decorator.qualname[:-2] if decorator.qualname.endswith("()") else decorator.qualname
            transparent = base in _TRANSPARENT_DECORATORS or base in frameworks.TRANSPARENT_DECORATORS
            return value if transparent else UNKNOWN
        return self.call(decorator, Arguments([value]), expression)

    def _defaults(self, params: cst.Parameters, scope: Scope) -> Dict[str, Any]:
        defaults = {}
        for param in itertools.chain(params.posonly_params, params.params, params.kwonly_params):
            if param.default is not None:
                defaults[param.name.value] = self.evaluate(param.default, scope)
        return defaults

    def _class_def(self, node: cst.ClassDef, scope: Scope) -> None:
        bases = tuple(self.evaluate(arg.value, scope) for arg in node.bases if not arg.keyword)
        klass = ClassValue(node, scope.module, bases, Namespace())
        class_scope = Scope(klass.namespace, scope, scope.module)
        for statement in _body(node):
            self.tick()
            if isinstance(statement, cst.FunctionDef):
                self.bind(class_scope, statement.name.value, self.define_function(statement, scope, owner=klass))
            else:
                try:
                    self.execute(statement, class_scope)
                except _SIGNALS:
                    break
        value: Any = klass
        if is_flax_class(klass):
            klass.fields = self._dataclass_fields(klass, scope)  # a Flax module is a dataclass
        for decorator in reversed(node.decorators):
            if self._is_dataclass_decorator(decorator.decorator, scope):
                klass.fields = self._dataclass_fields(klass, scope)
                continue
            decorated = self.decorate(value, decorator.decorator, scope)
            value = decorated if decorated is not UNKNOWN else value
        self.bind(scope, node.name.value, value)

    def _is_dataclass_decorator(self, expression: cst.BaseExpression, scope: Scope) -> bool:
        target = expression.func if isinstance(expression, cst.Call) else expression
        return self._quiet_evaluate(target, scope) == External("dataclasses.dataclass")

    def _dataclass_fields(self, klass: ClassValue, scope: Scope) -> Tuple[Tuple[str, Any], ...]:
        """The ``__init__`` parameters ``@dataclass`` generates: annotated names in order, with
        their defaults (a ``field(...)`` default is unknown)."""
        fields = []
        for base in reversed(klass.mro()[1:]):
            fields.extend(base.fields or ())
        for statement in _body(klass.node):
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                if not isinstance(small, cst.AnnAssign) or not isinstance(small.target, cst.Name):
                    continue
                annotation = small.annotation.annotation
                if _dotted(annotation.value if isinstance(annotation, cst.Subscript) else annotation).endswith("ClassVar"):
                    continue
                name = small.target.value
                default = klass.namespace.values.get(name, REQUIRED) if small.value is not None else REQUIRED
                if isinstance(small.value, cst.Call):
                    default = UNKNOWN
                fields = [(n, d) for n, d in fields if n != name] + [(name, default)]
        return tuple(fields)

    def _nothing(self, node: cst.CSTNode, scope: Scope) -> None:
        return None

    _statements: Dict[type, Callable[["Interpreter", Any, Scope], None]] = {
        cst.Expr: _expr_statement,
        cst.Assign: _assign,
        cst.AnnAssign: _ann_assign,
        cst.AugAssign: _aug_assign,
        cst.Return: _return,
        cst.Raise: _raise,
        cst.Assert: _assert,
        cst.Break: _break,
        cst.Continue: _continue,
        cst.Del: _delete,
        cst.Import: _import,
        cst.ImportFrom: _import_from,
        cst.If: _if,
        cst.For: _for,
        cst.While: _while,
        cst.With: _with,
        cst.Try: _try,
        cst.FunctionDef: _function_def,
        cst.ClassDef: _class_def,
        cst.Pass: _nothing,
        cst.Global: _nothing,
        cst.Nonlocal: _nothing,
    }

    # ----------------------------------------------------------------- names and assignment

    def bind(self, scope: Scope, name: str, value: Any) -> None:
        self.touch(scope.namespace)
        scope.namespace.values[name] = value

    def lookup(self, name: str, scope: Scope) -> Any:
        current: Optional[Scope] = scope
        while current is not None:
            found = current.namespace.values.get(name, _MISSING)
            if found is not _MISSING:
                if type(found) is LazyImport:
                    found = current.namespace.values[name] = self.resolve(found)
                return found
            if current.parent is None:
                stars = current.namespace.values.get(_STARS, ())
                if type(stars) is not tuple:  # star imports that branches disagree on: the name may be theirs
                    return UNKNOWN
                for star in stars:
                    found = self._from_star(star, name)
                    if found is not _MISSING:
                        return found
            current = current.parent
        if name in KNOWN_BUILTIN_NAMES:
            return Builtin(name)
        return UNKNOWN

    def assign(self, target: cst.BaseExpression, value: Any, scope: Scope) -> None:
        if type(target) is cst.Name:
            self.bind(scope, target.value, value)
        elif type(target) in (cst.Tuple, cst.List):
            self._unpack(target.elements, value, scope)
        elif type(target) is cst.Attribute:
            self.set_attribute(self.evaluate(target.value, scope), target.attr.value, value)
        elif type(target) is cst.Subscript:
            obj = self.evaluate(target.value, scope)
            key = self._subscript_key(target, scope)
            self.set_item(obj, key, value)
        elif type(target) is cst.StarredElement:
            self.assign(target.value, value, scope)

    def _unpack(self, elements: Sequence[cst.BaseElement], value: Any, scope: Scope) -> None:
        items = self.iterate(value)
        starred = [i for i, e in enumerate(elements) if type(e) is cst.StarredElement]
        if items is None or (not starred and len(items) != len(elements)) or len(items) < len(elements) - 1:
            for element in elements:
                self.assign(element.value, UNKNOWN, scope)
            return
        if not starred:
            for element, item in zip(elements, items):
                self.assign(element.value, item, scope)
            return
        star = starred[0]
        after = len(elements) - star - 1
        for element, item in zip(elements[:star], items[:star]):
            self.assign(element.value, item, scope)
        self.assign(elements[star].value, ListValue(items[star: len(items) - after]), scope)
        for element, item in zip(elements[star + 1:], items[len(items) - after:]):
            self.assign(element.value, item, scope)

    def set_attribute(self, obj: Any, name: str, value: Any) -> None:
        if isinstance(obj, Instance):
            self.touch(obj)
            obj.attributes[name] = value
            if obj.container is not None:
                self._register_child(obj.container, name, value)
        elif isinstance(obj, ClassValue):
            self.touch(obj.namespace)
            obj.namespace.values[name] = value
        elif isinstance(obj, Layer) and not (is_native(value) or isinstance(value, Dim)):
            # ``fc.weight = embedding.weight`` ties parameters: the layer's own count no longer holds
            # (a plain number, ``fc.stddev = 0.001``, changes nothing PyTorch counts).
            obj.altered = True

    def _register_child(self, container: Container, name: str, value: Any) -> None:
        """``self.conv = nn.Conv2d(…)`` in a Sequential subclass adds the conv to the sequence,
        as ``nn.Module.__setattr__`` registers it; a value that may be a module leaves the
        sequence unknown from there on."""
        if not isinstance(value, (Layer, Container, Instance)) and value is not UNKNOWN:
            return
        self.touch(container)
        names = [child_name for child_name, _ in container.children]
        if name in names:
            container.children[names.index(name)] = (name, value)
        elif value is UNKNOWN:
            container.children.append((None, UNKNOWN_ITEMS))
        else:
            container.children.append((name, value))

    def set_item(self, obj: Any, key: Any, value: Any) -> None:
        if isinstance(obj, ListValue):
            self.touch(obj)
            if isinstance(key, int) and obj.complete and -len(obj.items) <= key < len(obj.items):
                obj.items[key] = value
            else:
                obj.items = [UNKNOWN if item is not UNKNOWN_ITEMS else item for item in obj.items]
        elif isinstance(obj, DictValue):
            self.touch(obj)
            if is_native(key) and key is not UNKNOWN:
                obj.items[key] = value
            else:
                obj.items = {k: UNKNOWN for k in obj.items}
                obj.complete = False
        elif isinstance(obj, Container):
            self.touch(obj)
            names = [name for name, _ in obj.children]
            index = names.index(key) if key in names else key
            if isinstance(index, int) and UNKNOWN_ITEMS not in obj.modules() and -len(names) <= index < len(names):
                obj.children[index] = (obj.children[index][0], value)
            elif obj.kind == "ModuleDict" and isinstance(key, str):
                obj.children.append((key, value))
            else:
                obj.children = [(name, UNKNOWN) for name, _ in obj.children]

    def forget(self, loop: cst.CSTNode, scope: Scope) -> None:
        """A loop the analysis does not unroll: whatever its body may change becomes unknown."""
        self.undecided += 1
        targets, receivers = _changed_in(loop, scope.module)
        for target in targets:
            self._forget_target(target, scope)
        for expression in receivers:
            receiver = self._quiet_evaluate(expression, scope)
            if receiver is not UNKNOWN:
                self._forget_contents(receiver)
                if isinstance(receiver, Instance):
                    # A method of the object may change any of its attributes.
                    self.touch(receiver)
                    receiver.attributes = {name: UNKNOWN for name in receiver.attributes}

    def _forget_target(self, target: cst.BaseExpression, scope: Scope) -> None:
        if type(target) is cst.Name:
            self.bind(scope, target.value, UNKNOWN)
        elif type(target) in (cst.Tuple, cst.List):
            for element in target.elements:
                self._forget_target(element.value, scope)
        elif type(target) is cst.Attribute:
            owner = self._quiet_evaluate(target.value, scope)
            self.set_attribute(owner, target.attr.value, UNKNOWN)
        elif type(target) is cst.Subscript:
            self._forget_contents(self._quiet_evaluate(target.value, scope))

    def _forget_contents(self, value: Any) -> None:
        if isinstance(value, ListValue):
            self.touch(value)
            value.items = [UNKNOWN if item is not UNKNOWN_ITEMS else item for item in value.items]
            value.items.append(UNKNOWN_ITEMS)
        elif isinstance(value, DictValue):
            self.touch(value)
            value.items = {key: UNKNOWN for key in value.items}
            value.complete = False
        elif isinstance(value, SetValue):
            self.touch(value)
            value.items = None
        elif isinstance(value, Container):
            self.touch(value)
            value.children = [(name, UNKNOWN) for name, _ in value.children] + [(None, UNKNOWN_ITEMS)]
        elif isinstance(value, Instance) and value.container is not None:
            self._forget_contents(value.container)

    def _quiet_evaluate(self, node: cst.BaseExpression, scope: Scope) -> Any:
        """Evaluate a plain name or attribute chain, without calls (no side effects)."""
        if type(node) is cst.Name:
            return self.lookup(node.value, scope)
        if type(node) is cst.Attribute:
            return self.attribute(self._quiet_evaluate(node.value, scope), node.attr.value)
        return UNKNOWN

    # ----------------------------------------------------------------- expressions

    def evaluate(self, node: cst.BaseExpression, scope: Scope) -> Any:
        self.steps += 1  # tick(), inlined
        if self.steps > self.limits.steps:
            self.exceeded()
        handler = self._expressions.get(type(node))
        if handler is None:
            return UNKNOWN
        return handler(self, node, scope)

    def _name(self, node: cst.Name, scope: Scope) -> Any:
        constant = _CONSTANTS.get(node.value, _MISSING)
        return self.lookup(node.value, scope) if constant is _MISSING else constant

    def _number(self, node: cst.CSTNode, scope: Scope) -> Any:
        return _literal(node)

    def _string(self, node: Any, scope: Scope) -> Any:
        if type(node) is cst.FormattedString:
            return UNKNOWN
        value = _STRINGS.get(node.value, _MISSING)
        if value is _MISSING:
            value = _string_value(node)
            if len(_STRINGS) < 100_000:
                _STRINGS[node.value] = value
        return value if isinstance(value, (str, bytes)) else UNKNOWN

    def _formatted(self, node: cst.FormattedString, scope: Scope) -> Any:
        parts = []
        for part in node.parts:
            if type(part) is cst.FormattedStringText:
                parts.append(part.value)
                continue
            value = self.evaluate(part.expression, scope)
            if part.format_spec is not None or part.conversion is not None or not is_native(value):
                return UNKNOWN
            parts.append(str(value))
        return "".join(parts)

    def _concatenated(self, node: cst.ConcatenatedString, scope: Scope) -> Any:
        left, right = self.evaluate(node.left, scope), self.evaluate(node.right, scope)
        return left + right if isinstance(left, str) and isinstance(right, str) else UNKNOWN

    def _attribute(self, node: cst.Attribute, scope: Scope) -> Any:
        obj = self.evaluate(node.value, scope)
        if isinstance(obj, Tensor) and node.attr.value in ("shape", "size"):
            obj = self._named_sizes(obj, scope)
        return self.attribute(obj, node.attr.value)

    def _unpacked_shape(self, target: cst.BaseExpression, value: cst.BaseExpression, scope: Scope) -> None:
        """``B, T, C = x.shape`` (or ``x.size()``) raises unless ``x`` has three axes: a tensor
        of unknown rank learns it, keeping the trailing sizes it knew."""
        if type(target) not in (cst.Tuple, cst.List) or \
                any(type(element) is cst.StarredElement for element in target.elements):
            return
        if type(value) is cst.Call and not value.args and type(value.func) is cst.Attribute and \
                value.func.attr.value == "size":
            receiver: cst.BaseExpression = value.func.value
        elif type(value) is cst.Attribute and value.attr.value == "shape":
            receiver = value.value
        else:
            return
        name = receiver.value if type(receiver) is cst.Name else ""
        tensor = self.lookup(name, scope) if name else None
        rank = len(target.elements)
        if not isinstance(tensor, Tensor) or tensor.rank is not None or len(tensor.dims) > rank:
            return
        known = replace(tensor, rank=rank, rank_certain=True, dims=(UNKNOWN,) * (rank - len(tensor.dims)) + tensor.dims)
        if tensor is not UNKNOWN_TENSOR:
            self._rebind(scope, tensor, known)
        elif name in scope.namespace.values:
            self.bind(scope, name, known)  # the shared unknown tensor: only this name is that tensor

    def _rebind(self, scope: Scope, old: Any, new: Any) -> None:
        """The local names bound to the object ``old`` are bound to ``new``."""
        names = [name for name, value in scope.namespace.values.items() if value is old]
        if names:
            self.touch(scope.namespace)
            for name in names:
                scope.namespace.values[name] = new

    def _named_sizes(self, tensor: Tensor, scope: Scope) -> Tensor:
        """Reading ``x.shape`` or ``x.size(…)`` of a tensor of known rank names its unknown sizes:
        each becomes a symbol of its own, and the local names bound to that tensor see them, so
        that ``B, T, C = x.shape`` then ``self.q(x).view(B, T, heads, -1)`` keeps ``B`` and ``T``."""
        if tensor.rank is None or UNKNOWN not in tensor.dims:
            return tensor
        named = replace(tensor, dims=tuple(unknown_positive() if size is UNKNOWN else size for size in tensor.dims))
        self._rebind(scope, tensor, named)
        return named

    def _elements(self, elements: Sequence[cst.BaseElement], scope: Scope) -> Optional[List[Any]]:
        items: List[Any] = []
        for element in elements:
            value = self.evaluate(element.value, scope)
            if type(element) is cst.StarredElement:
                expanded = self.iterate(value)
                if expanded is None:
                    if isinstance(value, ListValue):
                        items.extend(value.items)
                        continue
                    return None
                items.extend(expanded)
            else:
                items.append(value)
        return items

    def _tuple(self, node: cst.Tuple, scope: Scope) -> Any:
        items = self._elements(node.elements, scope)
        return UNKNOWN if items is None or UNKNOWN_ITEMS in items else tuple(items)

    def _list(self, node: cst.List, scope: Scope) -> Any:
        items = self._elements(node.elements, scope)
        return ListValue([UNKNOWN_ITEMS] if items is None else items)

    def _set(self, node: cst.Set, scope: Scope) -> Any:
        self._elements(node.elements, scope)
        return UNKNOWN

    def _dict(self, node: cst.Dict, scope: Scope) -> Any:
        result = DictValue()
        for element in node.elements:
            if type(element) is cst.StarredDictElement:
                source = self.evaluate(element.value, scope)
                if isinstance(source, DictValue):
                    result.items.update(source.items)
                    result.complete = result.complete and source.complete
                else:
                    result.complete = False
                continue
            key = self.evaluate(element.key, scope)
            value = self.evaluate(element.value, scope)
            if key is UNKNOWN or not is_native(key):
                result.complete = False
            else:
                result.items[key] = value
        return result

    def _subscript_key(self, node: cst.Subscript, scope: Scope) -> Any:
        keys = []
        for element in node.slice:
            inner = element.slice
            if type(inner) is cst.Index:
                keys.append(self.evaluate(inner.value, scope))
            else:
                parts = [self.evaluate(p, scope) if p is not None else None for p in (inner.lower, inner.upper, inner.step)]
                keys.append(slice(*parts) if all(p is None or isinstance(p, int) for p in parts) else UNKNOWN)
        return keys[0] if len(keys) == 1 else tuple(keys)

    def _subscript(self, node: cst.Subscript, scope: Scope) -> Any:
        obj = self.evaluate(node.value, scope)
        key = self._subscript_key(node, scope)
        return self.item(obj, key)

    def item(self, obj: Any, key: Any) -> Any:
        if key is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, DictValue):
            if not is_native(key):
                return UNKNOWN
            found = obj.items.get(key, _MISSING)
            return UNKNOWN if found is _MISSING or isinstance(found, MaybeMissing) else found
        if isinstance(obj, Container):
            if obj.kind == "ModuleDict":
                return dict((n, c) for n, c in obj.children).get(key, UNKNOWN)
            children = obj.modules()
            known = children if UNKNOWN_ITEMS not in children else None
            if isinstance(key, slice):
                if known is None:
                    return UNKNOWN
                return self._new_container(obj.kind, [(None, c) for c in known[key]], obj.node)
            if isinstance(key, int):
                return _index(children, key)
            return UNKNOWN
        if isinstance(obj, ListValue):
            if isinstance(key, slice):
                return ListValue(obj.items[key]) if obj.complete else UNKNOWN
            return _index(obj.items, key) if isinstance(key, int) else UNKNOWN
        if isinstance(obj, (tuple, str, range)) and isinstance(key, (int, slice)):
            try:
                return obj[key]
            except (IndexError, ValueError):
                return UNKNOWN
        if isinstance(obj, Tensor):
            return flow.touched(flow.index(obj, key))
        return UNKNOWN

    def _binary_operation(self, node: cst.BinaryOperation, scope: Scope) -> Any:
        left = self.evaluate(node.left, scope)
        right = self.evaluate(node.right, scope)
        return self.binary(type(node.operator), left, right, node)

    def binary(self, kind: type, left: Any, right: Any, node: Optional[cst.CSTNode] = None) -> Any:
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        values = value_tensors.binary(kind, left, right)
        if values is not value_tensors.NOT_VALUES:
            return values
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            return self.tensor_binary(kind, left, right, node)
        if isinstance(left, Dim) or isinstance(right, Dim):
            if kind is cst.Add:
                return add(left, right)
            if kind is cst.Subtract:
                return add(left, right, sign=-1)
            if kind is cst.Multiply:
                return multiply(left, right)
            if kind is cst.FloorDivide:
                return floor_divide(left, right)
            return UNKNOWN
        if kind is cst.Add and isinstance(left, ListValue) and isinstance(right, ListValue):
            if len(left.items) + len(right.items) > MAX_ITEMS:
                return ListValue([UNKNOWN_ITEMS])
            return ListValue(left.items + right.items)
        if kind is cst.Multiply and isinstance(left, ListValue) and isinstance(right, int):
            return ListValue(left.items * right) if len(left.items) * right <= MAX_ITEMS else UNKNOWN
        if not (is_native(left) or isinstance(left, tuple)) or not (is_native(right) or isinstance(right, tuple)):
            return UNKNOWN
        if not _safe_size(kind, left, right):
            return UNKNOWN
        try:
            result = _BINARY[kind](left, right)
        except Exception:
            return UNKNOWN
        if isinstance(result, int) and abs(result) > INT_LIMIT:
            return UNKNOWN
        return result

    def tensor_binary(self, kind: type, left: Any, right: Any, node: Optional[cst.CSTNode] = None,
                      operation: Optional[str] = None) -> Any:
        """Arithmetic on tensors: a scalar operand keeps the tensor's shape; two tensors
        broadcast, and each pair of aligned sizes is recorded for the rules (under ``operation``,
        or the operator's symbol)."""
        if kind is cst.MatrixMultiply:
            return self.matrix_product(torch_catalog.MATMUL, left, right, node, "@")
        # A number keeps the tensor's shape; a parameter seen only as a symbol may be a tensor
        # itself (a gate of shape (1, C, 1, 1)), and then the result's shape is not known.
        if isinstance(left, Tensor) and is_native(right):
            return flow.touched(left)
        if isinstance(right, Tensor) and is_native(left):
            return flow.touched(right)
        if isinstance(left, Dim) or isinstance(right, Dim):
            return UNKNOWN_TENSOR
        if isinstance(left, Tensor) and isinstance(right, Tensor):
            self._record_operands(operation or _OPERATOR_TEXT.get(kind, "an elementwise operation"), (left, right),
                                  None, node)
            return flow.broadcast(left, right)
        return UNKNOWN_TENSOR

    def matrix_product(self, kind: str, left: Any, right: Any, node: Optional[cst.CSTNode], operation: str) -> Tensor:
        """``a @ b``, ``torch.matmul``/``bmm``/``mm``: the product's shape, and its inner sizes
        recorded for CL109. A parameter of known shape (``nn.Parameter(torch.randn(d, k))``) is
        a matrix of that shape."""
        operands = [Tensor(len(value.shape), value.shape, rank_certain=True)
                    if isinstance(value, ParameterValue) and value.shape is not None else value
                    for value in (left, right)]
        if not all(isinstance(value, Tensor) for value in operands):
            return UNKNOWN_TENSOR
        output, contractions = flow.matmul(operands[0], operands[1], torch_catalog.MATRIX_RANKS[kind])
        self._record_contractions(operation, contractions, operands, ("the left operand", "the right operand"), node)
        return flow.touched(output)

    def einsum(self, args: Arguments, node: Optional[cst.CSTNode]) -> Tensor:
        """``torch.einsum("bhqd,bhkd->bhqk", q, k)`` (or with the operands in one list), for a
        literal equation."""
        equation = args.positional[0] if args.positional else None
        operands = args.positional[1:]
        if len(operands) == 1 and isinstance(operands[0], (tuple, ListValue)):
            operands = self.iterate(operands[0]) or []
        if not isinstance(equation, str) or not args.exact or args.keywords or not operands \
                or not all(isinstance(operand, Tensor) for operand in operands):
            return UNKNOWN_TENSOR
        output, contractions = flow.einsum(equation, list(operands))
        names = tuple(f"operand {index}" for index in range(1, len(operands) + 1))
        self._record_contractions(f"torch.einsum('{equation}')", contractions, operands, names, node)
        return flow.touched(output)

    def attention_function(self, args: Arguments, node: Optional[cst.CSTNode]) -> Tensor:
        """``F.scaled_dot_product_attention(q, k, v)``: softmax(q kᵀ) v, as the einsum
        ``...le,...se,...sv->...lv`` (the heads broadcast, or differ under ``enable_gqa``)."""
        names = ("query", "key", "value")
        operands = list(args.positional[:3]) + [args.keywords.get(name) for name in names[len(args.positional):]]
        if not args.exact or not all(isinstance(operand, Tensor) for operand in operands) \
                or not set(args.keywords) <= set(names) | _ATTENTION_KEYWORDS:
            return UNKNOWN_TENSOR
        output, contractions = flow.einsum("...le,...se,...sv->...lv", operands)
        self._record_contractions("F.scaled_dot_product_attention", contractions, operands,
                                  tuple(f"the {name}" for name in names), node)
        return flow.touched(output)

    def _record_contractions(self, operation: str, contractions: Sequence[flow.Contraction],
                             operands: Sequence[Tensor], names: Tuple[str, ...], node: Optional[cst.CSTNode]) -> None:
        """Record the pairs of known sizes an operation multiplies together, for CL109."""
        anchor = self._operation_anchor(node)
        if anchor is None:
            return
        shapes = tuple(f"{name} {_shape_text(tensor)}" for name, tensor in zip(names, operands))
        for contraction in contractions:
            if all(as_dim(size) is not None for size in contraction.sizes):
                self.facts.add_contraction(ContractionFact(operation, contraction, shapes,
                                                           tuple(t.origin for t in operands), anchor, self.context))

    def _record_operands(self, operation: str, tensors: Sequence[Tensor], skip_axis: Optional[int],
                         node: Optional[cst.CSTNode]) -> None:
        """Record, axis by aligned axis (from the right), the sizes the operands bring."""
        anchor = self._operation_anchor(node)
        if anchor is None:
            return
        width = max(len(t.dims) if t.rank is None else t.rank for t in tensors)
        for index in range(-width, 0):
            if skip_axis is not None and index == skip_axis:
                continue
            sizes = tuple(t.axis(index) for t in tensors)
            if all(as_dim(size) is not None for size in sizes):
                self.facts.add_operands(OperandsFact(operation, index, sizes, tuple(t.origin for t in tensors),
                                                     anchor, self.context))

    def _operation_anchor(self, node: Optional[cst.CSTNode]) -> Optional[cst.CSTNode]:
        """Where a finding about an operation on tensors goes: the operation itself in the
        linted file, else the call of the linted file that led to it."""
        anchor = node if node is not None and self._current_module() is self.root else self._current_site()
        return None if anchor is self.root.tree else anchor

    def _unary(self, node: cst.UnaryOperation, scope: Scope) -> Any:
        value = self.evaluate(node.expression, scope)
        if type(node.operator) is cst.Not:
            truth = self.truth(value)
            return UNKNOWN if truth is None else not truth
        if isinstance(value, Tensor):
            return flow.touched(value)
        if type(node.operator) is cst.Minus:
            return multiply(value, -1) if isinstance(value, Dim) else self.binary(cst.Subtract, 0, value)
        if type(node.operator) is cst.Plus:
            return value if is_native(value) or isinstance(value, Dim) else UNKNOWN
        if isinstance(value, int) and not isinstance(value, bool):
            return ~value
        return UNKNOWN

    def _boolean(self, node: cst.BooleanOperation, scope: Scope) -> Any:
        left = self.evaluate(node.left, scope)
        truth = self.truth(left)
        is_and = type(node.operator) is cst.And
        if truth is None:
            right = self._speculate(node.right, scope)
            return UNKNOWN if right is not left else left
        if truth is (not is_and):
            return left
        return self.evaluate(node.right, scope)

    def _comparison(self, node: cst.Comparison, scope: Scope) -> Any:
        left = self.evaluate(node.left, scope)
        result: Any = True
        for target in node.comparisons:
            right = self.evaluate(target.comparator, scope)
            outcome = self.compare(type(target.operator), left, right)
            if outcome is False:
                return False
            if outcome is UNKNOWN:
                result = UNKNOWN
            left = right
        return result

    def compare(self, kind: type, left: Any, right: Any) -> Any:
        if kind in (cst.Is, cst.IsNot):
            same = _identical(left, right)
            if same is UNKNOWN:
                return UNKNOWN
            return same if kind is cst.Is else not same
        if kind in (cst.In, cst.NotIn):
            found = self._contains(right, left)
            if found is UNKNOWN:
                return UNKNOWN
            return found if kind is cst.In else not found
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        if isinstance(left, Dim) or isinstance(right, Dim):
            if as_dim(left) is None or as_dim(right) is None:
                return UNKNOWN
            # Only a constant difference decides: a symbol in a condition need not be a channel
            # count, and may be zero or negative.
            difference = add(left, right, sign=-1)
            if not isinstance(difference, int):
                return UNKNOWN
            return _COMPARE[kind](difference, 0)
        if is_native(left) and is_native(right):
            try:
                return bool(_COMPARE[kind](left, right))
            except TypeError:
                return UNKNOWN
        if kind in (cst.Equal, cst.NotEqual):
            same = _identical(left, right)
            if same is UNKNOWN:
                return UNKNOWN
            return same if kind is cst.Equal else not same
        return UNKNOWN

    def _contains(self, container: Any, value: Any) -> Any:
        if isinstance(container, SetValue):
            return value in container.items if container.items is not None and is_native(value) else UNKNOWN
        if isinstance(container, DictValue):
            if not is_native(value):
                return UNKNOWN
            entry = container.items.get(value, _MISSING)
            if entry is _MISSING:
                return False if container.complete else UNKNOWN
            return UNKNOWN if isinstance(entry, MaybeMissing) else True
        if isinstance(container, str) and isinstance(value, str):
            return value in container
        items = self.iterate(container)
        if items is None or not is_native(value) or not all(is_native(i) for i in items):
            return UNKNOWN
        return value in items

    def _if_expression(self, node: cst.IfExp, scope: Scope) -> Any:
        truth = self.truth(self.evaluate(node.test, scope))
        if truth is True:
            return self.evaluate(node.body, scope)
        if truth is False:
            return self.evaluate(node.orelse, scope)
        self.undecided += 1
        return join_values(self._speculate(node.body, scope), self._speculate(node.orelse, scope))

    def _speculate(self, node: cst.BaseExpression, scope: Scope) -> Any:
        """Evaluate an expression that may not run: what its calls imply is not learned."""
        self.speculative += 1
        try:
            return self.evaluate(node, scope)
        finally:
            self.speculative -= 1

    def _lambda(self, node: cst.Lambda, scope: Scope) -> Any:
        return FunctionValue(node, scope.module, closure=scope, defaults=self._defaults(node.params, scope))

    def _named(self, node: cst.NamedExpr, scope: Scope) -> Any:
        value = self.evaluate(node.value, scope)
        self.assign(node.target, value, scope)
        return value

    def _comprehension(self, node: Any, scope: Scope) -> Any:
        inner = Scope(Namespace(), scope, scope.module)
        results: List[Any] = []
        self._comprehend(node.for_in, inner, lambda: results.append(self._element(node, inner)),
                         lambda: results.append(UNKNOWN_ITEMS))
        if type(node) is cst.DictComp:
            result = DictValue(complete=UNKNOWN_ITEMS not in results)
            for pair in results:
                if pair is UNKNOWN_ITEMS:
                    continue
                if pair[0] is UNKNOWN or not is_native(pair[0]):
                    result.complete = False
                else:
                    result.items[pair[0]] = pair[1]
            return result
        if type(node) is cst.SetComp:
            return UNKNOWN
        return ListValue(results)

    def _element(self, node: Any, scope: Scope) -> Any:
        if type(node) is cst.DictComp:
            return (self.evaluate(node.key, scope), self.evaluate(node.value, scope))
        return self.evaluate(node.elt, scope)

    def _comprehend(self, clause: cst.CompFor, scope: Scope, emit: Callable[[], None],
                    gap: Callable[[], None]) -> None:
        """Run the comprehension's loops; ``gap`` marks where items may or may not be."""
        items = self.iterate(self.evaluate(clause.iter, scope))
        if items is None:
            gap()
            return
        for item in items:
            self.tick()
            self.assign(clause.target, item, scope)
            truths = [self.truth(self.evaluate(condition.test, scope)) for condition in clause.ifs]
            if False in truths:
                continue
            if None in truths:
                gap()
                continue
            if clause.inner_for_in is not None:
                self._comprehend(clause.inner_for_in, scope, emit, gap)
            else:
                emit()

    def _call_expression(self, node: cst.Call, scope: Scope) -> Any:
        if type(node.func) is cst.Name and node.func.value == "super" and not node.args:
            return self.lookup(_SUPER, scope)
        function = self.evaluate(node.func, scope)
        arguments = self._arguments(node.args, scope)
        result = self.call(function, arguments, node)
        if arguments.positional and isinstance(function, (Layer, Container)) and not self.speculative:
            self.learn(function, arguments.positional[0], scope)
        return result

    def learn(self, module: Any, tensor: Any, scope: Scope) -> None:
        """After ``self.conv1(x)`` has run, ``x`` had the channels conv1 takes: the local names
        bound to that very tensor learn them (``identity = x`` before it), so that
        ``out + identity`` later compares what is known."""
        while isinstance(module, Container) and module.kind == "Sequential" and module.children:
            module = module.children[0][1]
        if not isinstance(module, Layer) or not isinstance(tensor, Tensor) or tensor is UNKNOWN_TENSOR:
            return
        known = flow.learned(module, tensor)
        if known is not tensor:
            self._rebind(scope, tensor, known)

    def _arguments(self, args: Sequence[cst.Arg], scope: Scope) -> Arguments:
        result = Arguments()
        for arg in args:
            value = self.evaluate(arg.value, scope)
            if arg.star == "*":
                items = self.iterate(value)
                if items is None:
                    # What cannot be expanded keeps its place: nothing before it joins what follows.
                    result.positional.extend(value.items if isinstance(value, ListValue) else [UNKNOWN_ITEMS])
                    result.open_positional = True
                else:
                    result.positional.extend(items)
            elif arg.star == "**":
                if isinstance(value, DictValue):
                    for key, item in value.items.items():
                        if isinstance(key, str):
                            result.keywords[key] = item
                    result.open_keywords = result.open_keywords or not value.complete
                else:
                    result.open_keywords = True
            elif arg.keyword is not None:
                result.keywords[arg.keyword.value] = value
            else:
                result.positional.append(value)
        return result

    _expressions: Dict[type, Callable[["Interpreter", Any, Scope], Any]] = {
        cst.Name: _name,
        cst.Integer: _number,
        cst.Ellipsis: lambda self, node, scope: Ellipsis,
        cst.Float: _number,
        cst.SimpleString: _string,
        cst.ConcatenatedString: _concatenated,
        cst.FormattedString: _formatted,
        cst.Attribute: _attribute,
        cst.Tuple: _tuple,
        cst.List: _list,
        cst.Set: _set,
        cst.Dict: _dict,
        cst.Subscript: _subscript,
        cst.BinaryOperation: _binary_operation,
        cst.UnaryOperation: _unary,
        cst.BooleanOperation: _boolean,
        cst.Comparison: _comparison,
        cst.IfExp: _if_expression,
        cst.Lambda: _lambda,
        cst.NamedExpr: _named,
        cst.ListComp: _comprehension,
        cst.GeneratorExp: _comprehension,
        cst.SetComp: _comprehension,
        cst.DictComp: _comprehension,
        cst.Call: _call_expression,
    }

    # ----------------------------------------------------------------- values

    def truth(self, value: Any) -> Optional[bool]:
        """Python truthiness when the analysis knows it, else None."""
        if value is UNKNOWN or isinstance(value, (Dim, Tensor, MaybeMissing)):
            return None
        if is_native(value) or isinstance(value, (tuple, range)):
            return bool(value)
        if isinstance(value, ListValue):
            if value.complete:
                return bool(value.items)
            return True if value.items and value.items[0] is not UNKNOWN_ITEMS else None
        if isinstance(value, DictValue):
            if any(not isinstance(item, MaybeMissing) for item in value.items.values()):
                return True
            return False if value.complete and not value.items else None
        if isinstance(value, Container):
            return bool(value.children) if UNKNOWN_ITEMS not in value.modules() else None
        if isinstance(value, (Layer, FunctionValue, ClassValue, BoundMethod, Builtin, Partial, ModuleValue)):
            return True
        if isinstance(value, Instance):
            return True if value.klass.lookup("__len__") is None and value.klass.lookup("__bool__") is None \
                and value.container is None else None
        if isinstance(value, External):
            return True
        return None

    def iterate(self, value: Any) -> Optional[List[Any]]:
        items = items_of(value)
        if items is None and isinstance(value, Instance) and value.container is not None:
            items = items_of(value.container)
        if items is not None and len(items) > self.limits.loop_iterations:
            self.facts.budget_notes.append((self._current_site(), f"a loop of {len(items)} iterations"))
            return None
        return items

    def attribute(self, obj: Any, name: str) -> Any:
        if isinstance(obj, ModuleValue):
            found = obj.namespace.values.get(name, _MISSING)
            if isinstance(found, LazyImport):
                found = obj.namespace.values[name] = self.resolve(found)
            return UNKNOWN if found is _MISSING else found
        if isinstance(obj, External):
            return External(f"{obj.qualname}.{name}")
        if isinstance(obj, Instance):
            if name in obj.attributes:
                return obj.attributes[name]
            member = obj.klass.lookup(name)
            if member is not None:
                return self._bind_member(member, obj, obj.klass)
            if obj.container is not None and name in _CONTAINER_METHODS:
                return ExternalCallable(name, obj.container)
            if name in _MODULE_METHODS:
                return ExternalCallable(name, obj)
            return UNKNOWN
        if isinstance(obj, ClassValue):
            member = obj.lookup(name)
            if isinstance(member, FunctionValue):
                return BoundMethod(obj, member) if member.kind == "classmethod" else member
            # An Enum's attributes are members, not the values written for them.
            return UNKNOWN if member is None or _is_enum(obj) else member
        if isinstance(obj, Super):
            mro = obj.receiver.klass.mro() if isinstance(obj.receiver, Instance) else []
            following = mro[mro.index(obj.owner) + 1:] if obj.owner in mro else []
            for klass in following:
                if name in klass.namespace.values:
                    return self._bind_member(klass.namespace.values[name], obj.receiver, klass)
            if name == "__init__":
                return ExternalCallable("super.__init__", obj.receiver)
            return UNKNOWN
        if isinstance(obj, Layer):
            return obj.arguments.get(name, UNKNOWN)
        if isinstance(obj, Container):
            children = dict((n, c) for n, c in obj.children if isinstance(n, str))
            if name in children:
                return children[name]
            return ExternalCallable(name, obj)
        if isinstance(obj, (ListValue, DictValue)):
            return ExternalCallable(name, obj)
        if isinstance(obj, str) and name in _STR_METHODS:
            return ExternalCallable(name, obj)
        if isinstance(obj, SetValue):
            return ExternalCallable(name, obj)  # any method may change it: see call_method
        if isinstance(obj, value_tensors.ValueTensor):
            return ExternalCallable(f"values.{name}", obj)
        if isinstance(obj, Tensor):
            if name == "shape":
                return tuple(obj.dims) if obj.rank is not None else UNKNOWN
            return ExternalCallable(f"tensor.{name}", obj)
        return UNKNOWN

    def _bind_member(self, member: Any, receiver: Any, klass: ClassValue) -> Any:
        if not isinstance(member, FunctionValue):
            return member
        if member.kind == "staticmethod":
            return member
        if member.kind == "classmethod":
            return BoundMethod(receiver.klass if isinstance(receiver, Instance) else klass, member)
        if member.kind == "property":
            return self.call_function(member, Arguments([receiver]), None)
        return BoundMethod(receiver, member)

    # ----------------------------------------------------------------- calls

    def call(self, function: Any, args: Arguments, node: Optional[cst.CSTNode]) -> Any:
        if isinstance(function, FunctionValue):
            return self.call_function(function, args, node)
        if isinstance(function, BoundMethod):
            return self.call_function(function.function, Arguments([function.receiver] + args.positional,
                                      args.keywords, args.open_positional, args.open_keywords), node, implicit=1)
        if isinstance(function, ClassValue):
            return self.instantiate(function, args, node)
        if isinstance(function, Instance):
            return self.call_module(function, args, node)
        if isinstance(function, (Layer, Container)):
            return self.call_module(function, args, node)
        if isinstance(function, External):
            return self.call_external(function.qualname, args, node)
        if isinstance(function, Builtin):
            return self.call_builtin(function.name, args, node)
        if isinstance(function, ExternalCallable):
            return self.call_method(function, args, node)
        if isinstance(function, Partial):
            merged = Arguments(list(function.args) + args.positional, {**dict(function.kwargs), **args.keywords},
                               args.open_positional, args.open_keywords)
            return self.call(function.function, merged, node)
        return self.unknown_call(args)

    def call_function(self, function: FunctionValue, args: Arguments, node: Optional[cst.CSTNode],
                      symbolic: bool = False, implicit: int = 0) -> Any:
        """Run a user function. ``implicit`` counts the leading arguments the call site does not
        spell (``self`` of a method, the instance of ``__init__``)."""
        if len(self.frames) >= self.limits.call_depth or \
                self.running.get(function, 0) >= self.limits.same_function_depth:
            self.facts.budget_notes.append((self._current_site(), "call depth limit"))
            return UNKNOWN
        bound = self._bind_parameters(function, args, symbolic)
        if bound is None:
            return UNKNOWN
        if function.owner is not None and args.positional:
            bound[_SUPER] = Super(function.owner, args.positional[0])
        scope = Scope(Namespace(bound), function.closure, function.module)
        if function.closure is None:
            scope.parent = Scope(self.module_namespace_of(function.module), None, function.module)
        call = _Call(self._open())
        self.calls.append(call)
        self.frames.append(Frame(function, node, implicit))
        self.running[function] = self.running.get(function, 0) + 1
        pushed = node is not None
        if pushed:
            self.sites.append((node, self._current_module()))
        self.module_stack.append(function.module)
        result: Any = None
        deferred_only = False
        try:
            if type(function.node) is cst.Lambda:
                result = self.evaluate(function.node.body, scope)
            elif _is_generator(function.node, function.module):
                # What a generator yields is not followed: its items are unknown.
                result = ListValue([UNKNOWN_ITEMS])
            else:
                self.execute_block(_body(function.node), scope)
        except _Return as returned:
            result, deferred_only = returned.value, returned.deferred
        except _UncertainExit:
            result = UNKNOWN
        except (_Break, _Continue):
            result = UNKNOWN
        finally:
            self.module_stack.pop()
            if pushed:
                self.sites.pop()
            self.frames.pop()
            self.running[function] -= 1
            self.calls.pop()
            self._close(call.journal)
        if call.deferred:
            result = self._join_deferred(call, result, deferred_only)
        return result

    def _join_deferred(self, call: _Call, result: Any, deferred_only: bool) -> Any:
        values = [value for value, _ in call.deferred]
        entries = call.journal.entries
        states = [states for _, states in call.deferred]
        if deferred_only:
            first = states.pop(0)
            for key, (obj, state) in first.items():
                obj.restore(state)
        else:
            values.append(result)
        for other in states:
            for key in set(entries) | set(other):
                obj = (other.get(key) or entries[key])[0]
                theirs = other[key][1] if key in other else entries[key][1]
                obj.restore(obj.join(obj.snapshot(), theirs))
        joined = values[0]
        for value in values[1:]:
            joined = join_values(joined, value)
        return joined

    def _bind_parameters(self, function: FunctionValue, args: Arguments, symbolic: bool) -> Optional[Dict[str, Any]]:
        """Python's argument binding; a parameter nothing binds is unknown (or a symbol for a
        root's required parameter). None when Python would refuse the call (an argument no
        parameter takes)."""
        params = function.node.params
        names = function.parameters()
        positional = names.positional
        bound: Dict[str, Any] = {}
        extra_positional: List[Any] = []
        for index, value in enumerate(_known_prefix(args.positional)):
            if index < len(positional):
                bound[positional[index]] = value
            else:
                extra_positional.append(value)
        extra_keywords: Dict[str, Any] = {}
        for name, value in args.keywords.items():
            if name in names.every and name not in bound:
                default = function.defaults.get(name, UNKNOWN)
                bound[name] = join_values(value.value, default) if isinstance(value, MaybeMissing) else value
            else:
                extra_keywords[name] = value
        for name in names.every:
            if name in bound:
                continue
            if not args.exact:
                bound[name] = UNKNOWN
            elif name in function.defaults:
                bound[name] = UNKNOWN if symbolic and self.unknown_defaults else function.defaults[name]
            else:
                bound[name] = Dim.symbol(name) if symbolic else UNKNOWN
        star = params.star_arg
        if type(star) is cst.Param:
            # A root's ``*args`` has no default: any number of arguments may come.
            exact = not args.open_positional and not (symbolic and not extra_positional)
            bound[star.name.value] = tuple(extra_positional) if exact else UNKNOWN
        if params.star_kwarg is not None:
            bound[params.star_kwarg.name.value] = DictValue(extra_keywords, complete=not args.open_keywords)
        elif any(not isinstance(value, MaybeMissing) for value in extra_keywords.values()):
            return None
        if extra_positional and type(star) is not cst.Param:
            return None
        return bound

    def module_namespace_of(self, source: ModuleSource) -> Namespace:
        if source is self.root and self.root_namespace is not None:
            return self.root_namespace
        return self.module_namespace(source)

    def instantiate(self, klass: ClassValue, args: Arguments, node: Optional[cst.CSTNode],
                    symbolic: bool = False) -> Any:
        if _is_enum(klass):
            return UNKNOWN  # Format('NHWC') is the member Format.NHWC, not a new object
        instance = Instance(klass, path=self._path(node))
        container = next((_CONTAINERS[b.qualname] for b in klass.external_bases()
                          if isinstance(b, External) and b.qualname in _CONTAINERS), None)
        if container is not None:
            # Part of the instance, whose own forward (if any) decides how it is called.
            instance.container = Container(container, [], node, self._path(node))
        init = klass.lookup("__init__")
        if init is None and klass.fields is not None:
            self._init_dataclass(instance, klass.fields, args)
        elif isinstance(init, FunctionValue):
            arguments = Arguments([instance] + args.positional, args.keywords, args.open_positional, args.open_keywords)
            if self._bind_parameters(init, arguments, symbolic) is None:
                return UNKNOWN
            self.call_function(init, arguments, node, symbolic=symbolic, implicit=1)
        else:
            self._init_torch_base(instance, args, node)
        setup = klass.lookup("setup") if is_flax_class(klass) else None
        if isinstance(setup, FunctionValue):
            self.call_function(setup, Arguments([instance]), node, implicit=1)
        self.created.append(instance)
        return instance

    def _init_torch_base(self, instance: Instance, args: Arguments, node: Optional[cst.CSTNode]) -> None:
        """``super().__init__(...)`` into a torch base: a container's children, or the layer
        a subclass of a catalog layer (``class LayerNorm2d(nn.LayerNorm)``) is built as."""
        if instance.container is not None:
            self._fill_container(instance.container, args)
            return
        dataclass = next((klass for klass in instance.klass.mro()[1:] if klass.fields is not None), None)
        if dataclass is not None:
            self._init_dataclass(instance, dataclass.fields, args)
            return
        spec = _layer_base(instance.klass)
        if spec is not None and node is not None:
            instance.base_layer = self.build_layer(spec, args, node)

    def _init_dataclass(self, instance: Instance, fields: Tuple[Tuple[str, Any], ...], args: Arguments) -> None:
        for index, (name, default) in enumerate(fields):
            if index < len(args.positional):
                value = args.positional[index]
            elif name in args.keywords:
                value = args.keywords[name]
                value = join_values(value.value, default) if isinstance(value, MaybeMissing) else value
            elif args.exact and default is not REQUIRED:
                value = default
            else:
                value = UNKNOWN
            instance.attributes[name] = value

    def call_builtin(self, name: str, args: Arguments, node: Optional[cst.CSTNode]) -> Any:
        if name == "super":
            if len(args.positional) == 2 and isinstance(args.positional[0], ClassValue):
                return Super(args.positional[0], args.positional[1])
            return UNKNOWN
        if name == "setattr" and len(args.positional) == 3:
            target, attribute, value = args.positional
            if isinstance(attribute, str):
                self.set_attribute(target, attribute, value)
            elif isinstance(target, Instance):
                self.forget_attributes(target)
            return None
        if name == "delattr" and args.positional and isinstance(args.positional[0], Instance):
            self.forget_attributes(args.positional[0])
        evaluate = BUILTINS.get(name)
        if evaluate is None:
            return UNKNOWN
        return evaluate(self, args)

    def _current_module(self) -> ModuleSource:
        return self.module_stack[-1] if self.module_stack else self.root

    def _current_site(self) -> cst.CSTNode:
        for node, module in reversed(self.sites):
            if module is self.root:
                return node
        return self.root.tree

    def _path(self, node: Optional[cst.CSTNode]) -> Tuple[Site, ...]:
        own = ((node, self._current_module()),) if node is not None else ()
        return tuple(self.sites) + own

    # ----------------------------------------------------------------- torch and the standard library

    def call_external(self, qualname: str, args: Arguments, node: Optional[cst.CSTNode]) -> Any:
        spec = frameworks.layer_for(qualname)
        if spec is not None and node is not None:
            return self.build_layer(spec, args, node)
        keras = self.call_keras(qualname, args, node)
        if keras is not NOT_KERAS:
            return keras
        if qualname in _CONTAINERS:
            container = self._new_container(_CONTAINERS[qualname], [], node)
            self._fill_container(container, args)
            return container
        if qualname.endswith(".__init__") and args.positional and isinstance(args.positional[0], Instance):
            self._init_torch_base(args.positional[0], Arguments(args.positional[1:], args.keywords,
                                                                args.open_positional, args.open_keywords), node)
            return None
        if qualname == "collections.OrderedDict":
            return BUILTINS["dict"](self, args)
        if qualname == "functools.partial" and args.positional:
            return Partial(args.positional[0], tuple(args.positional[1:]), tuple(args.keywords.items()))
        if qualname in ("copy.deepcopy", "copy.copy") and len(args.positional) == 1:
            return _copy(args.positional[0], deep=qualname == "copy.deepcopy")
        if qualname in _PARAMETER_CLASSES and args.positional:
            tensor = args.positional[0]
            shape = tensor.dims if isinstance(tensor, Tensor) and tensor.rank is not None else None
            return ParameterValue(shape, args.keywords.get("requires_grad", True))
        if qualname == "typing.cast" and len(args.positional) == 2:
            return args.positional[1]
        if qualname in MATH_FUNCTIONS:
            return MATH_FUNCTIONS[qualname](self, args)
        if qualname in _TRANSPARENT_DECORATORS:
            return External(qualname + "()")
        values = value_tensors.call(qualname, args, self.iterate)
        if values is not value_tensors.NOT_VALUES:
            return values
        functional = frameworks.FUNCTIONAL_LAYERS.get(flax_catalog.canonical(qualname) or qualname)
        if functional is not None:
            return self.functional_layer(functional, args, node)
        weighted = torch_catalog.WEIGHTED_FUNCTIONS.get(qualname)
        if weighted is not None:
            return self.weighted_function(weighted, args, node)
        function = frameworks.FUNCTIONS.get(qualname)
        if function is not None:
            return self.tensor_function(function, args, node)
        return self.unknown_call(args)

    def unknown_call(self, args: Arguments) -> Any:
        """A call the analysis cannot follow may change whatever it is passed."""
        for value in itertools.chain(args.positional, args.keywords.values()):
            if isinstance(value, Instance):
                self.forget_attributes(value)
            else:
                self._forget_contents(value)
        return UNKNOWN

    def tensor_function(self, kind: str, args: Arguments, node: Optional[cst.CSTNode] = None) -> Any:
        if kind == torch_catalog.EINSUM:
            return self.einsum(args, node)
        if kind == torch_catalog.ATTENTION_FUNCTION:
            return self.attention_function(args, node)
        if kind == torch_catalog.FACTORY:
            return self.tensor_factory(args)
        if kind == torch_catalog.CONCAT:
            return self.concatenate(args, node)
        if kind == torch_catalog.STACK:
            return self.stack(args, node)
        tensor = args.positional[0] if args.positional else UNKNOWN
        if not isinstance(tensor, Tensor):
            tensor = UNKNOWN_TENSOR
        return self._shape_operation(kind, tensor, Arguments(args.positional[1:], args.keywords,
                                                             args.open_positional, args.open_keywords), node)

    def _joined(self, args: Arguments) -> Optional[Tuple[List[Tensor], Optional[int], int]]:
        """The tensors ``torch.cat``/``torch.stack`` join, their common rank if known, and ``dim``."""
        sequence = args.positional[0] if args.positional else args.keywords.get("tensors")
        dim = args.positional[1] if len(args.positional) > 1 else args.keywords.get("dim", 0)
        tensors = self.iterate(sequence) if sequence is not None else None
        if not args.exact or not tensors or not all(isinstance(t, Tensor) for t in tensors) or type(dim) is not int:
            return None
        ranks = {t.rank for t in tensors}
        return tensors, ranks.pop() if len(ranks) == 1 else None, dim

    def concatenate(self, args: Arguments, node: Optional[cst.CSTNode], operation: str = "torch.cat") -> Tensor:
        """``torch.cat(tensors, dim)``: sizes add along ``dim``; every other axis must agree.
        Along a negative ``dim``, the trailing sizes known are enough, whatever the rank."""
        joined = self._joined(args)
        if joined is None:
            return UNKNOWN_TENSOR
        tensors, rank, dim = joined
        if rank is None and dim < 0:
            width = min(len(t.dims) for t in tensors)
            trailing = [Tensor(width, t.dims[len(t.dims) - width:], t.origin) for t in tensors]
            output = self.concatenate(Arguments([ListValue(trailing), dim]), node) if -dim <= width else UNKNOWN_TENSOR
            return Tensor(None, output.dims, note=output.note) if output.rank is not None else UNKNOWN_TENSOR
        if rank is None or not -rank <= dim < rank:
            return UNKNOWN_TENSOR
        axis = dim - rank if dim >= 0 else dim
        self._record_operands(operation, tensors, axis, node)
        total: Any = 0
        for tensor in tensors:
            total = add(total, tensor.axis(axis)) if total is not UNKNOWN else UNKNOWN
        dims = _agreed(tensors, rank)
        dims[axis] = total
        sizes = [str(tensor.axis(axis)) for tensor in tensors]
        note = (axis, " + ".join(sizes)) if total is not UNKNOWN else None
        return Tensor(rank, tuple(dims), note=note)

    def stack(self, args: Arguments, node: Optional[cst.CSTNode]) -> Tensor:
        """``torch.stack(tensors, dim)``: a new axis of ``len(tensors)``; all shapes must be
        equal, so their known trailing sizes are compared even when the rank is not known."""
        joined = self._joined(args)
        if joined is None:
            return UNKNOWN_TENSOR
        tensors, rank, dim = joined
        self._record_operands("torch.stack", tensors, None, node)
        if rank is None or not -rank - 1 <= dim <= rank:
            return UNKNOWN_TENSOR
        dims = _agreed(tensors, rank)
        dims.insert(dim % (rank + 1), len(tensors))
        return Tensor(rank + 1, tuple(dims), rank_certain=all(t.rank_certain for t in tensors))

    def tensor_factory(self, args: Arguments) -> Tensor:
        """``torch.zeros(1, 1, dim)`` or ``torch.zeros((1, 1, dim))``: a tensor of that shape."""
        sizes = args.positional
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, ListValue)):
            sizes = list(sizes[0]) if isinstance(sizes[0], tuple) else sizes[0].items
        if not args.open_positional and sizes and all(as_dim(size) is not None for size in sizes):
            return Tensor(len(sizes), tuple(sizes), rank_certain=True)
        return UNKNOWN_TENSOR

    def _shape_operation(self, kind: Optional[str], tensor: Tensor, args: Arguments,
                         node: Optional[cst.CSTNode] = None) -> Any:
        """An operation of the functional table on ``tensor``; ``args`` are the rest."""
        if kind == torch_catalog.SAME_SHAPE:
            return flow.touched(tensor)
        if kind == torch_catalog.FLATTEN_FUNCTION and args.exact:
            start = args.positional[0] if args.positional else args.keywords.get("start_dim", 0)
            end = args.positional[1] if len(args.positional) > 1 else args.keywords.get("end_dim", -1)
            return flow.flatten(tensor, start, end)
        if kind == torch_catalog.REDUCE and args.exact and set(args.keywords) <= _REDUCTION_KEYWORDS:
            dims = args.positional[0] if args.positional else args.keywords.get("dim")
            keepdim = args.positional[1] if len(args.positional) > 1 else args.keywords.get("keepdim", False)
            if isinstance(dims, ListValue) and dims.complete:
                dims = tuple(dims.items)
            return flow.reduce(tensor, dims, keepdim)
        if kind == torch_catalog.RESHAPE and args.exact and not args.keywords:
            return self._reshape(tensor, args.positional, node)
        if kind == torch_catalog.PERMUTE and args.exact and set(args.keywords) <= {"dims"}:
            order = args.positional if args.positional else [args.keywords.get("dims")]
            if len(order) == 1 and isinstance(order[0], (tuple, ListValue)):
                order = list(order[0]) if isinstance(order[0], tuple) else order[0].items
            return flow.permute(tensor, tuple(order))
        if kind == torch_catalog.TRANSPOSE and args.exact and len(args.positional) == 2 and not args.keywords:
            return flow.transpose(tensor, *args.positional)
        if kind == torch_catalog.UNSQUEEZE and args.exact and len(args.positional) == 1 and not args.keywords:
            return flow.unsqueeze(tensor, args.positional[0])
        if kind in shape_ops.OPERATIONS and args.exact:
            output, unfits = shape_ops.operate(kind, tensor, args.positional, args.keywords)
            self._record_operation_unfits(tensor, unfits, node)
            return output
        if kind in torch_catalog.MATRIX_RANKS and args.exact and len(args.positional) == 1 and not args.keywords:
            return self.matrix_product(kind, tensor, args.positional[0], node, _called_name(node))
        if kind == torch_catalog.BROADCAST and args.exact and set(args.keywords) <= {"other", "alpha", "exponent"}:
            other = args.positional[0] if args.positional else args.keywords.get("other", args.keywords.get("exponent"))
            return self.tensor_binary(cst.Add, tensor, other, node, _called_name(node)) if other is not None \
                else UNKNOWN_TENSOR
        return UNKNOWN_TENSOR

    def _reshape(self, tensor: Tensor, sizes: Sequence[Any], node: Optional[cst.CSTNode]) -> Tensor:
        """``x.view(n, -1)``, ``x.reshape((n, c, h, w))``, ``torch.reshape(x, shape)``."""
        if len(sizes) == 1:
            only = sizes[0]
            if isinstance(only, ListValue):
                sizes = only.items if only.complete else ()
            elif isinstance(only, tuple):
                sizes = only
            elif as_dim(only) is None:
                return UNKNOWN_TENSOR  # a dtype, or a shape the analysis does not know
        if not sizes or not all(size is UNKNOWN or as_dim(size) is not None for size in sizes):
            return UNKNOWN_TENSOR
        if len(sizes) == 2 and sizes[1] == -1 and provably_equal(sizes[0], tensor.axis(0)):
            return flow.flatten(tensor, 1, -1)
        output, unfits = flow.reshape(tensor, tuple(sizes))
        self._record_operation_unfits(tensor, unfits, node)
        return output

    def _record_operation_unfits(self, tensor: Tensor, unfits: Sequence[flow.Unfit],
                                 node: Optional[cst.CSTNode]) -> None:
        """Record the sizes an operation on tensors (``view``, ``unflatten``…) cannot take."""
        anchor = self._operation_anchor(node) if unfits else None
        for unfit in unfits if anchor is not None else ():
            self.facts.add_unfit(UnfitFact(None, _called_name(node), unfit.requirement, unfit.axis,
                                           unfit.detail, tensor.origin, anchor, self.context))

    def build_layer(self, spec: Any, args: Arguments, node: cst.CSTNode) -> Layer:
        arguments = _bind_signature(spec, args)
        layer = Layer(spec, arguments, node, self._current_module(), self._path(node), frames=tuple(self.frames))
        self.register_compact(layer)
        anchor = self.facts.anchor(layer)
        if anchor is not None:
            self.facts.add_layer(LayerFact(layer, anchor, self.context))
        return layer

    def functional_layer(self, spec: Any, args: Arguments, node: Optional[cst.CSTNode]) -> Tensor:
        """``F.max_pool2d(x, 2)``: the first argument goes through the layer the rest describe."""
        tensor = args.positional[0] if args.positional else args.keywords.get("input", UNKNOWN)
        if not isinstance(tensor, Tensor):
            tensor = UNKNOWN_TENSOR
        rest = Arguments(args.positional[1:], {k: v for k, v in args.keywords.items() if k != "input"},
                         args.open_positional, args.open_keywords)
        layer = Layer(spec, _bind_signature(spec, rest), node, self._current_module(), self._path(node))
        output, checks = flow.apply_layer(layer, tensor)
        self._record_unfits(layer, tensor, checks)
        return flow.touched(output)

    def weighted_function(self, spec: Any, args: Arguments, node: Optional[cst.CSTNode]) -> Tensor:
        """``F.conv2d(x, self.weight)``: a layer whose sizes the weight's known shape gives
        (``nn.Parameter(torch.randn(out, in, k, k))``), checked as that layer would be."""
        tensor = args.positional[0] if args.positional else args.keywords.get("input", UNKNOWN)
        rest = Arguments(args.positional[1:], {k: v for k, v in args.keywords.items() if k != "input"},
                         args.open_positional, args.open_keywords)
        arguments = _bind_signature(spec, rest)
        weight = arguments["weight"]
        shape = weight.shape if isinstance(weight, ParameterValue) else \
            weight.dims if isinstance(weight, Tensor) and weight.rank is not None else None
        sizes = torch_catalog.weight_arguments(spec, shape, arguments["groups"] if "groups" in arguments else 1) \
            if shape is not None else {}
        if not sizes or not isinstance(tensor, Tensor) or node is None:
            return UNKNOWN_TENSOR
        layer = Layer(spec, {**arguments, **sizes}, node, self._current_module(), self._path(node))
        return flow.touched(self.apply_layer(layer, tensor))

    def _new_container(self, kind: str, children: List[Tuple[Any, Any]], node: Optional[cst.CSTNode]) -> Container:
        container = Container(kind, children, node, self._path(node))
        self.created.append(container)
        return container

    def _fill_container(self, container: Container, args: Arguments) -> None:
        self.touch(container)
        if len(args.positional) == 1 and isinstance(args.positional[0], DictValue):
            source = args.positional[0]
            container.children = [(k, v) for k, v in source.items.items()]
            if not source.complete:
                container.children.append((None, UNKNOWN_ITEMS))
            return
        if container.kind == "Sequential":
            children = list(args.positional)
        else:
            source = args.positional[0] if args.positional else args.keywords.get("modules", ListValue())
            if isinstance(source, DictValue):
                container.children = list(source.items.items()) + ([] if source.complete else [(None, UNKNOWN_ITEMS)])
                return
            items = self.iterate(source)
            children = items if items is not None else (
                list(source.items) if isinstance(source, ListValue) else [UNKNOWN_ITEMS])
        container.children = [(None, child) for child in children]
        if args.open_positional:
            container.children.append((None, UNKNOWN_ITEMS))

    def extend(self, target: Any, value: Any) -> None:
        items = self.iterate(value)
        if items is None:
            items = list(value.items) if isinstance(value, ListValue) else [UNKNOWN_ITEMS]
        size = len(target.items) if isinstance(target, ListValue) else len(getattr(target, "children", ()))
        if size + len(items) > MAX_ITEMS:
            items = [UNKNOWN_ITEMS]
        self.touch(target)
        if isinstance(target, ListValue):
            target.items.extend(items)
        elif isinstance(target, Container):
            target.children.extend((None, item) for item in items)

    def call_method(self, method: ExternalCallable, args: Arguments, node: Optional[cst.CSTNode]) -> Any:
        receiver, name = method.receiver, method.name
        positional = args.positional
        if isinstance(receiver, ListValue):
            return self._or_forget(receiver, name, _KNOWN_LIST_METHODS, self._list_method(receiver, name, args))
        if isinstance(receiver, DictValue):
            return self._or_forget(receiver, name, _KNOWN_DICT_METHODS, self._dict_method(receiver, name, args))
        if isinstance(receiver, Container):
            return self._or_forget(receiver, name, _KNOWN_CONTAINER_METHODS,
                                   self._container_method(receiver, name, args))
        if isinstance(receiver, Instance) and name in _MODULE_METHODS and len(positional) == 2:
            if isinstance(positional[0], str):
                self.set_attribute(receiver, positional[0], positional[1])
            else:
                self.forget_attributes(receiver)
            return None
        if name == "super.__init__":
            if isinstance(receiver, Instance):
                self._init_torch_base(receiver, args, node)
            return None
        if isinstance(receiver, str):
            return self._str_method(receiver, name, args)
        if isinstance(receiver, Tensor):
            return self.tensor_method(receiver, name[len("tensor."):], args, node)
        if isinstance(receiver, value_tensors.ValueTensor):
            return value_tensors.method(receiver, name[len("values."):], args)
        if isinstance(receiver, SetValue):
            self._forget_contents(receiver)
        return UNKNOWN

    def _or_forget(self, receiver: Any, name: str, known: frozenset, result: Any) -> Any:
        """A method the interpreter does not model may change its receiver."""
        if name not in known:
            self._forget_contents(receiver)
        return result

    def forget_attributes(self, instance: Instance) -> None:
        self.touch(instance)
        instance.attributes = {name: UNKNOWN for name in instance.attributes}

    def _list_method(self, receiver: ListValue, name: str, args: Arguments) -> Any:
        positional = args.positional
        if name == "append" and len(positional) == 1:
            self.touch(receiver)
            receiver.items.append(positional[0])
            return None
        if name == "extend" and len(positional) == 1:
            self.extend(receiver, positional[0])
            return None
        if name == "insert" and len(positional) == 2:
            self.touch(receiver)
            if isinstance(positional[0], int) and receiver.complete:
                receiver.items.insert(positional[0], positional[1])
            else:
                receiver.items = [UNKNOWN for _ in receiver.items] + [UNKNOWN_ITEMS]
            return None
        if name == "copy":
            return ListValue(receiver.items)
        if name == "pop":
            self.touch(receiver)
            if receiver.complete and receiver.items and not positional:
                return receiver.items.pop()
            receiver.items = [UNKNOWN_ITEMS]
            return UNKNOWN
        if name == "reverse":
            self.touch(receiver)
            receiver.items = receiver.items[::-1] if receiver.complete else [UNKNOWN_ITEMS]
            return None
        return UNKNOWN

    def _dict_method(self, receiver: DictValue, name: str, args: Arguments) -> Any:
        positional = args.positional
        if name in ("items", "keys", "values"):
            if not receiver.complete or any(isinstance(v, MaybeMissing) for v in receiver.items.values()):
                return ListValue([UNKNOWN_ITEMS])
            pick = {"items": lambda k, v: (k, v), "keys": lambda k, v: k, "values": lambda k, v: v}[name]
            return tuple(pick(k, v) for k, v in receiver.items.items())
        if name == "get" and positional:
            found = receiver.items.get(positional[0], _MISSING) if is_native(positional[0]) else UNKNOWN
            default = positional[1] if len(positional) > 1 else None
            if found is _MISSING:
                return default if receiver.complete else UNKNOWN
            return join_values(found.value, default) if isinstance(found, MaybeMissing) else found
        if name == "update":
            update = BUILTINS["dict"](self, args)
            self.touch(receiver)
            receiver.items.update(update.items)
            receiver.complete = receiver.complete and update.complete
            return None
        if name == "copy":
            return DictValue(receiver.items, receiver.complete)
        if name in ("pop", "setdefault") and positional and is_native(positional[0]):
            self.touch(receiver)
            found = receiver.items.get(positional[0], _MISSING)
            default = positional[1] if len(positional) > 1 else UNKNOWN
            if name == "pop":
                receiver.items.pop(positional[0], None)
                if found is _MISSING:
                    return default if receiver.complete else UNKNOWN
                return join_values(found.value, default) if isinstance(found, MaybeMissing) else found
            if found is _MISSING and receiver.complete:
                receiver.items[positional[0]] = default
                return default
            return found if found is not _MISSING and not isinstance(found, MaybeMissing) else UNKNOWN
        return UNKNOWN

    def _container_method(self, receiver: Container, name: str, args: Arguments) -> Any:
        positional = args.positional
        if name == "append" and len(positional) == 1:
            self.touch(receiver)
            receiver.children.append((None, positional[0]))
            return receiver
        if name == "extend" and len(positional) == 1:
            self.extend(receiver, positional[0])
            return receiver
        if name == "add" and len(positional) == 1 and receiver.kind == "Sequential":
            self.touch(receiver)  # Keras's Sequential.add
            receiver.children.append((None, positional[0]))
            self.build_sequential(receiver)
            return None
        if name == "build" and len(positional) == 1 and receiver.kind == "Sequential":
            self.build_sequential(receiver, positional[0])
            return None
        if name == "add_module" and len(positional) == 2:
            self.touch(receiver)
            receiver.children.append((positional[0] if isinstance(positional[0], str) else None, positional[1]))
            return None
        if name == "insert" and len(positional) == 2:
            self.touch(receiver)
            receiver.children = [(n, UNKNOWN) for n, _ in receiver.children] + [(None, UNKNOWN_ITEMS)]
            return None
        if name in ("children", "values"):
            return tuple(receiver.modules()) if UNKNOWN_ITEMS not in receiver.modules() else UNKNOWN
        if name == "keys":
            return tuple(n for n, _ in receiver.children) if UNKNOWN_ITEMS not in receiver.modules() else UNKNOWN
        if name == "items":
            return tuple(receiver.children) if UNKNOWN_ITEMS not in receiver.modules() else UNKNOWN
        return UNKNOWN

    def _str_method(self, receiver: str, name: str, args: Arguments) -> Any:
        values = args.positional + list(args.keywords.values())
        if not args.exact or not all(is_native(v) or isinstance(v, tuple) for v in values):
            return UNKNOWN
        if name == "join":
            items = self.iterate(args.positional[0]) if args.positional else None
            if items is None or not all(isinstance(i, str) for i in items):
                return UNKNOWN
            if sum(map(len, items)) + len(receiver) * max(len(items) - 1, 0) > MAX_ITEMS:
                return UNKNOWN  # what is longer is dropped below: never build it
            return receiver.join(items)
        if name == "format" and not _small_format(receiver, values):
            return UNKNOWN
        if (name == "replace" and len(args.positional) >= 2 and all(isinstance(v, str) for v in args.positional[:2])
                and len(args.positional[1]) > len(args.positional[0])
                and len(receiver) + receiver.count(args.positional[0]) * len(args.positional[1]) > MAX_ITEMS):
            return UNKNOWN
        try:
            result = getattr(receiver, name)(*args.positional, **args.keywords)
        except Exception:
            return UNKNOWN
        if isinstance(result, list):
            return ListValue(result)
        return result if isinstance(result, (str, bool)) and len(str(result)) <= MAX_ITEMS else UNKNOWN

    # ----------------------------------------------------------------- forward

    def call_module(self, module: Any, args: Arguments, node: Optional[cst.CSTNode]) -> Any:
        """``module(x)``: a layer or container applies itself; a user model runs ``forward``."""
        self.forwarded.add(id(module))
        if isinstance(module, Instance):
            forward = forward_method(module.klass)
            if isinstance(forward, FunctionValue):
                with self.compact_owner(module):
                    return self.call_function(forward, Arguments([module] + args.positional, args.keywords,
                                                                 args.open_positional, args.open_keywords), node,
                                              implicit=1)
            if module.container is not None:
                return self.call_module(module.container, args, node)
            if module.base_layer is not None:
                return self.call_module(module.base_layer, args, node)
            return UNKNOWN
        if isinstance(module, Layer) and module.spec.forward:
            return self.call_layer_inputs(module, args)
        if isinstance(module, Layer) and module.spec.kind in (MERGE, CONCATENATE):
            return self.merge_layer(module, args.positional[0] if args.positional else UNKNOWN, node)
        if isinstance(module, Layer) and module.spec.framework == "keras":
            return self.call_keras_layer(module, args, node)
        tensor = args.positional[0] if args.positional else UNKNOWN_TENSOR
        if not isinstance(tensor, Tensor):
            tensor = UNKNOWN_TENSOR
        if isinstance(module, Layer):
            output = self.apply_layer(module, tensor)
            return (output, UNKNOWN) if module.spec.returns_state else output
        if isinstance(module, Container) and module.kind == "Sequential":
            for index, child in enumerate(module.modules()):
                self.tick()
                if child is UNKNOWN_ITEMS:
                    tensor = UNKNOWN_TENSOR
                    continue
                tensor = self.sequential_input(index, child, tensor)
                if isinstance(child, Tensor):
                    continue
                result = self.call_module(child, Arguments([tensor]), node) if isinstance(
                    child, (Layer, Container, Instance)) else UNKNOWN
                tensor = result if isinstance(result, Tensor) else UNKNOWN_TENSOR
            return tensor
        return UNKNOWN

    def apply_layer(self, layer: Layer, tensor: Tensor) -> Tensor:
        ranks = flow.accepted_ranks(layer)
        if tensor.rank_certain and ranks and tensor.rank not in ranks:
            anchor = self.facts.anchor(layer)
            if anchor is not None and not any(f.consumer is layer for f in self.facts.wrong_ranks):
                self.facts.wrong_ranks.append(RankFact(layer, tensor.rank, tensor.origin, anchor, self.context))
        output, checks = flow.apply_layer(layer, tensor)
        if layer.spec.built_on_call:
            layer.note_input(tensor)
            self._check_defined(layer, tensor)
        if self.outputs is not None:
            self.outputs.setdefault(id(layer), output)
        if tensor.direct and tensor.origin is not None:
            anchor = self.facts.anchor(tensor.origin)
            if anchor is not None:
                self.facts.add_adjacency(AdjacencyFact(tensor.origin, layer, anchor, self.context))
        self._record_checks(layer, tensor, checks)
        return output

    def call_layer_inputs(self, layer: Layer, args: Arguments) -> Any:
        """A layer whose ``forward`` takes several tensors (attention's query, key and value):
        the first goes through ``apply_layer``, the checks on the others are recorded too; the
        output goes through the layer in ``spec.output_layer``, if any."""
        inputs = _bind_signature(dataclasses.replace(layer.spec, signature=layer.spec.forward), args)
        output, checks = flow.layer_call(layer, inputs)
        first = layer.spec.forward[0][0]
        main = inputs[first] if isinstance(inputs[first], Tensor) else UNKNOWN_TENSOR
        self.apply_layer(layer, main)
        for name, check in checks:
            if name != first and isinstance(inputs[name], Tensor):
                self._record_checks(layer, inputs[name], [check])
        final = layer.arguments.get(layer.spec.output_layer or "")
        return self.apply_layer(final, output) if isinstance(final, Layer) and isinstance(output, Tensor) else output

    def _record_checks(self, layer: Layer, tensor: Tensor, checks: Sequence[Any]) -> None:
        """Record what ``layer`` checks of ``tensor``: sizes it cannot take, sizes it expects."""
        for check in self._record_unfits(layer, tensor, checks):
            if as_dim(check.expected) is None or as_dim(check.received) is None:
                continue
            anchor = self.facts.anchor(layer, check.parameter, tensor.origin)
            if anchor is not None:
                note = tensor.note[1] if tensor.note is not None and tensor.note[0] == check.axis else None
                self.facts.add_flow(FlowFact(layer, check.parameter, check.expected, check.received,
                                             tensor.origin, anchor, self.context, note))

    def _check_defined(self, layer: Layer, tensor: Tensor) -> None:
        """A layer that sizes its weights by an axis the model leaves open cannot be built."""
        axis = flow.weights_axis(layer)
        if axis is None or tensor.axis(axis) is not UNDEFINED:
            return
        anchor = self.facts.anchor(layer)
        if anchor is not None and not any(f.consumer is layer for f in self.facts.undefined_sizes):
            self.facts.undefined_sizes.append(UndefinedSizeFact(layer, axis, tensor.origin, anchor, self.context))

    def _record_unfits(self, layer: Layer, tensor: Tensor, checks: Sequence[Any]) -> List[flow.Check]:
        """Record the sizes ``layer`` cannot take; the other checks are returned."""
        for unfit in checks:
            if isinstance(unfit, flow.Unfit):
                anchor = self.facts.anchor(layer)
                if anchor is not None:
                    self.facts.add_unfit(UnfitFact(layer, layer.spec.name, unfit.requirement, unfit.axis,
                                                   unfit.detail, tensor.origin, anchor, self.context))
        return [check for check in checks if isinstance(check, flow.Check)]

    def tensor_method(self, tensor: Tensor, name: str, args: Arguments, node: Optional[cst.CSTNode] = None) -> Any:
        kind = torch_catalog.TENSOR_METHODS.get(name)
        if name in ("view", "reshape") and _keeps_batch_flattens_rest(node, args):
            return flow.flatten(tensor, 1, -1)
        if name == "size":
            if not args.positional:
                return tuple(tensor.dims) if tensor.rank is not None else UNKNOWN
            index = args.positional[0]
            return tensor.axis(index) if isinstance(index, int) else UNKNOWN
        if name == "dim":
            return tensor.rank if tensor.rank is not None else UNKNOWN
        return self._shape_operation(kind, tensor, args, node) if kind is not None else UNKNOWN



def _closure_scope(scope: Scope) -> Optional[Scope]:
    """A function sees its enclosing function's names; module-level functions (and methods of
    module-level classes, which never see their class body) see only the module."""
    return scope if scope.parent is not None else None


def _copy(value: Any, deep: bool) -> Any:
    """``copy.copy``/``copy.deepcopy`` of an interpreter value (layers are never changed after
    they are built, so they need no copy)."""
    inner = (lambda item: _copy(item, deep)) if deep else (lambda item: item)
    if isinstance(value, ListValue):
        return ListValue([inner(item) for item in value.items])
    if isinstance(value, DictValue):
        return DictValue({key: inner(item) for key, item in value.items.items()}, value.complete)
    if isinstance(value, Instance):
        return Instance(value.klass, {key: inner(item) for key, item in value.attributes.items()},
                        value.container, value.path)
    if isinstance(value, Container):
        return Container(value.kind, [(name, inner(child)) for name, child in value.children], value.node, value.path)
    return value


def _is_generator(function: cst.FunctionDef, module: ModuleSource) -> bool:
    """Whether ``yield`` appears in the function's own body (not in nested functions);
    computed once per function, and kept with its module."""
    has_yield = module.derived.get(("yield", 0))
    if has_yield is None:
        has_yield = module.derived[("yield", 0)] = "yield" in module.text
    if not has_yield:
        return False
    key = ("generator", id(function))
    cached = module.derived.get(key)
    if cached is not None:
        return cached
    found = False
    stack: List[cst.CSTNode] = list(_child_nodes(function.body))
    while stack and not found:
        node = stack.pop()
        if type(node) is cst.Yield:
            found = True
        elif type(node) not in (cst.FunctionDef, cst.Lambda, cst.ClassDef):
            stack.extend(_child_nodes(node))
    module.derived[key] = found
    return found


_FIELDS: Dict[type, Tuple[str, ...]] = {}
_NODE_TYPES: Dict[type, bool] = {}


def _is_node(value: Any) -> bool:
    """``isinstance(value, cst.CSTNode)``, without the cost of an abstract base class check."""
    known = _NODE_TYPES.get(type(value))
    if known is None:
        known = _NODE_TYPES[type(value)] = isinstance(value, cst.CSTNode)
    return known


def _child_nodes(node: cst.CSTNode) -> List[cst.CSTNode]:
    """The nodes directly below ``node``, in no particular order. libcst's ``children`` gives
    them in source order but rebuilds the node to find them, at about ten times the cost."""
    names = _FIELDS.get(type(node))
    if names is None:
        names = _FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))
    found: List[cst.CSTNode] = []
    for name in names:
        value = getattr(node, name)
        if _is_node(value):
            found.append(value)
        elif type(value) is tuple or type(value) is list:
            found.extend(item for item in value if _is_node(item))
    return found


def _is_enum(klass: ClassValue) -> bool:
    return any(isinstance(base, External) and base.qualname in _ENUM_BASES for base in klass.external_bases())


def forward_method(klass: ClassValue) -> Any:
    """What calling an instance runs: ``forward``, ``__call__``, or a Keras class's ``call``."""
    for name in ("forward", "__call__"):
        method = klass.lookup(name)
        if isinstance(method, FunctionValue):
            return method
    return klass.lookup("call") if is_keras_class(klass) else None


def _layer_base(klass: ClassValue) -> Any:
    """The catalog layer a user class derives from, if any."""
    for base in klass.external_bases():
        if isinstance(base, External):
            spec = frameworks.layer_for(base.qualname)
            if spec is not None:
                return spec
    return None


def _keeps_batch_flattens_rest(node: Optional[cst.CSTNode], args: Arguments) -> bool:
    """``x.view(x.size(0), -1)`` or ``x.reshape(x.shape[0], -1)``, or with the sizes in one tuple
    as JAX writes them (``x.reshape((x.shape[0], -1))``): a flatten from axis 1."""
    if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
        return False
    sizes = [arg.value for arg in node.args]
    positional = args.positional
    if len(sizes) == 1 and isinstance(sizes[0], cst.Tuple) and len(positional) == 1 and isinstance(positional[0], tuple):
        sizes, positional = [element.value for element in sizes[0].elements], list(positional[0])
    receiver = node.func.value
    if len(sizes) != 2 or not isinstance(receiver, cst.Name) or len(positional) != 2 or positional[1] != -1:
        return False
    first = sizes[0]
    if isinstance(first, cst.Call) and isinstance(first.func, cst.Attribute) and first.func.attr.value == "size":
        owner, index = first.func.value, first.args[0].value if len(first.args) == 1 else None
    elif isinstance(first, cst.Subscript) and isinstance(first.value, cst.Attribute) and \
            first.value.attr.value == "shape" and len(first.slice) == 1 and isinstance(first.slice[0].slice, cst.Index):
        owner, index = first.value.value, first.slice[0].slice.value
    else:
        return False
    return isinstance(owner, cst.Name) and owner.value == receiver.value and \
        isinstance(index, cst.Integer) and index.value == "0"


def _agreed(tensors: Sequence[Tensor], rank: int) -> List[Any]:
    """Axis by axis, the size ``tensors`` must all have: one that some know, unless two
    provably differ (that is reported once, not again by what follows)."""
    agreed = []
    for index in range(rank):
        known = [t.dims[index] for t in tensors if t.dims[index] is not UNKNOWN]
        clash = any(provably_different(known[0], size) for size in known[1:])
        agreed.append(known[0] if known and not clash else UNKNOWN)
    return agreed


def _shape_text(tensor: Tensor) -> str:
    """``(2, 8, ?, 64)``, or ``(…, 10, 64)`` when only trailing sizes are known; a size the
    code does not name (a symbol of ``unknown_positive``) is a ``?``."""
    sizes = ["?" if UNNAMED in describe(size) else describe(size) for size in tensor.dims]
    if tensor.rank is None:
        sizes.insert(0, "…")
    return f"({', '.join(sizes)}{',' if len(sizes) == 1 and tensor.rank == 1 else ''})"


def _called_name(node: Optional[cst.CSTNode]) -> str:
    """``view`` for ``x.view(…)``, ``torch.reshape`` for ``torch.reshape(…)``."""
    if isinstance(node, cst.Call):
        function = node.func
        return function.attr.value if isinstance(function, cst.Attribute) and \
            not isinstance(function.value, (cst.Name, cst.Attribute)) else _dotted(function) or "reshape"
    return "reshape"


def _bind_signature(spec: Any, args: Arguments) -> Dict[str, Any]:
    """A catalog signature bound as Python binds a call; what is not passed takes its default,
    or is unknown when an unexpanded ``*args``/``**kwargs`` may have passed it."""
    arguments: Dict[str, Any] = {}
    names = spec.param_names
    for index, value in enumerate(_known_prefix(args.positional)):
        if index < spec.positional_count:
            arguments[names[index]] = value
    for name, value in args.keywords.items():
        if name in names and name not in arguments:
            default = spec.defaults[name]
            arguments[name] = join_values(value.value, default) if isinstance(value, MaybeMissing) else value
    for name, default in spec.signature:
        if name not in arguments and (name, default) != KEYWORD_ONLY:
            arguments[name] = default if args.exact and default is not REQUIRED else UNKNOWN
    return arguments


def _known_prefix(values: List[Any]) -> List[Any]:
    """The arguments before the first one whose place is not known."""
    return values[: values.index(UNKNOWN_ITEMS)] if UNKNOWN_ITEMS in values else values


def _index(items: List[Any], key: int) -> Any:
    if UNKNOWN_ITEMS in items:
        cut = items.index(UNKNOWN_ITEMS)
        if 0 <= key < cut:
            return items[key]
        return UNKNOWN
    if -len(items) <= key < len(items):
        return items[key]
    return UNKNOWN


def _identical(left: Any, right: Any) -> Any:
    """``left is right`` when the analysis can tell, else UNKNOWN."""
    if left is UNKNOWN or right is UNKNOWN or isinstance(left, (Dim, MaybeMissing)) or isinstance(right, (Dim, MaybeMissing)):
        return UNKNOWN
    if left is None or right is None:
        return left is right
    if isinstance(left, External) or isinstance(right, External):
        return True if left == right else UNKNOWN
    if is_native(left) and is_native(right):
        return left == right and type(left) is type(right)
    if isinstance(left, (ClassValue, FunctionValue, Instance, Layer, Container, ListValue, DictValue)) or \
            isinstance(right, (ClassValue, FunctionValue, Instance, Layer, Container, ListValue, DictValue)):
        return left is right
    return UNKNOWN


def _safe_size(kind: type, left: Any, right: Any) -> bool:
    """Refuse operations whose result would be huge (``'x' * 10**9``, ``2 ** 10**6``)."""
    if kind is cst.Multiply:
        for sequence, count in ((left, right), (right, left)):
            if isinstance(sequence, (str, bytes, tuple)) and isinstance(count, int):
                return len(sequence) * count <= MAX_ITEMS
    if kind is cst.Power and isinstance(right, (int, float)) and isinstance(left, (int, float)):
        return abs(right) <= 256 or abs(left) <= 1
    if kind is cst.LeftShift and isinstance(right, int):
        return right <= 64
    if kind is cst.Add and isinstance(left, (str, tuple)) and isinstance(right, (str, tuple)):
        return len(left) + len(right) <= MAX_ITEMS * 10
    if kind is cst.Modulo and isinstance(left, (str, bytes)):
        return _small_format(left, right if isinstance(right, tuple) else (right,))
    return True


_WIDE = re.compile(r"\d{5}")


def _small_format(template: Any, values: Sequence[Any]) -> bool:
    """A ``%`` or ``str.format`` whose widths cannot ask for a huge string (``"%0*d" % (10**9,
    1)``, ``"{:>1000000000}".format(1)`` allocate a gigabyte before anything can be checked)."""
    text = template.decode("latin-1") if isinstance(template, bytes) else template
    return not _WIDE.search(text) and not any(type(v) is int and abs(v) > MAX_ITEMS for v in values)


def _dotted(node: cst.BaseExpression) -> str:
    if type(node) is cst.Name:
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _name_of(node: cst.BaseExpression) -> str:
    return node.value if type(node) is cst.Name else _dotted(node)


def _changed_in(loop: cst.CSTNode, module: ModuleSource) -> Tuple[List[cst.BaseExpression], List[cst.BaseExpression]]:
    """What a loop's body may rebind (assignment targets) and mutate (receivers of method
    calls); computed once per loop node."""
    key = ("changed", id(loop))
    cached = module.derived.get(key)
    if cached is not None:
        return cached
    # The header (``for m in self.modules()``) runs once, before the body: only the body and
    # the loop target repeat.
    targets: List[cst.BaseExpression] = [loop.target] if type(loop) is cst.For else []
    receivers: List[cst.BaseExpression] = []
    stack: List[cst.CSTNode] = [loop.body] + ([loop.orelse] if getattr(loop, "orelse", None) else [])
    while stack:
        node = stack.pop()
        if type(node) in (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor, cst.NamedExpr):
            targets.append(node.target)
        elif type(node) is cst.Call:
            if type(node.func) is cst.Attribute:
                receivers.append(node.func.value)
            # A function may change the lists and objects it is passed.
            receivers.extend(arg.value for arg in node.args if type(arg.value) in (cst.Name, cst.Attribute))
        stack.extend(node.children)
    module.derived[key] = (targets, receivers)
    return targets, receivers
