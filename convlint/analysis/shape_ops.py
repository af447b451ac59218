"""Tensor operations that move, split and regroup axes: ``movedim``, ``squeeze``, ``unflatten``,
``expand``, ``repeat``, ``chunk``, ``split``, ``unbind`` and ``einops.rearrange``, by the kinds
the torch table gives them.

Each operation takes the tensor and its other arguments bound by name (``operate``) and returns
its result (a tensor, or a tuple of tensors for ``chunk``/``split``) and the ``Unfit`` sizes it
provably cannot take (PyTorch or einops raises). What cannot be followed is an unknown tensor.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Optional, Tuple

from convlint.analysis.flow import DIVISIBLE, Unfit, arithmetic, not_a_multiple, product, sizes_of
from convlint.analysis.objects import Tensor, UNKNOWN_TENSOR
from convlint.analysis.values import (
    UNKNOWN,
    add,
    as_dim,
    describe,
    floor_divide,
    multiply,
    provably_different,
    provably_equal,
    sign_of,
)
from convlint.frameworks import torch as torch_catalog
from convlint.frameworks.catalog import REQUIRED

Result = Tuple[Any, List[Unfit]]


def _axis(tensor: Tensor, dim: Any) -> Optional[int]:
    """``dim`` as an index from the start, when the rank is known and ``dim`` is in range."""
    rank = tensor.rank
    if rank is None or type(dim) is not int or not -rank <= dim < rank:
        return None
    return dim % rank


def _like(tensor: Tensor, dims: Tuple[Any, ...]) -> Tensor:
    return Tensor(len(dims), tuple(dims), tensor.origin, rank_certain=tensor.rank_certain)


def _axes(value: Any) -> Optional[Tuple[Any, ...]]:
    """An axis or a tuple/list of axes, as a tuple."""
    if type(value) is int:
        return (value,)
    return sizes_of(value, lambda item: type(item) is int)


def movedim(tensor: Tensor, source: Any, destination: Any) -> Result:
    """``x.movedim(1, -1)``: the ``source`` axes go to the ``destination`` places, the others
    keep their order."""
    sources, destinations = _axes(source), _axes(destination)
    if sources is None or destinations is None or len(sources) != len(destinations):
        return UNKNOWN_TENSOR, []
    moved = [_axis(tensor, axis) for axis in sources]
    places = [_axis(tensor, axis) for axis in destinations]
    if None in moved or None in places or len(set(moved)) != len(moved) or len(set(places)) != len(places):
        return UNKNOWN_TENSOR, []
    rest = iter(axis for axis in range(tensor.rank or 0) if axis not in moved)
    chosen = dict(zip(places, moved))
    order = [chosen[place] if place in chosen else next(rest) for place in range(tensor.rank or 0)]
    return _like(tensor, tuple(tensor.dims[axis] for axis in order)), []


def _is_one(size: Any) -> Optional[bool]:
    """Whether a size is 1: None when the source does not tell (a symbol may be 1)."""
    if size == 1:
        return True
    if type(size) is int or sign_of(add(size, 1, sign=-1)) == 1:
        return False
    return None


def squeeze(tensor: Tensor, dim: Any) -> Result:
    """``x.squeeze(dim)`` drops the axes of size 1 among ``dim`` (all of them without one); a size
    that may or may not be 1 makes the result unknown, as PyTorch decides at run time."""
    if tensor.rank is None:
        return UNKNOWN_TENSOR, []
    if dim is None:
        chosen = list(range(tensor.rank))
    else:
        axes = _axes(dim)
        chosen = [_axis(tensor, axis) for axis in axes] if axes is not None else [None]
        if None in chosen:
            return UNKNOWN_TENSOR, []
    ones = {axis: _is_one(tensor.dims[axis]) for axis in chosen}
    if None in ones.values():
        return UNKNOWN_TENSOR, []
    return _like(tensor, tuple(size for axis, size in enumerate(tensor.dims) if not ones.get(axis))), []


def _fill(size: Any, parts: Tuple[Any, ...], what: str) -> Tuple[Optional[Tuple[Any, ...]], List[Unfit]]:
    """``parts`` (one may be -1) that must multiply to ``size``: with the -1 inferred, or None and
    the ``Unfit`` when they provably cannot."""
    if parts.count(-1) > 1 or any(as_dim(part) is None or part == 0 or (type(part) is int and part < -1)
                                  for part in parts):
        return None, []
    given = tuple(part for part in parts if part != -1)
    known = product(given)
    if -1 in parts:
        if type(known) is int and not_a_multiple(size, known):
            return None, [Unfit(DIVISIBLE, 0, f"{what} of {size} is not a multiple of {arithmetic(given)}")]
        inferred = floor_divide(size, known) if type(known) is int else UNKNOWN
        return tuple(inferred if part == -1 else part for part in parts), []
    if provably_different(size, known):
        return None, [Unfit(DIVISIBLE, 0, f"{what} of {size} cannot be split into {arithmetic(given)}")]
    return parts, []


def unflatten(tensor: Tensor, dim: Any, sizes: Any) -> Result:
    """``x.unflatten(1, (heads, -1))``: one axis split into ``sizes`` (one -1 inferred)."""
    axis, parts = _axis(tensor, dim), sizes_of(sizes)
    if axis is None or parts is None or not parts:
        return UNKNOWN_TENSOR, []
    filled, unfits = _fill(tensor.dims[axis], parts, "an axis")
    if filled is None:
        return UNKNOWN_TENSOR, unfits
    return _like(tensor, tensor.dims[:axis] + filled + tensor.dims[axis + 1:]), []


def _varargs(sizes: Tuple[Any, ...]) -> Optional[Tuple[Any, ...]]:
    """``x.expand(2, 3)`` or ``x.expand((2, 3))``."""
    if len(sizes) == 1 and as_dim(sizes[0]) is None:
        return sizes_of(sizes[0])
    return sizes if all(as_dim(size) is not None for size in sizes) else None


def expand(tensor: Tensor, *size: Any) -> Result:
    """``x.expand(n, -1, -1)``: each axis of size 1 takes the size given, a -1 keeps the axis, and
    new leading axes may be added."""
    sizes = _varargs(size)
    if tensor.rank is None or sizes is None or len(sizes) < tensor.rank:
        return UNKNOWN_TENSOR, []
    lead = len(sizes) - tensor.rank
    if any(size == -1 for size in sizes[:lead]):
        return UNKNOWN_TENSOR, []
    dims = sizes[:lead] + tuple(old if new == -1 else new for old, new in zip(tensor.dims, sizes[lead:]))
    return _like(tensor, dims), []


def repeat(tensor: Tensor, *repeats: Any) -> Result:
    """``x.repeat(1, 3, 1)``: each axis times its count, new leading axes of the count."""
    counts = _varargs(repeats)
    if tensor.rank is None or counts is None or len(counts) < tensor.rank:
        return UNKNOWN_TENSOR, []
    lead = len(counts) - tensor.rank
    dims = counts[:lead] + tuple(multiply(size, count) for size, count in zip(tensor.dims, counts[lead:]))
    return _like(tensor, dims), []


def _pieces(tensor: Tensor, axis: int, sizes: Tuple[Any, ...]) -> Tuple[Tensor, ...]:
    return tuple(_like(tensor, tensor.dims[:axis] + (size,) + tensor.dims[axis + 1:]) for size in sizes)


def _ratio(whole: Any, part: Any) -> Optional[int]:
    """The integer ``whole / part`` when ``whole`` is provably that multiple of ``part``."""
    whole_dim, part_dim = as_dim(whole), as_dim(part)
    if whole_dim is None or part_dim is None or sign_of(part) != 1:
        return None
    if part_dim.terms:
        name, coefficient = part_dim.terms[0]
        factor, rest = divmod(dict(whole_dim.terms).get(name, 0), coefficient)
    else:
        factor, rest = divmod(whole_dim.const, part_dim.const)
    return factor if rest == 0 and factor > 0 and provably_equal(whole, multiply(part, factor)) else None


def chunk(tensor: Tensor, chunks: Any, dim: Any = 0) -> Result:
    """``x.chunk(n, dim)``: pieces of ``ceil(size / n)``, the last one smaller, and fewer than
    ``n`` pieces when the size asks so (PyTorch's rule); a tuple of tensors."""
    axis = _axis(tensor, dim)
    if axis is None or type(chunks) is not int or chunks < 1:
        return UNKNOWN, []
    size = tensor.dims[axis]
    if type(size) is int and size > 0:
        step = -(-size // chunks)
        return _pieces(tensor, axis, tuple(min(step, size - start) for start in range(0, size, step))), []
    piece = floor_divide(size, chunks)
    return (_pieces(tensor, axis, (piece,) * chunks) if piece is not UNKNOWN else UNKNOWN), []


def split(tensor: Tensor, split_size_or_sections: Any, dim: Any = 0) -> Result:
    """``x.split(size, dim)``: pieces of ``size``, the last one smaller; ``x.split([a, b], dim)``:
    pieces of those sizes, which must add up to the axis."""
    axis = _axis(tensor, dim)
    if axis is None:
        return UNKNOWN, []
    size = tensor.dims[axis]
    sections = sizes_of(split_size_or_sections)
    if sections is not None:
        total: Any = 0
        for section in sections:
            total = add(total, section)
        if provably_different(total, size):
            written = " + ".join(describe(section) for section in sections)
            return UNKNOWN, [Unfit(DIVISIBLE, axis - (tensor.rank or 0),
                                   f"sections of {written} = {describe(total)} do not add up to its {size}")]
        return _pieces(tensor, axis, sections), []
    step = split_size_or_sections
    if type(step) is int and step > 0 and type(size) is int:
        return _pieces(tensor, axis, tuple(min(step, size - start) for start in range(0, size, step))), []
    count = _ratio(size, step)
    return (_pieces(tensor, axis, (step,) * count) if count is not None else UNKNOWN), []


def unbind(tensor: Tensor, dim: Any = 0) -> Result:
    """``q, k, v = qkv.unbind(0)``: one tensor per index along ``dim``, without that axis (a
    tuple only when the size is known)."""
    axis = _axis(tensor, dim)
    if axis is None or type(tensor.dims[axis]) is not int:
        return UNKNOWN, []
    piece = _like(tensor, tensor.dims[:axis] + tensor.dims[axis + 1:])
    return (piece,) * tensor.dims[axis], []


# ---------------------------------------------------------------- einops

_TOKEN = re.compile(r"\(|\)|\.\.\.|[A-Za-z_][A-Za-z0-9_]*|\S")
_ELLIPSIS = "..."
#: ``...`` inside parentheses: the axes it covers, merged into one.
_GROUPED = "(...)"


def _groups(side: str) -> Optional[List[Tuple[str, ...]]]:
    """One side of an einops pattern: its axes, each a tuple of names (a group in parentheses
    has several, a bare ``...`` is a group of its own); None for what this reading does not
    take (numbers, nested or unbalanced parentheses)."""
    groups: List[Tuple[str, ...]] = []
    current: Optional[List[str]] = None
    for token in _TOKEN.findall(side):
        if token == "(":
            if current is not None:
                return None
            current = []
        elif token == ")":
            if current is None:
                return None
            groups.append(tuple(current))
            current = None
        elif token == _ELLIPSIS and current is None:
            groups.append((_ELLIPSIS,))
        elif token == _ELLIPSIS:
            current.append(_GROUPED)
        elif token.isidentifier():
            if current is None:
                groups.append((token,))
            else:
                current.append(token)
        else:
            return None
    return groups if current is None else None


def _einops_names(groups: List[Tuple[str, ...]]) -> List[str]:
    return [_ELLIPSIS if name == _GROUPED else name for group in groups for name in group]


def rearrange(tensor: Tensor, pattern: Any, **axes_lengths: Any) -> Result:
    """``einops.rearrange(x, "b c (h w) -> b (h w) c", h=8)`` with a literal pattern: the
    named axes are read from the input (a group is split by its known sizes, at most one
    unknown), then regrouped; a group whose sizes cannot make its axis is an ``Unfit``."""
    if not isinstance(pattern, str) or pattern.count("->") != 1:
        return UNKNOWN_TENSOR, []
    left_text, right_text = pattern.split("->")
    left, right = _groups(left_text), _groups(right_text)
    if left is None or right is None:
        return UNKNOWN_TENSOR, []
    names, outputs = _einops_names(left), _einops_names(right)
    if len(set(names)) != len(names) or sorted(names) != sorted(outputs) or names.count(_ELLIPSIS) > 1 \
            or not all(as_dim(size) is not None for size in axes_lengths.values()):
        return UNKNOWN_TENSOR, []
    dims = _einops_input(tensor, left)
    if dims is None or any(_GROUPED in group for group in left):
        return UNKNOWN_TENSOR, []
    sizes: Dict[str, Any] = dict(axes_lengths)
    unfits: List[Unfit] = []
    for group, size in zip(left, dims):
        if group == (_ELLIPSIS,):
            sizes[_ELLIPSIS] = size
            continue
        unfit = _decompose(group, size, sizes, pattern)
        if unfit is not None:
            unfits.append(unfit)
    if unfits:
        return UNKNOWN_TENSOR, unfits
    out: List[Any] = []
    for group in right:
        factors = [size for name in group
                   for size in (sizes[_ELLIPSIS] if name in (_ELLIPSIS, _GROUPED) else (sizes.get(name, UNKNOWN),))]
        if group == (_ELLIPSIS,):
            out.extend(factors)
        else:
            out.append(product(tuple(factors)))
    return Tensor(len(out), tuple(out), tensor.origin, rank_certain=tensor.rank_certain), []


def _einops_input(tensor: Tensor, left: List[Tuple[str, ...]]) -> Optional[List[Any]]:
    """The input's size for each group of the left side (the ``...`` group gets the sizes it
    covers); with an unknown rank and no ``...``, the pattern fixes the rank."""
    if (_ELLIPSIS,) not in left:
        if tensor.rank is not None and tensor.rank != len(left):
            return None
        return [tensor.axis(index - len(left)) for index in range(len(left))]
    if tensor.rank is None or tensor.rank < len(left) - 1:
        return None
    at = left.index((_ELLIPSIS,))
    covered = tensor.rank - (len(left) - 1)
    dims = list(tensor.dims)
    return dims[:at] + [tuple(dims[at: at + covered])] + dims[at + covered:]


def _decompose(group: Tuple[str, ...], size: Any, sizes: Dict[str, Any], pattern: str) -> Optional[Unfit]:
    """Give each name of a left-side group its size; at most one unknown is inferred."""
    unknown = [name for name in group if name not in sizes]
    known = product(tuple(sizes[name] for name in group if name in sizes))
    written = " × ".join(f"{name}={describe(sizes[name])}" for name in group if name in sizes)
    if not unknown:
        if provably_different(known, size):
            total = f" = {known}" if len(group) > 1 else ""
            return Unfit(DIVISIBLE, 0, f"'{pattern}' makes an axis of {size} from {written}{total}")
        return None
    if len(unknown) > 1:
        for name in unknown:
            sizes[name] = UNKNOWN if len(group) > 1 else size
        return None
    if type(known) is int and not_a_multiple(size, known):
        return Unfit(DIVISIBLE, 0, f"'{pattern}' needs an axis that is a multiple of {written}, but it has {size}")
    sizes[unknown[0]] = size if len(group) == 1 else floor_divide(size, known) if type(known) is int else UNKNOWN
    return None


#: Each kind of the torch table modelled here, with its function.
OPERATIONS: Dict[str, Callable[..., Result]] = {
    torch_catalog.MOVEDIM: movedim,
    torch_catalog.SQUEEZE: squeeze,
    torch_catalog.UNFLATTEN: unflatten,
    torch_catalog.EXPAND: expand,
    torch_catalog.REPEAT: repeat,
    torch_catalog.CHUNK: chunk,
    torch_catalog.SPLIT: split,
    torch_catalog.UNBIND: unbind,
    torch_catalog.REARRANGE: rearrange,
}


def operate(kind: str, tensor: Tensor, positional: List[Any], keywords: Dict[str, Any]) -> Result:
    """The operation of ``kind`` on ``tensor``, its other arguments bound by the signature the
    torch table gives (``*name`` takes the remaining positional ones, ``**name`` the keywords)."""
    signature = torch_catalog.OPERATION_SIGNATURES[kind]
    bound: Dict[str, Any] = {}
    rest: List[Any] = []
    extra: Dict[str, Any] = {}
    remaining = list(positional)
    for name, default in signature:
        if name.startswith("**"):
            extra = {key: value for key, value in keywords.items() if key not in bound}
        elif name.startswith("*"):
            rest, remaining = remaining, []
        elif remaining and name not in keywords:
            bound[name] = remaining.pop(0)
        elif name in keywords and not remaining:
            bound[name] = keywords[name]
        elif default is not REQUIRED and not remaining:
            bound[name] = default
        else:
            return UNKNOWN_TENSOR, []
    if remaining or set(keywords) - set(bound) - set(extra):
        return UNKNOWN_TENSOR, []
    return OPERATIONS[kind](tensor, *rest, **bound, **extra)
