"""CL202: ``padding='same'`` on a strided convolution."""

from __future__ import annotations

from typing import Any, Iterable

from convlint.analysis.facts import FileFacts
from convlint.frameworks.catalog import CONV
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import provenance


def _strided(stride: Any) -> bool:
    values = stride if isinstance(stride, tuple) else (stride,)
    return any(type(value) is int and value > 1 for value in values)


class SamePaddingWithStride(Rule):
    """
    ## What it does
    Reports a convolution built with `padding='same'` and a stride above 1.

    ## Why is this bad?
    PyTorch cannot keep the size of an input it also downsamples, and refuses to build the layer:
    `ValueError: padding='same' is not supported for strided convolutions`.

    ## Example
    ```python
    down = nn.Conv2d(64, 128, 3, stride=2, padding="same")
    ```

    ## Use instead
    ```python
    down = nn.Conv2d(64, 128, 3, stride=2, padding=1)
    ```
    """

    code = "CL202"
    name = "same-padding-with-stride"
    summary = "padding='same' is not supported with stride {stride}"
    valid = (
        "import torch.nn as nn\n"
        "conv = nn.Conv2d(64, 128, 3, padding='same')\n",
        "import torch.nn as nn\n"
        "conv = nn.Conv2d(64, 128, 3, stride=2, padding=1)\n",
    )
    invalid = (
        "import torch.nn as nn\n"
        "down = nn.Conv2d(64, 128, 3, stride=2, padding='same')  # error: CL202\n",
        "import torch.nn as nn\n"
        "down = nn.Conv1d(8, 8, 5, (2,), 'same')  # error: CL202\n",
    )

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for fact in facts.layers:
            layer = fact.layer
            if layer.spec.kind != CONV or layer.argument("padding") != "same":
                continue
            stride = layer.argument("stride")
            if _strided(stride):
                message = (
                    f"{layer.spec.name} with padding='same' cannot have stride {stride}: "
                    "PyTorch supports 'same' only for stride 1"
                )
                yield Finding(fact.anchor, message + provenance(facts, layer, fact.anchor, fact.context))
