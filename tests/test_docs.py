"""The generated documentation cannot go stale: docs/rules.md and the README's rule table are
compared with what the rules generate today.

After changing a rule, regenerate with ``python -m convlint.docs > docs/rules.md`` and paste
``convlint.docs.rules_table()`` between the README's ``rules-table`` markers.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from convlint.cli import list_rules
from convlint.docs import rules_markdown, rules_table, summary
from convlint.report import rule_url
from convlint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
RULES_PAGE = ROOT / "docs" / "rules.md"
README = ROOT / "README.md"
TABLE = re.compile(r"<!-- rules-table:start -->\n(?P<table>.*?)<!-- rules-table:end -->", re.DOTALL)


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation other than ``-`` and ``_`` dropped,
    spaces made hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_rules_page_is_up_to_date():
    assert RULES_PAGE.read_text(encoding="utf-8") == rules_markdown(), (
        "docs/rules.md is stale: run `python -m convlint.docs > docs/rules.md`"
    )


def test_module_prints_the_page():
    result = subprocess.run([sys.executable, "-m", "convlint.docs"], capture_output=True, check=True)
    assert result.stdout.decode("utf-8") == rules_markdown()


def test_every_rule_url_points_at_its_heading():
    anchors = {github_anchor(line[3:]) for line in rules_markdown().splitlines() if line.startswith("## ")}
    for rule in ALL_RULES:
        url = rule_url(rule.code)
        assert url.split("#", 1)[0].endswith("/docs/rules.md")
        assert url.split("#", 1)[1] in anchors


def test_rule_headings_are_the_only_level_two_headings():
    """The rules' own "## What it does" are demoted, so they cannot shadow a rule's anchor."""
    headings = [line for line in rules_markdown().splitlines() if line.startswith("## ")]
    assert headings == [f"## {rule.code} {rule.name}" for rule in ALL_RULES]


def test_every_example_is_in_the_page():
    page = rules_markdown()
    for rule in ALL_RULES:
        for example in (*rule.valid, *rule.invalid):
            assert f"```python\n{example.rstrip()}\n```" in page


def test_summaries_are_those_of_convlint_rules(capsys):
    assert list_rules([]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == len(ALL_RULES)
    for line, rule in zip(printed, ALL_RULES):
        assert line.startswith(rule.code)
        assert summary(rule) in line


def test_readme_rule_table_is_up_to_date():
    match = TABLE.search(README.read_text(encoding="utf-8"))
    assert match, "README.md lacks the <!-- rules-table:start --> ... <!-- rules-table:end --> markers"
    assert match.group("table") == rules_table(), (
        "the README's rule table is stale: paste the output of "
        "`python -c 'from convlint.docs import rules_table; print(rules_table(), end=\"\")'`"
    )
    for rule in ALL_RULES:
        assert rule.code in match.group("table")


# -- the README's examples are real ------------------------------------------------------------


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def _blocks(language: str) -> list:
    return re.findall(rf"^```{language}\n(.*?)^```", _readme(), re.MULTILINE | re.DOTALL)


def test_readme_console_examples_are_real_output():
    """Each ``$ convlint ...`` in a console block prints exactly the lines shown under it."""
    examples = 0
    for block in _blocks("console"):
        for command, shown in re.findall(r"^\$ (convlint .*)\n((?:(?!\$ ).*\n)*)", block, re.MULTILINE):
            result = subprocess.run(
                [sys.executable, "-m", "convlint", *shlex.split(command)[1:]],
                cwd=ROOT, capture_output=True, text=True, encoding="utf-8", check=False,
            )
            assert result.stdout == shown, command
            examples += 1
    assert examples >= 2


def test_readme_fixture_error_count(tmp_path):
    from convlint.config import load_settings
    from convlint.files import discover
    from convlint.runner import lint_paths

    settings = load_settings(ROOT)
    found = lint_paths(discover([ROOT / "fixtures"], settings), settings, ROOT)
    match = re.search(r"this prints (\d+) errors and exits with status 1", _readme())
    assert match and int(match.group(1)) == len(found)


def test_readme_excerpt_is_from_the_fixture():
    excerpt = _blocks("python")[0]
    fixture = (ROOT / "fixtures" / "torch" / "tutorial_cnn_bad_linear.py").read_text(encoding="utf-8")
    assert excerpt in fixture


def test_readme_configuration_is_valid_and_complete(tmp_path):
    from convlint.config import _CHECKS, load_settings

    # The configuration block (the editors section has a Helix languages.toml too).
    (config,) = [block for block in _blocks("toml") if "[tool.convlint]" in block]
    (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    settings = load_settings(tmp_path)
    assert settings.config_path == tmp_path / "pyproject.toml"
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    assert set(tomllib.loads(config)["tool"]["convlint"]) == set(_CHECKS)
