"""CL303: a model whose total differs from the one recorded for it, or exceeds its budget."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

import libcst as cst

from convlint.analysis.facts import FileFacts, ModelFact
from convlint.analysis.params import count_model
from convlint.diagnostics import WARNING
from convlint.rules.base import Finding, Rule


def _definition(facts: FileFacts, expression: str) -> cst.CSTNode:
    """The class or function the expression calls, where the file defines it; else the file."""
    try:
        node = cst.parse_expression(expression)
    except cst.ParserSyntaxError:
        return facts.module.tree
    while isinstance(node, (cst.Call, cst.Attribute)):
        node = node.func if isinstance(node, cst.Call) else node.value
    if isinstance(node, cst.Name):
        for statement in facts.module.tree.body:
            if isinstance(statement, (cst.ClassDef, cst.FunctionDef)) and statement.name.value == node.value:
                return statement.name
    return facts.module.tree


def _problem(model: Optional[ModelFact], entry: Mapping[str, Any], expression: str) -> Optional[str]:
    if model is None:
        return f"{expression} does not build a model convlint can follow, so its recorded total cannot be checked"
    count = count_model(model.model)
    if count.total is None:
        reasons = "; ".join(count.unresolved[:2])
        return f"{expression} cannot be counted exactly ({reasons}), so its recorded total cannot be checked"
    expected, budget = entry.get("params"), entry.get("max-params")
    if expected is not None and count.total != expected:
        change = count.total - expected
        return (f"{expression} has {count.total:,} parameters, but [tool.convlint.models] records {expected:,} "
                f"({change:+,}); if the change is intended, record it with `convlint summary --write-expected`")
    if budget is not None and count.total > budget:
        return f"{expression} has {count.total:,} parameters, over its budget of {budget:,} (max-params)"
    return None


class ExpectedParams(Rule):
    """
    ## What it does
    Compares the exact total of each model named in `[tool.convlint.models]` with its recorded
    `params` and its `max-params` budget, building it statically. An entry names a file and a
    call, `"models/net.py:Net()"`, and `convlint summary FILE --write-expected` records the
    current totals.

    ## Why is this bad?
    An accidental change of architecture (a width doubled by a config edit, a layer left in
    after an experiment) changes the parameter count long before anyone notices the accuracy or
    the memory. A guard in CI notices it at once. A model that cannot be counted exactly is
    reported too: a guard that cannot check must not look green.

    ## Example
    ```toml
    [tool.convlint.models]
    "models/net.py:Net()" = { params = 1199882, max-params = 2000000 }
    ```
    """

    code = "CL303"
    name = "expected-params"
    summary = "{model} has {total} parameters, {expected} recorded"
    severity = WARNING
    one_per_place = False
    example_settings = {"models": {"example.py:Net()": {"params": 224}}}
    valid = (
        "import torch.nn as nn\n"
        "class Net(nn.Module):\n"
        "    def __init__(self, width=8):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, width, 3)\n"
        "    def forward(self, x):\n"
        "        return self.conv(x)\n",
    )
    invalid = (
        "import torch.nn as nn\n"
        "class Net(nn.Module):  # error: CL303\n"
        "    def __init__(self, width=16):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, width, 3)\n"
        "    def forward(self, x):\n"
        "        return self.conv(x)\n",
    )

    def check(self, facts: FileFacts) -> Iterable[Finding]:
        if self.settings is None:
            return
        built = {model.label: model for model in facts.models}
        for expression, entry in self.settings.models_for(facts.module.path):
            problem = _problem(built.get(expression), entry, expression)
            if problem is not None:
                yield Finding(_definition(facts, expression), problem)
