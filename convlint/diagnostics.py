"""What a run reports: one diagnostic per finding, already placed in its file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple


ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Edit:
    """Replace the text between two 1-based (line, column) positions; end is exclusive."""

    content: str
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Fix:
    message: str
    applicability: str  # "safe" or "unsafe", as ruff names them
    edits: Tuple[Edit, ...] = ()


@dataclass(frozen=True)
class Diagnostic:
    """A finding with its place: lines and columns are 1-based, the end column exclusive."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    message: str
    severity: str = ERROR
    fix: Optional[Fix] = field(default=None, compare=False)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)
