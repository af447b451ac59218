"""One layer's parameter count, with the formula that gives it, shared by every framework's
formulas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Tuple


@dataclass(frozen=True)
class Count:
    """One layer's parameters, or why they are not known (``params`` None)."""

    params: Optional[int]
    formula: str
    #: Of ``params``, those that training does not change (Keras's moving statistics).
    frozen: int = 0


def known_int(value: Any) -> Optional[int]:
    return value if type(value) is int else None


def ints(value: Any, rank: int) -> Optional[Tuple[int, ...]]:
    values = value if isinstance(value, tuple) else (value,) * rank
    if len(values) != rank or any(type(v) is not int for v in values):
        return None
    return values
