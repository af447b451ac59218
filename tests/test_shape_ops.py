"""The shapes ``analysis.shape_ops`` gives for known sizes are the shapes PyTorch and einops
give, and what they raise on is an ``Unfit`` (or an unknown result), never a wrong shape."""

from __future__ import annotations

import einops
import pytest
import torch

from convlint.analysis import flow, shape_ops
from convlint.analysis.objects import ListValue, Tensor
from convlint.analysis.values import UNKNOWN, Dim, as_dim, unknown_positive
from convlint.frameworks import torch as torch_catalog

SHAPE = (2, 6, 1, 4)

CASES = [
    (torch_catalog.MOVEDIM, "movedim", [1, -1], {}),
    (torch_catalog.MOVEDIM, "movedim", [(0, 1), (2, 0)], {}),
    (torch_catalog.SQUEEZE, "squeeze", [], {}),
    (torch_catalog.SQUEEZE, "squeeze", [2], {}),
    (torch_catalog.SQUEEZE, "squeeze", [1], {}),
    (torch_catalog.SQUEEZE, "squeeze", [(0, 2)], {}),
    (torch_catalog.UNFLATTEN, "unflatten", [1, (2, -1)], {}),
    (torch_catalog.UNFLATTEN, "unflatten", [1, (4, -1)], {}),
    (torch_catalog.UNFLATTEN, "unflatten", [-1, (2, 3)], {}),
    (torch_catalog.EXPAND, "expand", [3, -1, -1, 5, -1], {}),
    (torch_catalog.EXPAND, "expand", [(2, 6, 7, 4)], {}),
    (torch_catalog.REPEAT, "repeat", [1, 2, 3, 1], {}),
    (torch_catalog.REPEAT, "repeat", [2, 1, 1, 1, 1], {}),
    (torch_catalog.CHUNK, "chunk", [4, 1], {}),
    (torch_catalog.CHUNK, "chunk", [3], {"dim": -1}),
    (torch_catalog.SPLIT, "split", [4, 1], {}),
    (torch_catalog.SPLIT, "split", [ListValue([2, 4])], {"dim": 1}),
    (torch_catalog.SPLIT, "split", [ListValue([2, 3])], {"dim": 1}),
    (torch_catalog.UNBIND, "unbind", [], {}),
    (torch_catalog.UNBIND, "unbind", [-1], {}),
]


def _torch(value):
    return value.items if isinstance(value, ListValue) else value


def _shapes(result):
    if isinstance(result, (tuple, list)):
        return [tuple(piece.shape) for piece in result]
    return tuple(result.shape)


def _ours(result):
    if isinstance(result, tuple):
        return [piece.dims for piece in result]
    return result.dims if isinstance(result, Tensor) and result.rank is not None else None


@pytest.mark.parametrize("kind, method, positional, keywords", CASES, ids=repr)
def test_known_sizes_match_pytorch(kind, method, positional, keywords):
    try:
        expected = _shapes(getattr(torch.zeros(SHAPE), method)(*map(_torch, positional), **keywords))
    except RuntimeError:
        expected = None
    result, unfits = shape_ops.operate(kind, Tensor(len(SHAPE), SHAPE), list(positional), dict(keywords))
    if expected is None:
        assert unfits and _ours(result) is None
    else:
        assert not unfits and _ours(result) == expected


PATTERNS = [
    ("b c h w -> b (h w) c", {}),
    ("b (g c) h w -> b g c h w", {"g": 3}),
    ("b (g c) h w -> b g c h w", {"g": 4}),
    ("b (g c) h w -> (b g) c h w", {"c": 2}),
    ("b c ... -> b (...) c", {}),
    ("... w -> w ...", {}),
    ("b c h w -> (b h) (c ...) w", {}),
    ("b (c h) w -> b c h w", {}),
    ("b c h w -> b c (h w)", {"h": 2}),
    ("b c h w -> b c (h w)", {"h": 1}),
    ("b (c h) w x -> b c h w x", {"c": 3, "h": 2}),
    ("b (c h) w x -> b c h w x", {"c": 4, "h": 2}),
]


@pytest.mark.parametrize("pattern, lengths", PATTERNS, ids=lambda v: str(v))
def test_rearrange_matches_einops(pattern, lengths):
    try:
        expected = tuple(einops.rearrange(torch.zeros(SHAPE), pattern, **lengths).shape)
    except einops.EinopsError:
        expected = None
    result, unfits = shape_ops.rearrange(Tensor(len(SHAPE), SHAPE), pattern, **lengths)
    if expected is None:
        assert result.rank is None  # an Unfit where the sizes prove it, else unknown
    else:
        assert not unfits and result.dims == expected


def test_chunk_of_a_symbolic_size_only_when_it_divides():
    c = Dim.symbol("c")
    halves, _ = shape_ops.chunk(Tensor(2, (Dim.symbol("n"), Dim(0, (("c", 2),)))), 2, 1)
    assert [piece.dims[1] for piece in halves] == [c, c]
    assert shape_ops.chunk(Tensor(2, (1, c)), 2, 1)[0] is UNKNOWN


def test_squeeze_keeps_what_may_be_one_unknown():
    assert shape_ops.squeeze(Tensor(2, (Dim.symbol("n"), 3)), 0)[0].rank is None
    assert shape_ops.squeeze(Tensor(2, (Dim(1, (("n", 2),)), 3)), 0)[0].dims == (Dim(1, (("n", 2),)), 3)


def test_view_across_a_symbolic_batch():
    n = unknown_positive()
    _, unfits = flow.reshape(Tensor(2, (n, 1024)), (n, 512, 2, 2))
    assert [u.requirement for u in unfits] == [flow.DIVISIBLE]
    output, unfits = flow.reshape(Tensor(2, (n, 1024)), (-1, 512, 2, 2))
    assert [u.requirement for u in unfits] == [flow.BATCH] and output.dims[0] is UNKNOWN
    output, unfits = flow.reshape(Tensor(2, (n, 2048)), (-1, 512, 2, 2))
    assert not unfits
    output, unfits = flow.reshape(Tensor(3, (n, Dim.symbol("t"), 96)), (n, Dim.symbol("t"), 6, -1))
    assert not unfits and output.dims[-1] == 16 and as_dim(output.dims[1]) == Dim.symbol("t")


def test_a_first_axis_the_code_names_is_not_taken_for_the_batch():
    """``torch.zeros(rows, 1024).view(-1, 2048)`` with ``rows`` a parameter: not reported."""
    assert flow.reshape(Tensor(2, (Dim.symbol("rows"), 1024)), (-1, 2048))[1] == []
