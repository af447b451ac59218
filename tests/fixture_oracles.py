"""Find the fixture files and read their labels. No torch and no convlint here.

A fixture labels itself with comments:

* ``# oracle: build=<python expr> input=<tuple> expect=<runs|fails|changes-batch>`` (one or
  more, anywhere; ``input=`` is optional). The oracle test imports the fixture, evaluates
  ``build`` in the module's namespace and, when ``input`` is given, calls the model on
  ``torch.randn(*input)``. ``changes-batch``: the model runs, but its output's first axis is not
  the input's batch size (a view that mixes samples, CL108); it needs ``input=``.
* ``# error: CODE`` at the end of each line convlint must report (the consumer layer).

Only real comments count (the file is tokenized), so text inside strings is never a label.
A malformed oracle comment raises ``ValueError``: a typo must not silently drop a check.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES_DIR = REPO_ROOT / "fixtures"
#: Each framework's fixtures, proved by that framework.
TORCH_FIXTURES = FIXTURES_DIR / "torch"
KERAS_FIXTURES = FIXTURES_DIR / "keras"
FLAX_FIXTURES = FIXTURES_DIR / "flax"

EXPECTS = ("runs", "fails", "changes-batch")
#: The labels that a fixture must mark with ``# error: CODE`` lines.
BROKEN = ("fails", "changes-batch")

_ORACLE_START = re.compile(r"#\s*oracle:")
_ORACLE = re.compile(
    r"#\s*oracle:\s*build=(?P<build>.+?)"
    r"(?:\s+input=(?P<input>\(.*?\)))?"
    r"\s+expect=(?P<expect>\S+)\s*$"
)
# The same pattern as convlint.rules.base.EXPECTED_MARK, kept here so this module needs nothing.
_ERROR_MARK = re.compile(r"#\s*error:\s*(?P<code>CL\d{3})")


@dataclass(frozen=True)
class Oracle:
    path: Path
    line: int
    build: str
    input: Optional[Tuple[int, ...]]
    expect: str

    @property
    def id(self) -> str:
        return f"{display(self.path)}:{self.line}"


def display(path: Path) -> str:
    """The fixture's path relative to fixtures/, for test ids and messages."""
    try:
        return Path(path).resolve().relative_to(FIXTURES_DIR).as_posix()
    except ValueError:
        return str(path)


def fixture_files(root: Path = FIXTURES_DIR) -> List[Path]:
    """Every Python file under fixtures/, sorted."""
    return sorted(p for p in Path(root).rglob("*.py") if "__pycache__" not in p.parts)


def _comments(path: Path) -> List[Tuple[int, str]]:
    with open(path, "rb") as handle:
        source = handle.read()
    tokens = tokenize.tokenize(io.BytesIO(source).readline)
    return [(tok.start[0], tok.string) for tok in tokens if tok.type == tokenize.COMMENT]


def oracles(path: Path) -> List[Oracle]:
    """The oracle lines of one fixture, in file order."""
    found = []
    for line, comment in _comments(path):
        if not _ORACLE_START.match(comment):
            continue
        where = f"{display(path)}:{line}"
        match = _ORACLE.match(comment)
        if match is None:
            raise ValueError(f"{where}: malformed oracle comment: {comment!r}")
        build, raw_input, expect = match.group("build").strip(), match.group("input"), match.group("expect")
        if expect not in EXPECTS:
            raise ValueError(f"{where}: expect must be one of {EXPECTS}, not {expect!r}")
        try:
            ast.parse(build, mode="eval")
        except SyntaxError as exc:
            raise ValueError(f"{where}: build is not a Python expression: {build!r}") from exc
        shape = None
        if raw_input is not None:
            shape = ast.literal_eval(raw_input)
            if not (isinstance(shape, tuple) and shape and all(type(d) is int and d > 0 for d in shape)):
                raise ValueError(f"{where}: input must be a tuple of positive ints, not {raw_input!r}")
        if expect == "changes-batch" and shape is None:
            raise ValueError(f"{where}: expect=changes-batch needs an input=")
        found.append(Oracle(Path(path), line, build, shape, expect))
    return found


def markers(path: Path) -> List[Tuple[int, str]]:
    """The (line, code) pairs a fixture marks with ``# error: CODE``, sorted."""
    marks = set()
    for line, comment in _comments(path):
        for match in _ERROR_MARK.finditer(comment):
            marks.add((line, match.group("code")))
    return sorted(marks)


def all_oracles(root: Path = FIXTURES_DIR) -> List[Oracle]:
    """Every oracle line of every fixture."""
    return [oracle for path in fixture_files(root) for oracle in oracles(path)]


def oracle_files(root: Path = FIXTURES_DIR) -> List[Path]:
    """The fixtures that carry at least one oracle line."""
    return [path for path in fixture_files(root) if oracles(path)]


def module_location(path: Path) -> Tuple[Optional[Path], str]:
    """How to import a fixture.

    A file inside a package (a folder with ``__init__.py``, possibly nested) gives the
    package's parent folder, to go on sys.path, and its dotted name (``pkg.net_bad``).
    A loose file gives ``(None, stem)``: import it by file location under a unique name.
    """
    path = Path(path).resolve()
    if not (path.parent / "__init__.py").is_file():
        return None, path.stem
    parts = [] if path.name == "__init__.py" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return folder, ".".join(parts)
