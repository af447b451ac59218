"""CL101: a convolution or linear layer receives a count other than the one it was built for."""

from __future__ import annotations

from typing import Iterable

from convlint.analysis.facts import FileFacts
from convlint.analysis.values import provably_different
from convlint.frameworks.catalog import ATTENTION, CONV, LINEAR, SEQUENCE, TRANSFORMER
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import origin, provenance, received, subject
from convlint.rules.repairs import literal_count

_WHAT = {CONV: "input channels", LINEAR: "input features", SEQUENCE: "input features", ATTENTION: "input features",
         TRANSFORMER: "input features"}
#: Layers whose output width is the argument checked: changing it is no repair.
_NO_FIX = (ATTENTION, TRANSFORMER)


class ChannelMismatch(Rule):
    """
    ## What it does
    Checks that every convolution receives as many channels as its `in_channels`, every
    `Linear` as many features as its `in_features`, every `RNN`/`LSTM`/`GRU` (and cell) as
    many as its `input_size`, `MultiheadAttention` a query of `embed_dim`, a key of `kdim` and
    a value of `vdim` features, and the transformer layers inputs of `d_model` features,
    following the tensor from the layer before it: through `nn.Sequential`, `forward()`,
    helpers, loops and custom blocks (a bidirectional LSTM gives two directions' worth of
    features; attention gives `embed_dim`).

    ## Why is this bad?
    PyTorch only finds out when the first batch goes through the model, after the data has
    loaded, often on a remote GPU: `RuntimeError: Given groups=1, weight of size [128, 32, 3, 3],
    expected input[8, 64, 30, 30] to have 32 channels, but got 64 channels instead`.

    ## Example
    ```python
    features = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU(), nn.Conv2d(32, 128, 3))
    ```

    ## Use instead
    ```python
    features = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU(), nn.Conv2d(64, 128, 3))
    ```

    ## Fix safety
    `--fix` replaces a plain integer literal by the count that arrives, when that count is a
    known number and every tensor seen reaching the layer call brought the same one; a grouped
    convolution keeps its fix only if its groups still divide the new count. The fix is safe:
    the layer's output is unchanged, and only a model that could not run is changed.
    """

    code = "CL101"
    name = "channel-mismatch"
    summary = "{layer} expects {expected} {what} but receives {received}"
    valid = (
        "import torch.nn as nn\n"
        "features = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU(), nn.Conv2d(64, 128, 3))\n",
        "import torch.nn as nn\n"
        "class Net(nn.Module):\n"
        "    def __init__(self, c):\n"
        "        super().__init__()\n"
        "        self.body = nn.Sequential(nn.Conv2d(c, 2 * c, 3), nn.Conv2d(2 * c, c, 3))\n",
        "import torch.nn as nn\n"
        "def block(a, b):\n"
        "    return nn.Sequential(nn.Conv2d(a, b, 3), nn.Conv2d(b, a, 1))\n",
    )
    invalid = (
        "import torch.nn as nn\n"
        "features = nn.Sequential(\n"
        "    nn.Conv2d(3, 64, 3),\n"
        "    nn.ReLU(),\n"
        "    nn.Conv2d(32, 128, 3),  # error: CL101\n"
        ")\n",
        "from torch import nn\n"
        "head = nn.Sequential(nn.Linear(512, 256), nn.Dropout(0.5), nn.Linear(128, 10))  # error: CL101\n",
        "import torch.nn as nn\n"
        "class Net(nn.Module):\n"
        "    def __init__(self, c):\n"
        "        super().__init__()\n"
        "        self.body = nn.Sequential(nn.Conv2d(c, 2 * c, 3), nn.Conv2d(c, c, 3))  # error: CL101\n",
    )
    fixed = {
        0: "import torch.nn as nn\n"
           "features = nn.Sequential(\n"
           "    nn.Conv2d(3, 64, 3),\n"
           "    nn.ReLU(),\n"
           "    nn.Conv2d(64, 128, 3),  # error: CL101\n"
           ")\n",
        1: "from torch import nn\n"
           "head = nn.Sequential(nn.Linear(512, 256), nn.Dropout(0.5), nn.Linear(256, 10))  # error: CL101\n",
    }

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for flow in facts.flows:
            kind = flow.consumer.spec.kind
            if kind not in _WHAT or not provably_different(flow.expected, flow.received):
                continue
            which = f" ({flow.parameter})" if flow.parameter != flow.consumer.spec.in_param else ""
            message = (
                f"{subject(facts, flow.consumer, flow.anchor)} expects {flow.expected} {_WHAT[kind]}{which} but receives "
                f"{received(flow.received, flow.note)}"
                f"{origin(facts, flow.producer)}"
                f"{provenance(facts, flow.consumer, flow.anchor, flow.context)}"
            )
            yield Finding(flow.anchor, message, None if kind in _NO_FIX else literal_count(facts, flow))
