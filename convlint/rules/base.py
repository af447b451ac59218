"""What a rule is: a code, a name, a message, a rationale and examples that are its tests.

Rules never walk the syntax tree. They read the facts the analysis computed once per file
(``convlint.analysis.facts``) and turn the provable ones into findings.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Mapping, Optional, Sequence, Tuple

from convlint.diagnostics import ERROR

if TYPE_CHECKING:
    import libcst as cst

    from convlint.analysis.facts import FileFacts
    from convlint.config import Settings

EXPECTED_MARK = re.compile(r"#\s*error:\s*(?P<code>CL\d{3})")


@dataclass(frozen=True)
class Replacement:
    """An autofix: put ``new`` in place of ``node``; ``safe`` fixes never change behaviour
    beyond removing the reported error."""

    node: "cst.CSTNode"
    new: "cst.CSTNode"
    message: str
    safe: bool = True


@dataclass(frozen=True)
class Finding:
    node: "cst.CSTNode"
    message: str
    replacement: Optional[Replacement] = None


class Rule:
    """Base of every rule. A subclass's docstring is its documentation, written with ruff's
    headings (What it does / Why is this bad? / Example / Use instead)."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    severity: ClassVar[str] = ERROR
    enabled_by_default: ClassVar[bool] = True
    #: Several findings of the rule at one place are one diagnostic (the same mistake seen
    #: through several instantiations), unless each finding is a check of its own.
    one_per_place: ClassVar[bool] = True
    #: Settings (as ``[tool.convlint]`` keys) under which the examples are checked.
    example_settings: ClassVar[Mapping[str, Any]] = {}
    #: Snippets the rule must accept silently.
    valid: ClassVar[Sequence[str]] = ()
    #: Snippets the rule must reject; each rejected line carries ``# error: CODE``.
    invalid: ClassVar[Sequence[str]] = ()
    #: The rejected snippets that ``--fix --unsafe-fixes`` repairs (by index in ``invalid``),
    #: as they read after it; every other rejected snippet must stay as it is.
    fixed: ClassVar[Mapping[int, str]] = {}

    def __init__(self, settings: Optional["Settings"] = None) -> None:
        self.settings = settings

    def check(self, facts: "FileFacts") -> Iterable[Finding]:
        return ()

    @classmethod
    def documentation(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")


def expected_lines(source: str) -> Tuple[Tuple[int, str], ...]:
    """The (line, code) pairs that an example marks with ``# error: CODE``."""
    marks = []
    for number, line in enumerate(source.splitlines(), start=1):
        for match in EXPECTED_MARK.finditer(line):
            marks.append((number, match.group("code")))
    return tuple(marks)
