"""The default format: ruff's concise lines, which people and problem matchers both read."""

from __future__ import annotations

from typing import List, Sequence

from convlint.diagnostics import Diagnostic


def concise(diagnostic: Diagnostic, mark_fix: bool = True) -> str:
    """``path:line:col: CODE message``; ``[*]`` after the code says ``--fix`` can repair it."""
    mark = " [*]" if mark_fix and diagnostic.fix is not None else ""
    return (
        f"{diagnostic.path}:{diagnostic.line}:{diagnostic.column}: "
        f"{diagnostic.code}{mark} {diagnostic.message}"
    )


def render(diagnostics: Sequence[Diagnostic]) -> str:
    if not diagnostics:
        return "All checks passed!\n"
    return "\n".join([*(concise(diagnostic) for diagnostic in diagnostics), *summary(diagnostics)]) + "\n"


def summary(diagnostics: Sequence[Diagnostic]) -> List[str]:
    """``Found N errors.`` and how many are fixable, under the diagnostics or their statistics."""
    # Like ruff, every finding counts as an error here, warnings included.
    count = len(diagnostics)
    lines = [f"Found {count} error{'' if count == 1 else 's'}."]
    fixable = sum(diagnostic.fix is not None for diagnostic in diagnostics)
    if fixable:
        lines.append(f"[*] {fixable} fixable with the `--fix` option.")
    return lines
