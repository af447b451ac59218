"""``# noqa`` comments: on a line, for all codes or the codes listed; ``# convlint: noqa``
anywhere in a file, for the whole file.

Strict where flake8 is lax: ``# noqa: banana`` suppresses nothing (a typo must not silence
every rule on the line), and codes match exactly, as in ruff.
"""

from __future__ import annotations

import re
from typing import Dict, FrozenSet, Optional

_NOQA = re.compile(r"#\s*noqa(?P<colon>\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?(?P<rest>:?)", re.IGNORECASE)
_FILE_NOQA = re.compile(rb"#\s*convlint\s*:\s*noqa\b", re.IGNORECASE)
#: Python's line ends only: ``str.splitlines`` also splits at form feeds and other separators
#: that Python keeps inside a line, and would shift every ``# noqa`` after one.
_LINE_END = re.compile(r"\r\n|\r|\n")

#: On a line: ``None`` suppresses every code; a set suppresses those codes.
LineSuppression = Optional[FrozenSet[str]]


def file_is_exempt(data: bytes) -> bool:
    return _FILE_NOQA.search(data) is not None


def line_suppressions(text: str) -> Dict[int, LineSuppression]:
    """The ``# noqa`` of each line that has one, by 1-based line number."""
    found: Dict[int, LineSuppression] = {}
    if "noqa" not in text.lower():
        return found
    for number, line in enumerate(_LINE_END.split(text), start=1):
        if "#" not in line:
            continue
        match = _NOQA.search(line)
        if match is None:
            continue
        if match.group("codes"):
            codes = frozenset(code.upper() for code in re.split(r"[\s,]+", match.group("codes")) if code)
            found[number] = codes
        elif match.group("rest"):
            found[number] = frozenset()  # "# noqa:" followed by no valid code suppresses nothing
        else:
            found[number] = None
    return found


def is_suppressed(suppressions: Dict[int, LineSuppression], line: int, code: str) -> bool:
    if line not in suppressions:
        return False
    codes = suppressions[line]
    return codes is None or code in codes
