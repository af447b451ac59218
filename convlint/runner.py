"""One file's pipeline (read, parse, analyse, rules, suppressions, positions) and a whole run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

from convlint.analysis.facts import FileFacts
from convlint.analysis.imports import ModuleSource, Project, SourceError, decode_source
from convlint.analysis.roots import analyse
from convlint.config import Settings
from convlint.diagnostics import Diagnostic
from convlint.rules import ALL_RULES, RULES_BY_CODE
from convlint.rules.base import Finding, Rule
from convlint.suppressions import file_is_exempt, is_suppressed, line_suppressions


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


class Linter:
    """Lints files with one project (shared parses of imported files) and one set of settings."""

    def __init__(self, settings: Settings, cwd: Optional[Path] = None) -> None:
        self.settings = settings
        self.cwd = cwd or Path.cwd()
        self.project = Project(search_roots=[settings.root, self.cwd])

    def rules_for(self, path: Path) -> List[Rule]:
        return [rule(self.settings) for rule in ALL_RULES if self.settings.is_enabled(rule.code, path)]

    def lint_file(self, path: Path) -> List[Diagnostic]:
        try:
            data = path.read_bytes()
        except OSError as error:
            return self._file_error(display_path(path, self.cwd), self.rules_for(path), "CL002",
                                    error.strerror or str(error))
        return self.lint_bytes(path, data)

    def lint_bytes(self, path: Path, data: bytes) -> List[Diagnostic]:
        """Lint ``data`` as the content of ``path`` (which need not exist: standard input)."""
        shown = display_path(path, self.cwd)
        rules = self.rules_for(path)
        if file_is_exempt(data):
            return []
        try:
            source = self.project.load(path, decode_source(data))
        except SourceError as error:
            return self._file_error(shown, rules, error.code, error.detail, error.line, error.column)
        try:
            facts = analyse(self.project, source, models=self.settings.models_for(path))
            return self._diagnostics(shown, source, facts, rules)
        except RecursionError:
            return self._file_error(shown, rules, "CL003", "the file is nested too deeply to analyse")
        except Exception as error:  # one file's failure must not stop the run
            return self._file_error(shown, rules, "CL003", f"{type(error).__name__}: {error}")

    def facts(self, path: Path) -> Optional[FileFacts]:
        """The analysis of one file, for measurements (coverage); None if it cannot be parsed."""
        try:
            return analyse(self.project, self.project.load(path))
        except SourceError:
            return None

    def _file_error(self, shown: str, rules: Sequence[Rule], code: str, detail: str, line: int = 1,
                    column: int = 1) -> List[Diagnostic]:
        if code not in {rule.code for rule in rules}:
            return []
        rule = RULES_BY_CODE[code]
        message = rule.summary.format(detail=" ".join(detail.split()))
        return [Diagnostic(shown, line, column, line, column + 1, code, message, rule.severity)]

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
            result.append(Diagnostic(shown, line, column, end_line, end_column, rule.code, finding.message,
                                     rule.severity))
        return result

    def lint_paths(self, paths: Iterable[Path]) -> List[Diagnostic]:
        diagnostics: List[Diagnostic] = []
        for path in paths:
            diagnostics.extend(self.lint_file(path))
        return sorted(diagnostics, key=Diagnostic.sort_key)


def lint_paths(paths: Sequence[Path], settings: Settings, cwd: Optional[Path] = None) -> List[Diagnostic]:
    return Linter(settings, cwd).lint_paths(paths)
