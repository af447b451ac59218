"""Small tensors whose values the source fixes (RegNet's widths), against real PyTorch: whatever
convlint computes equals what PyTorch computes, and what it cannot pin down is unknown."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from convlint.analysis.facts import FileFacts
from convlint.analysis.imports import Project
from convlint.analysis.interpreter import Interpreter
from convlint.analysis.objects import ListValue, Namespace
from convlint.analysis.values import UNKNOWN

WIDTHS = """
import math
import torch

def widths(depth, w_0, w_a, w_m):
    widths_cont = torch.arange(depth) * w_a + w_0
    block_capacity = torch.round(torch.log(widths_cont / w_0) / math.log(w_m))
    return (torch.round(torch.divide(w_0 * torch.pow(w_m, block_capacity), 8)) * 8).int().tolist()

def stage_depths(flags):
    return torch.diff(torch.tensor([d for d, t in enumerate(flags) if t])).int().tolist()

result = {call}
"""


def run(tmp_path: Path, source: str, name: str = "result"):
    path = tmp_path / "values.py"
    path.write_text(source)
    project = Project([tmp_path])
    module = project.load(path)
    interpreter = Interpreter(project, module, FileFacts(module))
    namespace = Namespace({"__name__": "values"})
    interpreter.root_namespace = namespace
    interpreter.execute_module(module, namespace)
    value = namespace.values[name]
    return value.items if isinstance(value, ListValue) else value


def torch_widths(depth, w_0, w_a, w_m):
    widths_cont = torch.arange(depth) * w_a + w_0
    block_capacity = torch.round(torch.log(widths_cont / w_0) / math.log(w_m))
    return (torch.round(torch.divide(w_0 * torch.pow(w_m, block_capacity), 8)) * 8).int().tolist()


#: torchvision's RegNet settings (depth, w_0, w_a, w_m): each must be computed, not unknown.
TORCHVISION = [(22, 24, 24.48, 2.54), (16, 56, 35.73, 2.28), (18, 80, 34.01, 2.25), (25, 88, 26.31, 2.25),
               (23, 80, 49.56, 2.88), (22, 216, 55.59, 2.1), (23, 320, 69.86, 2.0), (16, 48, 27.89, 2.09),
               (14, 56, 38.84, 2.4), (27, 48, 20.71, 2.65), (21, 80, 42.63, 2.66), (17, 192, 76.82, 2.19),
               (18, 200, 106.23, 2.48), (20, 232, 115.89, 2.53), (27, 456, 160.83, 2.52)]


def test_torchvision_regnet_widths_are_pytorch_own(tmp_path: Path) -> None:
    for settings_ in TORCHVISION:
        assert run(tmp_path, WIDTHS.format(call=f"widths{settings_}")) == torch_widths(*settings_), settings_


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(1, 40), w_0=st.integers(1, 64).map(lambda k: 8 * k),
       w_a=st.integers(0, 20000).map(lambda k: k / 100), w_m=st.integers(101, 400).map(lambda k: k / 100))
def test_computed_widths_are_exact_or_unknown(tmp_path: Path, depth: int, w_0: int, w_a: float, w_m: float) -> None:
    ours = run(tmp_path, WIDTHS.format(call=f"widths({depth}, {w_0}, {w_a!r}, {w_m!r})"))
    assert ours is UNKNOWN or ours == torch_widths(depth, w_0, w_a, w_m)


def test_integer_tensors_and_their_differences(tmp_path: Path) -> None:
    flags = [True, False, True, True, False, True]
    expected = torch.diff(torch.tensor([d for d, t in enumerate(flags) if t])).int().tolist()
    assert run(tmp_path, WIDTHS.format(call=f"stage_depths({flags})")) == expected


def test_a_set_is_counted_but_forgotten_once_changed(tmp_path: Path) -> None:
    source = ("widths = [24, 64, 64, 152]\n"
              "stages = len(set(widths))\n"
              "grown = set(widths)\n"
              "grown.add(7)\n"
              "after = len(grown)\n"
              "ordered = sorted(set(widths))\n")
    assert run(tmp_path, source, "stages") == 3
    assert run(tmp_path, source, "after") is UNKNOWN
    assert run(tmp_path, source, "ordered") == [24, 64, 152]
