"""CL201: a grouped layer whose channel counts are not multiples of its groups (or attention
whose width is not a multiple of its heads)."""

from __future__ import annotations

from typing import Iterable, Optional

from convlint.analysis.facts import FileFacts
from convlint.analysis.objects import Layer
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import layer_call, provenance


def _not_divisible(layer: Layer, count_name: str, groups_name: str) -> Optional[str]:
    count, groups = layer.argument(count_name), layer.argument(groups_name)
    if type(count) is not int or type(groups) is not int or groups <= 0 or count % groups == 0:
        return None
    return f"{count_name} {count} is not divisible by {groups_name} {groups}"


class GroupsNotDivisible(Rule):
    """
    ## What it does
    Checks that a convolution's `in_channels` and `out_channels` are multiples of its `groups`
    (a Keras conv's `filters`), that a `GroupNorm`'s `num_channels` is a multiple of its
    `num_groups`, and that attention's `embed_dim` (a transformer layer's `d_model`) is a multiple
    of its number of heads.

    ## Why is this bad?
    PyTorch refuses to build such a layer (`ValueError: in_channels must be divisible by
    groups`, `AssertionError: embed_dim must be divisible by num_heads`); in a model built from
    a config, the failing combination is often not the one the author tried.

    ## Example
    ```python
    depthwise = nn.Conv2d(32, 64, 3, groups=3)
    ```

    ## Use instead
    ```python
    depthwise = nn.Conv2d(32, 64, 3, groups=32)
    ```
    """

    code = "CL201"
    name = "groups-not-divisible"
    summary = "{layer}: {count} is not divisible by {groups}"
    valid = (
        "import torch.nn as nn\n"
        "depthwise = nn.Conv2d(32, 32, 3, padding=1, groups=32)\n",
        "import torch.nn as nn\n"
        "norm = nn.GroupNorm(8, 64)\n",
        "import torch.nn as nn\n"
        "def grouped(c, g):\n"
        "    return nn.Conv2d(c, c, 3, groups=g)\n",
    )
    invalid = (
        "import torch.nn as nn\n"
        "depthwise = nn.Conv2d(32, 64, 3, groups=3)  # error: CL201\n",
        "import torch.nn as nn\n"
        "norm = nn.GroupNorm(3, 64)  # error: CL201\n",
        "import torch.nn as nn\n"
        "attention = nn.MultiheadAttention(embed_dim=100, num_heads=8)  # error: CL201\n",
        "import torch.nn as nn\n"
        "encoder = nn.TransformerEncoderLayer(d_model=300, nhead=8)  # error: CL201\n",
        "from keras import layers\n"
        "conv = layers.Conv2D(10, 3, groups=4)  # error: CL201\n",
        "import torch.nn as nn\n"
        "class Block(nn.Module):\n"
        "    def __init__(self, channels=48, groups=32):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(channels, channels, 3, groups=groups)  # error: CL201\n",
    )

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for fact in facts.layers:
            layer = fact.layer
            problems = [
                (groups_name, problem)
                for count_name, groups_name in layer.spec.divisible
                for problem in [_not_divisible(layer, count_name, groups_name)]
                if problem
            ]
            if problems:
                anchor = facts.anchor(layer, problems[0][0]) or fact.anchor
                message = f"{layer_call(layer)}: {' and '.join(problem for _, problem in problems)}"
                yield Finding(anchor, message + provenance(facts, layer, anchor, fact.context))
