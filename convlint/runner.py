"""One file's pipeline (read, parse, analyse, rules, suppressions, positions) and a whole run:
the cache, the prefilter, and the process pool.

A run first reads every file and looks it up in the cache (by content: an unchanged file whose
imports are unchanged is not parsed again). Of the rest, the prefilter sets aside the files that
cannot build a layer (they are only compiled, for syntax errors). The others are analysed, in a
pool of processes when there are enough of them to pay for it, each worker keeping its parses
and imported modules from one file to the next. Every file's result depends only on the file
and what it imports, never on which other files the run analysed or in which order (the tests
check this), so the pool, the prefilter and the cache cannot change what is reported; the
diagnostics are sorted at the end.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, FrozenSet, Iterable, Iterator, List, Optional, Sequence, Tuple

from convlint.analysis.facts import FileFacts
from convlint.analysis.imports import ModuleSource, Project, SourceError, check_source, decode_source, package_root
from convlint.cache import Cache, digest
from convlint.config import Settings
from convlint.diagnostics import Diagnostic
from convlint.fix import fix_for
from convlint.rules import ALL_RULES, RULES_BY_CODE
from convlint.rules.base import Finding, Rule
from convlint.prefilter import Prefilter
from convlint.suppressions import file_is_exempt, is_suppressed, line_suppressions

#: Wall-clock seconds one file may take before it is skipped (CL005); None for no limit.
DEFAULT_TIMEOUT = 60.0
#: Below this many files, or this many characters of source, to analyse, the run stays in this
#: process: starting workers (and their parsing again what several files import) would cost
#: more than the second core saves.
POOL_MIN_FILES = 8
POOL_MIN_CHARACTERS = 150_000
#: Files per task handed to a worker: small, so that the workers finish together.
CHUNK_FILES = 4


def display_path(path: Path, cwd: Path) -> str:
    """The path as users see it: relative to the current directory when below it."""
    absolute = path if path.is_absolute() else cwd / path
    try:
        return Path(os.path.relpath(absolute, cwd)).as_posix() if _is_below(absolute, cwd) else absolute.as_posix()
    except ValueError:
        return absolute.as_posix()


def _is_below(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(folder))
        return True
    except ValueError:
        return False


@dataclass
class FileResult:
    """What linting one file gave: its diagnostics, the files its analysis consulted (for the
    cache), whether the result may be cached (not after a timeout, which depends on the
    machine), and a skip (CL005) that is counted but not reported, CL005 not being selected."""

    diagnostics: List[Diagnostic]
    dependencies: FrozenSet[str] = frozenset()
    cacheable: bool = True
    unreported_skip: Optional[Diagnostic] = None


class AnalysisTimeout(BaseException):
    """Raised in the middle of a file's analysis when its time is up. A BaseException, so that
    no ``except Exception`` of the analysis swallows it."""


class Linter:
    """Lints files with one project (shared parses of imported files) and one set of settings.

    ``jobs`` is the number of processes a run may use (None: one per available core);
    ``cache`` a :class:`~convlint.cache.Cache` or None; ``prefilter`` skips the files that
    cannot build a layer; ``timeout`` bounds each file's analysis in seconds (None: no bound;
    only enforced on the main thread of a process, where a timer signal can interrupt it).
    """

    def __init__(self, settings: Settings, cwd: Optional[Path] = None, *, jobs: Optional[int] = 1,
                 cache: Optional[Cache] = None, prefilter: bool = True,
                 timeout: Optional[float] = DEFAULT_TIMEOUT) -> None:
        self.settings = settings
        self.cwd = cwd or Path.cwd()
        self.project = Project(search_roots=self.search_roots)
        #: The folder above the packages whose modules ``project`` holds (see ``_project_for``).
        self._project_root: Optional[Path] = None
        #: Whether ``_analyse_in_run`` froze objects out of the garbage collector's sight.
        self._frozen = False
        self.jobs = jobs
        self.cache = cache
        self.prefilter = Prefilter(self.search_roots) if prefilter else None
        self.timeout = timeout
        #: What the last ``lint_paths`` did, for measurements: files read, found in the cache,
        #: set aside by the prefilter, analysed, and the processes used.
        self.stats: Dict[str, int] = {}
        #: The files the last run skipped at the time limit while CL005 was not selected: a CL005
        #: diagnostic each, for ``--statistics``, which counts them (unless CL005 is ignored).
        self.unreported_skips: List[Diagnostic] = []

    @property
    def search_roots(self) -> List[Path]:
        return [self.settings.root, self.cwd]

    def rules_for(self, path: Path) -> List[Rule]:
        return [rule(self.settings) for rule in ALL_RULES if self.settings.is_enabled(rule.code, path)]

    # ----------------------------------------------------------------- one file

    def lint_file(self, path: Path) -> List[Diagnostic]:
        try:
            data = path.read_bytes()
        except OSError as error:
            return self._file_error(display_path(path, self.cwd), self.rules_for(path), "CL002",
                                    error.strerror or str(error))
        return self.lint_bytes(path, data)

    def lint_bytes(self, path: Path, data: bytes) -> List[Diagnostic]:
        """Lint ``data`` as the content of ``path`` (which need not exist: standard input)."""
        result = self._lint_data(path, data)
        self.unreported_skips = [result.unreported_skip] if result.unreported_skip else []
        return result.diagnostics

    def _lint_data(self, path: Path, data: bytes) -> FileResult:
        """Everything after reading: exemption, decoding, the prefilter, the analysis."""
        if file_is_exempt(data):
            return FileResult([])
        try:
            text = decode_source(data)
        except SourceError as error:
            return FileResult(self._source_error(path, error))
        if self.prefilter is not None:
            needed, consulted = self.prefilter.needs_analysis(path, text)
            if not needed:
                return self._check_only(path, text, consulted)
        return self.analyse_text(path, text)

    def _check_only(self, path: Path, text: str, consulted: FrozenSet[str]) -> FileResult:
        """A file the prefilter set aside: only what ``parse_source`` would report on it."""
        try:
            check_source(text)
        except SourceError as error:
            return FileResult(self._source_error(path, error), consulted)
        return FileResult([], consulted)

    def lint_text(self, path: Path, text: str, unknown_defaults: bool = False) -> List[Diagnostic]:
        """Lint already decoded ``text`` as the content of ``path`` (a fix being checked, an
        editor's buffer); ``unknown_defaults`` as in ``analysis.roots.analyse``."""
        if file_is_exempt(text.encode("utf-8", "surrogatepass")):
            return []
        return self.analyse_text(path, text, unknown_defaults).diagnostics

    def analyse_text(self, path: Path, text: str, unknown_defaults: bool = False) -> FileResult:
        """Parse, analyse and check ``text`` as the content of ``path``, within the timeout."""
        shown = display_path(path, self.cwd)
        rules = self.rules_for(path)
        self._project_for(path)
        recorded = self.project.start_recording()
        try:
            with _deadline(self.timeout):
                try:
                    return FileResult(self._analyse(path, text, shown, rules, unknown_defaults),
                                      self.project.stop_recording(recorded))
                finally:
                    self.project.forget(path)
        except AnalysisTimeout:
            # The project may be left half-way through a module: start afresh for what follows.
            self._start_project()
            skip = self._file_diagnostic(shown, "CL005", f"more than {self.timeout:g} s")
            if any(rule.code == "CL005" for rule in rules):
                return FileResult([skip], cacheable=False)
            counted = not self.settings.is_ignored("CL005", path)
            return FileResult([], cacheable=False, unreported_skip=skip if counted else None)

    def _start_project(self) -> None:
        self.project = Project(search_roots=self.search_roots)
        self._thaw()  # the old project's objects may go now

    def _thaw(self) -> None:
        """Hand what ``_analyse_in_run`` froze back to the garbage collector."""
        if self._frozen:
            gc.unfreeze()
            self._frozen = False

    def _analyse_in_run(self, path: Path, text: str) -> FileResult:
        """``analyse_text`` for one file of a run. Its interpreter state, held in reference
        cycles (a class and its methods), is collected at once, and what survives (the modules
        the project keeps) is frozen out of later collections, which need not walk those trees
        again. Waiting for a full collection instead kept every file's state to the end: on the
        five corpora of the benchmark, a worker grew to 300 MiB."""
        result = self.analyse_text(path, text)
        gc.collect()
        if self._frozen or gc.get_freeze_count() == 0:  # what a host program froze is not ours to thaw
            gc.freeze()
            self._frozen = True
        return result

    def _project_for(self, path: Path) -> None:
        """Start a fresh project when ``path``'s imports resolve from another folder (the one
        above its outermost package) than the files' before it. One such root's modules seldom
        serve another's files, and a process that kept every root it met would hold the trees of
        a whole tree of repositories (on the benchmark's five corpora: 340 MiB instead of 265,
        over two processes)."""
        root = package_root(path)[0]
        if root != self._project_root:
            if self._project_root is not None:
                self._start_project()
            self._project_root = root

    def _analyse(self, path: Path, text: str, shown: str, rules: Sequence[Rule],
                 unknown_defaults: bool = False) -> List[Diagnostic]:
        # Imported on the first file to analyse: a run served wholly from the cache never loads
        # the interpreter.
        from convlint.analysis.roots import analyse

        try:
            source = self.project.load(path, text)
        except SourceError as error:
            return self._file_error(shown, rules, error.code, error.detail, error.line, error.column)
        try:
            facts = analyse(self.project, source, models=self.settings.models_for(path),
                            unknown_defaults=unknown_defaults)
            found = self._diagnostics(shown, source, facts, rules)
            if unknown_defaults or all(d.fix is None for d in found):
                return found
            # A fix is offered only for a finding that holds whatever the roots' parameter
            # defaults are: a caller elsewhere may pass other values.
            probe = analyse(self.project, source, models=self.settings.models_for(path), unknown_defaults=True)
            held = {(d.code, d.line) for d in self._diagnostics(shown, source, probe, rules)}
            return [d if d.fix is None or (d.code, d.line) in held else dataclasses.replace(d, fix=None)
                    for d in found]
        except RecursionError:
            return self._file_error(shown, rules, "CL003", "the file is nested too deeply to analyse")
        except Exception as error:  # one file's failure must not stop the run
            return self._file_error(shown, rules, "CL003", f"{type(error).__name__}: {error}")

    def facts(self, path: Path) -> Optional[FileFacts]:
        """The analysis of one file, for measurements (coverage); None if it cannot be parsed."""
        from convlint.analysis.roots import analyse

        self._project_for(path)
        try:
            return analyse(self.project, self.project.load(path))
        except SourceError:
            return None

    def _source_error(self, path: Path, error: SourceError) -> List[Diagnostic]:
        return self._file_error(display_path(path, self.cwd), self.rules_for(path), error.code, error.detail,
                                error.line, error.column)

    def _file_error(self, shown: str, rules: Sequence[Rule], code: str, detail: str, line: int = 1,
                    column: int = 1) -> List[Diagnostic]:
        if code not in {rule.code for rule in rules}:
            return []
        return [self._file_diagnostic(shown, code, detail, line, column)]

    @staticmethod
    def _file_diagnostic(shown: str, code: str, detail: str, line: int = 1, column: int = 1) -> Diagnostic:
        rule = RULES_BY_CODE[code]
        message = rule.summary.format(detail=" ".join(detail.split()))
        return Diagnostic(shown, line, column, line, column + 1, code, message, rule.severity)

    def _diagnostics(self, shown: str, source: ModuleSource, facts: FileFacts,
                     rules: Sequence[Rule]) -> List[Diagnostic]:
        findings: List[Tuple[Rule, Finding]] = [(rule, f) for rule in rules for f in rule.check(facts)]
        findings += [(rule, Finding(node, rule.summary.format(detail=note)))
                     for rule in rules if rule.code == "CL004" for node, note in facts.budget_notes]
        if not findings:
            return []
        suppressions = line_suppressions(source.text)
        seen = set()
        result = []
        for rule, finding in findings:
            line, column, end_line, end_column = source.position(finding.node)
            key = (rule.code, line, column) if rule.one_per_place else (rule.code, line, column, finding.message)
            if key in seen or is_suppressed(suppressions, line, rule.code):
                continue
            seen.add(key)
            fix = fix_for(source, finding.replacement) if finding.replacement is not None else None
            result.append(Diagnostic(shown, line, column, end_line, end_column, rule.code, finding.message,
                                     rule.severity, fix))
        return result

    # ----------------------------------------------------------------- a run

    def lint_paths(self, paths: Iterable[Path]) -> List[Diagnostic]:
        """Lint every file of ``paths``; the diagnostics sorted by place."""
        paths = list(paths)
        results: List[Optional[List[Diagnostic]]] = [None] * len(paths)
        pending: List[Tuple[int, Path, str, Optional[str]]] = []
        stats = {"files": len(paths), "cached": 0, "prefiltered": 0, "analysed": 0, "processes": 1}
        for index, path in enumerate(paths):
            try:
                data = path.read_bytes()
            except OSError as error:
                results[index] = self._file_error(display_path(path, self.cwd), self.rules_for(path), "CL002",
                                                   error.strerror or str(error))
                continue
            content = digest(data) if self.cache is not None else None
            if self.cache is not None and content is not None:
                cached = self.cache.load(path, content)
                if cached is not None:
                    shown = display_path(path, self.cwd)
                    results[index] = [dataclasses.replace(d, path=shown) for d in cached]
                    stats["cached"] += 1
                    continue
            if file_is_exempt(data):
                results[index] = []
                continue
            try:
                text = decode_source(data)
            except SourceError as error:
                results[index] = self._source_error(path, error)
                continue
            if self.prefilter is not None:
                needed, consulted = self.prefilter.needs_analysis(path, text)
                if not needed:
                    stats["prefiltered"] += 1
                    self._keep(results, index, path, content, self._check_only(path, text, consulted))
                    continue
            pending.append((index, path, text, content))
        stats["analysed"] = len(pending)
        jobs = self._processes_for([text for _, _, text, _ in pending])
        stats["processes"] = jobs
        if jobs <= 1:
            analysed: Iterable[Tuple[int, FileResult]] = (
                (index, self._analyse_in_run(path, text)) for index, path, text, _ in pending)
        else:
            # The first file is analysed here: it parses and runs the modules most files of a
            # package import (its __init__, its layers), which the workers, forked after, inherit
            # instead of each doing it again.
            index, path, text, _ = pending[0]
            analysed = itertools.chain(
                [(index, self._analyse_in_run(path, text))],
                _in_pool(self, [(index, path, text) for index, path, text, _ in pending[1:]], jobs))
        contents = {index: content for index, _, _, content in pending}
        skips = []
        try:
            for index, result in analysed:
                self._keep(results, index, paths[index], contents[index], result)
                if result.unreported_skip is not None:
                    skips.append(result.unreported_skip)
        finally:  # an interrupted run, too, leaves nothing frozen
            self._thaw()
        self.stats = stats
        self.unreported_skips = sorted(skips, key=Diagnostic.sort_key)
        diagnostics = [d for found in results if found for d in found]
        return sorted(diagnostics, key=Diagnostic.sort_key)

    def _keep(self, results: List[Optional[List[Diagnostic]]], index: int, path: Path, content: Optional[str],
              result: FileResult) -> None:
        results[index] = result.diagnostics
        if self.cache is not None and content is not None and result.cacheable:
            self.cache.store(path, content, result.dependencies, result.diagnostics)

    def _processes_for(self, texts: Sequence[str]) -> int:
        """How many processes to analyse ``texts`` with: one unless there is enough work."""
        available = self.jobs if self.jobs is not None else available_cores()
        if available <= 1 or len(texts) < POOL_MIN_FILES or sum(map(len, texts)) < POOL_MIN_CHARACTERS:
            return 1
        return max(1, min(available, len(texts) // 2))


def available_cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))  # type: ignore[attr-defined]
    except AttributeError:
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------- the wall-clock guard


@contextmanager
def _deadline(seconds: Optional[float]) -> Iterator[None]:
    """Raise AnalysisTimeout inside the block once ``seconds`` have passed. Uses a timer
    signal, so only on the main thread of a POSIX process; elsewhere the block is unbounded."""
    usable = (seconds is not None and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise AnalysisTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------- the process pool

#: The linter of a worker process, kept from one task to the next (its parses and modules).
_WORKER: Optional[Linter] = None


#: The linter whose run starts a pool: a forked worker inherits it, parses and modules included.
_PARENT: Optional[Linter] = None


def _start_worker(settings: Settings, cwd: Path, timeout: Optional[float]) -> None:
    global _WORKER
    if _PARENT is not None:
        _WORKER = _PARENT
    else:
        _WORKER = Linter(settings, cwd, jobs=1, cache=None, prefilter=False, timeout=timeout)


def _work(chunk: List[Tuple[int, Path, str]]) -> List[Tuple[int, FileResult]]:
    assert _WORKER is not None
    return [(index, _WORKER._analyse_in_run(path, text)) for index, path, text in chunk]


def _in_pool(linter: Linter, items: List[Tuple[int, Path, str]], jobs: int) -> Iterator[Tuple[int, FileResult]]:
    """Analyse ``items`` in ``jobs`` worker processes, in chunks of neighbouring files (which
    tend to import the same modules); results come back as the chunks finish."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    # fork starts a worker in milliseconds, with convlint and libcst already imported; macOS
    # and Windows need spawn.
    context = multiprocessing.get_context("fork" if "fork" in methods and sys.platform.startswith("linux")
                                          else "spawn")
    chunks = [items[start:start + CHUNK_FILES] for start in range(0, len(items), CHUNK_FILES)]
    global _PARENT
    _PARENT = linter if context.get_start_method() == "fork" else None
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_worker,
                                 initargs=(linter.settings, linter.cwd, linter.timeout)) as pool:
            finished = pool.map(_work, chunks)  # submits every chunk: the workers are forked now
            _PARENT = None
            for done in finished:
                yield from done
    finally:
        _PARENT = None


def lint_paths(paths: Sequence[Path], settings: Settings, cwd: Optional[Path] = None) -> List[Diagnostic]:
    return Linter(settings, cwd).lint_paths(paths)
