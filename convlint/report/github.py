"""GitHub Actions workflow commands, which annotate the pull request's diff in place."""

from __future__ import annotations

from typing import Sequence

from convlint.diagnostics import Diagnostic
from convlint.report.text import concise


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(diagnostic: Diagnostic) -> str:
    """``::error`` or ``::warning`` (the severities are named as the commands are)."""
    properties = [
        ("title", f"convlint ({diagnostic.code})"),
        ("file", diagnostic.path),
        ("line", diagnostic.line),
        ("col", diagnostic.column),
        ("endLine", diagnostic.end_line),
        ("endColumn", diagnostic.end_column),
    ]
    if diagnostic.line != diagnostic.end_line:
        # GitHub rejects an annotation with columns that spans lines (ruff #22074).
        properties = [(key, value) for key, value in properties if key not in ("col", "endColumn")]
    listed = ",".join(f"{key}={_escape_property(str(value))}" for key, value in properties)
    return f"::{diagnostic.severity} {listed}::{_escape_data(concise(diagnostic, mark_fix=False))}"


def render(diagnostics: Sequence[Diagnostic]) -> str:
    return "".join(command(diagnostic) + "\n" for diagnostic in diagnostics)
