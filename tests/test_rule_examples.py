"""Every rule's accepted examples lint clean and its rejected examples produce exactly the
marked diagnostics: the examples in the rule modules are the rules' specification."""

from __future__ import annotations

from pathlib import Path

import pytest

from convlint.config import load_settings
from convlint.rules import ALL_RULES
from convlint.rules.base import expected_lines
from convlint.runner import Linter

EXAMPLES = [
    pytest.param(rule, source, id=f"{rule.code}-{kind}-{index}")
    for rule in ALL_RULES
    for kind, examples in (("accepted", rule.valid), ("rejected", rule.invalid))
    for index, source in enumerate(examples)
]


@pytest.mark.parametrize("rule, source", EXAMPLES)
def test_rule_example(rule, source, tmp_path: Path) -> None:
    path = tmp_path / "example.py"
    path.write_text(source)
    settings = load_settings(tmp_path, isolated=True, overrides={"select": [rule.code], **rule.example_settings})
    found = sorted((d.line, d.code) for d in Linter(settings, tmp_path).lint_paths([path]))
    assert found == sorted(expected_lines(source))


def test_every_rule_documents_itself_with_examples() -> None:
    for rule in ALL_RULES:
        assert "## What it does" in rule.documentation(), rule.code
        if rule.code >= "CL100":
            assert rule.valid and rule.invalid, rule.code
            assert all(expected_lines(source) for source in rule.invalid), rule.code
