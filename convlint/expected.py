"""``convlint summary --write-expected``: record models' totals in ``[tool.convlint.models]``.

The configuration is edited as text, line by line, so that its comments and layout survive;
the result is parsed again before it replaces the file, and written atomically.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

HEADER = "[tool.convlint.models]"
_PARAMS = re.compile(r"(?<![\w-])params\s*=\s*\d+")


class ExpectedError(Exception):
    """The configuration cannot be updated safely; one line."""


def _entry_line(lines: List[str], start: int, end: int, key: str) -> int:
    pattern = re.compile(r"^\s*" + re.escape(json.dumps(key)) + r"\s*=")
    for index in range(start, end):
        if pattern.match(lines[index]):
            return index
    return -1


def _updated_line(line: str, total: int) -> str:
    if _PARAMS.search(line):
        return _PARAMS.sub(f"params = {total}", line, count=1)
    if "{" not in line:
        raise ExpectedError(f"cannot update `{line.strip()}`: write it as an inline table")
    return line.replace("{", f"{{ params = {total},", 1)


def updated_text(text: str, totals: Dict[str, int]) -> str:
    """``text`` (a pyproject.toml) with ``params`` set for each key of ``totals``."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    headers = [index for index, line in enumerate(lines) if line.strip() == HEADER]
    if not headers:
        lines += (["\n"] if lines and lines[-1].strip() else []) + [HEADER + "\n"]
        headers = [len(lines) - 1]
    start = headers[0] + 1
    end = next((i for i in range(start, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    for key, total in totals.items():
        index = _entry_line(lines, start, end, key)
        if index >= 0:
            lines[index] = _updated_line(lines[index], total)
            continue
        insert_at = end
        while insert_at > start and not lines[insert_at - 1].strip():
            insert_at -= 1
        lines.insert(insert_at, f"{json.dumps(key)} = {{ params = {total} }}\n")
        end += 1
    return "".join(lines)


def record(config: Path, totals: Dict[str, int]) -> None:
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    new_text = updated_text(text, totals)
    try:
        models = tomllib.loads(new_text)["tool"]["convlint"]["models"]
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        raise ExpectedError(f"cannot update {config} safely: {error}") from None
    for key, total in totals.items():
        if models.get(key, {}).get("params") != total:
            raise ExpectedError(f"cannot update {config} safely: `{key}` did not take the new total")
    mode = config.stat().st_mode if config.exists() else None
    handle, temporary = tempfile.mkstemp(dir=str(config.parent), prefix=".pyproject.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(new_text)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, config)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
