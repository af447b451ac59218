"""Spatial sizes after convolutions and pooling, against PyTorch, as ``convlint summary
--input-shape`` reports them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from convlint.analysis.imports import Project
from convlint.summary import summarize

CASES = [
    ("nn.Conv2d(3, 8, 3)", (1, 3, 32, 32)),
    ("nn.Conv2d(3, 8, 7, stride=2, padding=3)", (2, 3, 224, 224)),
    ("nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(2, 1))", (1, 3, 31, 17)),
    ("nn.Conv2d(3, 8, 3, padding='same')", (1, 3, 15, 15)),
    ("nn.Conv1d(4, 4, 5, stride=3)", (1, 4, 100)),
    ("nn.Conv3d(2, 2, 3, padding=1)", (1, 2, 8, 9, 10)),
    ("nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)", (1, 8, 16, 16)),
    ("nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)", (1, 8, 7, 7)),
    ("nn.MaxPool2d(2)", (1, 3, 33, 33)),
    ("nn.MaxPool2d(3, stride=2, padding=1)", (1, 3, 112, 112)),
    ("nn.MaxPool2d(3, stride=2, ceil_mode=True)", (1, 3, 55, 55)),
    ("nn.MaxPool2d(2, stride=2, ceil_mode=True)", (1, 3, 5, 5)),
    ("nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True)", (1, 3, 14, 14)),
    ("nn.AvgPool1d(4)", (1, 3, 17)),
    ("nn.AdaptiveAvgPool2d((5, 7))", (1, 3, 20, 20)),
]


@pytest.mark.parametrize("expression, shape", CASES)
def test_output_shape_equals_pytorch(expression: str, shape, tmp_path: Path) -> None:
    path = tmp_path / "layer.py"
    path.write_text(f"import torch.nn as nn\nlayer = {expression}\n")
    [summary] = summarize(Project([tmp_path]), path, input_shape=shape)
    [row] = summary.count.rows
    expected = tuple(eval(expression, {"nn": torch.nn})(torch.zeros(shape)).shape)
    assert summary.output_shapes[id(row.layer)] == expected


def test_a_whole_model_flattens_into_its_head(tmp_path: Path) -> None:
    path = tmp_path / "net.py"
    path.write_text(
        "import torch.nn as nn\n"
        "model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),\n"
        "                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 5 * 5, 10))\n"
    )
    [summary] = summarize(Project([tmp_path]), path, input_shape=(1, 1, 28, 28))
    shapes = [summary.output_shapes.get(id(row.layer)) for row in summary.count.rows]
    assert shapes == [(1, 32, 26, 26), (1, 32, 26, 26), (1, 32, 13, 13), (1, 64, 11, 11), (1, 64, 5, 5),
                      (1, 1600), (1, 10)]


@pytest.mark.parametrize("call, shape", [
    ("F.max_pool2d(x, 2)", (1, 3, 33, 33)),
    ("F.max_pool2d(x, 3, 2, 1)", (1, 3, 56, 56)),
    ("F.max_pool2d(x, kernel_size=3, stride=2, ceil_mode=True)", (1, 3, 55, 55)),
    ("F.avg_pool2d(x, 2)", (1, 3, 17, 17)),
    ("F.adaptive_avg_pool2d(x, (2, 3))", (1, 3, 9, 9)),
])
def test_functional_pooling_equals_pytorch(call: str, shape, tmp_path: Path) -> None:
    path = tmp_path / "net.py"
    path.write_text(
        "import torch.nn as nn\n"
        "import torch.nn.functional as F\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 4, 1)\n"
        "        self.head = nn.Flatten()\n"
        "    def forward(self, x):\n"
        f"        return self.head({call.replace('(x', '(self.conv(x)')})\n"
        "model = Net()\n"
    )
    [summary] = summarize(Project([tmp_path]), path, expression="Net()", input_shape=shape)
    flatten = next(row for row in summary.count.rows if row.type_name == "Flatten")
    functional = torch.nn.functional
    pooled = eval(call, {"F": functional, "x": torch.zeros(shape[0], 4, *shape[2:])})
    assert summary.output_shapes[id(flatten.layer)] == (shape[0], pooled[0].numel())


def _codes_on_input(tmp_path: Path, body: str, shape) -> set:
    """The codes convlint reports for ``Net`` (whose forward returns ``body``) run on ``shape``."""
    from convlint.config import load_settings
    from convlint.runner import Linter

    path = tmp_path / "net.py"
    path.write_text(
        "import torch\n"
        "import torch.nn as nn\n"
        "import torch.nn.functional as F\n"
        f"class Net(nn.Module):  # convlint: input={tuple(shape)}\n"
        "    def forward(self, x):\n"
        f"        return {body}\n"
    )
    settings = load_settings(tmp_path, isolated=True, overrides={"select": ["CL1", "CL2"]})
    return {d.code for d in Linter(settings, tmp_path).lint_paths([path])}


def _torch_raises(body: str, shape) -> bool:
    try:
        eval(body, {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "x": torch.zeros(shape)})
    except (RuntimeError, ValueError):
        return True
    return False


@pytest.mark.parametrize("body, shape", [
    ("nn.Conv2d(3, 8, 5)(x)", (1, 3, 5, 5)),
    ("nn.Conv2d(3, 8, 5)(x)", (1, 3, 4, 9)),
    ("nn.Conv2d(3, 8, 5, padding=1)(x)", (1, 3, 3, 3)),
    ("nn.Conv2d(3, 8, 5, padding=1)(x)", (1, 3, 2, 3)),
    ("nn.Conv2d(3, 8, 3, dilation=2)(x)", (1, 3, 4, 8)),
    ("nn.Conv2d(3, 8, 3, padding='same')(x)", (1, 3, 1, 1)),
    ("nn.Conv1d(3, 8, 7, stride=3)(x)", (1, 3, 6)),
    ("nn.ConvTranspose2d(3, 8, 1, padding=1)(x)", (1, 3, 1, 1)),
    ("nn.ConvTranspose2d(3, 8, 3, padding=1)(x)", (1, 3, 1, 1)),
    ("nn.MaxPool2d(3)(x)", (1, 3, 2, 2)),
    ("nn.MaxPool2d(2, stride=1)(x)", (1, 3, 1, 1)),
    ("nn.MaxPool2d(2, ceil_mode=True)(x)", (1, 3, 1, 1)),
    ("nn.AvgPool2d(2, padding=1, ceil_mode=True)(x)", (1, 3, 1, 1)),
    ("F.max_pool2d(x, 4)", (1, 3, 3, 9)),
    ("F.avg_pool1d(x, 4, padding=2)", (1, 3, 1)),
    ("nn.Conv2d(3, 8, 3)(nn.AdaptiveAvgPool2d(1)(x))", (1, 3, 9, 9)),
    ("nn.Conv2d(3, 8, 3)(nn.AdaptiveAvgPool2d(3)(x))", (1, 3, 9, 9)),
])
def test_window_larger_than_input_is_reported_exactly_when_pytorch_raises(body: str, shape, tmp_path: Path) -> None:
    assert ("CL204" in _codes_on_input(tmp_path, body, shape)) == _torch_raises(body, shape)


@pytest.mark.parametrize("body, shape", [
    ("F.interpolate(x, scale_factor=2)", (1, 3, 7, 9)),
    ("F.interpolate(x, scale_factor=1.5, mode='bilinear')", (1, 3, 7, 9)),
    ("F.interpolate(x, scale_factor=(0.5, 1.7))", (2, 3, 7, 9)),
    ("F.interpolate(x, size=(5, 6))", (1, 3, 7, 9)),
    ("F.interpolate(x, size=4)", (1, 3, 8)),
    ("F.interpolate(x, scale_factor=2.0, mode='trilinear')", (1, 2, 3, 4, 5)),
    ("F.interpolate(x, size=F.max_pool2d(x, 2).shape[-2:])", (1, 3, 9, 8)),
    ("nn.Upsample(scale_factor=2, mode='nearest')(x)", (1, 3, 5, 6)),
    ("nn.Upsample(size=(3, 4))(x)", (1, 3, 5, 6)),
    ("nn.UpsamplingNearest2d(size=(3, 4))(x)", (1, 3, 5, 6)),
    ("nn.UpsamplingBilinear2d(scale_factor=2)(x)", (1, 3, 5, 6)),
    ("nn.PixelShuffle(2)(x)", (1, 12, 5, 7)),
    ("F.pixel_shuffle(x, 3)", (2, 18, 2, 2)),
    ("nn.PixelUnshuffle(2)(x)", (1, 3, 8, 6)),
    ("torch.pixel_unshuffle(x, 3)", (1, 2, 9, 3)),
    ("x.mean((2, 3))", (2, 3, 5, 6)),
    ("x.mean(dim=(2, 3), keepdim=True)", (2, 3, 5, 6)),
    ("x.sum(1)", (2, 3, 5, 6)),
    ("x.amax(-1, True)", (2, 3, 5, 6)),
    ("torch.mean(x, [2, 3])", (2, 3, 5, 6)),
    ("x.mean(-1).sum(-1)", (2, 3, 5, 6)),
    ("torch.stack([x, x], dim=1)", (2, 3, 5, 6)),
    ("torch.stack((x, x, x))", (2, 3, 5)),
    ("torch.stack([x, x], -1)", (2, 3, 5)),
    ("x.reshape(x.shape[0], -1)", (2, 3, 5, 6)),
    ("x.view(2, -1)", (2, 3, 5, 6)),
    ("x.view(-1, 3 * 5 * 6)", (2, 3, 5, 6)),
    ("x.reshape((3, -1, 4))", (2, 3, 4, 6)),
    ("torch.reshape(x, (-1,))", (2, 3, 4)),
    ("x.view(x.size(0), 3, -1)", (2, 3, 4, 6)),
    ("x.mean((2, 3)).view(2, 3, 1, 1)", (2, 3, 4, 6)),
    ("F.conv2d(x, torch.randn(8, 3, 3, 3), stride=2, padding=1)", (2, 3, 9, 6)),
    ("F.conv1d(x, torch.randn(6, 1, 5), None, 1, 2, 1, 3)", (2, 3, 7)),
    ("F.linear(x, torch.randn(5, 7))", (2, 4, 7)),
])
def test_tensor_operation_shapes_equal_pytorch(body: str, shape, tmp_path: Path) -> None:
    path = tmp_path / "net.py"
    path.write_text(
        "import torch\n"
        "import torch.nn as nn\n"
        "import torch.nn.functional as F\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.head = nn.Identity()\n"
        "    def forward(self, x):\n"
        f"        return self.head({body})\n"
    )
    [summary] = summarize(Project([tmp_path]), path, expression="Net()", input_shape=shape)
    [row] = summary.count.rows
    expected = eval(body, {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "x": torch.zeros(shape)})
    assert summary.output_shapes.get(id(row.layer)) == tuple(expected.shape)


@pytest.mark.parametrize("body, shape", [
    ("nn.PixelShuffle(2)(x)", (1, 6, 4, 4)),
    ("nn.PixelShuffle(2)(x)", (1, 8, 4, 4)),
    ("F.pixel_shuffle(x, 3)", (1, 18, 4, 4)),
    ("nn.PixelUnshuffle(2)(x)", (1, 3, 5, 4)),
    ("nn.PixelUnshuffle(2)(x)", (1, 3, 4, 6)),
    ("x.view(-1, 400)", (1, 16, 4, 4)),
    ("x.view(-1, 400)", (2, 16, 5, 5)),
    ("x.view(1, 300)", (1, 16, 4, 4)),
    ("x.reshape(3, 4, -1)", (1, 16, 4, 4)),
    ("x.reshape(2, 4, -1)", (1, 16, 4, 4)),
    ("torch.stack([x, F.max_pool2d(x, 2)])", (1, 3, 4, 4)),
    ("torch.stack([x, F.max_pool2d(x, 1)])", (1, 3, 4, 4)),
    ("F.interpolate(x, scale_factor=0.4)", (1, 3, 2, 4)),
    ("F.conv2d(x, torch.randn(8, 3, 3, 3))", (1, 3, 8, 8)),
    ("F.conv2d(x, torch.randn(8, 3, 3, 3))", (1, 4, 8, 8)),
    ("F.conv2d(x, torch.randn(8, 2, 3, 3), groups=2)", (1, 4, 8, 8)),
    ("F.conv2d(x, torch.randn(8, 2, 3, 3), groups=2)", (1, 6, 8, 8)),
    ("F.conv1d(x, torch.randn(4, 3, 9))", (1, 3, 5)),
    ("F.linear(x, torch.randn(5, 7))", (2, 7)),
    ("F.linear(x, torch.randn(5, 7))", (2, 6)),
])
def test_regrouping_is_reported_exactly_when_pytorch_raises(body: str, shape, tmp_path: Path) -> None:
    assert bool(_codes_on_input(tmp_path, body, shape)) == _torch_raises(body, shape)
