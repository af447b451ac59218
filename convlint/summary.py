"""``convlint summary``: the parameter table of the models a file builds, without importing it.

Like torchinfo's table, with the formula behind every number; a total is exact or null.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import libcst as cst

from convlint.analysis.facts import FileFacts
from convlint.analysis.imports import ModuleSource, Project
from convlint.analysis.interpreter import CONTROL_SIGNALS, BudgetExceeded, Interpreter, Limits, Scope
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
from convlint.analysis.params import ModelCount, count_model, is_torch_module
from convlint.analysis.roots import input_comment
from convlint.analysis.values import UNKNOWN


class SummaryError(Exception):
    """A ``--model`` expression that cannot be used; one line."""


@dataclass
class ModelSummary:
    name: str
    source: ModuleSource
    line: Optional[int]
    count: ModelCount
    #: With an input shape: each layer's fully known output shape, by ``id`` of the layer.
    output_shapes: Dict[int, Tuple[int, ...]] = field(default_factory=dict)


def _is_model(value: Any) -> bool:
    if isinstance(value, (Layer, Container)):
        return True
    return isinstance(value, Instance) and is_torch_module(value) is not False


def _needs_no_arguments(function: FunctionValue, skip: int) -> bool:
    params = function.node.params
    positional = list(params.posonly_params) + list(params.params)
    required = [p for p in positional[skip:] + list(params.kwonly_params) if p.default is None]
    return not required


class _ModelBuilder:
    """Runs a file's module body, then builds the models it names, each from a clean state."""

    def __init__(self, project: Project, source: ModuleSource, limits: Limits) -> None:
        self.source = source
        self.interpreter = Interpreter(project, source, FileFacts(source), limits)
        self.namespace = Namespace({"__name__": UNKNOWN})
        self.interpreter.root_namespace = self.namespace
        self.interpreter.execute_module(source, self.namespace)
        # Builders are counted as written: a registration decorator does not change the model.
        for statement in source.tree.body:
            if isinstance(statement, cst.FunctionDef) and statement.decorators:
                self.namespace.values[statement.name.value] = FunctionValue(
                    statement, source, defaults=self.interpreter.root_defaults(statement))

    def build(self, make: Any) -> Any:
        interpreter = self.interpreter
        interpreter.steps = 0
        frame = interpreter.open_frame()
        try:
            return make()
        except CONTROL_SIGNALS:
            return UNKNOWN
        except (BudgetExceeded, RecursionError):
            return UNKNOWN
        finally:
            interpreter.reset()
            del frame

    def output_shapes(self, model: Any, shape: Tuple[int, ...]) -> Dict[int, Tuple[int, ...]]:
        """Run ``model`` forward on an input of ``shape``; the layers' known output shapes."""
        outputs: Dict[int, Tensor] = {}
        self.interpreter.outputs = outputs
        try:
            self.build(lambda: self.interpreter.call_module(model, Arguments([Tensor(len(shape), shape, rank_certain=True)]), None))
        finally:
            self.interpreter.outputs = None
        return {key: tuple(t.dims) for key, t in outputs.items()
                if t.rank is not None and all(type(size) is int for size in t.dims)}

    def evaluate(self, expression: str) -> Any:
        try:
            node = cst.parse_expression(expression)
        except cst.ParserSyntaxError:
            raise SummaryError(f"`--model {expression}` is not a Python expression") from None
        scope = Scope(self.namespace, None, self.source)
        return self.build(lambda: self.interpreter.evaluate(node, scope))

    def candidates(self) -> List[Tuple[str, int, Any, Optional[Tuple[int, ...]]]]:
        """The models a file builds without arguments: module-level models, classes whose
        constructor needs none, and builder functions that need none; with the input shape a
        class declares (``# convlint: input=...``)."""
        found = []
        for statement in self.source.tree.body:
            line = self.source.line_of(statement)
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, (cst.Assign, cst.AnnAssign)):
                        targets = small.targets if isinstance(small, cst.Assign) else [small]
                        for target in targets:
                            name = target.target.value if isinstance(target.target, cst.Name) else None
                            value = self.namespace.values.get(name) if name else None
                            if name and _is_model(value):
                                found.append((name, line, value, None))
            elif isinstance(statement, cst.ClassDef):
                klass = self.namespace.values.get(statement.name.value)
                if isinstance(klass, ClassValue) and klass.node is statement:
                    init = klass.lookup("__init__")
                    if init is None or (isinstance(init, FunctionValue) and _needs_no_arguments(init, 1)):
                        value = self.build(lambda: self.interpreter.instantiate(klass, Arguments(), None))
                        if _is_model(value):
                            found.append((f"{statement.name.value}()", line, value, input_comment(statement)))
            elif isinstance(statement, cst.FunctionDef):
                function = self.namespace.values.get(statement.name.value)
                if isinstance(function, FunctionValue) and _needs_no_arguments(function, 0):
                    value = self.build(lambda: self.interpreter.call_function(function, Arguments(), None))
                    if _is_model(value):
                        found.append((f"{statement.name.value}()", line, value, None))
        return found


def summarize(project: Project, path: Path, expression: Optional[str] = None,
              input_shape: Optional[Tuple[int, ...]] = None, limits: Limits = Limits()) -> List[ModelSummary]:
    source = project.load(path)
    builder = _ModelBuilder(project, source, limits)
    if expression is not None:
        value = builder.evaluate(expression)
        if not _is_model(value):
            raise SummaryError(f"`{expression}` does not evaluate to a model convlint can follow in {path}")
        found = [(expression, None, value, None)]
    else:
        found = builder.candidates()
    summaries = []
    for name, line, value, declared in found:
        # Keras and Flax layers are built by the forward pass: run it before counting.
        shape = input_shape or declared
        shapes = builder.output_shapes(value, shape) if shape is not None else {}
        summary = ModelSummary(name, source, line, count_model(value))
        summary.output_shapes = shapes
        summaries.append(summary)
    return summaries


def _grouped(summary: ModelSummary, depth: Optional[int]) -> List[Dict[str, Any]]:
    """Rows in model order; with ``depth``, deeper rows add into their ancestor at that depth."""
    rows: List[Dict[str, Any]] = []
    index: Dict[str, Dict[str, Any]] = {}
    for row in summary.count.rows:
        parts = row.path.split(".")
        key = ".".join(parts[:depth]) if depth is not None and len(parts) > depth else row.path
        line = row.layer.module.line_of(row.layer.node) if row.layer is not None else None
        if key in index:
            entry = index[key]
            entry["params"] = None if entry["params"] is None or row.count.params is None \
                else entry["params"] + row.count.params
            entry["type"], entry["formula"], entry["layers"] = "…", "sum of its layers", entry["layers"] + 1
            shape = summary.output_shapes.get(id(row.layer)) if row.layer is not None else None
            entry["output_shape"] = list(shape) if shape else None
            continue
        shape = summary.output_shapes.get(id(row.layer)) if row.layer is not None else None
        entry = {"path": key, "type": row.type_name, "line": line, "params": row.count.params,
                 "formula": row.count.formula, "output_shape": list(shape) if shape else None, "layers": 1}
        index[key] = entry
        rows.append(entry)
    return rows


def render_json(summaries: List[ModelSummary], cwd: Path, depth: Optional[int] = None) -> str:
    models = []
    for summary in summaries:
        layers = [{k: v for k, v in row.items() if k != "layers"} for row in _grouped(summary, depth)]
        models.append({
            "name": summary.name,
            "file": _shown(summary.source.path, cwd),
            "line": summary.line,
            "params": summary.count.total,
            "trainable_params": summary.count.trainable,
            "resolved": summary.count.total is not None,
            "layers": layers,
            "unresolved": summary.count.unresolved,
        })
    return json.dumps({"models": models}, indent=2) + "\n"


def render_text(summaries: List[ModelSummary], cwd: Path, depth: Optional[int] = None) -> str:
    if not summaries:
        return "No model found that can be built without arguments; name one with --model.\n"
    out: List[str] = []
    for summary in summaries:
        where = _shown(summary.source.path, cwd) + (f":{summary.line}" if summary.line else "")
        out.append(f"{summary.name}  ({where})")
        rows = _grouped(summary, depth)
        width = max([len(r["path"]) for r in rows] + [5])
        type_width = max([len(r["type"]) for r in rows] + [4])
        shapes = {id(r): _shape_text(r["output_shape"]) for r in rows}
        shape_width = max([len(text) for text in shapes.values()] + [12]) if summary.output_shapes else 0
        shape_header = f"  {'Output shape':<{shape_width}}" if shape_width else ""
        out.append(f"{'Layer':<{width}}  {'Type':<{type_width}}{shape_header}  {'Params':>12}  Formula")
        for row in rows:
            params = f"{row['params']:,}" if row["params"] is not None else "?"
            shape = f"  {shapes[id(row)]:<{shape_width}}" if shape_width else ""
            out.append(f"{row['path']:<{width}}  {row['type']:<{type_width}}{shape}  {params:>12}  {row['formula']}")
        count = summary.count
        if count.total is not None:
            out.append(f"Total params: {count.total:,}")
            out.append(f"Trainable params: {count.trainable:,}")
            out.append(f"Non-trainable params: {count.frozen:,}")
        else:
            out.append(f"Total params: unknown; at least {count.known:,} (a lower bound: not everything was resolved)")
            out.append("Not resolved:")
            out.extend(f"  - {reason}" for reason in count.unresolved)
        out.append("")
    return "\n".join(out)


def _shape_text(shape: Optional[List[int]]) -> str:
    return "[" + ", ".join(str(size) for size in shape) + "]" if shape else "—"


def _input_shape(text: str) -> Tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.replace("(", "").replace(")", "").split(",") if part.strip())
    except ValueError:
        sizes = ()
    if not sizes or any(size <= 0 for size in sizes):
        raise argparse.ArgumentTypeError(f"`{text}` is not a shape such as 1,3,224,224")
    return sizes


def _shown(path: Path, cwd: Path) -> str:
    from convlint.runner import display_path

    return display_path(path, cwd)


def command(argv: List[str]) -> int:
    """``convlint summary PATH [--model EXPR] [--depth N] [--format text|json]``."""
    import sys

    from convlint.analysis.imports import SourceError
    from convlint.config import load_settings
    from convlint.files import UsageError

    parser = argparse.ArgumentParser(
        prog="convlint summary",
        description="Count the parameters of the models a file builds, with the formula behind each number.",
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("--model", help='a call evaluated in the file, e.g. "resnet50()" (default: every model '
                                         "the file can build without arguments)")
    parser.add_argument("--input-shape", type=_input_shape,
                        help="the shape of the tensor passed to forward, e.g. 1,3,224,224: shows each layer's output shape")
    parser.add_argument("--depth", type=int, help="show layers down to this depth, summing deeper ones")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--write-expected", action="store_true",
                        help="record each exact total in [tool.convlint.models] of the configuration (CL303)")
    args = parser.parse_args(argv)
    if not args.path.is_file():
        raise UsageError(f"path `{args.path}` is not a file")
    if args.depth is not None and args.depth < 1:
        raise UsageError("`--depth` must be at least 1")
    cwd = Path.cwd()
    settings = load_settings(cwd)
    try:
        summaries = summarize(Project([settings.root, cwd]), args.path, args.model, args.input_shape)
    except SourceError as error:
        raise UsageError(f"cannot read {args.path}: {error.detail}") from None
    except SummaryError as error:
        raise UsageError(str(error)) from None
    render = render_json if args.format == "json" else render_text
    sys.stdout.write(render(summaries, cwd, args.depth))
    if args.write_expected:
        _write_expected(summaries, settings, cwd)
    return 0


def _write_expected(summaries: List[ModelSummary], settings: Any, cwd: Path) -> None:
    import os
    import sys

    from convlint.expected import ExpectedError, record
    from convlint.files import UsageError

    config = settings.config_path or cwd / "pyproject.toml"
    totals = {}
    for summary in summaries:
        key = f"{Path(os.path.relpath(summary.source.path, settings.root)).as_posix()}:{summary.name}"
        if summary.count.total is None:
            print(f"not recorded: {key} (its total is not known exactly)", file=sys.stderr)
        else:
            totals[key] = summary.count.total
    if not totals:
        return
    try:
        record(config, totals)
    except ExpectedError as error:
        raise UsageError(str(error)) from None
    for key, total in totals.items():
        print(f"recorded in {config}: {json.dumps(key)} = {{ params = {total} }}", file=sys.stderr)
