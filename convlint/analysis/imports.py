"""Finding the file behind an import, through the package structure.

pre-commit and editors hand convlint one file at a time, so ``from ..ops.misc import X`` in
``torchvision/models/resnet.py`` must be found from the file's own package (walking up through
``__init__.py`` folders), never only among the paths named on the command line. Each file is
parsed once per run and shared by every file that imports it.
"""

from __future__ import annotations

import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider


class SourceError(Exception):
    """A file that cannot be read, decoded or parsed; ``code`` says which CL0xx rule applies."""

    def __init__(self, code: str, detail: str, line: int = 1, column: int = 1) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.line = line
        self.column = column


def decode_source(data: bytes) -> str:
    """Decode as Python does: a BOM or a coding cookie, else UTF-8."""
    import io

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise SourceError("CL002", f"cannot decode: {error}") from None


def parse_source(text: str) -> cst.Module:
    if "\0" in text:
        raise SourceError("CL001", "source contains a null byte")
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise _python_syntax_error(text, error) from None
    except RecursionError:
        raise SourceError("CL001", "too deeply nested to parse") from None


def _python_syntax_error(text: str, error: cst.ParserSyntaxError) -> SourceError:
    """Python's own place and wording for a syntax error (libcst's point past the problem);
    only the error path pays for the second parse."""
    import ast

    try:
        ast.parse(text)
    except SyntaxError as python_error:
        return SourceError("CL001", python_error.msg, python_error.lineno or 1, python_error.offset or 1)
    except (ValueError, RecursionError, MemoryError):
        pass
    return SourceError("CL001", str(error).strip().splitlines()[0], error.raw_line, error.raw_column + 1)


@dataclass(eq=False)
class ModuleSource:
    """One parsed file and its place in a package."""

    path: Path
    name: str  # dotted module name, e.g. torchvision.models.resnet
    is_package: bool  # an __init__.py
    tree: cst.Module
    text: str
    _positions: Optional[Dict[cst.CSTNode, object]] = field(default=None, repr=False)

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]

    def position(self, node: cst.CSTNode) -> Tuple[int, int, int, int]:
        """(line, column, end line, end column), 1-based, end exclusive. Resolved on first use:
        only files with something to report pay for positions."""
        if self._positions is None:
            wrapper = MetadataWrapper(self.tree, unsafe_skip_copy=True)
            self._positions = dict(wrapper.resolve(PositionProvider))
        code_range = self._positions.get(node)
        if code_range is None:
            return (1, 1, 1, 1)
        start, end = code_range.start, code_range.end  # type: ignore[attr-defined]
        return (start.line, start.column + 1, end.line, end.column + 1)

    def line_of(self, node: cst.CSTNode) -> int:
        return self.position(node)[0]


def package_root(path: Path) -> Tuple[Path, str]:
    """The folder above the outermost package containing ``path``, and the module's dotted name."""
    path = path.resolve()
    parts = [] if path.name == "__init__.py" else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return folder, ".".join(parts)


class Project:
    """The files of one run: where imports are looked for, and every file parsed so far."""

    def __init__(self, search_roots: Sequence[Path] = ()) -> None:
        self.search_roots: List[Path] = [root.resolve() for root in search_roots]
        self._by_path: Dict[Path, Optional[ModuleSource]] = {}
        self._by_name: Dict[Tuple[Path, str], Optional[Path]] = {}
        #: Executed module bodies, shared by every file of the run that imports them.
        self.namespaces: Dict[Path, Any] = {}

    def load(self, path: Path, text: Optional[str] = None) -> ModuleSource:
        """Parse ``path`` (or ``text`` standing for it); raises SourceError."""
        resolved = path.resolve()
        cached = self._by_path.get(resolved)
        if cached is not None and (text is None or text == cached.text):
            return cached
        if text is None:
            try:
                text = decode_source(resolved.read_bytes())
            except OSError as error:
                raise SourceError("CL002", error.strerror or str(error)) from None
        tree = parse_source(text)
        root, name = package_root(resolved)
        source = ModuleSource(resolved, name, resolved.name == "__init__.py", tree, text)
        self._by_path[resolved] = source
        return source

    def find_module(self, name: str, importer: ModuleSource) -> Optional[ModuleSource]:
        """The analysed file of module ``name`` seen from ``importer``, or None (external)."""
        path = self._find_path(name, importer)
        if path is None:
            return None
        if path in self._by_path:
            return self._by_path[path]
        try:
            return self.load(path)
        except SourceError:
            self._by_path[path] = None
            return None

    def _find_path(self, name: str, importer: ModuleSource) -> Optional[Path]:
        own_root, _ = package_root(importer.path)
        for root in [own_root] + self.search_roots:
            key = (root, name)
            if key not in self._by_name:
                self._by_name[key] = _module_file(root, name)
            if self._by_name[key] is not None:
                return self._by_name[key]
        return None


def _module_file(root: Path, name: str) -> Optional[Path]:
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py") if base.name else None, base / "__init__.py"):
        if candidate is not None and candidate.is_file():
            return candidate.resolve()
    return None


def absolute_name(module: ModuleSource, relative_level: int, name: str) -> Optional[str]:
    """``from ..x import y`` in ``a.b.c`` names ``a.x``; None when it climbs above the top."""
    if relative_level == 0:
        return name
    package = module.package.split(".") if module.package else []
    if relative_level - 1 > len(package):
        return None
    base = package[: len(package) - (relative_level - 1)]
    return ".".join(base + ([name] if name else []))
