"""Parameter counts against real PyTorch: for every fixture model that builds, convlint's total
and each layer's count equal ``numel`` of PyTorch's own parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from convlint.analysis.imports import Project
from convlint.summary import summarize
from fixture_oracles import REPO_ROOT, TORCH_FIXTURES, all_oracles
from test_oracle import imported

BUILDABLE = [oracle for oracle in all_oracles(TORCH_FIXTURES) if oracle.expect == "runs"]


def torch_model(oracle):
    with imported(oracle.path) as module:
        return eval(compile(oracle.build, oracle.id, "eval"), dict(vars(module)))


@pytest.mark.parametrize("oracle", BUILDABLE, ids=lambda o: o.id)
def test_total_and_every_layer_match_pytorch(oracle) -> None:
    model = torch_model(oracle)
    [summary] = summarize(Project([REPO_ROOT]), oracle.path, expression=oracle.build)
    assert summary.count.total == sum(p.numel() for p in model.parameters()), summary.count.unresolved
    modules = dict(model.named_modules())
    parameters = dict(model.named_parameters())
    for row in summary.count.rows:
        if row.layer is not None:
            # A catalog layer is one row however PyTorch builds it (MultiheadAttention's out_proj,
            # a TransformerEncoder's copies of its layer): its row counts the whole module.
            whole = row.type_name == row.layer.spec.name
            expected = sum(p.numel() for p in modules[row.path].parameters(recurse=whole))
        else:
            expected = parameters[row.path].numel()
        assert row.count.params == expected, (row.path, row.count.formula)


def test_seed_example_two_stacked_convs(tmp_path: Path) -> None:
    """100 filters of 7×7 over one channel, then 150 of 5×5: 5,000 and 375,150 parameters."""
    path = tmp_path / "seed.py"
    path.write_text(
        "import torch.nn as nn\n"
        "model = nn.Sequential(nn.Conv2d(1, 100, kernel_size=7), nn.ReLU(), nn.Conv2d(100, 150, kernel_size=5))\n"
    )
    [summary] = summarize(Project([tmp_path]), path)
    assert [(row.count.params, row.count.formula) for row in summary.count.rows if row.count.params] == [
        (5000, "7·7·1·100 + 100 = 5,000"),
        (375150, "5·5·100·150 + 150 = 375,150"),
    ]
    reference = torch.nn.Sequential(torch.nn.Conv2d(1, 100, 7), torch.nn.ReLU(), torch.nn.Conv2d(100, 150, 5))
    assert summary.count.total == sum(p.numel() for p in reference.parameters()) == 380150


def test_an_unknown_layer_makes_the_total_null_never_approximate(tmp_path: Path) -> None:
    path = tmp_path / "net.py"
    path.write_text(
        "import torch.nn as nn\n"
        "from somewhere_else import Mystery\n"
        "model = nn.Sequential(nn.Conv2d(3, 8, 3), Mystery())\n"
    )
    [summary] = summarize(Project([tmp_path]), path)
    assert summary.count.total is None
    assert summary.count.known == 3 * 3 * 3 * 8 + 8
    assert summary.count.unresolved
