"""The default format: ruff's concise lines, which people and problem matchers both read."""

from __future__ import annotations

from typing import Sequence

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
    lines = [concise(diagnostic) for diagnostic in diagnostics]
    # Like ruff, every finding counts as an error here, warnings included.
    count = len(diagnostics)
    lines.append(f"Found {count} error{'' if count == 1 else 's'}.")
    fixable = sum(diagnostic.fix is not None for diagnostic in diagnostics)
    if fixable:
        lines.append(f"[*] {fixable} fixable with the `--fix` option.")
    return "\n".join(lines) + "\n"
