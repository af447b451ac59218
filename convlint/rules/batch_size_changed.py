"""CL108: a ``view(-1, …)`` whose -1 takes part of a sample, so the batch size changes."""

from __future__ import annotations

from typing import Iterable

from convlint.analysis.facts import FileFacts
from convlint.analysis.flow import BATCH
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import origin

_VAE = (
    "import torch.nn as nn\n"
    "class Decoder(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.encode = nn.Sequential(nn.Conv2d(3, 64, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())\n"
    "        self.fc = nn.Linear(64, 1024)\n"
    "        self.up = nn.ConvTranspose2d(512, 3, 4, stride=2, padding=1)\n"
    "    def forward(self, x):\n"
    "        z = self.fc(self.encode(x))\n"
)


class BatchSizeChanged(Rule):
    """
    ## What it does
    Checks that a `view` or `reshape` with `-1` in the batch position keeps each sample
    together: the sizes after the `-1` must divide what one sample holds. It reports a view
    whose rows take a number of elements that provably does not divide a sample's (after
    `Linear(128, 1024)`, `z.view(-1, 512, 2, 2)` takes 2048 elements per row), when the first
    axis is the batch of unknown size that the model runs on.

    ## Why is this bad?
    PyTorch raises only when the whole tensor does not divide: here, for an odd batch. For an
    even batch the view runs and silently pairs samples up, so the model gets half as many rows
    as there are samples and trains on mixed-up data; the loss usually fails much later with a
    batch-size mismatch against the targets, or not at all. When the batch size is given as an
    input shape, a view that does not fit is CL106 instead.

    A `-1` first whose rows divide a sample (`x.permute(0, 2, 3, 1).reshape(-1, C)`, which turns
    each position of each sample into a row) is a deliberate pattern and is not reported.

    ## Example
    ```python
    z = self.fc(z)  # Linear(128, 1024)
    z = z.view(-1, 512, 2, 2)  # 2048 elements per row
    ```

    ## Use instead
    ```python
    z = self.fc(z)  # Linear(128, 2048)
    z = z.view(z.size(0), 512, 2, 2)  # the batch size is kept, or CL106 says why not
    ```
    """

    code = "CL108"
    name = "batch-size-changed"
    summary = "{operation} changes the batch size: {sizes}"
    valid = (
        _VAE + "        return self.up(z.view(-1, 256, 2, 2))\n",
        _VAE + "        return z.view(z.size(0), 256, 2, 2)\n",
        "import torch.nn as nn\n"
        "class Head(nn.Module):\n"
        "    def __init__(self, classes=21):\n"
        "        super().__init__()\n"
        "        self.classes = classes\n"
        "        self.conv = nn.Conv2d(256, 9 * classes, 3, padding=1)\n"
        "    def forward(self, x):\n"
        "        return self.conv(x).permute(0, 2, 3, 1).reshape(-1, self.classes)\n",
    )
    invalid = (
        _VAE + "        return self.up(z.view(-1, 512, 2, 2))  # error: CL108\n",
    )

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for fact in facts.unfits:
            if fact.requirement == BATCH:
                yield Finding(fact.anchor, (
                    f"`{fact.operation}` changes the batch size: it {fact.detail}"
                    f"{origin(facts, fact.producer)}"
                ))
