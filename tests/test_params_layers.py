"""Each parameter formula against PyTorch itself, over a grid of constructor arguments."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from convlint.analysis.imports import Project
from convlint.summary import summarize

LAYERS = [
    "nn.Conv2d(6, 12, (3, 5), groups=3)", "nn.Conv1d(4, 8, 3, bias=False)", "nn.Conv3d(2, 4, 3)",
    "nn.ConvTranspose2d(8, 12, 4, groups=4)", "nn.ConvTranspose1d(3, 5, 2, bias=False)",
    "nn.Linear(10, 7)", "nn.Linear(10, 7, bias=False)", "nn.Bilinear(3, 4, 5)",
    "nn.BatchNorm2d(16)", "nn.BatchNorm1d(16, affine=False)", "nn.InstanceNorm2d(8, affine=True)",
    "nn.GroupNorm(4, 16)", "nn.LayerNorm([4, 5])", "nn.LayerNorm(6, bias=False)",
    "nn.LayerNorm(6, elementwise_affine=False)", "nn.PReLU()", "nn.PReLU(12)",
    "nn.MultiheadAttention(32, 4)", "nn.MultiheadAttention(32, 4, kdim=8, vdim=16, add_bias_kv=True)",
    "nn.Embedding(100, 16)", "nn.EmbeddingBag(50, 8, mode='sum')",
    "nn.RNN(10, 20)", "nn.RNN(10, 20, 2, 'relu', False)", "nn.GRU(10, 20, num_layers=3, bidirectional=True)",
    "nn.LSTM(10, 20, num_layers=2, bidirectional=True, proj_size=5)", "nn.LSTM(10, 20, bias=False)",
    "nn.RNNCell(6, 9)", "nn.GRUCell(6, 9, bias=False)", "nn.LSTMCell(6, 9)",
    "nn.TransformerEncoderLayer(32, 4, dim_feedforward=64)",
    "nn.TransformerDecoderLayer(32, 4, dim_feedforward=64, bias=False)",
    "nn.MultiheadAttention(32, 4, bias=False)", "nn.MultiheadAttention(32, 4, kdim=32, vdim=32)",
    "nn.MultiheadAttention(24, 3, bias=False, add_bias_kv=True, add_zero_attn=True, kdim=5)",
    "nn.MultiheadAttention(16, 2, vdim=7, batch_first=True, add_zero_attn=True)",
    "nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, dim_feedforward=24), 3)",
    "nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 24, bias=False), 2, norm=nn.LayerNorm(16))",
    "nn.TransformerDecoder(nn.TransformerDecoderLayer(16, 4, 40), num_layers=2, norm=nn.LayerNorm(16, bias=False))",
    "nn.Transformer(16, 2, 2, 3, 24)", "nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, "
    "num_decoder_layers=1, dim_feedforward=12, bias=False)",
]


@pytest.mark.parametrize("expression", LAYERS)
def test_layer_count_equals_pytorch(expression: str, tmp_path: Path) -> None:
    path = tmp_path / "layer.py"
    path.write_text(f"import torch.nn as nn\nlayer = {expression}\n")
    [summary] = summarize(Project([tmp_path]), path)
    expected = sum(p.numel() for p in eval(expression, {"nn": torch.nn}).parameters())
    assert summary.count.total == expected, summary.count.rows
