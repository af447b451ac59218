"""convlint on every fixture reports exactly the lines marked ``# error: CODE``, and nothing else.

The runner is imported inside the test, so a missing or broken runner fails each fixture
rather than the whole collection.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from fixture_oracles import REPO_ROOT, display, fixture_files, markers  # noqa: E402


@pytest.mark.parametrize("path", fixture_files(), ids=display)
def test_fixture_diagnostics_match_markers(path):
    from convlint.config import load_settings
    from convlint.runner import lint_paths

    diagnostics = lint_paths([path], load_settings(cwd=REPO_ROOT, isolated=True))
    found = {(d.line, d.code) for d in diagnostics}
    expected = set(markers(path))
    if found != expected:
        lines = path.read_text(encoding="utf-8").splitlines()

        def text(line):
            return lines[line - 1].strip() if 0 < line <= len(lines) else "<no such line>"

        def show(pairs):
            return "\n".join(f"  {line}: {code}  | {text(line)}" for line, code in sorted(pairs)) or "  -"

        details = "\n".join(f"  {d.line}:{d.column} {d.code} {d.message}" for d in diagnostics) or "  -"
        pytest.fail(
            f"{display(path)}\nmissing (marked, not reported):\n{show(expected - found)}\n"
            f"unexpected (reported, not marked):\n{show(found - expected)}\n"
            f"all diagnostics:\n{details}",
            pytrace=False,
        )
