"""Turn a run's diagnostics into the text printed on stdout, in one of several formats."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from convlint import DOCS_URL
from convlint.diagnostics import Diagnostic
from convlint.rules import RULES_BY_CODE

if TYPE_CHECKING:
    from convlint.report.text import FixState

FORMATS = ("text", "json", "json-lines", "sarif", "github")


def rule_url(code: str) -> str:
    """The rule's section in the rules page; every format that links to a rule uses this."""
    return f"{DOCS_URL}#{code.lower()}-{RULES_BY_CODE[code].name}"


def render(fmt: str, diagnostics: Sequence[Diagnostic], cwd: Path, fixes: Optional["FixState"] = None) -> str:
    """The whole output for ``fmt``; ``cwd`` makes the absolute paths that JSON reports;
    ``fixes`` says how the run treats fixes (the text summary reports them)."""
    # Imported here because the format modules import ``rule_url`` from this package.
    from convlint.report import github, json, sarif, text

    if fmt == "text":
        return text.render(diagnostics, fixes or text.FixState())
    if fmt == "json":
        return json.render(diagnostics, cwd)
    if fmt == "json-lines":
        return json.render_lines(diagnostics, cwd)
    if fmt == "sarif":
        return sarif.render(diagnostics)
    if fmt == "github":
        return github.render(diagnostics)
    raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")
