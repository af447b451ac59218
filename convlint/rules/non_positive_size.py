"""CL203: a channel count, feature count, kernel size or group count that cannot work."""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Tuple

from convlint.analysis.facts import FileFacts
from convlint.analysis.objects import Layer
from convlint.analysis.values import add, sign_of
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import provenance


def _bad_sizes(layer: Layer) -> Iterator[Tuple[str, Any, str]]:
    checks = [(name, 1, "positive") for name in layer.spec.positive_params]
    checks += [(name, 0, "negative") for name in layer.spec.non_negative_params]
    for name, smallest, wording in checks:
        value = layer.argument(name)
        for item in value if isinstance(value, tuple) else (value,):
            sign = sign_of(item if smallest == 0 else _minus_one(item))
            if sign == -1:
                yield name, value, "must be positive" if wording == "positive" else "cannot be negative"
                break


def _minus_one(value: Any) -> Any:
    return add(value, 1, sign=-1)


class NonPositiveSize(Rule):
    """
    ## What it does
    Reports a layer built with a channel count, kernel size or group count below 1, or a
    feature count below 0.

    ## Why is this bad?
    A negative size fails when the weights are allocated; a convolution with zero channels or a
    zero kernel is built but fails on its first input. Such values usually come from arithmetic
    on a config (`width - 64` where width was meant to be larger).

    ## Example
    ```python
    conv = nn.Conv2d(3, 0, 3)
    ```

    ## Use instead
    ```python
    conv = nn.Conv2d(3, 16, 3)
    ```
    """

    code = "CL203"
    name = "non-positive-size"
    summary = "{layer}: {argument} {value} must be positive"
    valid = (
        "import torch.nn as nn\n"
        "conv = nn.Conv2d(3, 16, (3, 1))\n",
        "import torch.nn as nn\n"
        "empty = nn.Linear(0, 10)\n",
    )
    invalid = (
        "import torch.nn as nn\n"
        "conv = nn.Conv2d(3, 0, 3)  # error: CL203\n",
        "import torch.nn as nn\n"
        "WIDTH = 32\n"
        "conv = nn.Conv2d(3, 16, (WIDTH - 32, 3))  # error: CL203\n",
        "import torch.nn as nn\n"
        "fc = nn.Linear(-1, 10)  # error: CL203\n",
    )

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        for fact in facts.layers:
            layer = fact.layer
            for name, value, problem in _bad_sizes(layer):
                anchor = facts.anchor(layer, name) or fact.anchor
                message = f"{layer.spec.name}: {name}={value} {problem}"
                yield Finding(anchor, message + provenance(facts, layer, anchor, fact.context))
