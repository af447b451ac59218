"""The value domain of the interpreter.

Known numbers, strings, tuples and None are plain Python values. An integer the analysis cannot
pin down but can name is a ``Dim``: a linear form over positive unknowns (``2*c + 16``). Anything
else it cannot see is ``UNKNOWN``, and unknown is always silent.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple, Union


class _Singleton:
    """A value of which there is one instance, which pickles back to itself (the worker
    processes and the cache compare it by identity)."""

    _name = ""

    def __new__(cls) -> "_Singleton":
        if "_instance" not in cls.__dict__:
            cls._instance = super().__new__(cls)
        return cls.__dict__["_instance"]

    def __reduce__(self) -> str:
        return self._name


class _Unknown(_Singleton):
    """The value of everything the analysis cannot see."""

    _name = "UNKNOWN"

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


class _Undefined(_Singleton):
    """A size the model itself leaves open: Keras's ``None`` in ``Input(shape=(None, None, 3))``,
    fixed only by each batch. Unlike UNKNOWN it is known to be no number at all."""

    _name = "UNDEFINED"

    def __repr__(self) -> str:
        return "None"


UNDEFINED = _Undefined()

#: Largest integer the interpreter computes with; beyond it a value becomes unknown.
INT_LIMIT = 2**62


@dataclass(frozen=True)
class Dim:
    """``const + sum(coefficient * symbol)``: every symbol stands for a positive integer."""

    const: int
    terms: Tuple[Tuple[str, int], ...]

    @staticmethod
    def symbol(name: str) -> "Dim":
        return Dim(0, ((name, 1),))

    def __str__(self) -> str:
        parts = []
        for name, coefficient in self.terms:
            if coefficient == 1:
                parts.append(name)
            elif coefficient == -1:
                parts.append(f"-{name}")
            else:
                parts.append(f"{coefficient}*{name}")
        text = " + ".join(parts).replace("+ -", "- ")
        if self.const > 0:
            text += f" + {self.const}"
        elif self.const < 0:
            text += f" - {-self.const}"
        return text


Number = Union[int, Dim]


def as_dim(value: Any) -> Optional[Dim]:
    """The value as a linear form, if it is an integer (known or symbolic)."""
    if isinstance(value, Dim):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Dim(value, ())
    return None


def _normalise(const: int, coefficients: Dict[str, int]) -> Any:
    terms = tuple(sorted((name, c) for name, c in coefficients.items() if c != 0))
    if abs(const) > INT_LIMIT or any(abs(c) > INT_LIMIT for _, c in terms):
        return UNKNOWN
    if not terms:
        return const
    return Dim(const, terms)


def add(a: Any, b: Any, sign: int = 1) -> Any:
    """``a + sign * b`` for integers, known or symbolic."""
    left, right = as_dim(a), as_dim(b)
    if left is None or right is None:
        return UNKNOWN
    coefficients = dict(left.terms)
    for name, c in right.terms:
        coefficients[name] = coefficients.get(name, 0) + sign * c
    return _normalise(left.const + sign * right.const, coefficients)


def multiply(a: Any, b: Any) -> Any:
    """``a * b`` when at most one side is symbolic (the product of two unknowns is not linear)."""
    left, right = as_dim(a), as_dim(b)
    if left is None or right is None:
        return UNKNOWN
    if left.terms and right.terms:
        return UNKNOWN
    if left.terms:
        left, right = right, left
    factor = left.const
    return _normalise(right.const * factor, {name: c * factor for name, c in right.terms})


def floor_divide(a: Any, b: Any) -> Any:
    """``a // b`` for a symbolic ``a`` only when every coefficient is a multiple of ``b``."""
    left, right = as_dim(a), as_dim(b)
    if left is None or right is None or right.terms or right.const <= 0:
        return UNKNOWN
    divisor = right.const
    if any(c % divisor for _, c in left.terms) or left.const % divisor:
        return UNKNOWN
    return _normalise(left.const // divisor, {name: c // divisor for name, c in left.terms})


def sign_of(value: Any) -> Optional[int]:
    """+1, -1 or 0 when provable for every positive assignment of the symbols, else None."""
    dim = as_dim(value)
    if dim is None:
        return None
    if not dim.terms:
        return (dim.const > 0) - (dim.const < 0)
    coefficients = [c for _, c in dim.terms]
    smallest_total = dim.const + sum(coefficients)
    if all(c > 0 for c in coefficients) and smallest_total > 0:
        return 1
    if all(c < 0 for c in coefficients) and smallest_total < 0:
        return -1
    return None


def provably_different(a: Any, b: Any) -> bool:
    """True only when ``a != b`` holds for every positive value of the symbols in them: the
    difference has one sign, or its constant is not a multiple of what its terms can make
    (``64*s`` is never 100)."""
    difference = add(a, b, sign=-1)
    if difference is UNKNOWN:
        return False
    if sign_of(difference) in (1, -1):
        return True
    dim = as_dim(difference)
    return dim is not None and bool(dim.terms) and dim.const % math.gcd(*(c for _, c in dim.terms)) != 0


def provably_above_one(size: Any) -> bool:
    """True when ``size`` is more than 1 for every positive value of its symbols: a size that
    cannot broadcast."""
    return sign_of(add(size, 1, sign=-1)) == 1


def unknown_positive() -> Dim:
    """A fresh symbol for a positive integer the code does not name (the product of unknown
    spatial sizes): equal to nothing else, yet ``64 * it`` is known to be a multiple of 64."""
    return Dim.symbol(f"{UNNAMED}{next(_unnamed)}")


#: How the names of ``unknown_positive`` symbols begin (no Python name does).
UNNAMED = "?"
_unnamed = itertools.count(1)


def known_factor(value: Any) -> Optional[int]:
    """For a multiple of an unnamed symbol (``64*?1``), the factor that is known: 64."""
    dim = as_dim(value)
    if dim is None or not any(name.startswith(UNNAMED) for name, _ in dim.terms):
        return None
    return math.gcd(dim.const, *(c for _, c in dim.terms))


def provably_equal(a: Any, b: Any) -> bool:
    difference = add(a, b, sign=-1)
    return difference == 0


def is_resolved(value: Any) -> bool:
    """Known or symbolic: what the coverage figure counts as understood."""
    return as_dim(value) is not None


def is_unnamed(value: Any) -> bool:
    """Whether ``value`` is one ``unknown_positive`` symbol: a size the code does not name (a
    batch of unknown size, an axis read with ``x.shape``)."""
    dim = as_dim(value)
    return dim is not None and dim.const == 0 and len(dim.terms) == 1 and dim.terms[0][0].startswith(UNNAMED) \
        and dim.terms[0][1] == 1


def describe(value: Any) -> str:
    """A size as messages show it: ``?`` for one the code does not name."""
    return "?" if as_dim(value) is None or is_unnamed(value) else str(value)
