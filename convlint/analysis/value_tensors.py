"""Small one-dimensional torch tensors whose values the source fixes: RegNet computes its stage
widths as ``torch.round(torch.log(torch.arange(depth) * w_a + w_0) ...)`` in float32.

Integer tensors hold exact ints. A float32 tensor holds, per element, an interval of float32
values that contains what PyTorch computes: ``+ - * /`` are correctly rounded in IEEE float32
(computing in float64 and rounding to float32 gives that result), a Python float operand may be
used as a double or cast to float32 first (both are kept), and ``log``/``pow``, which PyTorch's
vectorized kernels give within an ulp or so, widen the interval by a few ulps. Rounding to an
integer (``round``, ``.int()``) is exact only when the whole interval rounds the same way;
otherwise the result is unknown, so a width is exact or absent, never a guess.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction
from dataclasses import dataclass
from typing import Any, Callable, List, Optional, Tuple

import libcst as cst

from convlint.analysis.objects import Arguments, ListValue
from convlint.analysis.values import UNKNOWN

INT64 = "int64"
FLOAT32 = "float32"
#: How far (in float32 ulps) a transcendental kernel of PyTorch may be from the exact result.
_KERNEL_ULPS = 4
#: The largest tensor followed: these are lists of stage widths, not data.
_MAX_LENGTH = 10_000
#: What ``call`` and ``binary`` return for something that is not about a value tensor.
NOT_VALUES = object()

Interval = Tuple[float, float]


@dataclass(frozen=True)
class ValueTensor:
    dtype: str
    #: ints for int64; (low, high) float32 intervals for float32.
    values: Tuple[Any, ...]


def _f32(value: float) -> Optional[float]:
    try:
        return struct.unpack("f", struct.pack("f", value))[0]
    except (OverflowError, struct.error):
        return None


def _step(value: float, ulps: int) -> Optional[float]:
    """``value`` moved by ``ulps`` float32 steps (negative: down)."""
    bits = struct.unpack("i", struct.pack("f", value))[0]
    if value == 0:
        return _f32(math.copysign(1.4e-45 * abs(ulps), ulps))
    bits += ulps if value > 0 else -ulps
    try:
        return struct.unpack("f", struct.pack("i", bits))[0]
    except struct.error:
        return None


def _hull(candidates: List[Optional[float]], widen: int = 0) -> Optional[Interval]:
    if any(c is None or not math.isfinite(c) for c in candidates):
        return None
    low, high = min(candidates), max(candidates)  # type: ignore[type-var]
    if widen:
        low, high = _step(low, -widen), _step(high, widen)  # type: ignore[arg-type]
        if low is None or high is None:
            return None
    return (low, high)  # type: ignore[return-value]


def _as_interval(value: Any) -> Optional[Interval]:
    """A scalar operand as PyTorch may use it: exactly (a double) or cast to float32."""
    if type(value) is bool or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return _hull([float(value), _f32(float(value))])


def _intervals(tensor: ValueTensor) -> Optional[List[Interval]]:
    if tensor.dtype == FLOAT32:
        return list(tensor.values)
    converted = [_hull([_f32(float(value))]) for value in tensor.values]
    return None if any(c is None for c in converted) else converted  # type: ignore[return-value]


_INT_OPERATIONS = {cst.Add: lambda a, b: a + b, cst.Subtract: lambda a, b: a - b, cst.Multiply: lambda a, b: a * b}
_FLOAT_OPERATIONS: dict = {**_INT_OPERATIONS, cst.Divide: lambda a, b: a / b}


def _float_operation(kind: type, left: Interval, right: Interval) -> Optional[Interval]:
    if kind is cst.Divide and right[0] <= 0 <= right[1]:
        return None
    apply = _FLOAT_OPERATIONS[kind]
    return _hull([_f32(apply(a, b)) for a in left for b in right])


def _pairs(left: Any, right: Any) -> Optional[Tuple[str, List[Any], List[Any]]]:
    """The result dtype and the aligned elements of a binary operation (a scalar repeats)."""
    tensors = [side for side in (left, right) if isinstance(side, ValueTensor)]
    length = len(tensors[0].values)
    if any(len(t.values) != length for t in tensors):
        return None
    scalar_float = any(isinstance(side, float) for side in (left, right))
    dtype = FLOAT32 if scalar_float or any(t.dtype == FLOAT32 for t in tensors) else INT64

    def elements(side: Any) -> Optional[List[Any]]:
        if isinstance(side, ValueTensor):
            return list(side.values) if dtype == INT64 or side.dtype == FLOAT32 else _intervals(side)
        if type(side) is int and dtype == INT64:
            return [side] * length
        interval = _as_interval(side)
        return [interval] * length if interval is not None else None

    lefts, rights = elements(left), elements(right)
    if lefts is None or rights is None:
        return None
    return dtype, lefts, rights


def binary(kind: type, left: Any, right: Any) -> Any:
    """``left <op> right`` where one side is a value tensor; NOT_VALUES when neither is."""
    if not isinstance(left, ValueTensor) and not isinstance(right, ValueTensor):
        return NOT_VALUES
    if kind not in _FLOAT_OPERATIONS:
        return UNKNOWN
    pairs = _pairs(left, right)
    if pairs is None:
        return UNKNOWN
    dtype, lefts, rights = pairs
    if dtype == INT64 and kind is not cst.Divide:
        return ValueTensor(INT64, tuple(_INT_OPERATIONS[kind](a, b) for a, b in zip(lefts, rights)))
    if dtype == INT64:  # true division of integers gives float32
        lefts = [_hull([_f32(float(a))]) for a in lefts]
        rights = [_hull([_f32(float(b))]) for b in rights]
    results = [_float_operation(kind, a, b) for a, b in zip(lefts, rights)]
    return ValueTensor(FLOAT32, tuple(results)) if all(r is not None for r in results) else UNKNOWN


def _round_half_even(interval: Interval) -> Optional[float]:
    low, high = round(interval[0]), round(interval[1])  # Python rounds half to even, as torch does
    return float(low) if low == high else None


def _map(tensor: ValueTensor, each: Callable[[Interval], Optional[Interval]]) -> Any:
    intervals = _intervals(tensor)
    results = [each(i) for i in intervals] if intervals is not None else [None]
    return ValueTensor(FLOAT32, tuple(results)) if all(r is not None for r in results) else UNKNOWN


def _round(tensor: ValueTensor) -> Any:
    if tensor.dtype == INT64:
        return tensor

    def each(interval: Interval) -> Optional[Interval]:
        value = _round_half_even(interval)
        return (value, value) if value is not None else None

    return _map(tensor, each)


def _log(tensor: ValueTensor) -> Any:
    def each(interval: Interval) -> Optional[Interval]:
        if interval[0] <= 0:
            return None
        return _hull([_f32(math.log(interval[0])), _f32(math.log(interval[1]))], widen=_KERNEL_ULPS)

    return _map(tensor, each)


def _pow(base: Any, exponent: Any) -> Any:
    """``torch.pow(scalar, tensor)``, the form RegNet uses."""
    bases = _as_interval(base)
    if bases is None or bases[0] <= 0 or not isinstance(exponent, ValueTensor):
        return UNKNOWN

    def each(interval: Interval) -> Optional[Interval]:
        exact = _exact_power(bases, interval)  # type: ignore[arg-type]
        if exact is not None:
            return exact
        try:
            corners = [_f32(math.pow(b, e)) for b in bases for e in interval]  # type: ignore[union-attr]
        except OverflowError:
            return None
        return _hull(corners, widen=_KERNEL_ULPS)

    return _map(exponent, each)


def _exact_power(bases: Interval, exponent: Interval) -> Optional[Interval]:
    """A small integer power whose exact value is a float32 (``2.25 ** 2 = 5.0625``): an
    accurate pow kernel returns exactly that, and widening it would straddle the very halves
    that ``round`` then decides (``80 · 2.25 / 8 = 22.5``)."""
    low, high = exponent
    if low != high or not low.is_integer() or not 0 <= low <= 64:
        return None
    results = {Fraction(base) ** int(low) for base in set(bases)}
    if len(results) != 1:
        return None
    value = results.pop()
    as_float = float(value)
    if _f32(as_float) != as_float or Fraction(as_float) != value:
        return None
    return (as_float, as_float)


def _diff(tensor: ValueTensor) -> Any:
    if tensor.dtype != INT64:
        return UNKNOWN
    return ValueTensor(INT64, tuple(b - a for a, b in zip(tensor.values, tensor.values[1:])))


def _arange(args: Arguments) -> Any:
    bounds = args.positional
    if not args.exact or args.keywords or not 1 <= len(bounds) <= 3 or any(type(b) is not int for b in bounds):
        return UNKNOWN
    span = range(*bounds)
    return ValueTensor(INT64, tuple(span)) if len(span) <= _MAX_LENGTH else UNKNOWN


def _tensor(args: Arguments, items_of: Callable[[Any], Optional[List[Any]]]) -> Any:
    items = items_of(args.positional[0]) if len(args.positional) == 1 and args.exact and not args.keywords else None
    if items is None or len(items) > _MAX_LENGTH or not all(type(i) is int for i in items):
        return UNKNOWN
    return ValueTensor(INT64, tuple(items))


def _first(args: Arguments) -> Any:
    return args.positional[0] if len(args.positional) == 1 and args.exact and not args.keywords else UNKNOWN


def call(qualname: str, args: Arguments, items_of: Callable[[Any], Optional[List[Any]]]) -> Any:
    """A torch function on value tensors; NOT_VALUES when it is not one of them."""
    if qualname == "torch.arange":
        return _arange(args)
    if qualname == "torch.tensor":
        return _tensor(args, items_of)
    values = [v for v in args.positional if isinstance(v, ValueTensor)]
    if not values:
        return NOT_VALUES
    if qualname == "torch.pow" and len(args.positional) == 2 and args.exact:
        return _pow(*args.positional)
    if qualname == "torch.divide" and len(args.positional) == 2 and args.exact and not args.keywords:
        return binary(cst.Divide, *args.positional)
    unary = _UNARY.get(qualname)
    tensor = _first(args)
    if unary is None or not isinstance(tensor, ValueTensor):
        return UNKNOWN
    return unary(tensor)


_UNARY = {"torch.round": _round, "torch.log": _log, "torch.diff": _diff}


def _to_int(tensor: ValueTensor) -> Any:
    """``.int()``: truncation toward zero, exact only if the whole interval truncates alike."""
    if tensor.dtype == INT64:
        return tensor
    values = []
    for low, high in tensor.values:
        if int(low) != int(high):
            return UNKNOWN
        values.append(int(low))
    return ValueTensor(INT64, tuple(values))


def _to_list(tensor: ValueTensor) -> Any:
    if tensor.dtype == INT64:
        return ListValue(list(tensor.values))
    if any(low != high for low, high in tensor.values):
        return UNKNOWN
    return ListValue([low for low, _ in tensor.values])


_METHODS = {"int": _to_int, "long": _to_int, "tolist": _to_list, "round": _round, "log": _log, "diff": _diff}


def method(tensor: ValueTensor, name: str, args: Arguments) -> Any:
    """``tensor.name(*args)``: the methods RegNet's arithmetic needs."""
    apply = _METHODS.get(name)
    if apply is None or args.positional or args.keywords or not args.exact:
        return UNKNOWN
    return apply(tensor)
