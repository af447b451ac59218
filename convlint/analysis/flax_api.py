"""How the interpreter follows Flax's modules: a ``flax.linen.Module`` subclass is a dataclass
whose ``setup`` runs before it is used, and the layers an ``@nn.compact`` ``__call__`` creates
inline belong to the module that runs it.

The analysis may run a ``__call__`` several times (on an unknown input, on a given input shape),
each time creating its compact layers anew, while Flax keeps one set per call site and
occurrence. A module adopts the layers of one run only if that run followed a single path
(no undecided branch, no loop left unrolled, no exception), preferring a run whose layers were
all built on known shapes; a module with no such run has unknown parameters.
"""

from __future__ import annotations

import contextlib
from typing import Any, Dict, Iterator, List, Tuple

import libcst as cst

from convlint.analysis.objects import ClassValue, External, FunctionValue, Instance, Layer
from convlint.frameworks import flax as flax_catalog


def is_flax_class(klass: ClassValue) -> bool:
    """Whether a user class derives from ``flax.linen.Module``."""
    return any(isinstance(base, External) and base.qualname in flax_catalog.MODULE_BASES
               for base in klass.external_bases())


def uses_compact(klass: ClassValue) -> bool:
    """Whether a Flax module defines layers inline, in a method decorated ``@nn.compact``."""
    if not is_flax_class(klass):
        return False
    return any(isinstance(function, FunctionValue) and isinstance(function.node, cst.FunctionDef)
               and any(_ends_with_compact(decorator.decorator) for decorator in function.node.decorators)
               for other in klass.mro() for function in other.namespace.values.values())


def _ends_with_compact(expression: cst.BaseExpression) -> bool:
    name = expression.attr.value if isinstance(expression, cst.Attribute) else getattr(expression, "value", None)
    return name == "compact"


def _all_built(layers: Dict[Any, Layer]) -> bool:
    return all(layer.built_with is not None for layer in layers.values())


class FlaxSupport:
    """Mixed into the interpreter: which Flax module's ``__call__`` is running."""

    #: The Flax modules whose ``__call__`` is running, innermost last, with the occurrences of
    #: each call site met so far in that run and the layers the run created.
    compact_owners: List[Tuple[Instance, Dict[int, int], Dict[Any, Layer]]]
    undecided: int

    @contextlib.contextmanager
    def compact_owner(self, module: Instance) -> Iterator[None]:
        if not is_flax_class(module.klass):
            yield
            return
        run: Dict[Any, Layer] = {}
        self.compact_owners.append((module, {}, run))
        start = self.undecided
        try:
            yield
        finally:
            self.compact_owners.pop()
        one_path = self.undecided == start
        if one_path and (module.compact_layers is None or (_all_built(run) and not _all_built(module.compact_layers))):
            module.compact_layers = run

    def register_compact(self, layer: Layer) -> None:
        """A Flax layer built inside a module's ``__call__`` is that module's submodule."""
        if layer.spec.framework != "flax" or not self.compact_owners:
            return
        _, seen, run = self.compact_owners[-1]
        occurrence = seen.get(id(layer.node), 0)
        seen[id(layer.node)] = occurrence + 1
        run[(id(layer.node), occurrence)] = layer
