"""Which files need no analysis at all: read from their text, before any parse.

A file can only build a layer if it names a framework (``torch``, ``keras``) or imports something of the
project, which may build layers for it (``from .blocks import ConvBlock``: the findings are then
anchored in this file). A file with neither is not parsed: it is only compiled by Python, as
cheap as reading it, so that a syntax error is still reported (CL001).

The test is on the text and over-approximates: a needle or an import inside a string or a comment
counts, and so does every ``import`` whose top-level package (a module, or any folder of that
name) merely exists under a search root.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Dict, FrozenSet, List, Sequence, Tuple

from convlint import frameworks

#: What a file must contain to possibly build a layer of a framework convlint knows.
NEEDLES: Tuple[str, ...] = tuple(needle.decode("ascii") for needle in frameworks.PREFILTER_NEEDLES)

_SPACE = r"(?:[ \t\f]|\\\r?\n|\\\r)"
#: ``from X import`` (X may start with dots), and ``import X, Y as Z`` up to the end of the
#: statement. Anywhere in the text: indented imports and ``x = 1; import y`` count too.
_FROM = re.compile(r"(?<![\w.])from(?!\w)" + _SPACE + r"*(\.*)" + _SPACE + r"*([^\W\d][\w.]*)?")
_IMPORT = re.compile(r"(?<![\w.])import(?!\w)((?:[^\r\n;#\\]|\\\r?\n|\\)*)")
_NAME = re.compile(r"[^\W\d]\w*")


def imported_tops(text: str) -> Tuple[bool, List[str]]:
    """Whether ``text`` may have a relative import, and the top-level package of every
    absolute one it may have (over-approximated: ``from x import y`` gives ``x`` and ``y``)."""
    relative = False
    tops: List[str] = []
    for match in _FROM.finditer(text):
        if match.group(1):
            relative = True
        elif match.group(2):
            tops.append(match.group(2).split(".")[0])
    for match in _IMPORT.finditer(text):
        for part in match.group(1).split(","):
            name = _NAME.match(part.strip(" \t\f()\\\r\n"))
            if name:
                tops.append(name.group(0))
    return relative, tops


class Prefilter:
    """Decides, from a file's text, whether the file must be analysed."""

    def __init__(self, search_roots: Sequence[Path]) -> None:
        self.search_roots = [Path(root).resolve() for root in search_roots]
        self._exists: Dict[Path, bool] = {}
        self._folders: Dict[Path, bool] = {}

    def needs_analysis(self, path: Path, text: str) -> Tuple[bool, FrozenSet[str]]:
        """Whether the file at ``path`` with ``text`` may build a layer; when it may not, also
        the places the decision looked at (a package created there would change it)."""
        if any(needle in text for needle in NEEDLES):
            return True, frozenset()
        if "import" not in text:
            return False, frozenset()
        relative, tops = imported_tops(text)
        if relative:
            return True, frozenset()
        if not tops:
            return False, frozenset()
        root, looked = _package_root(path.resolve(), self._is_file)
        consulted = set(looked)
        for top in sorted(set(tops)):
            for folder in [root] + self.search_roots:
                # ``import top.sub`` finds ``top/sub.py`` even without ``top/__init__.py``.
                module, package = folder / f"{top}.py", folder / top
                consulted.update((module, package))
                if self._is_file(module) or self._is_dir(package):
                    return True, frozenset()
        return False, frozenset(map(str, consulted))

    def _is_file(self, path: Path) -> bool:
        found = self._exists.get(path)
        if found is None:
            found = self._exists[path] = path.is_file()
        return found

    def _is_dir(self, path: Path) -> bool:
        found = self._folders.get(path)
        if found is None:
            found = self._folders[path] = path.is_dir()
        return found


def _package_root(path: Path, is_file: Callable[[Path], bool]) -> Tuple[Path, List[Path]]:
    """The folder above the outermost package holding ``path`` (imports resolve from it), and
    the ``__init__.py`` files looked for."""
    folder = path.parent
    looked = []
    while folder.parent != folder:
        looked.append(folder / "__init__.py")
        if not is_file(looked[-1]):
            break
        folder = folder.parent
    return folder, looked
