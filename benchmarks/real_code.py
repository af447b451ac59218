"""Lint real model libraries as released: what convlint reports there, and how much it understands.

A pinned release of torchvision or timm is taken to be correct, so every error convlint
reports on it is a false positive until shown to be a real bug in that release. The coverage
figures say how much of the code the analysis understood: of the layers the source builds by
name (``nn.Conv2d(...)``, ``torch.nn.LSTM(...)``, or a bare ``BatchNorm2d(...)`` imported from
``torch.nn``), the share whose size arguments (channels, features, ``embed_dim`` and
``num_heads``) resolved to a known or symbolic value: one figure for conv, linear and norm
layers, one for recurrent, embedding and attention layers. Layers built through a variable
(``norm_layer(planes)``) are left out of both sides: a syntactic count cannot tell what they are.

    python benchmarks/real_code.py [--corpus NAME ...]   # default: the corpora CI checks

Exits with 1 when an error or an internal error was reported.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

import libcst as cst

import corpus
from convlint.analysis.imports import SourceError
from convlint.config import load_settings
from convlint.diagnostics import ERROR, Diagnostic
from convlint.files import discover
from convlint.frameworks.catalog import BATCH_NORM, CHANNEL_NORM, CONV, LAYER_NORM, LINEAR
from convlint.frameworks.torch import LAYERS
from convlint.report.text import concise
from convlint.runner import Linter

DEFAULT_CORPORA = ("torchvision", "timm", "keras", "torchaudio")
INTERNAL_ERROR = "CL003"

_CONV_FAMILY_KINDS = (CONV, LINEAR, BATCH_NORM, CHANNEL_NORM, LAYER_NORM)
#: Catalog layers with size arguments, by coverage figure: conv, linear and norm layers, and
#: the rest (recurrent, embedding and attention layers).
FAMILIES: Dict[str, FrozenSet[str]] = {
    "conv": frozenset(name for name, spec in LAYERS.items()
                      if spec.size_params and spec.kind in _CONV_FAMILY_KINDS),
    "sequence": frozenset(name for name, spec in LAYERS.items()
                          if spec.size_params and spec.kind not in _CONV_FAMILY_KINDS),
}
SIZED_LAYERS: FrozenSet[str] = frozenset().union(*FAMILIES.values())
_NN_MODULES = ("nn", "torch.nn")


def _dotted(node: cst.BaseExpression) -> Optional[str]:
    """``torch.nn.Conv2d`` for that chain of names, None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


class _LayerCallCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.imported: Dict[str, str] = {}  # local name -> torch.nn name
        self.calls: List[Tuple[cst.Call, str]] = []

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or _dotted(node.module) != "torch.nn":
            return
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if isinstance(alias.name, cst.Name) and alias.name.value in SIZED_LAYERS:
                local = alias.asname.name if alias.asname else alias.name
                if isinstance(local, cst.Name):
                    self.imported[local.value] = alias.name.value

    def visit_Call(self, node: cst.Call) -> None:
        name = _dotted(node.func)
        if name is not None:
            self.calls.append((node, name))


def layer_calls(module: cst.Module, family: str = "conv") -> Set[cst.Call]:
    """The calls of ``module`` that build a layer of ``family`` by name: coverage's denominator.

    A bare name counts when any ``from torch.nn import`` of the file brings it in: scopes are
    not followed, so a local that shadows the import would be miscounted.
    """
    collector = _LayerCallCollector()
    module.visit(collector)
    found = set()
    for call, name in collector.calls:
        owner, _, attribute = name.rpartition(".")
        if owner in _NN_MODULES and attribute in FAMILIES[family]:
            found.add(call)
        elif not owner and collector.imported.get(name) in FAMILIES[family]:
            found.add(call)
    return found


@dataclass
class CorpusResult:
    name: str
    version: str
    #: The linted folders, as the README names them: ``models/`` for ``torchvision/models``.
    folders: Tuple[str, ...]
    files: int
    lines: int
    #: Error-severity diagnostics other than internal errors, sorted.
    errors: List[Diagnostic]
    internal_errors: List[Diagnostic]
    #: Per family (``FAMILIES``): its layer calls in the source, of them evaluated, of them resolved.
    coverage: Dict[str, "Coverage"]
    #: Wall time of the lint run alone; measuring coverage analyses every file once more.
    seconds: float


@dataclass
class Coverage:
    layer_calls: int = 0
    evaluated: int = 0
    resolved: int = 0

    @property
    def share(self) -> float:
        return self.resolved / self.layer_calls if self.layer_calls else 0.0

    def __str__(self) -> str:
        return f"{self.share:.1%} ({self.resolved}/{self.layer_calls})" if self.layer_calls else "no torch.nn layers"


def corpus_files(name: str) -> Tuple[Path, List[Path]]:
    """The unpacked release (downloaded on first use) and its files to lint, as the CLI finds them."""
    root = corpus.prepare(name)
    return root, discover(corpus.lint_roots(name), load_settings(root, isolated=True))


def new_linter(root: Path) -> Linter:
    """A linter run from inside the unpacked release, which names files relative to it."""
    return Linter(load_settings(root, isolated=True), root)


def count_coverage(linter: Linter, paths: Sequence[Path]) -> Dict[str, Coverage]:
    """Per family of layers, their calls in ``paths``, of them evaluated, of them resolved."""
    coverage = {family: Coverage() for family in FAMILIES}
    for path in paths:
        try:
            # The source the linter parsed: facts name its nodes, compared by identity.
            source = linter.project.load(path)
        except SourceError:
            continue
        calls = {family: layer_calls(source.tree, family) for family in FAMILIES}
        for family, found in calls.items():
            coverage[family].layer_calls += len(found)
        try:
            facts = linter.facts(path)
        except Exception:  # an internal error, reported by the lint as CL003: nothing resolved
            continue
        if facts is not None:
            for family, found in calls.items():
                coverage[family].evaluated += len(found & facts.layer_calls)
                coverage[family].resolved += len(found & facts.resolved_layer_calls)
    return coverage


def measure(name: str) -> CorpusResult:
    """Lint one corpus with one linter, time it, then measure coverage with the same linter."""
    root, paths = corpus_files(name)
    linter = new_linter(root)
    start = time.perf_counter()
    diagnostics = linter.lint_paths(paths)
    seconds = time.perf_counter() - start
    errors = [d for d in diagnostics if d.severity == ERROR and d.code != INTERNAL_ERROR]
    internal = [d for d in diagnostics if d.code == INTERNAL_ERROR]
    coverage = count_coverage(linter, paths)
    entry = corpus.CORPUS[name]
    folders = tuple(sub.split("/", 1)[1] + "/" for sub in entry.subtrees)
    lines = sum(len(path.read_bytes().splitlines()) for path in paths)
    return CorpusResult(
        name, entry.version, folders, len(paths), lines, errors, internal, coverage, seconds
    )


def summary(result: CorpusResult) -> str:
    return (
        f"{result.name} {result.version}: {result.files} files, {result.lines} lines, "
        f"{len(result.errors)} errors, {len(result.internal_errors)} internal errors, "
        + "".join(f"{family} coverage {c} ({c.evaluated} evaluated), " for family, c in result.coverage.items())
        + f"{result.seconds:.1f} s"
    )


def markdown_table(results: Sequence[CorpusResult]) -> str:
    """The README's table: every error on a release is a false positive until proved a bug."""
    lines = [
        "| corpus | files | lines | wall time (1 core) | error diagnostics | internal errors "
        "| coverage: conv, linear, norm | coverage: recurrent, embedding, attention |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        folders = ", ".join(f"`{folder}`" for folder in r.folders)
        lines.append(
            f"| {r.name} {r.version} {folders} | {r.files} | {r.lines:,} | {r.seconds:.1f} s "
            f"| {len(r.errors)} | {len(r.internal_errors)} | {r.coverage['conv']} | {r.coverage['sequence']} |"
        )
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", action="append", choices=sorted(corpus.CORPUS), metavar="NAME",
        help=f"a corpus to lint, repeatable (default: {' and '.join(DEFAULT_CORPORA)}; "
        f"known: {', '.join(corpus.CORPUS)})",
    )
    args = parser.parse_args(argv)
    results = []
    for name in args.corpus or DEFAULT_CORPORA:
        result = measure(name)
        for diagnostic in result.errors + result.internal_errors:
            print(concise(diagnostic, mark_fix=False))
        print(summary(result), flush=True)
        results.append(result)
    print()
    print(markdown_table(results))
    return 1 if any(r.errors or r.internal_errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
