"""Matrix products, einsum and attention layers: shapes against PyTorch, and what the rules read."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from convlint.analysis import flow
from convlint.analysis.objects import Layer, Tensor
from convlint.frameworks.torch import LAYERS
from test_constructs import check_bad, check_good, lint

_SHAPES = [(5,), (3, 5), (5, 4), (2, 3, 5), (2, 5, 4), (1, 5, 4), (7, 1, 3, 5), (2, 1, 5, 4)]


def _tensor(shape) -> Tensor:
    return Tensor(len(shape), tuple(shape), rank_certain=True)


def _torch_shape(function, *operands):
    try:
        return tuple(function(*operands).shape)
    except RuntimeError:
        return None


@pytest.mark.parametrize("left, right", list(itertools.product(_SHAPES, repeat=2)))
def test_matmul_shape_and_inner_sizes_are_pytorchs(left, right) -> None:
    expected = _torch_shape(torch.matmul, torch.randn(*left), torch.randn(*right))
    output, [contraction] = flow.matmul(_tensor(left), _tensor(right))
    if expected is None:
        # PyTorch refuses: either the inner sizes differ, or the batch axes do not broadcast.
        try:
            torch.broadcast_shapes(left[:-2], right[:-2])
        except RuntimeError:
            return
        assert contraction.sizes[0] != contraction.sizes[1]
    else:
        assert contraction.sizes[0] == contraction.sizes[1]
        assert output.rank == len(expected) and output.dims == expected


@pytest.mark.parametrize("rank, function", [(3, torch.bmm), (2, torch.mm)])
def test_bmm_and_mm_take_only_their_rank(rank, function) -> None:
    good = flow.matmul(_tensor((2, 3, 5)[-rank:]), _tensor((2, 5, 4)[-rank:]), rank)[0]
    assert good.dims == _torch_shape(function, torch.randn(*(2, 3, 5)[-rank:]), torch.randn(*(2, 5, 4)[-rank:]))
    assert flow.matmul(_tensor((2, 2, 3, 5)), _tensor((2, 2, 5, 4)), rank)[0].rank is None


def test_matmul_of_unknown_ranks_keeps_what_is_sure() -> None:
    """Without ranks, the right operand's inner axis is known only if it has two axes."""
    output, contractions = flow.matmul(Tensor(None, (64,)), Tensor(None, (32, 10)))
    assert [c.sizes for c in contractions] == [(64, 32)]
    assert output.rank is None and output.dims == (10,)
    assert flow.matmul(Tensor(None, (64,)), Tensor(None, (32,))) == (Tensor(None, ()), [])
    assert flow.matmul(Tensor(None, (6, 64)), Tensor(1, (64,)))[0] == Tensor(None, (6,))


_EQUATIONS = [
    ("bhqd,bhkd->bhqk", [(2, 4, 3, 8), (2, 4, 5, 8)]),
    ("bqd,bkd", [(2, 4, 5), (2, 3, 5)]),
    ("...qd,...kd->...qk", [(7, 2, 4, 5), (2, 3, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("...le,...se,...sv->...lv", [(2, 3, 6, 8), (2, 1, 5, 8), (3, 5, 4)]),
    ("bn d, bm d -> bnm", [(2, 3, 1), (2, 4, 6)]),
    ("b...d->bd", [(2, 3, 4, 5)]),
    ("ii->i", [(3, 3)]),
]


@pytest.mark.parametrize("equation, shapes", _EQUATIONS)
def test_einsum_shape_is_pytorchs(equation, shapes) -> None:
    expected = tuple(torch.einsum(equation, *[torch.randn(*shape) for shape in shapes]).shape)
    output, contractions = flow.einsum(equation, [_tensor(shape) for shape in shapes])
    assert output.dims == expected and output.rank == len(expected)
    assert all(1 in c.sizes or c.sizes[0] == c.sizes[1] for c in contractions)


def test_einsum_records_a_letter_bound_to_two_sizes() -> None:
    _, contractions = flow.einsum("bqd,bkd->bqk", [_tensor((2, 4, 16)), _tensor((2, 3, 12))])
    assert [(c.subscript, c.sizes, c.axes) for c in contractions if c.sizes[0] != c.sizes[1]] == [
        ("d", (16, 12), (-1, -1))]
    with pytest.raises(RuntimeError):
        torch.einsum("bqd,bkd->bqk", torch.randn(2, 4, 16), torch.randn(2, 3, 12))


@pytest.mark.parametrize("equation", ["bqd,bkd->bqz", "bqd->bq,", "bq d ,bkd->bqk->", "bq1,bkd->bqk"])
def test_einsum_equation_pytorch_refuses_is_unknown(equation) -> None:
    assert flow.einsum(equation, [_tensor((2, 4, 5)), _tensor((2, 3, 5))])[0].rank is None


@pytest.mark.parametrize("batch_first, average, query, key, extra", [
    (True, True, (2, 5, 16), (2, 7, 16), (False, False)), (True, False, (2, 5, 16), (2, 7, 16), (True, False)),
    (False, True, (5, 2, 16), (7, 2, 16), (False, True)), (False, False, (5, 2, 16), (7, 2, 16), (True, True)),
    (False, True, (5, 16), (7, 16), (True, False)), (True, False, (5, 16), (7, 16), (False, False)),
])
def test_multihead_attention_output_and_weights_are_pytorchs(batch_first, average, query, key, extra) -> None:
    bias_kv, zero_attn = extra
    module = torch.nn.MultiheadAttention(16, 2, batch_first=batch_first, add_bias_kv=bias_kv, add_zero_attn=zero_attn)
    out, weights = module(torch.randn(*query), torch.randn(*key), torch.randn(*key), average_attn_weights=average)
    arguments = {"embed_dim": 16, "num_heads": 2, "batch_first": batch_first, "kdim": None, "vdim": None,
                 "add_bias_kv": bias_kv, "add_zero_attn": zero_attn}
    layer = Layer(LAYERS["MultiheadAttention"], arguments, None, None, ())
    inputs = {"query": _tensor(query), "key": _tensor(key), "value": _tensor(key), "need_weights": True,
              "average_attn_weights": average}
    (output, shape), checks = flow.layer_call(layer, inputs)
    assert output.dims == tuple(out.shape) and shape.dims == tuple(weights.shape)
    assert [(name, check.expected, check.received) for name, check in checks] == [
        ("query", 16, 16), ("key", 16, 16), ("value", 16, 16)]


# ============================================================================ in model code


def test_bmm_of_projections_with_different_widths(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch
        import torch.nn as nn
        class Scores(nn.Module):  # convlint: input=(2, 5, 8)
            def __init__(self):
                super().__init__()
                self.q = nn.Linear(8, 16)
                self.k = nn.Linear(8, 12)
            def forward(self, x):
                return torch.bmm(self.q(x), self.k(x).transpose(1, 2))  # error: CL109
    """)


def test_matmul_with_a_parameter_of_known_shape(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch
        import torch.nn as nn
        class Project(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Linear(8, 32)
                self.weight = nn.Parameter(torch.randn(16, 4))
            def forward(self, x):
                return self.embed(x).matmul(self.weight)  # error: CL109
    """)


def test_matmul_output_feeds_the_next_layer(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch
        import torch.nn as nn
        class Project(nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = nn.Parameter(torch.randn(32, 16))
                self.head = nn.Linear(32, 2)  # error: CL101
            def forward(self, x):
                return self.head(x @ self.weight)
    """)


def test_scaled_dot_product_attention_with_keys_of_another_width(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        import torch.nn.functional as F
        class Attention(nn.Module):
            def __init__(self):
                super().__init__()
                self.q = nn.Linear(8, 16)
                self.k = nn.Linear(8, 12)
                self.v = nn.Linear(8, 16)
            def forward(self, x):
                return F.scaled_dot_product_attention(self.q(x), self.k(x), self.v(x))  # error: CL109
    """)


def test_decoder_memory_of_another_width(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        class Decoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.memory = nn.Linear(8, 48)
                layer = nn.TransformerDecoderLayer(32, 4)
                self.decoder = nn.TransformerDecoder(layer, 2)  # error: CL101
            def forward(self, tgt, x):
                return self.decoder(tgt, self.memory(x))
    """)


def test_transformer_gives_the_shape_of_tgt(tmp_path: Path) -> None:
    check_bad(tmp_path, """
        import torch.nn as nn
        class Seq2Seq(nn.Module):
            def __init__(self):
                super().__init__()
                self.transformer = nn.Transformer(32, 4, 1, 1, 64)
                self.out = nn.Linear(16, 10)  # error: CL101
            def forward(self, src, tgt):
                return self.out(self.transformer(src, tgt))
    """)


def test_what_cannot_be_seen_is_silent(tmp_path: Path) -> None:
    """A non-literal equation, a size of 1 that broadcasts in an einsum, operands of unknown
    rank, an encoder layer that is not seen, weights without ``need_weights``."""
    check_good(tmp_path, """
        import torch
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, equation, layer):
                super().__init__()
                self.equation = equation
                self.q = nn.Linear(8, 16)
                self.k = nn.Linear(8, 12)
                self.gate = nn.Linear(8, 1)
                self.encoder = nn.TransformerEncoder(layer, 2)
                self.attn = nn.MultiheadAttention(16, 2)
            def forward(self, x, y):
                a = torch.einsum(self.equation, self.q(x), self.k(x))
                b = torch.einsum("bqd,bkd->bqk", self.gate(x), self.k(x))
                c = x @ y
                d = self.encoder(self.k(x))
                out, weights = self.attn(self.q(x), self.q(x), self.q(x), need_weights=False)
                return a, b, c, d, weights
    """)


def test_attention_mismatch_is_not_fixed(tmp_path: Path) -> None:
    """Changing embed_dim would change what attention gives: no --fix is offered."""
    from convlint.config import load_settings
    from convlint.runner import Linter

    path = tmp_path / "model.py"
    path.write_text(
        "import torch.nn as nn\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.embed = nn.Linear(8, 32)\n"
        "        self.attn = nn.MultiheadAttention(64, 4)\n"
        "    def forward(self, x):\n"
        "        h = self.embed(x)\n"
        "        return self.attn(h, h, h)[0]\n"
    )
    [diagnostic] = Linter(load_settings(tmp_path, isolated=True), tmp_path).lint_paths([path])
    assert diagnostic.code == "CL101" and diagnostic.fix is None
    assert lint(tmp_path, path.read_text()) == [(6, "CL101")]
