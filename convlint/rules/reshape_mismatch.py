"""CL106: a tensor regrouped into sizes its elements cannot fill."""

from __future__ import annotations

from typing import Iterable

from convlint.analysis.facts import FileFacts
from convlint.analysis.flow import DIVISIBLE
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import origin, provenance, subject


class ReshapeMismatch(Rule):
    """
    ## What it does
    Checks that an operation that regroups a tensor's elements can do so with the sizes it
    receives: `PixelShuffle(r)` needs a channel count that is a multiple of `r²`,
    `PixelUnshuffle(r)` a height and width that are multiples of `r`, `view` or `reshape`
    a new shape whose element count matches (with a `-1`, divides) the tensor's, `unflatten`
    sizes whose product is the axis it splits, `split` sections that add up to the axis, and
    an `einops.rearrange` pattern whose groups multiply to the axes they decompose. Sizes come
    from the layers before and, for `view`, from a given input shape. A view that keeps the
    leading axes (`z.view(z.size(0), 512, 2, 2)`, `q.view(B, T, heads, head_dim)` after
    `B, T, C = x.shape`) is checked per sample even when the batch size is not known.

    ## Why is this bad?
    PyTorch raises on the first batch: `RuntimeError: pixel_shuffle expects its input's
    'channel' dimension to be divisible by the square of upscale_factor`, or `shape '[-1, 400]'
    is invalid for input of size 256`. In a super-resolution head the convolution before the
    shuffle must produce `channels × r²`; before a classifier, the hard-coded size of a `view` is
    usually left over from another input resolution; in attention, `heads × head_dim` must give
    back the embedding width (`96 // 5 = 19` heads of 19 hold 95 of 96 features).

    ## Example
    ```python
    up = nn.Sequential(nn.Conv2d(64, 3 * 2, 3, padding=1), nn.PixelShuffle(2))  # 6 is no multiple of 2²
    ```

    ## Use instead
    ```python
    up = nn.Sequential(nn.Conv2d(64, 3 * 2 * 2, 3, padding=1), nn.PixelShuffle(2))
    ```
    """

    code = "CL106"
    name = "reshape-mismatch"
    summary = "{operation} cannot regroup its input: {sizes}"
    valid = (
        "import torch.nn as nn\n"
        "up = nn.Sequential(nn.Conv2d(64, 3 * 2 * 2, 3, padding=1), nn.PixelShuffle(2))\n",
        "import torch.nn as nn\n"
        "down = nn.Sequential(nn.AdaptiveAvgPool2d(8), nn.PixelUnshuffle(2), nn.Conv2d(12, 16, 1))\n",
    )
    invalid = (
        "import torch.nn as nn\n"
        "up = nn.Sequential(nn.Conv2d(64, 3 * 2, 3, padding=1), nn.PixelShuffle(2))  # error: CL106\n",
        "import torch\n"
        "import torch.nn as nn\n"
        "class Net(nn.Module):  # convlint: input=(1, 3, 32, 32)\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 16, 5)\n"
        "        self.pool = nn.MaxPool2d(2)\n"
        "        self.fc = nn.Linear(16 * 5 * 5, 10)\n"
        "    def forward(self, x):\n"
        "        x = self.pool(self.conv(x))\n"
        "        return self.fc(x.view(-1, 16 * 5 * 5))  # error: CL106\n",
        "import torch.nn as nn\n"
        "class Attention(nn.Module):  # convlint: input=(2, 16, 96)\n"
        "    def __init__(self, dim=96, heads=5):\n"
        "        super().__init__()\n"
        "        self.heads = heads\n"
        "        self.qkv = nn.Linear(dim, dim * 3)\n"
        "    def forward(self, x):\n"
        "        B, N, C = x.shape\n"
        "        return self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads)  # error: CL106\n",
    )

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for fact in facts.unfits:
            if fact.requirement != DIVISIBLE:
                continue
            layer = fact.consumer
            name = subject(facts, layer, fact.anchor) if layer is not None else f"`{fact.operation}`"
            where = provenance(facts, layer, fact.anchor, fact.context) if layer is not None else ""
            yield Finding(fact.anchor, (
                f"{name} cannot regroup its input: {fact.detail}{origin(facts, fact.producer)}{where}"
            ))
