"""CL204: a convolution or pooling whose window does not fit in its (padded) input."""

from __future__ import annotations

from typing import Iterable

from convlint.analysis.facts import FileFacts
from convlint.analysis.flow import WINDOW
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import origin, provenance, subject


class InputTooSmall(Rule):
    """
    ## What it does
    Checks that a convolution's or pooling's window fits in its padded input, where the input's
    spatial size is known (from a given input shape, or after an adaptive pooling). The input
    plus its padding on both sides must be at least the kernel's span,
    `dilation × (kernel_size - 1) + 1`, so that the output has at least one element. A
    transposed convolution whose padding, or an `F.interpolate`/`nn.Upsample` whose
    `scale_factor`, would leave an output size below 1 is reported too.

    ## Why is this bad?
    PyTorch raises on the first batch: `RuntimeError: Calculated padded input size per channel:
    (3 x 3). Kernel size: (5 x 5). Kernel size can't be greater than actual input size`, or
    `Output size is too small` for a pooling. It usually means one downsampling too many for the
    input resolution, or a kernel meant for a larger image.

    ## Example
    ```python
    # convlint: input=(1, 1, 8, 8)
    model = nn.Sequential(nn.Conv2d(1, 8, 5), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3))
    ```
    The first convolution makes 8×8 into 4×4, the pooling 2×2, and a 3×3 kernel does not fit.

    ## Use instead
    ```python
    model = nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3))
    ```
    """

    code = "CL204"
    name = "input-too-small"
    summary = "{layer} cannot slide over axis {axis}: its window of {span} is larger than the padded input's {size}"
    valid = (
        "import torch.nn as nn\n"
        "class Net(nn.Module):  # convlint: input=(1, 1, 8, 8)\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.body = nn.Sequential(nn.Conv2d(1, 8, 5, padding=2), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3))\n"
        "    def forward(self, x):\n"
        "        return self.body(x)\n",
        "import torch.nn as nn\n"
        "head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.MaxPool2d(2, ceil_mode=True))\n",
    )
    invalid = (
        "import torch.nn as nn\n"
        "class Net(nn.Module):  # convlint: input=(1, 1, 8, 8)\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.body = nn.Sequential(nn.Conv2d(1, 8, 5), nn.MaxPool2d(2), nn.Conv2d(8, 8, 3))  # error: CL204\n"
        "    def forward(self, x):\n"
        "        return self.body(x)\n",
        "import torch.nn as nn\n"
        "head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(64, 64, 3))  # error: CL204\n",
    )

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for fact in facts.unfits:
            if fact.requirement != WINDOW or fact.consumer is None:
                continue
            yield Finding(fact.anchor, (
                f"{subject(facts, fact.consumer, fact.anchor)} cannot slide over axis {fact.axis}: "
                f"{fact.detail}{origin(facts, fact.producer)}"
                f"{provenance(facts, fact.consumer, fact.anchor, fact.context)}"
            ))
