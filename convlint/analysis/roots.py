"""Where the analysis of a file starts: its module body, each of its classes with their
defaults, and each of its functions (builders such as ``resnet50()``).

A class is checked with its parameters that have defaults bound to those defaults and the rest
symbolic; every concrete call site met on the way (``Block(32, 64)``, ``resnet50()``) is checked
with its concrete values. Afterwards every model and container built is run forward with an
input whose shape is unknown, so that checks inside blocks do not depend on the parent's
``forward`` being understood.
"""

from __future__ import annotations

import re
from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple

import libcst as cst

from convlint.analysis.facts import FileFacts, ModelFact
from convlint.analysis.imports import ModuleSource, Project
from convlint.analysis.interpreter import BudgetExceeded, Interpreter, Limits, Scope, forward_method
from convlint.analysis.objects import (
    Arguments,
    ClassValue,
    Container,
    FunctionValue,
    Instance,
    Layer,
    Namespace,
    Tensor,
)
from convlint.analysis.values import UNKNOWN


def analyse(project: Project, source: ModuleSource, limits: Limits = Limits(),
            models: Sequence[Tuple[str, Mapping[str, Any]]] = (), unknown_defaults: bool = False) -> FileFacts:
    """The facts of one file. ``models`` are the calls to evaluate in it, with their entries of
    ``[tool.convlint.models]`` (whose ``input-shape`` is run forward); their models are recorded
    under their expression. ``unknown_defaults`` runs classes and functions with their
    parameters' defaults unknown, as the check of a fix does."""
    facts = FileFacts(source)
    interpreter = Interpreter(project, source, facts, limits, unknown_defaults)
    namespace = Namespace({"__name__": UNKNOWN})
    interpreter.root_namespace = namespace
    spent = _run_root(interpreter, None, lambda: interpreter.execute_module(source, namespace), source.tree,
                      isolated=False)
    for name, value in list(namespace.values.items()):
        if isinstance(value, (Instance, Container)) and value.path and value.path[0][1] is source:
            facts.models.append(ModelFact(name, source.tree, value))
    for statement in source.tree.body:
        if not isinstance(statement, (cst.ClassDef, cst.FunctionDef)):
            continue
        if spent > limits.file_steps:
            facts.budget_notes.append((statement, f"more than {limits.file_steps} interpreter steps in the file"))
            break
        spent += _run_definition(interpreter, statement, namespace.values.get(statement.name.value))
    scope = Scope(namespace, None, source)
    for expression, entry in models:
        node = cst.parse_expression(expression)
        shape = entry.get("input-shape")
        _run_root(interpreter, expression, lambda: interpreter.evaluate(node, scope), source.tree, model=expression,
                  input_shape=tuple(shape) if shape else None)
    return facts


def _run_definition(interpreter: Interpreter, statement: cst.CSTNode, value: Any) -> int:
    """Check one class or function of the file; returns the interpreter steps it took."""
    if isinstance(value, ClassValue) and value.node is statement and _constructible(value):
        return _run_root(interpreter, None,
                         lambda: interpreter.instantiate(value, Arguments(), None, symbolic=True), statement,
                         model=f"{value.name}()", input_shape=input_comment(statement))
    elif isinstance(statement, cst.FunctionDef):

        def run() -> Any:
            function = value if isinstance(value, FunctionValue) and value.node is statement else None
            if function is None:
                # A decorated builder (``@register_model``): run the function as written.
                function = FunctionValue(statement, interpreter.root, defaults=interpreter.root_defaults(statement))
            return interpreter.call_function(function, Arguments(), None, symbolic=True)

        label = f"{statement.name.value}()"
        return _run_root(interpreter, label, run, statement, model=label)
    return 0


def _constructible(klass: ClassValue) -> bool:
    return klass.lookup("__init__") is not None or forward_method(klass) is not None


def _run_root(interpreter: Interpreter, label: Any, run: Callable[[], Any], node: cst.CSTNode,
              isolated: bool = True, model: Optional[str] = None,
              input_shape: Optional[Tuple[int, ...]] = None) -> int:
    """Run one root. Every root but the module body starts from the module's state and leaves it
    as it found it, so that no root's result depends on the order of definitions."""
    interpreter.context = label
    interpreter.steps = 0
    interpreter.created = []
    frame = interpreter.open_frame() if isolated else None
    try:
        try:
            built = run()
            if model is not None and isinstance(built, (Instance, Container, Layer)):
                interpreter.facts.models.append(ModelFact(model, node, built))
        except Exception as signal:
            if not _is_control(signal):
                raise
            built = None
        created = list(interpreter.created)
        if input_shape is not None and isinstance(built, (Instance, Container, Layer)):
            _forward(interpreter, built, Tensor(len(input_shape), input_shape, rank_certain=True))
        _check_forward(interpreter, created)
    except BudgetExceeded as exceeded:
        interpreter.facts.budget_notes.append((node, str(exceeded)))
    except RecursionError:
        interpreter.facts.budget_notes.append((node, "nesting too deep for the interpreter"))
    finally:
        interpreter.reset()
        if frame is not None:
            interpreter.undo(frame)
    return interpreter.steps


def _check_forward(interpreter: Interpreter, built: List[Any]) -> None:
    """Run every model and Sequential built by this root forward on an unknown input, outermost
    first; one that an enclosing forward already ran is not run again."""
    interpreter.forwarded.clear()
    for module in reversed(built):
        if id(module) in interpreter.forwarded:
            continue
        if isinstance(module, Container) and module.kind != "Sequential":
            continue
        if isinstance(module, Instance) and forward_method(module.klass) is None and module.container is None:
            continue
        # A tensor of its own, not the shared UNKNOWN_TENSOR: what a layer teaches about it
        # (interpreter.learn) must not reach other names.
        _forward(interpreter, module, Tensor(None, ()))


def _forward(interpreter: Interpreter, module: Any, tensor: Tensor) -> None:
    """Run ``module`` on ``tensor``, leaving the state of the model as it was."""
    frame = interpreter.open_frame()
    try:
        interpreter.call_module(module, Arguments([tensor]), None)
    except Exception as signal:
        if not _is_control(signal):
            raise
    finally:
        interpreter.undo(frame)


_INPUT_COMMENT = re.compile(r"#\s*convlint:\s*input\s*=\s*\(?\s*(?P<sizes>\d+(?:\s*,\s*\d+)*)\s*,?\s*\)?")


def input_comment(klass: cst.ClassDef) -> Optional[Tuple[int, ...]]:
    """``class Net(nn.Module):  # convlint: input=(1, 28, 28)``: the shape of the tensor that
    ``forward`` receives."""
    body = klass.body
    comment = body.header.comment if isinstance(body, cst.IndentedBlock) else None
    match = _INPUT_COMMENT.match(comment.value) if comment is not None else None
    if match is None:
        return None
    return tuple(int(size) for size in match.group("sizes").split(","))


def _is_control(signal: BaseException) -> bool:
    from convlint.analysis import interpreter as module

    return isinstance(signal, module.CONTROL_SIGNALS)
