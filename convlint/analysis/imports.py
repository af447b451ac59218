"""Finding the file behind an import, through the package structure.

pre-commit and editors hand convlint one file at a time, so ``from ..ops.misc import X`` in
``torchvision/models/resnet.py`` must be found from the file's own package (walking up through
``__init__.py`` folders), never only among the paths named on the command line. Each file is
parsed once per run and shared by every file that imports it.
"""

from __future__ import annotations

import functools
import io
import itertools
import re
import symtable
import sys
import threading
import tokenize
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, FrozenSet, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from convlint.analysis import piecewise


class SourceError(Exception):
    """A file that cannot be read, decoded or parsed; ``code`` says which CL0xx rule applies."""

    def __init__(self, code: str, detail: str, line: int = 1, column: int = 1) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.line = line
        self.column = column


def decode_source(data: bytes) -> str:
    """Decode as Python does: a BOM or a coding cookie, else UTF-8. A byte that is not valid in
    that encoding is reported at its line and column."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        declared = True
    except SyntaxError as error:
        if "invalid or missing encoding declaration" not in str(error):
            raise SourceError("CL002", f"cannot decode: {error}") from None
        encoding, declared = "utf-8", False  # non-UTF-8 bytes in the first two lines, no cookie
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line, column = _end_position(data[: error.start].decode(encoding, "replace"))
        why = "" if declared else ", and no coding cookie declares another encoding"
        raise SourceError("CL002", f"byte {data[error.start]:#04x} is not valid {error.encoding}{why}",
                          line, column) from None
    except LookupError as error:  # a cookie naming a codec that is not a text encoding
        raise SourceError("CL002", f"cannot decode: {error}") from None


def _end_position(text: str) -> Tuple[int, int]:
    """The 1-based line and column just after ``text``, its lines ending as Python's do."""
    lines = _LINE_ENDS.split(text)
    return len(lines), len(lines[-1]) + 1


_LINE_ENDS = re.compile(r"\r\n|\r|\n")
#: Files with more tokens than this are not analysed (CL004): libcst spends about 10 µs and
#: 3 KB on each, so a generated table of a million numbers would take a minute and 4 GB. Five
#: times the largest file of the real-code corpus.
MAX_TOKENS = 250_000
_TOKEN = re.compile(r"\w+|[^\w\s]")
#: The stack of the thread that runs libcst's parser, which recurses in native code once per
#: level of a left-nested chain (``a and b and …``, which Python itself keeps flat): a small
#: stack would crash the process. Only touched pages cost memory.
_PARSER_STACK = 256 * 1024 * 1024
#: Python frames allowed while positions are resolved on that stack (a few per level of the tree).
_POSITIONS_RECURSION = 50_000
#: What Python's own parser says when nesting, not syntax, stops it (any version).
_TOO_DEEP = ("too many nested parentheses", "too many levels of indentation")


def parse_source(text: str) -> cst.Module:
    """Parse with libcst, after Python's own parser has had its say; raises SourceError.

    Python's parser (through ``symtable``, which builds no Python objects and so costs a
    twentieth of libcst's parse) rejects cheaply what libcst would crash or spend minutes on:
    expressions nested thousands of levels deep. Its syntax errors carry Python's wording and
    place. A syntax error of the running Python that libcst accepts is newer syntax (``match``
    on Python 3.9): the file is analysed."""
    null = text.find("\0")
    if null >= 0:
        raise SourceError("CL001", "source code cannot contain null bytes", *_end_position(text[:null]))
    if len(text) > MAX_TOKENS and next(itertools.islice(_TOKEN.finditer(text), MAX_TOKENS, None), None):
        raise SourceError("CL004", f"the file has more than {MAX_TOKENS:,} tokens "
                                   f"({len(text):,} characters); files this large are not analysed")
    python_error = _python_syntax_error(text)
    try:
        # A file Python rejects is parsed whole, for libcst's verdict on all of it.
        return _with_large_stack(cst.parse_module if python_error else piecewise.parse_module, text)
    except cst.ParserSyntaxError as error:
        if python_error is not None:
            raise python_error from None
        detail = str(error).strip().splitlines()[0]
        raise SourceError("CL003", f"its parser (libcst) stops where Python does not: {detail}",
                          error.raw_line, error.raw_column + 1) from None
    except RecursionError:
        raise SourceError("CL003", "too deeply nested for its parser (libcst)") from None
    finally:
        _release_free_memory()


@functools.lru_cache(maxsize=None)
def _malloc_trim() -> Callable[[int], int]:
    """glibc's ``malloc_trim``, or a function that does nothing where there is none."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            return ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            pass
    return lambda pad: 0


def _release_free_memory() -> None:
    """Hand back to the system the C heap that libcst's parser used and freed (about 300 bytes
    a character of source), which glibc keeps otherwise: a 234 kB file left 76 MiB behind."""
    _malloc_trim()(0)


def check_source(text: str) -> None:
    """What ``parse_source`` would report on ``text``, for a file that is not analysed: only
    Python's own parser runs, unless it (or the cheap checks before it) finds something, when
    ``parse_source`` runs to report exactly as it would. Raises SourceError. The one thing it
    cannot see is a file that Python accepts and libcst does not (CL003)."""
    if "\0" in text or len(text) > MAX_TOKENS or _python_syntax_error(text) is not None:
        parse_source(text)


def _python_syntax_error(text: str) -> Optional[SourceError]:
    """Python's verdict on ``text``: None if it compiles, the error if it does not. Nesting too
    deep for Python is raised at once, since libcst must not see it."""
    try:
        with warnings.catch_warnings():  # the file's own warnings (invalid escapes …) are not ours to print
            warnings.simplefilter("ignore")
            symtable.symtable(text, "<file>", "exec")
    except SyntaxError as error:
        found = SourceError("CL001", error.msg, error.lineno or 1, error.offset or 1)
        if error.msg.startswith(_TOO_DEEP):
            raise found from None
        return found
    except (RecursionError, MemoryError):
        raise SourceError("CL001", "nested too deeply for Python to compile") from None
    return None


def _with_large_stack(function: Callable[[Any], Any], argument: Any) -> Any:
    """``function(argument)`` on a thread with a large stack (or here, if no such thread can start)."""
    outcome: List[Any] = []

    def run() -> None:
        try:
            outcome.append((True, function(argument)))
        except BaseException as error:  # handed to the calling thread
            outcome.append((False, error))

    previous = threading.stack_size()
    try:
        threading.stack_size(_PARSER_STACK)
        thread = threading.Thread(target=run, name="convlint-parse", daemon=True)
        thread.start()
    except (ValueError, RuntimeError, MemoryError):
        return function(argument)
    finally:
        threading.stack_size(previous)
    thread.join()
    succeeded, value = outcome[0]
    if not succeeded:
        raise value
    return value


@dataclass(eq=False)
class ModuleSource:
    """One parsed file and its place in a package."""

    path: Path
    name: str  # dotted module name, e.g. torchvision.models.resnet
    is_package: bool  # an __init__.py
    tree: cst.Module
    text: str
    _positions: Optional[Dict[cst.CSTNode, object]] = field(default=None, repr=False)
    #: What the analysis derives from this file's nodes once (keyed by kind and node id): kept
    #: here so that it lives and dies with the tree.
    derived: Dict[Tuple[str, int], Any] = field(default_factory=dict, repr=False)

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]

    def position(self, node: cst.CSTNode) -> Tuple[int, int, int, int]:
        """(line, column, end line, end column), 1-based, end exclusive. Resolved on first use:
        only files with something to report pay for positions."""
        if self._positions is None:
            self._positions = _with_large_stack(_positions, self.tree)
        code_range = self._positions.get(node)
        if code_range is None:
            return (1, 1, 1, 1)
        start, end = code_range.start, code_range.end  # type: ignore[attr-defined]
        return (start.line, start.column + 1, end.line, end.column + 1)

    def line_of(self, node: cst.CSTNode) -> int:
        return self.position(node)[0]


def _positions(tree: cst.Module) -> Dict[cst.CSTNode, object]:
    """libcst's positions of every node. Its visitor recurses in Python once per level, and a
    long implicit string concatenation (pydoc's topics.py) is thousands of levels deep: this
    runs on the parser's large stack, with room for that many Python frames."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _POSITIONS_RECURSION))
    try:
        return dict(MetadataWrapper(tree, unsafe_skip_copy=True).resolve(PositionProvider))
    finally:
        sys.setrecursionlimit(limit)


def package_root(path: Path) -> Tuple[Path, str]:
    """The folder above the outermost package containing ``path``, and the module's dotted name."""
    root, name, _ = _package_root(path.resolve())
    return root, name


def _package_root(path: Path) -> Tuple[Path, str, Tuple[str, ...]]:
    """``package_root`` of a resolved path, and the ``__init__.py`` files it looked for (the
    last one absent): what the module's name depends on."""
    parts = [] if path.name == "__init__.py" else [path.stem]
    folder = path.parent
    probed = []
    while folder.parent != folder:
        marker = folder / "__init__.py"
        probed.append(str(marker))
        if not marker.is_file():
            break
        parts.insert(0, folder.name)
        folder = folder.parent
    return folder, ".".join(parts), tuple(probed)


class Project:
    """The files of one run: where imports are looked for, and every file parsed so far.

    For the cache, a project also records which files an analysis consulted: every file it
    loaded or found through an import, and every place an import was looked for in vain, since
    a file created there would change the result. Module bodies and lazy imports are shared
    by the files of a run, so what a module's own execution consulted is kept with it and
    added to every analysis that uses the module (``stop_recording`` closes over it).
    """

    def __init__(self, search_roots: Sequence[Path] = ()) -> None:
        self.search_roots: List[Path] = [root.resolve() for root in search_roots]
        self._by_path: Dict[Path, Optional[ModuleSource]] = {}
        self._by_name: Dict[Tuple[Path, str], Tuple[Optional[Path], Tuple[str, ...]]] = {}
        self._roots: Dict[Path, Tuple[Path, str, Tuple[str, ...]]] = {}
        #: Executed module bodies, shared by every file of the run that imports them.
        self.namespaces: Dict[Path, Any] = {}
        #: What each module's execution (and the lazy imports of its namespace) consulted. Paths
        #: are kept as strings: noting one costs a set insertion, and pathlib's equality is slow.
        self._consulted: Dict[str, Set[str]] = {}
        #: The sets recording right now, each once: the analysed files', and the modules' being
        #: executed.
        self._recording: List[Set[str]] = []

    # ----------------------------------------------------------------- what an analysis used

    def start_recording(self) -> Set[str]:
        """Start recording the files consulted, until ``stop_recording`` of the returned set."""
        recorded: Set[str] = set()
        self._recording.append(recorded)
        return recorded

    def stop_recording(self, recorded: Set[str]) -> FrozenSet[str]:
        """Every file consulted since ``start_recording``, with what the modules used consulted
        when they ran (possibly for an earlier file of the run)."""
        if recorded in self._recording:
            del self._recording[len(self._recording) - 1 - self._recording[::-1].index(recorded)]
        closed = set(recorded)
        pending = list(recorded)
        while pending:
            for path in self._consulted.get(pending.pop(), ()):
                if path not in closed:
                    closed.add(path)
                    pending.append(path)
        return frozenset(closed)

    @contextmanager
    def on_behalf_of(self, module: Path) -> Iterator[None]:
        """What is consulted inside belongs to ``module`` as well (its body, its lazy imports).
        A module already recording stays where it is: lazy imports nest deeply (hundreds of
        levels), and each level would otherwise add every path noted to the same few sets."""
        consulted = self._consulted.setdefault(str(module), set())
        if any(recording is consulted for recording in self._recording):
            yield
            return
        self._recording.append(consulted)
        try:
            yield
        finally:
            self._recording.pop()

    def _note(self, paths: Iterable[str]) -> None:
        if self._recording:
            paths = tuple(paths)
            for recorded in self._recording:
                recorded.update(paths)

    def _root_of(self, path: Path) -> Tuple[Path, str]:
        """``package_root`` of a resolved path, remembered, and noted as consulted."""
        found = self._roots.get(path)
        if found is None:
            found = self._roots[path] = _package_root(path)
        self._note(found[2])
        return found[0], found[1]

    # ----------------------------------------------------------------- files

    def load(self, path: Path, text: Optional[str] = None) -> ModuleSource:
        """Parse ``path`` (or ``text`` standing for it); raises SourceError."""
        resolved = path.resolve()
        self._note((str(resolved),))
        cached = self._by_path.get(resolved)
        if cached is not None and (text is None or text == cached.text):
            self._root_of(resolved)
            return cached
        if text is None:
            try:
                text = decode_source(resolved.read_bytes())
            except OSError as error:
                raise SourceError("CL002", error.strerror or str(error)) from None
        tree = parse_source(text)
        root, name = self._root_of(resolved)
        source = ModuleSource(resolved, name, resolved.name == "__init__.py", tree, text)
        self._by_path[resolved] = source
        return source

    def forget(self, path: Path) -> None:
        """Drop the parse of ``path`` unless a module body of the run uses it: a linted file
        that nothing imports need not stay in memory (if something does later, it is parsed
        again, and the result is the same)."""
        resolved = path.resolve()
        if resolved not in self.namespaces:
            self._by_path.pop(resolved, None)

    def find_module(self, name: str, importer: ModuleSource) -> Optional[ModuleSource]:
        """The analysed file of module ``name`` seen from ``importer``, or None (external)."""
        path = self._find_path(name, importer)
        if path is None:
            return None
        if path in self._by_path:
            self._note((str(path),))
            return self._by_path[path]
        try:
            return self.load(path)
        except SourceError:
            self._by_path[path] = None
            return None

    def _find_path(self, name: str, importer: ModuleSource) -> Optional[Path]:
        own_root, _ = self._root_of(importer.path)
        for root in [own_root] + self.search_roots:
            key = (root, name)
            found = self._by_name.get(key)
            if found is None:
                found = self._by_name[key] = _module_file(root, name)
            self._note(found[1])
            if found[0] is not None:
                return found[0]
        return None


def _module_file(root: Path, name: str) -> Tuple[Optional[Path], Tuple[str, ...]]:
    """The file of module ``name`` under ``root`` (or None), and the places looked at."""
    base = root.joinpath(*name.split("."))
    probed = []
    for candidate in (base.with_suffix(".py") if base.name else None, base / "__init__.py"):
        if candidate is None:
            continue
        probed.append(str(candidate))
        if candidate.is_file():
            resolved = candidate.resolve()
            if resolved != candidate:
                probed.append(str(resolved))
            return resolved, tuple(probed)
    return None, tuple(probed)


def absolute_name(module: ModuleSource, relative_level: int, name: str) -> Optional[str]:
    """``from ..x import y`` in ``a.b.c`` names ``a.x``; None when it climbs above the top."""
    if relative_level == 0:
        return name
    package = module.package.split(".") if module.package else []
    if relative_level - 1 > len(package):
        return None
    base = package[: len(package) - (relative_level - 1)]
    return ".".join(base + ([name] if name else []))
