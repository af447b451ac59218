"""CL109: a matrix product or einsum whose multiplied sizes provably differ."""

from __future__ import annotations

from typing import Iterable

from convlint.analysis.facts import ContractionFact, FileFacts
from convlint.analysis.values import provably_above_one, provably_different
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import origin


def _side(facts: FileFacts, fact: ContractionFact, index: int) -> str:
    """``64 on the last axis of the left operand (2, 10, 64) from Linear(128, 64) on line 7``."""
    contraction = fact.contraction
    operand, axis = contraction.operands[index], contraction.axes[index]
    where = "the last axis" if axis == -1 else f"axis {axis}"
    return f"{contraction.sizes[index]} on {where} of {fact.shapes[operand]}{origin(facts, fact.producers[operand])}"


class MatmulMismatch(Rule):
    """
    ## What it does
    Checks that the sizes a matrix product multiplies together are equal: the last axis of the
    left operand of `@`, `torch.matmul`, `bmm` or `mm` and the second to last of the right one
    (its only one, for a vector); the sizes one subscript of a literal `torch.einsum` equation
    names in different operands (equal, or 1); and the query's and key's features and the key's
    and value's lengths in `F.scaled_dot_product_attention`. Sizes come from the layers before,
    through `view`, `permute` and `transpose`.

    ## Why is this bad?
    PyTorch raises on the first batch: `RuntimeError: mat1 and mat2 shapes cannot be multiplied
    (10x64 and 32x10)`, or `einsum(): operands do not broadcast with remapped shapes`. In a
    hand-written attention block it is usually a query and a key projected to different widths,
    or heads split with the wrong sizes.

    ## Example
    ```python
    self.q = nn.Linear(dim, 64)
    self.k = nn.Linear(dim, 32)
    ...
    scores = self.q(x) @ self.k(x).transpose(-2, -1)  # 64 against 32
    ```

    ## Use instead
    ```python
    self.q = nn.Linear(dim, 64)
    self.k = nn.Linear(dim, 64)
    ```
    """

    code = "CL109"
    name = "matmul-mismatch"
    summary = "{operation} multiplies sizes that differ: {left} and {right}"
    valid = (
        "import torch.nn as nn\n"
        "class Attention(nn.Module):\n"
        "    def __init__(self, dim):\n"
        "        super().__init__()\n"
        "        self.q = nn.Linear(dim, 64)\n"
        "        self.k = nn.Linear(dim, 64)\n"
        "    def forward(self, x):\n"
        "        return (self.q(x) @ self.k(x).transpose(-2, -1)).softmax(-1)\n",
        "import torch\n"
        "import torch.nn as nn\n"
        "class Scores(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.q = nn.Linear(16, 8)\n"
        "        self.k = nn.Linear(16, 1)\n"
        "    def forward(self, x):\n"
        "        return torch.einsum('bqd,bkd->bqk', self.q(x), self.k(x))\n",
    )
    invalid = (
        "import torch.nn as nn\n"
        "class Attention(nn.Module):\n"
        "    def __init__(self, dim):\n"
        "        super().__init__()\n"
        "        self.q = nn.Linear(dim, 64)\n"
        "        self.k = nn.Linear(dim, 32)\n"
        "    def forward(self, x):\n"
        "        return (self.q(x) @ self.k(x).transpose(-2, -1)).softmax(-1)  # error: CL109\n",
        "import torch\n"
        "import torch.nn as nn\n"
        "class Scores(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.q = nn.Linear(16, 8)\n"
        "        self.k = nn.Linear(16, 4)\n"
        "    def forward(self, x):\n"
        "        return torch.einsum('bqd,bkd->bqk', self.q(x), self.k(x))  # error: CL109\n",
    )

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for fact in facts.contractions:
            contraction = fact.contraction
            left, right = contraction.sizes
            if contraction.broadcasts and not (provably_above_one(left) and provably_above_one(right)):
                continue
            if not provably_different(left, right):
                continue
            named = f" by the subscript '{contraction.subscript}'" if fact.operation.startswith("torch.einsum") else ""
            yield Finding(fact.anchor, (
                f"`{fact.operation}` multiplies sizes that differ{named}: {_side(facts, fact, 0)}, "
                f"and {_side(facts, fact, 1)}"
            ))
