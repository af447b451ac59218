"""Python's builtins, as the interpreter evaluates them on its values.

Each entry computes with known values and returns UNKNOWN for anything else; none may allocate
without bound (``list(range(10**9))`` is unknown, not a gigabyte list).
"""

from __future__ import annotations

import builtins
import math
from typing import Any, Callable, Dict, List, Optional

from convlint.analysis.objects import (
    UNKNOWN_ITEMS,
    Arguments,
    Builtin,
    ClassValue,
    Container,
    DictValue,
    Layer,
    ListValue,
    MaybeMissing,
    SetValue,
)
from convlint.analysis.values import UNKNOWN, Dim, add

#: The most items a list, tuple, dict or range the interpreter builds may hold.
MAX_ITEMS = 10_000

NATIVE = (int, float, str, bool, type(None), bytes)


def is_native(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(is_native(item) for item in value)
    return isinstance(value, NATIVE)


def items_of(value: Any) -> Optional[List[Any]]:
    """The items of an iterable the analysis can see in full, else None."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, ListValue):
        return list(value.items) if value.complete else None
    if isinstance(value, DictValue):
        if not value.complete or any(isinstance(v, MaybeMissing) for v in value.items.values()):
            return None
        return list(value.items)
    if isinstance(value, range):
        return list(value) if len(value) <= MAX_ITEMS else None
    if isinstance(value, str):
        return list(value) if len(value) <= MAX_ITEMS else None
    if isinstance(value, Container):
        children = value.modules()
        if UNKNOWN_ITEMS in children:
            return None
        if value.kind == "ModuleDict":
            return [name for name, _ in value.children]
        return children
    return None


def _natives(args: Arguments) -> Optional[List[Any]]:
    if args.keywords or not args.exact or not all(is_native(a) for a in args.positional):
        return None
    return args.positional


def _apply_native(function: Callable[..., Any]) -> Callable[[Any, Arguments], Any]:
    def evaluate(interpreter: Any, args: Arguments) -> Any:
        values = _natives(args)
        if values is None:
            return UNKNOWN
        try:
            result = function(*values)
        except Exception:  # what Python would raise is unknown to the analysis, never an error
            return UNKNOWN
        if isinstance(result, int) and not isinstance(result, bool) and abs(result) > 2**62:
            return UNKNOWN
        return result

    return evaluate


def _int(interpreter: Any, args: Arguments) -> Any:
    if len(args.positional) == 1 and not args.keywords and isinstance(args.positional[0], Dim):
        return args.positional[0]
    return _apply_native(int)(interpreter, args)


def _set(interpreter: Any, args: Arguments) -> Any:
    """``set(items)``: known when every item is a known value."""
    if not args.positional and not args.keywords and args.exact:
        return SetValue(frozenset())
    items = items_of(args.positional[0]) if len(args.positional) == 1 and not args.keywords else None
    if items is None or not all(is_native(item) for item in items):
        return SetValue(None)
    return SetValue(frozenset(items))


def _len(interpreter: Any, args: Arguments) -> Any:
    if len(args.positional) != 1:
        return UNKNOWN
    if isinstance(args.positional[0], SetValue):
        found = args.positional[0].items
        return UNKNOWN if found is None else len(found)
    items = items_of(args.positional[0])
    return UNKNOWN if items is None else len(items)


def _minmax(pick: Callable[..., Any]) -> Callable[[Any, Arguments], Any]:
    def evaluate(interpreter: Any, args: Arguments) -> Any:
        values = args.positional
        if len(values) == 1:
            items = items_of(values[0])
            if items is None:
                return UNKNOWN
            values = items
        if not values or args.keywords or not args.exact or not all(is_native(v) for v in values):
            return UNKNOWN
        try:
            return pick(values)
        except Exception:
            return UNKNOWN

    return evaluate


def _sum(interpreter: Any, args: Arguments) -> Any:
    if not args.positional or args.keywords:
        return UNKNOWN
    items = items_of(args.positional[0])
    if items is None:
        return UNKNOWN
    total: Any = args.positional[1] if len(args.positional) > 1 else 0
    for item in items:
        if isinstance(total, float) or isinstance(item, float):
            total = total + item if is_native(total) and is_native(item) else UNKNOWN
        else:
            total = add(total, item)
        if total is UNKNOWN:
            return UNKNOWN
    return total


def _range(interpreter: Any, args: Arguments) -> Any:
    values = _natives(args)
    if values is None or not all(isinstance(v, int) for v in values):
        return UNKNOWN
    try:
        return range(*values)
    except Exception:
        return UNKNOWN


def _sequence(make: Callable[[List[Any]], Any]) -> Callable[[Any, Arguments], Any]:
    def evaluate(interpreter: Any, args: Arguments) -> Any:
        if not args.positional:
            return make([])
        items = items_of(args.positional[0])
        if items is None:
            return ListValue([UNKNOWN_ITEMS]) if make is ListValue else UNKNOWN
        return make(items)

    return evaluate


def _zip(interpreter: Any, args: Arguments) -> Any:
    columns = [items_of(value) for value in args.positional]
    if not columns or any(column is None for column in columns):
        return UNKNOWN
    return tuple(zip(*columns))  # type: ignore[misc]


def _enumerate(interpreter: Any, args: Arguments) -> Any:
    items = items_of(args.positional[0]) if args.positional else None
    start = args.positional[1] if len(args.positional) > 1 else args.keywords.get("start", 0)
    if items is None or not isinstance(start, int):
        return UNKNOWN
    return tuple((start + index, item) for index, item in enumerate(items))


def _reversed(interpreter: Any, args: Arguments) -> Any:
    items = items_of(args.positional[0]) if len(args.positional) == 1 else None
    return UNKNOWN if items is None else tuple(reversed(items))


def _sorted(interpreter: Any, args: Arguments) -> Any:
    items = items_of(args.positional[0]) if len(args.positional) == 1 and not args.keywords else None
    if len(args.positional) == 1 and isinstance(args.positional[0], SetValue) and args.positional[0].items is not None:
        items = list(args.positional[0].items)
    if items is None or not all(is_native(item) for item in items):
        return UNKNOWN
    try:
        return ListValue(sorted(items))
    except TypeError:
        return UNKNOWN


def _dict(interpreter: Any, args: Arguments) -> Any:
    if not args.exact or len(args.positional) > 1:
        return DictValue(complete=False)
    result = DictValue()
    if args.positional:
        source = args.positional[0]
        if isinstance(source, DictValue):
            result.items.update(source.items)
            result.complete = source.complete
        else:
            pairs = items_of(source)
            if pairs is None:
                return DictValue(complete=False)
            for pair in pairs:
                if not (isinstance(pair, tuple) and len(pair) == 2 and is_native(pair[0])):
                    return DictValue(complete=False)
                result.items[pair[0]] = pair[1]
    result.items.update(args.keywords)
    return result


_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "list": list, "tuple": tuple, "dict": dict}


def _python_type(value: Any) -> Optional[type]:
    if is_native(value) or isinstance(value, (tuple, range)):
        return type(value)
    if isinstance(value, ListValue):
        return list
    if isinstance(value, DictValue):
        return dict
    return None


def _isinstance(interpreter: Any, args: Arguments) -> Any:
    if len(args.positional) != 2:
        return UNKNOWN
    value, classes = args.positional
    classes = classes if isinstance(classes, tuple) else (classes,)
    if not all(isinstance(c, Builtin) and c.name in _TYPES for c in classes):
        return UNKNOWN
    actual = _python_type(value)
    if actual is None:
        # Torch layers and containers are neither numbers nor Python collections; an instance
        # of a user class may derive from dict or list.
        if isinstance(value, (Layer, Container, ClassValue)):
            return False
        return UNKNOWN
    return any(issubclass(actual, _TYPES[c.name]) for c in classes)


def _getattr(interpreter: Any, args: Arguments) -> Any:
    if len(args.positional) not in (2, 3) or not isinstance(args.positional[1], str):
        return UNKNOWN
    found = interpreter.attribute(args.positional[0], args.positional[1])
    if found is UNKNOWN and len(args.positional) == 3:
        return UNKNOWN
    return found


def _hasattr(interpreter: Any, args: Arguments) -> Any:
    return UNKNOWN


def _print(interpreter: Any, args: Arguments) -> Any:
    return None


def _pow(interpreter: Any, args: Arguments) -> Any:
    """``pow(2, 10**10)`` would compute for hours a number the analysis drops (above 2**62)."""
    values = _natives(args)
    if values and len(values) == 2 and all(type(v) is int for v in values):
        base, exponent = values
        if abs(base) > 1 and exponent > 62:
            return UNKNOWN
    return _native_pow(interpreter, args)


_native_pow = _apply_native(pow)


def _math(name: str) -> Callable[[Any, Arguments], Any]:
    return _apply_native(getattr(math, name))


BUILTINS: Dict[str, Callable[[Any, Arguments], Any]] = {
    "int": _int,
    "float": _apply_native(float),
    "str": _apply_native(str),
    "bool": _apply_native(bool),
    "abs": _apply_native(abs),
    "round": _apply_native(round),
    "divmod": _apply_native(divmod),
    "pow": _pow,
    "len": _len,
    "set": _set,
    "frozenset": _set,
    "max": _minmax(max),
    "min": _minmax(min),
    "sum": _sum,
    "range": _range,
    "list": _sequence(ListValue),
    "tuple": _sequence(tuple),
    "zip": _zip,
    "enumerate": _enumerate,
    "reversed": _reversed,
    "sorted": _sorted,
    "dict": _dict,
    "isinstance": _isinstance,
    "getattr": _getattr,
    "hasattr": _hasattr,
    "print": _print,
}

#: Functions of the ``math`` module evaluated on known numbers.
MATH_FUNCTIONS: Dict[str, Callable[[Any, Arguments], Any]] = {
    f"math.{name}": _math(name)
    for name in ("ceil", "floor", "sqrt", "log", "log2", "exp", "gcd", "prod", "isqrt", "pow", "trunc")
}

#: Names that exist as builtins but that the interpreter does not model: unknown, never missing.
KNOWN_BUILTIN_NAMES = frozenset(dir(builtins))
