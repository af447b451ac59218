"""``--statistics``: one line per rule with its count instead of the diagnostics, as ruff prints
it (``count<TAB>code<TAB>name``, most frequent first; a ``[*]``/``[-]``/``[ ]`` column when some
are fixable), or ruff's JSON array of ``{code, name, count, fixable, fixable_count}``.

Besides what the run reports, the counts include the files skipped at the time limit while CL005
is not selected (``Linter.unreported_skips``): off by default in the output, a skip is still
something a user asking how the run went must see. They do not change the exit code.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Sequence

from convlint.diagnostics import Diagnostic
from convlint.report import text
from convlint.rules import RULES_BY_CODE

FORMATS = ("text", "json")


def statistics(diagnostics: Sequence[Diagnostic]) -> List[Dict[str, Any]]:
    """Per code: its name, count and how many are fixable; most frequent first, then by code."""
    counts: Dict[str, List[int]] = {}
    for diagnostic in diagnostics:
        count = counts.setdefault(diagnostic.code, [0, 0])
        count[0] += 1
        count[1] += diagnostic.fix is not None
    rows = [{"code": code, "name": RULES_BY_CODE[code].name, "count": count, "fixable": fixable == count,
             "fixable_count": fixable} for code, (count, fixable) in sorted(counts.items())]
    return sorted(rows, key=lambda row: -row["count"])


def render(fmt: str, diagnostics: Sequence[Diagnostic], unreported_skips: Sequence[Diagnostic]) -> str:
    rows = statistics([*diagnostics, *unreported_skips])
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    if not rows:
        return ""
    count_width = max(len(str(row["count"])) for row in rows)
    code_width = max(len(row["code"]) for row in rows)
    any_fixable = any(row["fixable_count"] for row in rows)
    lines = [f"{row['count']:>{count_width}}\t{row['code']:<{code_width}}\t{_marker(row) if any_fixable else ''}"
             f"{row['name']}" for row in rows]
    if diagnostics:
        lines += text.summary(diagnostics, text.FixState())
    if unreported_skips:
        skipped = len(unreported_skips)
        lines.append(f"{skipped} skipped file{'' if skipped == 1 else 's'} counted under CL005, which is not "
                     f"selected: `--extend-select CL005` reports {'it' if skipped == 1 else 'them'}.")
    return "\n".join(lines) + "\n"


def _marker(row: Dict[str, Any]) -> str:
    if row["fixable"]:
        return "[*] "
    return "[-] " if row["fixable_count"] else "[ ] "
