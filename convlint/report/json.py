"""ruff's ``json`` and ``json-lines`` formats, so tools that read ruff's output read ours."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Sequence

from convlint.diagnostics import Diagnostic
from convlint.report import rule_url
from convlint.rules import RULES_BY_CODE


def _position(line: int, column: int) -> Dict[str, int]:
    return {"row": line, "column": column}


def diagnostic_object(diagnostic: Diagnostic, cwd: Path) -> Dict[str, Any]:
    """One diagnostic with ruff's keys, plus ``name`` and ``severity`` as newer ruff has."""
    fix = diagnostic.fix
    return {
        "cell": None,
        "code": diagnostic.code,
        "end_location": _position(diagnostic.end_line, diagnostic.end_column),
        # ruff reports absolute paths; joining keeps an already absolute path as it is.
        "filename": os.path.normpath(cwd / diagnostic.path),
        "fix": None
        if fix is None
        else {
            "applicability": fix.applicability,
            "message": fix.message,
            "edits": [
                {
                    "content": edit.content,
                    "location": _position(edit.line, edit.column),
                    "end_location": _position(edit.end_line, edit.end_column),
                }
                for edit in fix.edits
            ],
        },
        "location": _position(diagnostic.line, diagnostic.column),
        "message": diagnostic.message,
        "name": RULES_BY_CODE[diagnostic.code].name,
        "noqa_row": diagnostic.line,
        "severity": diagnostic.severity,
        "url": rule_url(diagnostic.code),
    }


def render(diagnostics: Sequence[Diagnostic], cwd: Path) -> str:
    objects = [diagnostic_object(diagnostic, cwd) for diagnostic in diagnostics]
    return json.dumps(objects, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_lines(diagnostics: Sequence[Diagnostic], cwd: Path) -> str:
    return "".join(
        json.dumps(diagnostic_object(diagnostic, cwd), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        + "\n"
        for diagnostic in diagnostics
    )
