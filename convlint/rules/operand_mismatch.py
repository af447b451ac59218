"""CL103 and CL104: tensors combined in ``forward`` whose sizes cannot go together."""

from __future__ import annotations

from typing import Iterable

from convlint.analysis.facts import FileFacts, OperandsFact
from convlint.analysis.values import provably_above_one, provably_different
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import origin


def _axis_name(axis: int) -> str:
    return "the last axis" if axis == -1 else f"axis {axis}"


#: Operations that join tensors without broadcasting: every axis they do not join along must agree.
_JOINS = {"torch.cat": "joins", "torch.stack": "stacks", "Concatenate": "joins"}


def _operands(facts: FileFacts, fact: OperandsFact) -> str:
    return " and ".join(f"{size}{origin(facts, producer)}" for size, producer in zip(fact.sizes, fact.producers))


class ConcatMismatch(Rule):
    """
    ## What it does
    Checks that the tensors `torch.cat` (or Keras's `Concatenate`) joins agree on every axis but
    the one they are joined along (the channel counts add up along `dim=1`; heights and widths
    must be equal), and that the tensors `torch.stack` stacks agree on every axis.

    ## Why is this bad?
    `torch.cat` and `torch.stack` do not broadcast: `RuntimeError: Sizes of tensors must match
    except in dimension 1`, or `stack expects each tensor to be equal size`. In U-Nets and
    DenseNets this is usually a skip connection taken at the wrong resolution.

    ## Example
    ```python
    x = torch.cat([self.up(x), skip], dim=1)  # up gives 64×64, skip is 32×32
    ```
    """

    code = "CL103"
    name = "concat-mismatch"
    summary = "torch.cat or torch.stack joins tensors whose sizes differ on {axis}"
    valid = (
        "import torch\n"
        "import torch.nn as nn\n"
        "class Fire(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.a = nn.Conv2d(16, 64, 1)\n"
        "        self.b = nn.Conv2d(16, 64, 3, padding=1)\n"
        "        self.post = nn.Conv2d(128, 10, 1)\n"
        "    def forward(self, x):\n"
        "        return self.post(torch.cat([self.a(x), self.b(x)], 1))\n",
    )
    invalid = (
        "import torch\n"
        "import torch.nn as nn\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 16, 3)\n"
        "        self.pool = nn.AdaptiveAvgPool2d(8)\n"
        "        self.small = nn.AdaptiveAvgPool2d(4)\n"
        "    def forward(self, x):\n"
        "        x = self.conv(x)\n"
        "        return torch.cat([self.pool(x), self.small(x)], dim=1)  # error: CL103\n",
        "import torch\n"
        "import torch.nn as nn\n"
        "class Heads(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.a = nn.Linear(16, 4)\n"
        "        self.b = nn.Linear(16, 8)\n"
        "    def forward(self, x):\n"
        "        return torch.stack([self.a(x), self.b(x)], dim=1)  # error: CL103\n",
    )

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for fact in facts.operands:
            verb = _JOINS.get(fact.operation)
            if verb is None:
                continue
            first = fact.sizes[0]
            if any(provably_different(first, size) for size in fact.sizes[1:]):
                along = ", which it does not join along" if verb == "joins" else ""
                yield Finding(fact.anchor, (
                    f"{fact.operation} {verb} tensors whose sizes differ on {_axis_name(fact.axis)}{along}: "
                    f"{_operands(facts, fact)}"
                ))


class ElementwiseMismatch(Rule):
    """
    ## What it does
    Checks that two tensors added, subtracted or multiplied in `forward` (or by Keras's `add`,
    `multiply` ...) have sizes that broadcast: on every axis equal, or one of them 1. Reported
    only when neither size can be 1.

    ## Why is this bad?
    A residual connection whose shortcut was not projected to the new width fails on the first
    batch: `RuntimeError: The size of tensor a (64) must match the size of tensor b (128) at
    non-singleton dimension 1`.

    ## Example
    ```python
    out = self.conv2(self.conv1(x))  # 128 channels
    return out + x                   # 64 channels
    ```

    ## Use instead
    ```python
    return out + self.shortcut(x)    # a 1×1 conv to 128 channels
    ```
    """

    code = "CL104"
    name = "elementwise-mismatch"
    summary = "{operation} of tensors whose sizes differ on {axis}"
    valid = (
        "import torch.nn as nn\n"
        "class Block(nn.Module):\n"
        "    def __init__(self, c):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(c, c, 3, padding=1)\n"
        "        self.gate = nn.Conv2d(c, 1, 1)\n"
        "    def forward(self, x):\n"
        "        y = self.conv(x)\n"
        "        return y * self.gate(y)\n",
        "import keras\n"
        "from keras import layers\n"
        "def build():\n"
        "    x = keras.Input(shape=(10, 32))\n"
        "    memory = keras.Input(shape=(20, 48))\n"
        "    y = layers.MultiHeadAttention(4, 16)(x, memory)\n"
        "    return keras.Model([x, memory], layers.add([x, y]))\n",
    )
    invalid = (
        "import torch.nn as nn\n"
        "class Block(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv1 = nn.Conv2d(3, 64, 3, padding=1)\n"
        "        self.conv2 = nn.Conv2d(64, 128, 3, padding=1)\n"
        "    def forward(self, x):\n"
        "        x = self.conv1(x)\n"
        "        return self.conv2(x) + x  # error: CL104\n",
        "import keras\n"
        "from keras import layers\n"
        "def build():\n"
        "    inputs = keras.Input(shape=(32, 32, 3))\n"
        "    x = layers.Conv2D(64, 3, padding='same')(inputs)\n"
        "    y = layers.Conv2D(128, 3, padding='same')(x)\n"
        "    return keras.Model(inputs, layers.add([x, y]))  # error: CL104\n",
        "import keras\n"
        "from keras import layers\n"
        "def build():\n"
        "    x = keras.Input(shape=(40, 64))\n"
        "    both = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)\n"
        "    return keras.Model(x, layers.add([both, x]))  # error: CL104\n",
    )

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for fact in facts.operands:
            if fact.operation in _JOINS or len(fact.sizes) != 2:
                continue
            left, right = fact.sizes
            if provably_above_one(left) and provably_above_one(right) and provably_different(left, right):
                yield Finding(fact.anchor, (
                    f"`{fact.operation}` of tensors whose sizes differ on {_axis_name(fact.axis)} and cannot "
                    f"broadcast: {_operands(facts, fact)}"
                ))
