"""CL102: a normalization layer is sized for a different count than the one it receives."""

from __future__ import annotations

from typing import Iterable

from convlint.analysis.facts import FileFacts
from convlint.analysis.values import provably_different
from convlint.frameworks.catalog import BATCH_NORM, CHANNEL_NORM, LAYER_NORM
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import origin, provenance, received, subject
from convlint.rules.repairs import literal_count


class NormChannelMismatch(Rule):
    """
    ## What it does
    Checks that `BatchNorm*`, `SyncBatchNorm` and `InstanceNorm*` (`num_features`), `GroupNorm`
    (`num_channels`) and `LayerNorm` (`normalized_shape`, against the trailing dimensions) are
    sized for the tensor that reaches them.

    ## Why is this bad?
    A BatchNorm copied from another layer keeps that layer's width; PyTorch fails on the first
    batch with `running_mean should contain 64 elements not 32`.

    ## Example
    ```python
    nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(32), nn.ReLU())
    ```

    ## Use instead
    ```python
    nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.ReLU())
    ```

    ## Fix safety
    As for CL101: a plain integer literal becomes the count that arrives, when that is known and
    the same at every use of the layer call (a `GroupNorm` only if its groups divide it). Safe.
    A `LayerNorm` gets one only when the size that arrives is the width the layer before it
    declares (`Linear(10, 20)`): otherwise it may be a sequence length or a spatial size, and the
    mistake the order of the axes.
    """

    code = "CL102"
    name = "norm-channel-mismatch"
    summary = "{layer} expects {expected} channels but receives {received}"
    valid = (
        "import torch.nn as nn\n"
        "stem = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.ReLU())\n",
        "import torch.nn as nn\n"
        "stem = nn.Sequential(nn.Conv2d(3, 64, 3), nn.GroupNorm(8, 64))\n",
        "import torch.nn as nn\n"
        "mlp = nn.Sequential(nn.Linear(10, 20), nn.BatchNorm1d(30))\n",
        # Attributes of a Sequential subclass join the sequence (DenseNet's _Transition).
        "import torch.nn as nn\n"
        "class Transition(nn.Sequential):\n"
        "    def __init__(self, cin, cout):\n"
        "        super().__init__()\n"
        "        self.norm = nn.BatchNorm2d(cin)\n"
        "        self.conv = nn.Conv2d(cin, cout, 1)\n"
        "features = nn.Sequential(nn.Conv2d(3, 64, 3), Transition(64, 32), nn.BatchNorm2d(32))\n",
        # A helper called in a loop the analysis cannot unroll may add layers to the list.
        "import torch.nn as nn\n"
        "def add_block(layers, c):\n"
        "    layers.append(nn.Conv2d(c, 32, 3))\n"
        "def make(widths):\n"
        "    layers = [nn.Conv2d(3, 16, 3)]\n"
        "    for w in widths:\n"
        "        add_block(layers, w)\n"
        "    layers.append(nn.BatchNorm2d(32))\n"
        "    return nn.Sequential(*layers)\n",
    )
    invalid = (
        "import torch.nn as nn\n"
        "stem = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(32), nn.ReLU())  # error: CL102\n",
        "import torch.nn as nn\n"
        "class Block(nn.Module):\n"
        "    def __init__(self, c):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(c, 2 * c, 3)\n"
        "        self.norm = nn.BatchNorm2d(c)  # error: CL102\n"
        "    def forward(self, x):\n"
        "        return self.norm(self.conv(x))\n",
        "import torch.nn as nn\n"
        "mlp = nn.Sequential(nn.Flatten(), nn.Linear(10, 20), nn.BatchNorm1d(30))  # error: CL102\n",
        "import torch.nn as nn\n"
        "seq = nn.Sequential(nn.Linear(10, 20), nn.LayerNorm(32))  # error: CL102\n",
    )
    fixed = {
        0: "import torch.nn as nn\n"
           "stem = nn.Sequential(nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.ReLU())  # error: CL102\n",
        2: "import torch.nn as nn\n"
           "mlp = nn.Sequential(nn.Flatten(), nn.Linear(10, 20), nn.BatchNorm1d(20))  # error: CL102\n",
        3: "import torch.nn as nn\n"
           "seq = nn.Sequential(nn.Linear(10, 20), nn.LayerNorm(20))  # error: CL102\n",
    }

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for flow in facts.flows:
            consumer = flow.consumer
            if consumer.spec.kind not in (BATCH_NORM, CHANNEL_NORM, LAYER_NORM):
                continue
            if not provably_different(flow.expected, flow.received):
                continue
            if consumer.spec.kind == LAYER_NORM:
                expected = f"a trailing dimension of {flow.expected}"
            else:
                expected = f"{flow.expected} channels"
            message = (
                f"{subject(facts, consumer, flow.anchor)} expects {expected} ({flow.parameter}) but receives "
                f"{received(flow.received, flow.note)}{origin(facts, flow.producer)}"
                f"{provenance(facts, consumer, flow.anchor, flow.context)}"
            )
            # A LayerNorm's trailing size may be a length or a spatial size (the axes were not
            # transposed yet): it is written in only when it is the width the layer before declares.
            declared = flow.producer.argument(flow.producer.spec.out_param) if flow.producer else None
            fixable = consumer.spec.kind != LAYER_NORM or declared == flow.received
            repair = literal_count(facts, flow) if fixable else None
            yield Finding(flow.anchor, message, repair)
