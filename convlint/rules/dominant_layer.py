"""CL302: one layer holding most of a model's parameters."""

from __future__ import annotations

from typing import Iterable

from convlint.analysis.facts import FileFacts
from convlint.analysis.params import count_model
from convlint.diagnostics import WARNING
from convlint.rules.base import Finding, Rule
from convlint.rules.messages import layer_call

DEFAULT_SHARE = 0.5


class DominantLayer(Rule):
    """
    ## What it does
    Reports a layer that holds more than a share of its model's parameters (default: half;
    `dominant-layer-share` in `[tool.convlint]`), for every model the file builds whose total
    is known exactly. Off by default: select it with `--extend-select CL302`.

    ## Why is this bad?
    It often is not: but it is the signature of the classic flatten→Linear explosion, where a
    `Linear` placed after a large feature map holds more weights than the whole network before
    it (VGG-16's first classifier layer holds 74% of its 138 million parameters). A global
    pooling before the head, or a smaller feature map, usually does as well for a fraction of
    the size.

    ## Example
    ```python
    head = nn.Sequential(nn.Flatten(), nn.Linear(512 * 7 * 7, 4096))
    ```

    ## Use instead
    ```python
    head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 4096))
    ```
    """

    code = "CL302"
    name = "dominant-layer"
    summary = "{layer} holds {share} of the model's parameters"
    severity = WARNING
    # In a small network one conv often holds most weights by nature: opt in where it matters.
    enabled_by_default = False
    valid = (
        "import torch.nn as nn\n"
        "model = nn.Sequential(nn.Conv2d(3, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.Conv2d(64, 64, 3))\n",
        "import torch.nn as nn\n"
        "from elsewhere import Backbone\n"
        "model = nn.Sequential(Backbone(), nn.Flatten(), nn.Linear(4096, 10))\n",
    )
    invalid = (
        "import torch.nn as nn\n"
        "model = nn.Sequential(\n"
        "    nn.Conv2d(3, 16, 3),\n"
        "    nn.Flatten(),\n"
        "    nn.Linear(16 * 30 * 30, 128),  # error: CL302\n"
        ")\n",
    )

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        share = self.settings.dominant_layer_share if self.settings is not None else DEFAULT_SHARE
        for model in facts.models:
            count = count_model(model.model)
            total = count.total
            if not total:
                continue
            for row in count.rows:
                if row.layer is None or row.count.params is None or row.count.params <= share * total:
                    continue
                anchor = facts.anchor(row.layer)
                if anchor is None:
                    continue
                yield Finding(anchor, (
                    f"{layer_call(row.layer)} holds {row.count.params:,} of the {total:,} parameters of "
                    f"{model.label} ({row.count.params / total:.0%}): {row.count.formula}"
                ))
