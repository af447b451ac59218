"""CL301: a convolution's bias that the BatchNorm right after it cancels."""

from __future__ import annotations

from typing import Iterable

from convlint.analysis.facts import FileFacts
from convlint.analysis.values import describe
from convlint.diagnostics import WARNING
from convlint.frameworks.catalog import CONV
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import layer_call, provenance
from convlint.rules.repairs import bias_off


class ConvBiasBeforeNorm(Rule):
    """
    ## What it does
    Reports a convolution with a bias (`bias=True`, the default) whose output goes straight into
    a `BatchNorm`, with no activation or other operation in between.

    ## Why is this bad?
    BatchNorm subtracts each channel's mean, and a per-channel bias is part of that mean: it is
    cancelled exactly. The bias adds `out_channels` parameters that never change the output,
    and an optimizer state for each. This is why ResNet, VGG-BN and most model zoos build their
    convolutions with `bias=False` before a norm.

    ## Example
    ```python
    nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.ReLU())
    ```

    ## Use instead
    ```python
    nn.Sequential(nn.Conv2d(3, 64, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU())
    ```

    ## Fix safety
    `--fix --unsafe-fixes` adds `bias=False` (or turns `bias=True` into it) when every use of the
    convolution seen feeds such a norm. The fix is unsafe: the outputs stay the same, but the
    model's `state_dict` loses the bias, so a checkpoint saved before no longer loads strictly.
    """

    code = "CL301"
    name = "conv-bias-before-norm"
    summary = "{conv} has a bias that {norm} cancels"
    severity = WARNING
    valid = (
        "import torch.nn as nn\n"
        "stem = nn.Sequential(nn.Conv2d(3, 64, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU())\n",
        "import torch.nn as nn\n"
        "block = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU(), nn.BatchNorm2d(64))\n",
        "import torch.nn as nn\n"
        "def stem(bias):\n"
        "    return nn.Sequential(nn.Conv2d(3, 64, 3, bias=bias), nn.BatchNorm2d(64))\n",
    )
    invalid = (
        "import torch.nn as nn\n"
        "stem = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.ReLU())  # error: CL301\n",
        "import torch.nn as nn\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 32, 3, bias=True)  # error: CL301\n"
        "        self.bn = nn.BatchNorm2d(32)\n"
        "    def forward(self, x):\n"
        "        return self.bn(self.conv(x)).relu()\n",
    )
    fixed = {
        0: "import torch.nn as nn\n"
           "stem = nn.Sequential(nn.Conv2d(3, 64, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU())  # error: CL301\n",
        1: "import torch.nn as nn\n"
           "class Net(nn.Module):\n"
           "    def __init__(self):\n"
           "        super().__init__()\n"
           "        self.conv = nn.Conv2d(3, 32, 3, bias=False)  # error: CL301\n"
           "        self.bn = nn.BatchNorm2d(32)\n"
           "    def forward(self, x):\n"
           "        return self.bn(self.conv(x)).relu()\n",
    }

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for fact in facts.adjacencies:
            conv, norm = fact.producer, fact.consumer
            if conv.spec.kind != CONV or not norm.spec.cancels_bias or conv.argument("bias") is not True:
                continue
            channels = describe(conv.argument("out_channels"))
            message = (
                f"{layer_call(conv)} has a bias of {channels} parameters that {norm.spec.name} on "
                f"{facts.where(norm)} cancels (it subtracts each channel's mean): pass bias=False"
            )
            yield Finding(fact.anchor, message + provenance(facts, conv, fact.anchor, fact.context), bias_off(facts, conv))
