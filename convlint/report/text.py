"""The default format: ruff's concise lines, which people and problem matchers both read, and
ruff's summary lines, fixes included."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from convlint.diagnostics import Diagnostic
from convlint.fix import UNSAFE, applies


@dataclass(frozen=True)
class FixState:
    """How a run treats fixes, for the summary: ``unsafe`` is None when neither
    ``--unsafe-fixes`` nor ``--no-unsafe-fixes`` was given (then hidden unsafe fixes are
    hinted at, as ruff does); ``mode`` is ``generate``, ``apply`` or ``diff``; ``fixed`` counts
    the findings fixed (or that would be, with ``--diff``)."""

    unsafe: Optional[bool] = None
    mode: str = "generate"
    fixed: int = 0
    #: The ``--show-fixes`` lines (``Fixed 1 error:`` …), printed before the summary.
    shown_fixes: Tuple[str, ...] = ()


def concise(diagnostic: Diagnostic, mark_fix: bool = True) -> str:
    """``path:line:col: CODE message``; ``[*]`` after the code says ``--fix`` can repair it."""
    mark = " [*]" if mark_fix else ""
    return (
        f"{diagnostic.path}:{diagnostic.line}:{diagnostic.column}: "
        f"{diagnostic.code}{mark} {diagnostic.message}"
    )


def render(diagnostics: Sequence[Diagnostic], state: FixState = FixState()) -> str:
    unsafe = bool(state.unsafe)
    marks = state.mode == "generate"
    lines = [concise(d, marks and applies(d, unsafe)) for d in diagnostics]
    return "".join(line + "\n" for line in lines + _shown_fixes(state) + summary(diagnostics, state))


def render_fix_only(diagnostics: Sequence[Diagnostic], state: FixState) -> str:
    """What ``--fix-only`` and ``--diff`` print after the diffs: no findings, only the fixes."""
    return "".join(line + "\n" for line in _shown_fixes(state) + fix_only_summary(diagnostics, state))


def _shown_fixes(state: FixState) -> List[str]:
    return ["", *state.shown_fixes, ""] if state.shown_fixes else []


def _plural(count: int, word: str, suffix: str = "s") -> str:
    return f"{count} {word}{'' if count == 1 else suffix}"


def summary(diagnostics: Sequence[Diagnostic], state: FixState) -> List[str]:
    """ruff's lines after the findings: how many, how many fixed, and what ``--fix`` (or
    ``--unsafe-fixes``) would still do. Every finding counts as an error, warnings included."""
    remaining = len(diagnostics)
    if state.fixed:
        lines = [f"Found {_plural(state.fixed + remaining, 'error')} ({state.fixed} fixed, {remaining} remaining)."]
    elif remaining:
        lines = [f"Found {_plural(remaining, 'error')}."]
    else:
        lines = ["All checks passed!"]
    applicable, hidden = _fixable(diagnostics, state.unsafe)
    if state.unsafe is None:
        if applicable and hidden:
            lines.append(f"[*] {applicable} fixable with the `--fix` option "
                         f"({_plural(hidden, 'hidden fix', 'es')} can be enabled with the `--unsafe-fixes` option).")
        elif applicable:
            lines.append(f"[*] {applicable} fixable with the `--fix` option.")
        elif hidden:
            lines.append(f"No fixes available ({_plural(hidden, 'hidden fix', 'es')} can be enabled with the "
                         f"`--unsafe-fixes` option).")
    elif applicable:
        # ruff's wording once unsafe fixes are opted in or out, backticks and all.
        lines.append(f"[*] {applicable} fixable with the --fix option.")
    return lines


def fix_only_summary(diagnostics: Sequence[Diagnostic], state: FixState) -> List[str]:
    """ruff's line for ``--fix-only`` and ``--diff``, which print no findings."""
    _, hidden = _fixable(diagnostics, state.unsafe)
    verb = "Fixed" if state.mode == "apply" else "Would fix"
    if hidden:
        fixes = f"fix{'' if hidden == 1 else 'es'} available with `--unsafe-fixes`"
        if state.fixed:
            return [f"{verb} {_plural(state.fixed, 'error')} ({hidden} additional {fixes})."]
        no_errors = "No errors fixed" if state.mode == "apply" else "No errors would be fixed"
        return [f"{no_errors} ({hidden} {fixes})."]
    if state.fixed:
        return [f"{verb} {_plural(state.fixed, 'error')}."]
    return []


def _fixable(diagnostics: Sequence[Diagnostic], unsafe: Optional[bool]) -> Tuple[int, int]:
    """(fixes ``--fix`` would apply, unsafe fixes it would not)."""
    applicable = sum(applies(d, bool(unsafe)) for d in diagnostics)
    hidden = sum(1 for d in diagnostics
                 if d.fix is not None and not applies(d, bool(unsafe)) and d.fix.applicability == UNSAFE)
    return applicable, hidden
